"""kg/query.py: finding queries, binding their parameters, running them on both engines, writing
their answers, and `kg query`.

The answers of the queries in queries/ are tested in tests/test_queries.py; here the machinery around them.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import rdflib.namespace as ns
from rdflib import Dataset, Literal, URIRef
from rdflib.query import Result

import kg.query
import kg.store
from kg import cli
from kg.namespaces import FKG, FKR
from kg.query import (
    QUERIES_DIR,
    Answer,
    BindingError,
    QueryNotFound,
    QuerySyntaxError,
    _entities_named,
    find_query,
    parse_binding,
    query_variables,
    read_query,
    run_query,
    write_answer,
)
from kg.store import load_graph

FIXTURE = Path(__file__).parent / "data" / "store" / "fixture.trig"
BALLERINA = FKR["work/ballerina"]
WISEMAN = FKR["person/len-wiseman"]
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
MANY_ROWS = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return load_graph(FIXTURE)


def kg_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "kg.cli", *args]


# ---------------------------------------------------------------------------------------------
# Finding queries and binding their parameters
# ---------------------------------------------------------------------------------------------


def test_find_query_by_name_by_file_name_and_by_path(tmp_path, monkeypatch):
    assert find_query("cast") == QUERIES_DIR / "cast.rq"
    assert find_query("cast.rq") == QUERIES_DIR / "cast.rq"
    own = tmp_path / "mine.rq"
    own.write_text("SELECT * WHERE { ?s ?p ?o }")
    assert find_query(str(own)) == own
    monkeypatch.chdir(tmp_path)
    assert find_query("mine.rq") == Path("mine.rq")
    with pytest.raises(QueryNotFound, match="Known queries: .*cast"):
        find_query("no-such-question")
    with pytest.raises(QueryNotFound):
        find_query("../cast")


def test_queries_dir_is_found_from_the_package():
    import kg

    assert QUERIES_DIR == Path(kg.__file__).resolve().parent.parent / "queries"


@pytest.mark.parametrize("text, name, term", [
    ("workLabel=Ballerina", "workLabel", Literal("Ballerina")),
    ("?workLabel=Ballerina", "workLabel", Literal("Ballerina")),
    ("$workLabel=Ballerina", "workLabel", Literal("Ballerina")),
    ("workLabel=", "workLabel", Literal("")),
    ("workLabel=a=b", "workLabel", Literal("a=b")),
    ("work=https://w3id.org/franchise-kg/id/work/ballerina", "work", BALLERINA),
    ("work=<https://w3id.org/franchise-kg/id/work/ballerina>", "work", BALLERINA),
    ("work=<urn:x:y>", "work", URIRef("urn:x:y")),
    ("work=http://e/x", "work", URIRef("http://e/x")),
    ("work=fkr:work/ballerina", "work", BALLERINA),
    ("role=fkg:directedBy", "role", URIRef("https://w3id.org/franchise-kg/ontology#directedBy")),
    ("workLabel=John Wick: Chapter 4", "workLabel", Literal("John Wick: Chapter 4")),
    ("workLabel=Parabellum:fkr", "workLabel", Literal("Parabellum:fkr")),
    ("workLabel=x\" } ; DROP ALL ; #", "workLabel", Literal("x\" } ; DROP ALL ; #")),
    # A literal in double quotes, as Turtle (and the tsv format) writes it: typed, tagged or plain.
    ('releaseDate="2025-06-06"^^xsd:date', "releaseDate",
     Literal("2025-06-06", datatype=URIRef("http://www.w3.org/2001/XMLSchema#date"))),
    ('releaseDate="2014"^^<http://www.w3.org/2001/XMLSchema#gYear>', "releaseDate",
     Literal("2014", datatype=URIRef("http://www.w3.org/2001/XMLSchema#gYear"))),
    ('workLabel="Ballerina"@en', "workLabel", Literal("Ballerina", lang="en")),
    ('workLabel="fkr:work/ballerina"', "workLabel", Literal("fkr:work/ballerina")),
    ('workLabel="say \\"hi\\""', "workLabel", Literal('say "hi"')),
])
def test_parse_binding(text, name, term):
    assert parse_binding(text) == (name, term)
    assert type(parse_binding(text)[1]) is type(term)


@pytest.mark.parametrize("text", ["workLabel", "=Ballerina", "work label=x", "1x=y", "work=<not an iri>",
                                  "work=https://e/a b", 'work=<http://e/">',
                                  "workLabel=<b>",
                                  # a prefix kg does not know would bind a text that matches nothing
                                  "work=urn:x:y", "work=zzz:foo", 'releaseDate="1"^^zzz:date',
                                  # a quoted literal not closed, or with more after it
                                  'workLabel="Ballerina', 'workLabel="Ballerina" and more'])
def test_parse_binding_refuses(text):
    with pytest.raises(BindingError):
        parse_binding(text)


def test_query_variables_ignore_comments():
    text = "# ?commented\nSELECT ?a WHERE { ?a <http://e/p#x> $b }"
    assert query_variables(text) == {"a", "b"}


# ---------------------------------------------------------------------------------------------
# Running queries
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_run_query_kinds(engine):
    data = load_graph(FIXTURE, engine=engine)
    ask = run_query(data, "PREFIX fkg: <https://w3id.org/franchise-kg/ontology#> ASK { ?w fkg:directedBy ?p }")
    assert (ask.kind, ask.boolean) == ("ASK", True)
    construct = run_query(
        data,
        "PREFIX fkg: <https://w3id.org/franchise-kg/ontology#> CONSTRUCT { ?w fkg:directedBy ?p } WHERE { ?w fkg:directedBy ?p }",
    )
    assert construct.kind == "CONSTRUCT"
    assert set(construct.triples) == {(BALLERINA, FKG.directedBy, WISEMAN)}
    select = run_query(data, "SELECT ?w WHERE { ?w fkg:filmedIn ?place }")  # fkg: from the graph's prefixes
    assert select.variables == ("w",) and list(select.rows) == [(BALLERINA,)]


def test_rows_stream(dataset):
    """Rows come from an iterator as Oxigraph yields them, not from a list built first."""
    answer = run_query(dataset, MANY_ROWS)
    assert iter(answer.rows) is answer.rows
    first = [next(answer.rows) for _ in range(3)]
    assert len(first) == 3 and all(len(row) == 9 for row in first)


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_bound_variable_is_not_text(engine):
    """A binding is a term: a value full of SPARQL is a name that matches nothing, changes nothing."""
    data = load_graph(FIXTURE, engine=engine)
    before = len(data)
    answer = run_query(data, read_query("cast"), {"workLabel": Literal('x" } ; DROP ALL ; #')})
    assert list(answer.rows) == []
    assert len(data) == before


NAME_OF_PERSON = """# Parameters:
#   ?personLabel  a name of ?person: matched against their rdfs:label or skos:altLabel.
PREFIX fkg: <https://w3id.org/franchise-kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?personLabel ?person WHERE { ?person rdfs:label|skos:altLabel ?personLabel ; a fkg:Person }
"""


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
@pytest.mark.parametrize("query, bindings, bound", [
    # the fixture: Ana de Armas (alias "de Armas") is one person; "John Wick" names the
    # character, the 2014 film and the franchise; nothing is named "Helen"
    (NAME_OF_PERSON, {"personLabel": Literal("Ana de Armas")}, {"person": FKR["person/ana-de-armas"]}),
    (NAME_OF_PERSON, {"personLabel": Literal("de Armas")}, {"person": FKR["person/ana-de-armas"]}),
    (NAME_OF_PERSON, {"personLabel": Literal("John Wick")}, {}),
    (NAME_OF_PERSON, {"personLabel": Literal("Helen")}, {}),
    (NAME_OF_PERSON, {"personLabel": Literal("Ana de Armas"), "person": FKR["person/keanu-reeves"]}, {}),
    (NAME_OF_PERSON, {"personLabel": FKR["person/ana-de-armas"]}, {}),
    (NAME_OF_PERSON.replace("a name of ?person", "a name"), {"personLabel": Literal("Ana de Armas")}, {}),
])
def test_a_name_one_entity_alone_holds_binds_that_entity_too(engine, query, bindings, bound):
    """What run_query adds to the bindings: the entity a header's "?L  a name of ?X" names, when
    one IRI alone holds the bound literal; nothing for a shared or unknown name, an ?X already
    bound, an IRI given as the name, or a query that declares no such parameter."""
    assert _entities_named(load_graph(FIXTURE, engine=engine), query, bindings) == bound


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
@pytest.mark.parametrize("text, line, column", [
    ("SELECT ?x WHERE { ?x ?y }", 1, None),
    ("PREFIX a: <http://a/>\nSELECT ?x\nWHERE {\n  ?x b:c ?y }", None, None),
    ("SELEC ?x {}", 1, None),
])
def test_syntax_errors_carry_their_position(engine, text, line, column):
    data = load_graph(FIXTURE, engine=engine)
    with pytest.raises(QuerySyntaxError) as raised:
        run_query(data, text, source="q.rq")
    assert str(raised.value).startswith("q.rq: ")
    if engine == "oxigraph" or line is not None:
        assert raised.value.line is not None and raised.value.column is not None


def test_oxigraph_syntax_error_line_and_column(dataset):
    with pytest.raises(QuerySyntaxError) as raised:
        run_query(dataset, "PREFIX a: <http://a/>\nSELECT ?x\nWHERE {\n  ?x b:c ?y }")
    assert (raised.value.line, raised.value.column) == (4, 11)
    assert raised.value.excerpt("PREFIX a: <http://a/>\nSELECT ?x\nWHERE {\n  ?x b:c ?y }") == "    ?x b:c ?y }\n            ^"


def test_union_default_graph_counts_shared_triples_once_per_graph_on_oxigraph(dataset):
    """Why every query in queries/ says DISTINCT: oxigraph/oxigraph#1919 (fixed after 0.5)."""
    query = "PREFIX fkg: <https://w3id.org/franchise-kg/ontology#> SELECT ?w WHERE { ?w fkg:hasCastMember ?a }"
    assert len(list(run_query(dataset, query).rows)) >= len(list(run_query(dataset, query.replace("?w", "DISTINCT ?w", 1)).rows))
    memory = load_graph(FIXTURE, engine="rdflib")
    distinct = query.replace("SELECT ?w", "SELECT DISTINCT ?w ?a")
    assert sorted(run_query(dataset, distinct).rows) == sorted(run_query(memory, distinct).rows)


