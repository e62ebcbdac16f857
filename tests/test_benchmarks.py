"""The benchmark's query runs and floors (benchmarks/child.py) and its verdicts (benchmarks/run.py); no timing here."""

from pathlib import Path

import pytest
from rdflib import Literal

from benchmarks.child import floor_query, query_parameters, query_runs, time_floor
from benchmarks.run import _ms, floor_count

FIXTURE = Path(__file__).parent / "data" / "store" / "fixture.trig"


def test_parameters_are_read_from_the_header_in_order():
    assert query_parameters("fact-sources") == ["subject", "predicate", "object"]
    assert query_parameters("crew") == ["workLabel", "role"]
    assert query_parameters("story-order") == []


def test_each_query_runs_unbound_as_its_example_and_on_one_entity():
    runs = {(name, label): bindings for name, label, bindings in query_runs()}
    assert runs[("story-order", "unbound")] == {}
    assert [label for name, label in runs if name == "story-order"] == ["unbound"]
    # The example of cast's header is followed by "; more rows follow": still a bound run.
    assert runs[("cast", "workLabel=Ballerina")] == {"workLabel": Literal("Ballerina")}
    # Bound on each parameter to the unbound answer's first row, known only once it is read.
    assert runs[("fact-sources", "subject=first row")] is None
    assert runs[("fact-sources", "object=first row")] is None
    assert runs[("people-with-several-roles", "personLabel=first row")] is None
    assert runs[("people-with-several-roles", "person=first row")] is None
    assert [label for name, label in runs if name == "crew"] == [
        "unbound", "workLabel=Ballerina", "workLabel=first row", "role=first row"]


def test_the_floor_query_has_the_answers_shape_and_nothing_else():
    assert floor_query(7, 3) == "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 7"
    assert floor_query(2, 5) == "SELECT ?s ?p ?o (?s AS ?c3) (?p AS ?c4) WHERE { ?s ?p ?o } LIMIT 2"
    assert floor_query(1, 2) == "SELECT ?s ?p WHERE { ?s ?p ?o } LIMIT 1"


def test_the_floor_reads_as_many_rows_as_asked_from_oxigraph_itself():
    from kg.store import load_graph

    dataset = load_graph(FIXTURE)
    assert time_floor(dataset, 5, 6, repeat=1) >= 0
    with pytest.raises(SystemExit, match="read .* rows, not 10000000"):
        time_floor(dataset, 10_000_000, 3, repeat=1)
    with pytest.raises(ValueError, match="the floor is Oxigraph's"):
        time_floor(load_graph(FIXTURE, engine="rdflib"), 5, 3, repeat=1)


def test_the_floor_query_repeats_its_terms_in_the_columns_past_three():
    from kg.query import run_query
    from kg.store import load_graph

    answer = run_query(load_graph(FIXTURE), floor_query(5, 6))
    rows = list(answer.rows)
    assert len(answer.variables) == 6 and len(rows) == 5
    assert all(row[3] == row[0] and row[4] == row[1] and row[5] == row[2] for row in rows)


def test_runs_over_the_target_are_told_from_those_whose_answer_alone_is_over_it():
    runs = [
        {"median_ms": 12.0, "floor_ms": None},          # under
        {"median_ms": 450.0, "floor_ms": 30.0},         # over, its plan's fault
        {"median_ms": 900.0, "floor_ms": 140.0},        # over, and so is its floor
        {"median_ms": None, "note": "over 20 s"},       # stopped
    ]
    assert floor_count(runs) == (3, 1, 1)
    assert _ms(runs[0]) == "12.0 ms"
    assert _ms(runs[1]) == "**450 ms** (floor 30 ms)"
    assert _ms(runs[3]) == "over 20 s"
