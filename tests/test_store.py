"""kg/store.py: loading safely, binding parameters, running and writing queries, exporting.

The query answers themselves are tested in tests/test_queries.py; here the machinery around them.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from itertools import groupby
from pathlib import Path

import networkx as nx
import pyoxigraph as ox
import pytest
import rdflib.namespace as ns
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.compare import isomorphic
from rdflib.query import Result

from kg import cli, store
from kg.namespaces import FKG, FKR
from kg.store import (
    Answer,
    BindingError,
    GraphLoadError,
    QueryNotFound,
    QuerySyntaxError,
    export_graph,
    find_query,
    load_graph,
    merged_view,
    parse_binding,
    query_variables,
    run_query,
    write_answer,
)

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
# The fixture itself follows docs/model.md
# ---------------------------------------------------------------------------------------------


def test_fixture_every_fact_has_its_claim_and_every_claim_its_fact():
    """In each article graph, the plain facts and the claims' (subject, predicate, object) coincide."""
    data = Dataset()
    data.parse(FIXTURE, format="trig")
    sources = data.graph(FKR["graph/sources"])
    article_graphs = set(sources.subjects(ns.PROV.wasDerivedFrom, None))
    assert len(article_graphs) == 3
    for graph_id in article_graphs:
        graph = data.graph(graph_id)
        article = sources.value(graph_id, ns.PROV.wasDerivedFrom)
        claims = set(graph.subjects(ns.RDF.type, FKG.Claim))
        stated = {
            (graph.value(c, ns.RDF.subject), graph.value(c, ns.RDF.predicate), graph.value(c, ns.RDF.object)) for c in claims
        }
        facts = {(s, p, o) for s, p, o in graph if s not in claims}
        assert stated == facts, graph_id
        assert {graph.value(c, ns.PROV.wasDerivedFrom) for c in claims} == {article}


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_load_graph_gives_the_union_of_the_named_graphs(engine):
    data = load_graph(FIXTURE, engine=engine)
    assert isinstance(data, Dataset) and data.default_union
    named = {str(g.identifier) for g in data.graphs()} - {"urn:x-rdflib:default"}
    assert named == {str(FKR[f"graph/{n}"]) for n in ("entities", "sources", "conflicts")} | {
        str(FKR[f"graph/{h * 8}"]) for h in ("a1", "b2", "c3")
    }
    assert (BALLERINA, FKG.directedBy, WISEMAN) in data  # a fact of an article graph, seen in the union
    assert dict(data.namespaces())["fkg"] == URIRef(str(FKG))


def test_load_graph_is_backed_by_oxigraph(dataset):
    from oxrdflib import OxigraphStore

    assert isinstance(dataset.store, OxigraphStore)


@pytest.mark.parametrize("suffix", [".ttl", ".nt", ".nq", ".trig", ".jsonld", ".rdf"])
def test_load_graph_reads_each_format_by_extension(tmp_path, dataset, suffix):
    fmt = {".ttl": ox.RdfFormat.TURTLE, ".nt": ox.RdfFormat.N_TRIPLES, ".nq": ox.RdfFormat.N_QUADS,
           ".trig": ox.RdfFormat.TRIG, ".jsonld": ox.RdfFormat.JSON_LD, ".rdf": ox.RdfFormat.RDF_XML}[suffix]
    source = ox.Store()
    source.load(path=str(FIXTURE))
    path = tmp_path / f"graph{suffix}"
    if fmt in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
        source.dump(str(path), fmt)
    else:
        source.dump(str(path), fmt, from_graph=ox.NamedNode(str(FKR["graph/entities"])))
    loaded = load_graph(path)
    assert (BALLERINA, ns.SKOS.prefLabel, Literal("Ballerina")) in loaded


def test_unknown_extension_and_missing_file_are_refused(tmp_path):
    (tmp_path / "graph.csv").write_text("a,b\n")
    with pytest.raises(GraphLoadError, match="unknown graph format"):
        load_graph(tmp_path / "graph.csv")
    with pytest.raises(GraphLoadError, match="no such file"):
        load_graph(tmp_path / "absent.trig")