# ---------------------------------------------------------------------------------------------
# Writing answers
# ---------------------------------------------------------------------------------------------

ROWS_QUERY = """PREFIX fkg: <https://w3id.org/franchise-kg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?work ?date ?label ?none WHERE {
  ?work fkg:releaseDate ?date ; skos:prefLabel ?label .
  OPTIONAL { ?work fkg:noSuchProperty ?none }
  FILTER (?work = <https://w3id.org/franchise-kg/id/work/john-wick>)
}"""


def _written(dataset, fmt: str, query: str = ROWS_QUERY) -> str:
    out = io.StringIO(newline="")
    write_answer(run_query(dataset, query), out, fmt)
    return out.getvalue()


def test_csv_is_sparql_csv(dataset):
    assert _written(dataset, "csv") == (
        "work,date,label,none\r\nhttps://w3id.org/franchise-kg/id/work/john-wick,2014,John Wick,\r\n"
    )


def test_tsv_is_sparql_tsv(dataset):
    assert _written(dataset, "tsv") == (
        "?work\t?date\t?label\t?none\n"
        '<https://w3id.org/franchise-kg/id/work/john-wick>\t"2014"^^<http://www.w3.org/2001/XMLSchema#gYear>\t"John Wick"\t\n'
    )


def test_json_is_sparql_json_and_parses_back(dataset):
    text = _written(dataset, "json")
    assert json.loads(text) == {
        "head": {"vars": ["work", "date", "label", "none"]},
        "results": {"bindings": [{
            "work": {"type": "uri", "value": str(FKR["work/john-wick"])},
            "date": {"type": "literal", "value": "2014", "datatype": str(ns.XSD.gYear)},
            "label": {"type": "literal", "value": "John Wick"},
        }]},
    }
    parsed = Result.parse(io.StringIO(text), format="json")
    assert [tuple(row) for row in parsed] == [(FKR["work/john-wick"], Literal("2014", datatype=ns.XSD.gYear), Literal("John Wick"), None)]


