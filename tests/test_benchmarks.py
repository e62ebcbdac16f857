"""The benchmark's query runs (benchmarks/child.py), read from the queries' headers; no timing here."""

from rdflib import Literal

from benchmarks.child import query_parameters, query_runs


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