def test_malformed_graph_is_a_load_error(tmp_path):
    path = tmp_path / "bad.ttl"
    path.write_text("<http://e/a> <http://e/p> .\n")
    with pytest.raises(GraphLoadError, match="bad.ttl"):
        load_graph(path)


@pytest.mark.parametrize(
    "context",
    [
        "http://127.0.0.1:9/context.jsonld",
        ["http://127.0.0.1:9/context.jsonld", {"ex": "http://e/"}],
        {"@import": "http://127.0.0.1:9/context.jsonld"},
    ],
    ids=["string", "list", "import"],
)
def test_jsonld_remote_context_is_refused(tmp_path, context):
    path = tmp_path / "remote.jsonld"
    path.write_text(json.dumps({"@context": context, "@id": "http://e/a", "http://e/p": "x"}))
    with pytest.raises(GraphLoadError, match="refusing"):
        load_graph(path)


def test_jsonld_nested_remote_context_is_refused(tmp_path):
    path = tmp_path / "nested.jsonld"
    path.write_text(json.dumps({"@id": "http://e/a", "http://e/p": {"@context": "http://127.0.0.1:9/c", "@id": "http://e/b"}}))
    with pytest.raises(GraphLoadError, match="refusing"):
        load_graph(path)


def test_oxigraph_itself_never_fetches_a_context():
    """The second line of defence: Oxigraph's JSON-LD parser has no document loader."""
    with pytest.raises(SyntaxError):
        list(ox.parse(b'{"@context": "http://127.0.0.1:9/c", "@id": "http://e/a"}', format=ox.RdfFormat.JSON_LD))


def test_jsonld_naming_our_context_uses_the_local_copy(tmp_path):
    path = tmp_path / "ours.jsonld"
    path.write_text(json.dumps({
        "@context": store.CONTEXT_IRI,
        "@id": str(BALLERINA), "@type": "Film", "directedBy": str(WISEMAN), "prefLabel": "Ballerina",
    }))
    loaded = load_graph(path)
    assert (BALLERINA, FKG.directedBy, WISEMAN) in loaded
    assert (BALLERINA, ns.RDF.type, FKG.Film) in loaded


