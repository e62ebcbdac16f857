"""kg/inline.py: bound parameters written into a query's text, and where that is declined.

The rewrites below are written by hand; the last tests run every query of queries/ on
tests/data/store/fixture.trig both ways (written in, and substituted) and compare the answers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import kg.inline
import kg.query
from benchmarks.child import query_parameters
from kg.inline import inline
from kg.inline import run_inlined as inline_run
from kg.query import QUERIES_DIR, run_query
from kg.store import load_graph
from kg.terms import to_ox

FIXTURE = Path(__file__).parent / "data" / "store" / "fixture.trig"
W = "<https://w3id.org/franchise-kg/id/work/ballerina>"


def test_a_bound_variable_is_written_as_its_term_and_still_answers_as_a_column():
    query = "SELECT ?work ?person WHERE { ?work <http://e/directedBy> ?person }"
    assert inline(query, {"work": W}) == (
        f"SELECT ({W} AS ?work) ?person WHERE {{ {W} <http://e/directedBy> ?person }}"
    )


def test_a_literal_term_and_a_dollar_variable():
    query = 'SELECT ?name ?x WHERE { ?x <http://e/label> $name }'
    assert inline(query, {"name": '"Ballerina"'}) == (
        'SELECT ("Ballerina" AS ?name) ?x WHERE { ?x <http://e/label> "Ballerina" }'
    )


def test_strings_comments_and_iris_that_look_like_the_variable_are_left_alone():
    query = (
        "# ?work in a comment\n"
        'SELECT ?work ?n WHERE { ?work <http://e/p?work=1> ?n FILTER (?n != "?work" && ?n != \'\'\'a\n?work\'\'\') }'
    )
    assert inline(query, {"work": W}) == (
        "# ?work in a comment\n"
        f'SELECT ({W} AS ?work) ?n WHERE {{ {W} <http://e/p?work=1> ?n FILTER (?n != "?work" && ?n != \'\'\'a\n?work\'\'\') }}'
    )


def test_a_sub_select_stops_returning_it_and_one_left_with_nothing_returns_star():
    query = (
        "SELECT ?work ?label ?actor WHERE {\n"
        "  { SELECT DISTINCT ?work ?actor WHERE { ?work <http://e/cast> ?actor } }\n"
        "  { SELECT ?work WHERE { ?work <http://e/label> ?label } }\n"
        "}"
    )
    assert inline(query, {"work": W}) == (
        f"SELECT ({W} AS ?work) ?label ?actor WHERE {{\n"
        f"  {{ SELECT DISTINCT  ?actor WHERE {{ {W} <http://e/cast> ?actor }} }}\n"
        f"  {{ SELECT * WHERE {{ {W} <http://e/label> ?label }} }}\n"
        "}"
    )


def test_order_by_drops_the_bound_key_keeps_it_inside_an_expression_and_drops_an_empty_clause():
    query = "SELECT ?work ?date WHERE { ?work <http://e/date> ?date } ORDER BY ?work STR(?date)"
    assert inline(query, {"work": W}) == (
        f"SELECT ({W} AS ?work) ?date WHERE {{ {W} <http://e/date> ?date }} ORDER BY  STR(?date)"
    )
    assert inline(query, {"work": W, "date": '"2025"'}) == (
        f'SELECT ({W} AS ?work) ("2025" AS ?date) WHERE {{ {W} <http://e/date> "2025" }} ORDER BY  STR("2025")'
    )
    query = "SELECT ?work ?date WHERE { ?work <http://e/date> ?date } ORDER BY ?work LIMIT 3"
    assert inline(query, {"work": W}) == f"SELECT ({W} AS ?work) ?date WHERE {{ {W} <http://e/date> ?date }}    LIMIT 3"


def test_group_by_drops_the_bound_key_when_another_is_left():
    query = "SELECT ?work ?y (COUNT(?z) AS ?n) WHERE { ?work <http://e/p> ?y ; <http://e/q> ?z } GROUP BY ?work ?y"
    assert inline(query, {"work": W}) == (
        f"SELECT ({W} AS ?work) ?y (COUNT(?z) AS ?n) WHERE {{ {W} <http://e/p> ?y ; <http://e/q> ?z }} GROUP BY  ?y"
    )


@pytest.mark.parametrize("query, terms", [
    ("ASK { ?work <http://e/p> ?x }", {"work": W}),  # not a SELECT
    ("SELECT * WHERE { ?work <http://e/p> ?x }", {"work": W}),  # the columns would change
    ("SELECT ?x WHERE { ?work <http://e/p> ?x }", {"work": W}),  # not a column: substitution says so
    ("SELECT ?work WHERE { ?x <http://e/p> ?y BIND (?y AS ?work) }", {"work": W}),  # assigned
    ("SELECT ?work WHERE { VALUES ?work { <http://e/a> } ?work <http://e/p> ?y }", {"work": W}),  # listed
    # grouped by it alone: no solution would give no group before, and one group of COUNT 0 after
    ("SELECT ?work (COUNT(*) AS ?n) WHERE { ?work <http://e/p> ?y } GROUP BY ?work", {"work": W}),
    ("SELECT ?work ?y (COUNT(*) AS ?n) WHERE { ?work <http://e/p> ?y } GROUP BY (STR(?work)) ?y", {"work": W}),
    # the sub-select's ?work is another variable: the sub-select does not return it
    ("SELECT ?work ?n WHERE { ?work <http://e/p> ?y { SELECT (COUNT(?work) AS ?n) WHERE { ?work <http://e/q> ?z } } }",
     {"work": W}),
    ("SELECT ?work WHERE { ?work <http://e/p> ?y }", {"work": "_:b0"}),  # a blank node is a variable in a pattern
    ("SELECT ?work WHERE { ?work <http://e/p> ?y }", {}),
])
def test_declined_where_writing_it_in_would_not_mean_the_same(query, terms):
    assert inline(query, terms) is None


# ---------------------------------------------------------------------------------------------
# Every query of queries/, written in and substituted, on the fixture
# ---------------------------------------------------------------------------------------------

QUERY_FILES = sorted(QUERIES_DIR.glob("*.rq"))
#: Each query bound on each parameter its header lists, one at a time, as the benchmark binds.
RUNS = [(path, name) for path in QUERY_FILES for name in query_parameters(path.stem, path.read_text(encoding="utf-8"))]

#: The runs whose terms are written in, by reading the queries: the others assign their
#: parameter (VALUES ?role, VALUES ?tie), group by it alone (GROUP BY ?person, GROUP BY
#: ?actor), or have no parameter. articles groups by ?fileName and three other keys.
WRITTEN_IN = {
    ("articles", "fileName"), ("cast", "workLabel"), ("conflicts", "subject"), ("conflicts", "property"), ("crew", "workLabel"),
    ("distributors", "workLabel"), ("entities", "label"), ("entities", "class"),
    ("fact-sources", "subject"), ("fact-sources", "predicate"), ("fact-sources", "object"),
    ("filming-locations", "workLabel"), ("organization-characters", "organizationLabel"),
    ("release-dates", "workLabel"),
}


@pytest.fixture(scope="module")
def dataset():
    return load_graph(FIXTURE)


def first_row_binding(dataset, text: str, name: str) -> dict:
    """?name bound to its value in the first row of the query's unbound answer."""
    unbound = run_query(dataset, text)
    return {name: next(iter(unbound.rows))[unbound.variables.index(name)]}