def test_json_with_no_rows_and_with_awkward_text(dataset):
    empty = _written(dataset, "json", "SELECT ?x WHERE { ?x <http://e/none> ?y }")
    assert json.loads(empty) == {"head": {"vars": ["x"]}, "results": {"bindings": []}}
    odd = _written(dataset, "json", 'SELECT ?x WHERE { BIND ("tab\\tquote\\"new\\nline é" AS ?x) }')
    assert json.loads(odd)["results"]["bindings"][0]["x"]["value"] == 'tab\tquote"new\nline é'
    tsv = _written(dataset, "tsv", 'SELECT ?x WHERE { BIND ("tab\\tquote\\"new\\nline" AS ?x) }')
    assert tsv.splitlines()[1] == '"tab\\tquote\\"new\\nline"'
    rows = list(csv.reader(io.StringIO(_written(dataset, "csv", 'SELECT ?x WHERE { BIND ("a,\\"b\\"\\nc" AS ?x) }'))))
    assert rows == [["x"], ['a,"b"\nc']]


def test_table_is_aligned_with_short_iris(dataset):
    lines = _written(dataset, "table").splitlines()
    assert lines[0].split() == ["work", "date", "label", "none"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[2].split("  ")[0] == "fkr:work/john-wick"
    assert lines[0].index("date") == lines[2].index("2014")


def test_ask_and_construct_are_written(dataset):
    ask = "PREFIX fkg: <https://w3id.org/franchise-kg/ontology#> ASK { ?w fkg:filmedIn ?p }"
    assert _written(dataset, "table", ask) == "true\n"
    assert json.loads(_written(dataset, "json", ask)) == {"head": {}, "boolean": True}
    construct = "CONSTRUCT { ?w <http://e/p> ?p } WHERE { ?w <https://w3id.org/franchise-kg/ontology#filmedIn> ?p }"
    assert _written(dataset, "csv", construct) == (
        "<https://w3id.org/franchise-kg/id/work/ballerina> <http://e/p> <https://w3id.org/franchise-kg/id/place/prague> .\n"
    )


def test_write_answer_counts_rows(dataset):
    answer = Answer("SELECT", ("x",), iter([(Literal("a"),), (None,)]))
    assert write_answer(answer, io.StringIO(), "csv") == 2


# ---------------------------------------------------------------------------------------------
# The command line: kg query
# ---------------------------------------------------------------------------------------------


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_kg_query_by_name_with_a_binding(capsys):
    code, out, err = run_cli(capsys, "query", "distributors", "--graph", str(FIXTURE), "--bind", "workLabel=Ballerina",
                             "--format", "csv")
    assert code == 0
    assert out.splitlines() == [
        "workLabel,distributorLabel,work,distributor",
        f"Ballerina,Lionsgate,{BALLERINA},{FKR['organization/lionsgate']}",
    ]


def test_kg_query_by_path_and_inline(capsys, tmp_path):
    path = tmp_path / "count.rq"
    path.write_text("PREFIX fkg: <https://w3id.org/franchise-kg/ontology#>\nSELECT (COUNT(DISTINCT ?w) AS ?n) WHERE { ?w a fkg:Film }")
    assert run_cli(capsys, "query", str(path), "--graph", str(FIXTURE), "--format", "tsv")[1] == (
        "?n\n\"4\"^^<http://www.w3.org/2001/XMLSchema#integer>\n"
    )
    code, out, _ = run_cli(capsys, "query", "--text", "ASK { ?s ?p ?o }", "--graph", str(FIXTURE))
    assert (code, out) == (0, "true\n")


def test_kg_query_table_reports_the_row_count(capsys):
    code, out, err = run_cli(capsys, "query", "story-order", "--graph", str(FIXTURE))
    assert code == 0 and "(4 rows)" in err
    assert [line.split()[0] for line in out.splitlines()[2:]] == ["0", "1", "2", "3"]


def test_kg_query_says_kg_serve_reads_a_slow_graph_once(capsys, monkeypatch):
    code, _, err = run_cli(capsys, "query", "story-order", "--graph", str(FIXTURE))
    assert code == 0 and "kg serve" not in err   # the fixture reads in a moment
    monkeypatch.setattr(kg.query, "SLOW_LOAD_S", -1.0)   # as if it had taken long
    code, out, err = run_cli(capsys, "query", "story-order", "--graph", str(FIXTURE))
    assert code == 0 and "(4 rows)" in err
    assert f"reading {FIXTURE} took" in err and f"`kg serve --graph {FIXTURE}`" in err
    assert "kg serve" not in out   # the answer itself stays clean for pipes


def test_kg_query_says_it_is_reading_a_large_graph_before_it_does(capsys, monkeypatch):
    code, _, err = run_cli(capsys, "query", "story-order", "--graph", str(FIXTURE))
    assert code == 0 and "MB) ..." not in err   # the fixture is small
    monkeypatch.setattr(kg.query, "LARGE_GRAPH_MB", 0.001)   # as if it were large
    code, _, err = run_cli(capsys, "query", "story-order", "--graph", str(FIXTURE))
    assert code == 0 and "MB) ..." not in err   # not at a terminal: nobody is waiting on it
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, out, err = run_cli(capsys, "query", "story-order", "--graph", str(FIXTURE))
    assert code == 0 and err.startswith(f"kg query: reading {FIXTURE} (0 MB) ...\n")
    assert "MB) ..." not in out


DISTRIBUTORS_TSV = ("?workLabel\t?distributorLabel\t?work\t?distributor\n"
                    '"Ballerina"\t"Lionsgate"\t<https://w3id.org/franchise-kg/id/work/ballerina>\t'
                    "<https://w3id.org/franchise-kg/id/organization/lionsgate>\n")


def test_kg_query_keeps_a_large_graph_on_disk_and_reopens_it(capsys, monkeypatch, tmp_path):
    graph = tmp_path / "graph.trig"
    graph.write_bytes(FIXTURE.read_bytes())
    args = ("query", "distributors", "--graph", str(graph), "--bind", "workLabel=Ballerina", "--format", "tsv")
    code, out, err = run_cli(capsys, *args)
    assert (code, out, err) == (0, DISTRIBUTORS_TSV, "")   # small: read into memory, nothing kept
    assert [p.name for p in tmp_path.iterdir()] == ["graph.trig"]
    monkeypatch.setattr(kg.query, "DISK_STORE_MB", 0.001)   # as if it were large
    code, out, err = run_cli(capsys, *args)
    assert (code, out) == (0, DISTRIBUTORS_TSV)
    assert err == f"kg query: keeping {graph} (0 MB) as an Oxigraph store in {tmp_path / 'graph.trig.oxigraph'}/ (once, until the file changes) ...\n"
    assert run_cli(capsys, *args) == (0, DISTRIBUTORS_TSV, "")   # opened as it is
    code, out, err = run_cli(capsys, *args, "--store", "memory")
    assert (code, out, err) == (0, DISTRIBUTORS_TSV, "")


def test_kg_query_reads_into_memory_when_no_store_can_be_kept(capsys, monkeypatch, tmp_path):
    graph = tmp_path / "graph.trig"
    graph.write_bytes(FIXTURE.read_bytes())

    def refuse(**kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(kg.store.tempfile, "mkdtemp", refuse)
    code, out, err = run_cli(capsys, "query", "distributors", "--graph", str(graph), "--bind", "workLabel=Ballerina",
                             "--format", "tsv", "--store", "disk")
    assert (code, out) == (0, DISTRIBUTORS_TSV)
    assert err.splitlines()[-1] == (f"kg query: {tmp_path}: cannot keep a store there: Permission denied; "
                                    "reading the graph into memory instead")


def test_kg_query_reads_into_memory_without_the_oxigraph_executable(capsys, monkeypatch, tmp_path):
    graph = tmp_path / "graph.trig"
    graph.write_bytes(FIXTURE.read_bytes())
    monkeypatch.setattr(kg.store.sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    code, out, err = run_cli(capsys, "query", "distributors", "--graph", str(graph), "--bind", "workLabel=Ballerina",
                             "--format", "tsv", "--store", "disk")
    assert (code, out) == (0, DISTRIBUTORS_TSV)
    assert err.splitlines()[-1].endswith("install it with `pip install oxigraph` (it comes with `pip install -e .`); "
                                         "reading the graph into memory instead")
    assert [p.name for p in tmp_path.iterdir()] == ["graph.trig"]


def test_kg_query_injection_is_just_an_odd_name(capsys):
    code, out, err = run_cli(capsys, "query", "cast", "--graph", str(FIXTURE), "--bind", 'workLabel=x" } ; DROP ALL ; #',
                             "--format", "json")
    assert code == 0
    assert json.loads(out)["results"]["bindings"] == []


@pytest.mark.parametrize("args, message", [
    (["query", "no-such-question"], "no query named 'no-such-question'"),
    (["query"], "no query given"),
    (["query", "cast", "--text", "ASK {}"], "either"),
    (["query", "cast", "--bind", "wrokLabel=Ballerina"], "has no variable ?wrokLabel"),
    (["query", "cast", "--bind", "workLabel"], "expected VAR=VALUE"),
    (["query", "cast", "--bind", "work=<not an iri>"], "not a valid IRI"),
])
def test_kg_query_usage_errors_exit_2_without_traceback(capsys, args, message):
    code, out, err = run_cli(capsys, *args, "--graph", str(FIXTURE))
    assert code == 2
    assert message in err
    assert "Traceback" not in err and out == ""


def test_kg_query_malformed_query_exits_2_with_line_and_column(capsys, tmp_path):
    path = tmp_path / "bad.rq"
    path.write_text("PREFIX fkg: <https://w3id.org/franchise-kg/ontology#>\nSELECT ?w\nWHERE {\n  ?w fkg:directedBy\n}\n")
    code, out, err = run_cli(capsys, "query", str(path), "--graph", str(FIXTURE))
    assert code == 2
    assert f"{path}: syntax error at line 5, column 1:" in err
    assert "Traceback" not in err


def test_kg_query_missing_graph_exits_2(capsys, tmp_path):
    code, _, err = run_cli(capsys, "query", "cast", "--graph", str(tmp_path / "absent.trig"))
    assert code == 2 and "run `kg build` first" in err


def test_kg_query_timeout_stops_the_query():
    started = time.monotonic()
    done = subprocess.run(kg_command("query", "--text", SLOW, "--graph", str(FIXTURE), "--timeout", "1"),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "stopped after 1 s (--timeout)" in done.stderr and "--store memory" not in done.stderr
    assert time.monotonic() - started < 30


def test_kg_query_stopped_on_a_store_on_disk_says_memory_streams_faster(tmp_path):
    graph = tmp_path / "graph.trig"
    graph.write_bytes(FIXTURE.read_bytes())
    done = subprocess.run(kg_command("query", "--text", SLOW, "--graph", str(graph), "--timeout", "1", "--store", "disk"),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == ("kg query: stopped after 1 s (--timeout); the answer above is incomplete. "
                                            "Read into memory (--store memory), the graph streams answers of many rows "
                                            "2-4 times faster.")


def test_kg_query_streams_a_huge_answer_and_stops_quietly_when_the_reader_does():
    """815^3 rows would take minutes and gigabytes if gathered first; the first ones arrive at once."""
    process = subprocess.Popen(kg_command("query", "--text", MANY_ROWS, "--graph", str(FIXTURE), "--format", "csv",
                                          "--timeout", "120"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        started = time.monotonic()
        lines = [process.stdout.readline() for _ in range(2000)]
        assert all(line.endswith(b"\r\n") for line in lines)
        assert time.monotonic() - started < 20
        process.stdout.close()  # like `| head`: the reader goes away
        assert process.wait(timeout=30) == 0
        assert b"Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        process.stderr.close()


def test_kg_query_offers_the_formats_write_answer_writes(capsys):
    # cli.py spells the choices out, so that `kg --help` does not import the query engine.
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["query", "cast", "--format", "xml"])
    # "(choose from 'table', 'csv')", or without the quotes in newer Pythons
    listed = capsys.readouterr().err.split("choose from", 1)[1].split(")", 1)[0]
    offered = [name.strip(" '") for name in listed.split(",")]
    assert tuple(offered) == kg.query.RESULT_FORMATS == ("table", "csv", "tsv", "json")