XXE = """<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ <!ENTITY xxe SYSTEM "file://{secret}"> ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://e/">
  <rdf:Description rdf:about="http://e/a"><e:p>&xxe;</e:p></rdf:Description>
</rdf:RDF>
"""
LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [
  <!ENTITY a "aaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
  <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
  <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
  <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
  <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
  <!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">
  <!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://e/">
  <rdf:Description rdf:about="http://e/a"><e:p>&i;</e:p></rdf:Description>
</rdf:RDF>
"""


@pytest.mark.parametrize("declaration", [
    '<!ENTITY xxe SYSTEM "file://{secret}">',
    '<!ENTITY xxe PUBLIC "-//x//y" "file://{secret}">',
    '<!ENTITY % xxe SYSTEM "file://{secret}"> %xxe;',
], ids=["system", "public", "parameter"])
def test_rdfxml_external_entities_are_not_expanded(tmp_path, declaration):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    path = tmp_path / "xxe.rdf"
    path.write_text(XXE.replace('<!ENTITY xxe SYSTEM "file://{secret}">', declaration).format(secret=secret))
    with pytest.raises(GraphLoadError) as refused:
        load_graph(path)
    assert "TOP-SECRET" not in str(refused.value)


def test_rdfxml_external_dtd_is_refused(tmp_path):
    path = tmp_path / "dtd.rdf"
    path.write_text(XXE.replace('[ <!ENTITY xxe SYSTEM "file://{secret}"> ]', 'SYSTEM "http://127.0.0.1:9/x.dtd"')
                    .replace("&xxe;", "x"))
    with pytest.raises(GraphLoadError, match="external DTD"):
        load_graph(path)


def test_rdfxml_billion_laughs_is_refused_quickly(tmp_path):
    path = tmp_path / "laughs.rdf"
    path.write_text(LAUGHS)
    started = time.monotonic()
    with pytest.raises(GraphLoadError, match="refers to other entities"):
        load_graph(path)
    assert time.monotonic() - started < 2


def test_rdfxml_plain_internal_entities_still_load(tmp_path):
    """OWL files written by Protégé declare namespaces as entities: those stay readable."""
    path = tmp_path / "owl.rdf"
    path.write_text(XXE.replace('<!ENTITY xxe SYSTEM "file://{secret}">', '<!ENTITY e "http://e/">')
                    .replace('rdf:about="http://e/a"', 'rdf:about="&e;a"').replace("&xxe;", "x"))
    assert (URIRef("http://e/a"), URIRef("http://e/p"), Literal("x")) in merged_view(load_graph(path))


# ---------------------------------------------------------------------------------------------
# Finding queries and binding their parameters
# ---------------------------------------------------------------------------------------------


def test_find_query_by_name_by_file_name_and_by_path(tmp_path, monkeypatch):
    assert find_query("cast") == store.QUERIES_DIR / "cast.rq"
    assert find_query("cast.rq") == store.QUERIES_DIR / "cast.rq"
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

    assert store.QUERIES_DIR == Path(kg.__file__).resolve().parent.parent / "queries"


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
    ("work=urn:x:y", "work", Literal("urn:x:y")),
    ("work=fkr:work/ballerina", "work", BALLERINA),
    ("role=fkg:directedBy", "role", URIRef("https://w3id.org/franchise-kg/ontology#directedBy")),
    ("workLabel=John Wick: Chapter 4", "workLabel", Literal("John Wick: Chapter 4")),
    ("workLabel=Parabellum:fkr", "workLabel", Literal("Parabellum:fkr")),
    ("workLabel=x\" } ; DROP ALL ; #", "workLabel", Literal("x\" } ; DROP ALL ; #")),
])
def test_parse_binding(text, name, term):
    assert parse_binding(text) == (name, term)
    assert type(parse_binding(text)[1]) is type(term)


@pytest.mark.parametrize("text", ["workLabel", "=Ballerina", "work label=x", "1x=y", "work=<not an iri>",
                                  "work=https://e/a b", 'work=<http://e/">',
                                  "workLabel=<b>"])
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
    answer = run_query(data, store.read_query("cast"), {"workLabel": Literal('x" } ; DROP ALL ; #')})
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
    assert store._entities_named(load_graph(FIXTURE, engine=engine), query, bindings) == bound


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
# Exporting
# ---------------------------------------------------------------------------------------------


def test_merged_view_drops_claims_and_sources_keeps_facts_entities_conflicts(dataset):
    view = merged_view(dataset)
    assert (BALLERINA, FKG.directedBy, WISEMAN) in view
    assert (BALLERINA, ns.SKOS.prefLabel, Literal("Ballerina")) in view
    assert (FKR["conflict/ballerina--release-date"], ns.RDF.type, FKG.Conflict) in view
    assert not set(view.subjects(ns.RDF.type, FKG.Claim))
    assert not set(view.subjects(ns.RDF.type, FKG.Article))
    assert not set(view.triples((None, FKG.evidence, None)))
    assert not set(view.triples((None, FKG.preferred, None)))


def _export(dataset, fmt: str) -> bytes:
    out = io.BytesIO()
    export_graph(dataset, fmt, out)
    return out.getvalue()


@pytest.mark.parametrize("fmt, rdflib_format", [("trig", "trig"), ("nquads", "nquads")])
def test_trig_and_nquads_keep_every_named_graph(dataset, fmt, rdflib_format):
    back = Dataset()
    back.parse(data=_export(dataset, fmt), format=rdflib_format)
    original = Dataset()
    original.parse(FIXTURE, format="trig")
    graph_ids = lambda d: {g.identifier for g in d.graphs() if len(g)}  # noqa: E731
    assert graph_ids(back) == graph_ids(original)
    for graph_id in graph_ids(original):
        assert isomorphic(back.graph(graph_id), original.graph(graph_id)), graph_id


@pytest.mark.parametrize("fmt, rdflib_format", [("turtle", "turtle"), ("nt", "nt")])
def test_turtle_and_ntriples_are_the_merged_view(dataset, fmt, rdflib_format):
    back = Graph()
    back.parse(data=_export(dataset, fmt), format=rdflib_format)
    assert isomorphic(back, merged_view(dataset))


def test_jsonld_is_compacted_with_the_ontology_context_and_parses_back(dataset, tmp_path):
    text = _export(dataset, "json-ld")
    document = json.loads(text)
    context = json.loads(store.CONTEXT_FILE.read_text())["@context"]
    assert document["@context"] == context  # inline: nothing to fetch when reading it back
    ballerina = next(node for node in document["@graph"] if node["@id"] in (str(BALLERINA), "fkr:work/ballerina"))
    assert ballerina["@type"] == "Film"
    assert "directedBy" in ballerina and "prefLabel" in ballerina
    path = tmp_path / "graph.jsonld"
    path.write_bytes(text)
    assert isomorphic(merged_view(load_graph(path)), merged_view(dataset))
    with_rdflib = Graph()
    with_rdflib.parse(data=text, format="json-ld")
    assert isomorphic(with_rdflib, merged_view(dataset))


@pytest.mark.parametrize("at_once", [1, 2, 3])
def test_jsonld_made_a_few_subjects_at_a_time_is_the_same_document(dataset, monkeypatch, at_once):
    whole = _export(dataset, "json-ld")
    assert len(json.loads(whole)["@graph"]) > 3   # more subjects than a batch
    monkeypatch.setattr(store, "JSONLD_SUBJECTS_AT_ONCE", at_once)
    assert _export(dataset, "json-ld") == whole


class _Nodes:
    """A kg.store.NodeTable in memory: the nodes the last write kept, and those this one keeps."""

    def __init__(self) -> None:
        self.last: dict[str, str] = {}
        self.kept: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        return self.last.get(key)

    def keep(self, key: str, text: str) -> None:
        self.kept[key] = text

    def next_write(self) -> None:
        self.last, self.kept = self.kept, {}


def _view_jsonld(view: ox.Store, nodes: _Nodes | None = None) -> bytes:
    out = io.BytesIO()
    store.export_merged(view, "json-ld", out, jsonld_nodes=nodes)
    return out.getvalue()


def test_jsonld_nodes_kept_from_an_earlier_write_are_copied_and_only_a_changed_one_is_converted(dataset, monkeypatch):
    import rdflib.plugins.serializers.jsonld as rdflib_jsonld

    monkeypatch.setattr(store, "JSONLD_SUBJECTS_AT_ONCE", 2)
    view = store._merged_store(dataset)
    fresh = _view_jsonld(view)
    subjects = len(json.loads(fresh)["@graph"])
    converted: list[str] = []
    real = rdflib_jsonld.from_rdf
    monkeypatch.setattr(rdflib_jsonld, "from_rdf", lambda graph, *a, **k: converted.extend(map(str, set(graph.subjects()))) or real(graph, *a, **k))

    nodes = _Nodes()
    assert _view_jsonld(view, nodes) == fresh
    assert len(converted) == len(nodes.kept) == subjects   # the first write converts every node, and keeps each
    converted.clear()
    nodes.next_write()
    assert _view_jsonld(view, nodes) == fresh
    assert converted == []                                  # the second copies every one

    nodes.next_write()
    view.add(ox.Quad(ox.NamedNode(str(BALLERINA)), ox.NamedNode(str(RDFS.comment)), ox.Literal("A spin-off."), ox.DefaultGraph()))
    changed = _view_jsonld(view, nodes)
    assert converted == [str(BALLERINA)]                    # Ballerina's node alone is made again
    assert '"comment": "A spin-off."' in changed.decode("utf-8")
    assert changed == _view_jsonld(view)                    # the same bytes as a write that kept nothing
    assert len(nodes.kept) == subjects and nodes.kept.keys() != nodes.last.keys()   # Ballerina's new node kept, not its old one


def _jsonld_nodes(triples) -> dict[str, dict]:
    ds = Dataset()
    graph = ds.graph(FKR["graph/test"])
    for triple in triples:
        graph.add(triple)
    nodes = json.loads(_export(ds, "json-ld"))["@graph"]
    assert len({node["@id"] for node in nodes}) == len(nodes)   # one node per subject
    return {node["@id"]: node for node in nodes}


def test_jsonld_keeps_a_blank_nodes_description_when_made_a_subject_at_a_time(monkeypatch):
    monkeypatch.setattr(store, "JSONLD_SUBJECTS_AT_ONCE", 1)
    a, b, place = URIRef("http://example.org/a"), URIRef("http://example.org/b"), BNode()
    nodes = _jsonld_nodes([(a, RDFS.label, Literal("a")), (b, RDFS.label, Literal("b")),
                           (a, URIRef("http://example.org/near"), place), (place, RDFS.label, Literal("somewhere"))])
    near = nodes["http://example.org/a"]["http://example.org/near"]["@id"]
    assert nodes[near]["label"] == "somewhere"
    assert len(nodes) == 3


def test_jsonld_keeps_a_list_when_made_a_subject_at_a_time(monkeypatch):
    monkeypatch.setattr(store, "JSONLD_SUBJECTS_AT_ONCE", 1)
    a, b, c = (URIRef(f"http://example.org/{name}") for name in "abc")
    first, second = BNode(), BNode()
    nodes = _jsonld_nodes([(a, URIRef("http://example.org/items"), first), (first, RDF.first, b), (first, RDF.rest, second),
                           (second, RDF.first, c), (second, RDF.rest, RDF.nil), (b, RDFS.label, Literal("b"))])
    assert nodes["http://example.org/a"]["http://example.org/items"] == {
        "@list": [{"@id": "http://example.org/b"}, {"@id": "http://example.org/c"}]}


def test_graphml_has_entities_and_named_relations(dataset, tmp_path):
    path = tmp_path / "graph.graphml"
    path.write_bytes(_export(dataset, "graphml"))
    graph = nx.read_graphml(path, force_multigraph=True)
    by_iri = {attrs["iri"]: node for node, attrs in graph.nodes(data=True)}
    ballerina = graph.nodes[by_iri[str(BALLERINA)]]
    assert by_iri[str(BALLERINA)] == "work:ballerina"
    assert (ballerina["label"], ballerina["class"]) == ("Ballerina", "Film")
    assert graph.nodes[by_iri[str(FKR["person/ana-de-armas"])]]["class"] == "Actor"  # Person is its superclass
    assert graph.nodes[by_iri[str(FKR["organization/ruska-roma"])]]["class"] == "CriminalOrganization"
    relations = {(s, d["relation"], o) for s, o, d in graph.edges(data=True)}
    assert ("work:ballerina", "directedBy", "person:len-wiseman") in relations
    assert ("character:the-director", "leaderOf", "organization:ruska-roma") in relations
    assert all(d["label"] == d["relation"] and d["iri"].endswith(d["relation"]) for _, _, d in graph.edges(data=True))
    assert {node.split(":")[0] for node in graph.nodes} == {
        "work", "franchise", "person", "character", "organization", "place", "performance",
    }


def test_graphml_ids_are_unique_xml_name_tokens(dataset):
    """GraphML's schema types ids as NMTOKEN; Gephi drops an edge whose id repeats."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(_export(dataset, "graphml"))
    ns_graphml = "{http://graphml.graphdrawing.org/xmlns}"
    node_ids = [n.get("id") for n in root.iter(f"{ns_graphml}node")]
    edge_ids = [e.get("id") for e in root.iter(f"{ns_graphml}edge")]
    assert node_ids and edge_ids
    assert len(set(node_ids)) == len(node_ids) and len(set(edge_ids)) == len(edge_ids)
    assert all(re.fullmatch(r"[\w.:-]+", i) for i in node_ids + edge_ids)


def test_a_graph_made_for_a_batch_of_json_ld_nodes_is_freed_without_the_cyclic_collector():
    """The JSON-LD writer's graphs are made without prefixes: one bound to prefixes is in a cycle
    with its namespace manager, and a build that runs the collector seldom piled them up."""
    merged = ox.Store()
    person = ox.NamedNode("https://w3id.org/franchise-kg/id/person/lina-de-vries")
    merged.add(ox.Quad(person, ox.NamedNode(str(RDFS.label)), ox.Literal("Lina de Vries"), ox.DefaultGraph()))
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        graph = store._rdflib_graph(merged.quads_for_pattern(person, None, None, ox.DefaultGraph()), prefixes=False)
        assert len(graph) == 1
        del graph
        assert gc.collect() == 0
        graph = store._rdflib_graph(merged.quads_for_pattern(person, None, None, ox.DefaultGraph()))  # bound to kg's prefixes, for a reader
        assert graph.namespace_manager.store.namespace("fkr") is not None
        del graph
        assert gc.collect() > 0
    finally:
        if was_enabled:
            gc.enable()


def test_trig_blocks_one_after_another_are_the_trig_of_the_whole_stream(dataset):
    quads = sorted(store._ox_quads(dataset), key=store._quad_key)  # graph by graph
    whole = io.BytesIO()
    store.write_quads(quads, "trig", whole)
    # each graph handed over as a stream, read once
    blocks = [store.trig_block(graph) for _, graph in groupby(quads, key=lambda q: q.graph_name)]
    assert len(blocks) == 6  # the fixture's sources, conflicts, entities and three article graphs
    assert sum(count for count, _ in blocks) == len(quads)
    assert store.trig_prefixes() + b"".join(text for _, text in blocks) == whole.getvalue()
    prefix_lines = store.trig_prefixes().splitlines()
    assert prefix_lines and all(line.startswith(b"@prefix ") for line in prefix_lines)
    assert store.trig_block([]) == (0, b"")
    assert store.trig_block(iter(())) == (0, b"")


def test_export_of_an_rdflib_memory_dataset_matches(dataset):
    memory = load_graph(FIXTURE, engine="rdflib")
    for fmt in ("nt", "nquads"):
        assert sorted(_export(memory, fmt).splitlines()) == sorted(_export(dataset, fmt).splitlines())


# ---------------------------------------------------------------------------------------------
# The command line
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
    monkeypatch.setattr(store, "SLOW_LOAD_S", -1.0)   # as if it had taken long
    code, out, err = run_cli(capsys, "query", "story-order", "--graph", str(FIXTURE))
    assert code == 0 and "(4 rows)" in err
    assert f"reading {FIXTURE} took" in err and f"`kg serve --graph {FIXTURE}`" in err
    assert "kg serve" not in out   # the answer itself stays clean for pipes


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
    assert "stopped after 1 s (--timeout)" in done.stderr
    assert time.monotonic() - started < 30


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


def test_kg_export_to_a_file_and_to_stdout(capsys, tmp_path):
    target = tmp_path / "out" / "graph.nt"
    code, out, err = run_cli(capsys, "export", "--format", "nt", "--graph", str(FIXTURE), "-o", str(target))
    assert code == 0 and out == "" and "wrote" in err
    assert isomorphic(Graph().parse(target, format="nt"), merged_view(load_graph(FIXTURE)))
    done = subprocess.run(kg_command("export", "--format", "json-ld", "--graph", str(FIXTURE)),
                          capture_output=True, timeout=120)
    assert done.returncode == 0
    assert isomorphic(Graph().parse(data=done.stdout, format="json-ld"), merged_view(load_graph(FIXTURE)))


def test_kg_export_missing_graph_exits_2(capsys, tmp_path):
    code, _, err = run_cli(capsys, "export", "--format", "trig", "--graph", str(tmp_path / "absent.trig"))
    assert code == 2 and "no such file" in err