def test_which_parameters_are_written_in(dataset):
    written = set()
    for path, name in RUNS:
        text = path.read_text(encoding="utf-8")
        bindings = first_row_binding(dataset, text, name)
        bindings.update(kg.query._entities_named(dataset, text, bindings))
        if inline(text, {k: str(to_ox(v)) for k, v in bindings.items()}):
            written.add((path.stem, name))
    assert written == WRITTEN_IN


@pytest.mark.parametrize("path, name", RUNS, ids=[f"{p.stem}-{n}" for p, n in RUNS])
def test_written_in_and_substituted_give_the_same_rows(path, name, dataset, monkeypatch):
    text = path.read_text(encoding="utf-8")
    bindings = first_row_binding(dataset, text, name)
    written = list(run_query(dataset, text, bindings).rows)
    monkeypatch.setattr(kg.inline, "inline", lambda query, terms: None)  # run_inlined then substitutes
    substituted = list(run_query(dataset, text, bindings).rows)
    assert written == substituted and written


def test_run_inlined_runs_the_written_text_else_the_query_as_given():
    query = "SELECT ?work WHERE { ?work a <https://w3id.org/franchise-kg/ontology#Film> }"
    ran = []

    def written(text):
        ran.append(("written", text))
        return "written"

    def substituted():
        ran.append(("substituted", None))
        return "substituted"

    assert inline_run(query, {"work": W}, written, substituted) == "written"
    assert ran == [("written", f"SELECT ({W} AS ?work) WHERE {{ {W} a <https://w3id.org/franchise-kg/ontology#Film> }}")]

    ran.clear()  # a blank node is not written in
    assert inline_run(query, {"work": "_:b0"}, written, substituted) == "substituted"
    assert ran == [("substituted", None)]

    def rejected(text):
        raise SyntaxError("Oxigraph rejects the written text")

    assert inline_run(query, {"work": W}, rejected, substituted) == "substituted"
