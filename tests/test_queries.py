"""Every query in queries/: its header, its prefixes, and its answers on tests/data/store/fixture.trig.

Each query runs on four paths that must agree: rdflib's own SPARQL engine on rdflib's memory
store ("rdflib"), kg.query.run_query on the Oxigraph-backed dataset of load_graph ("oxigraph",
what `kg query` uses for a small graph) and on the store kept on disk for a copy of the fixture
("oxigraph-disk", what it uses for a large one), and rdflib's Graph.query on the in-memory
dataset, which oxrdflib hands to Oxigraph with initBindings and the graph's prefixes ("oxrdflib"). The expected rows are written
by hand from the fixture file.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib.namespace as ns
from rdflib import Literal, URIRef
from rdflib.plugins.sparql import prepareQuery

from kg.namespaces import FKG, FKR
from kg.query import QUERIES_DIR, query_names, read_query, run_query
from kg.store import load_graph

FIXTURE = Path(__file__).parent / "data" / "store" / "fixture.trig"
ENGINES = ("rdflib", "oxigraph", "oxigraph-disk", "oxrdflib")
QUERY_FILES = sorted(QUERIES_DIR.glob("*.rq"))
INJECTION = 'x" } ; DROP ALL ; #'

_SHORT = {"fkg:": str(FKG), "fkr:": str(FKR)}


def cell(term) -> str | None:
    """A result term as the expectations below write it: fkg:/fkr: IRIs shortened, literals as text."""
    if term is None:
        return None
    if isinstance(term, URIRef):
        for prefix, namespace in _SHORT.items():
            if str(term).startswith(namespace):
                return prefix + str(term)[len(namespace):]
    return str(term)


def bind_value(value: str):
    """The RDF term a test binds: fkg:/fkr: names and http(s) IRIs as IRIs, else a plain literal."""
    for prefix, namespace in _SHORT.items():
        if value.startswith(prefix):
            return URIRef(namespace + value[len(prefix):])
    return URIRef(value) if value.startswith(("http://", "https://")) else Literal(value)


def answer(dataset_by_engine, engine: str, text: str, bindings: dict[str, str] | None = None):
    """(variables, rows of raw terms) of a SELECT on one engine."""
    terms = {k: bind_value(v) for k, v in (bindings or {}).items()}
    if engine == "oxrdflib":
        result = dataset_by_engine["oxigraph"].query(text, initBindings=terms)
        return [str(v) for v in result.vars], [tuple(row) for row in result]
    result = run_query(dataset_by_engine[engine], text, terms)
    return list(result.variables), list(result.rows)


def project(variables, rows, columns):
    index = [variables.index(c) for c in columns]
    return [tuple(cell(row[i]) for i in index) for row in rows]


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    copy = tmp_path_factory.mktemp("disk") / FIXTURE.name
    copy.write_bytes(FIXTURE.read_bytes())
    return {"rdflib": load_graph(FIXTURE, engine="rdflib"), "oxigraph": load_graph(FIXTURE),
            "oxigraph-disk": load_graph(copy, engine="oxigraph-disk")}


# ---------------------------------------------------------------------------------------------
# The shape of every query file
# ---------------------------------------------------------------------------------------------


def header(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return "\n".join(lines)


def documented_parameters(text: str) -> list[str]:
    """The ?names listed under the header's "Parameters" heading."""
    block = re.search(r"^# Parameters.*?(?=^# Answer)", header(text), re.M | re.S)
    assert block, "no '# Parameters' ... '# Answer' block in the header"
    return re.findall(r"^#\s+\?([A-Za-z_]\w*)", block.group(0), re.M)


def test_the_queries_are_there():
    names = set(query_names())
    assert {
        "cast", "crew", "release-dates", "conflicts", "organization-characters",
        "people-with-several-roles", "recurring-actors", "release-order", "story-order",
        "filming-locations", "distributors", "fact-sources",
    } <= names


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.name)
def test_header_says_question_parameters_and_example(path: Path):
    head = header(path.read_text(encoding="utf-8"))
    assert re.search(r"^# Question: \S", head, re.M)
    assert re.search(r"^# Parameters", head, re.M)
    assert re.search(r"^# Answer: \S", head, re.M)
    example = re.search(r"^# Example answer.*?:\n((?:#   .*\n?)+)", head, re.M)
    assert example and len(example.group(1).splitlines()) >= 2, "an example answer with a header row and a row"


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.name)
def test_query_declares_its_own_prefixes(path: Path):
    """Runs unchanged anywhere: no engine's predefined prefixes are needed."""
    text = path.read_text(encoding="utf-8")
    prepareQuery(text, initNs={})
    ox.Store().query(text)  # no prefixes given: an undeclared one is a SyntaxError


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.name)
def test_parameters_are_projected(path: Path, datasets):
    """Unbound, a query answers for everything and each parameter is a column of the answer."""
    text = path.read_text(encoding="utf-8")
    variables, _ = answer(datasets, "oxigraph", text)
    for name in documented_parameters(text):
        assert name in variables, f"?{name} is a parameter but not in the SELECT"


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.name)
def test_engines_agree_row_for_row(path: Path, datasets):
    """Same multiset of rows everywhere. Oxigraph's union default graph yields a triple once per
    graph that holds it (oxigraph/oxigraph#1919), so a query without DISTINCT would differ here."""
    text = path.read_text(encoding="utf-8")
    results = {}
    for engine in ENGINES:
        variables, rows = answer(datasets, engine, text)
        results[engine] = (variables, Counter(tuple(cell(t) for t in row) for row in rows))
    assert results["rdflib"] == results["oxigraph"] == results["oxrdflib"]
    assert sum(results["rdflib"][1].values()) > 0


NAME_OF = re.compile(r"^#\s+\?([A-Za-z_]\w*)\s+a name of \?([A-Za-z_]\w*)", re.M)
NAMED_QUERIES = [p for p in QUERY_FILES if NAME_OF.search(p.read_text(encoding="utf-8"))]


def test_the_name_parameters_say_whose_name_they_are():
    assert {p.stem for p in NAMED_QUERIES} == {
        "cast", "crew", "distributors", "entities", "filming-locations", "organization-characters",
        "people-with-several-roles", "recurring-actors", "release-dates",
    }


@pytest.mark.parametrize("path", NAMED_QUERIES, ids=lambda p: p.name)
def test_every_row_entity_holds_its_name(path: Path, datasets):
    """What "?L  a name of ?X" promises, and run_query relies on to bind ?X from ?L: in every
    row of the unbound answer, ?X holds ?L as the object of one of its statements."""
    text = path.read_text(encoding="utf-8")
    data = datasets["oxigraph"]
    variables, rows = answer(datasets, "oxigraph", text)
    for name, entity in NAME_OF.findall(text):
        assert name in documented_parameters(text) and entity in variables
        for row in rows:
            holder, held = row[variables.index(entity)], row[variables.index(name)]
            assert (holder, None, held) in data, f"?{entity} {holder} does not hold ?{name} {held!r}"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.name)
def test_odd_names_match_nothing(path: Path, engine: str, datasets):
    """A name full of SPARQL syntax is bound as a literal, so it is just a name nothing has."""
    text = path.read_text(encoding="utf-8")
    labels = [p for p in documented_parameters(text) if p.endswith("Label") or p in ("label", "fileName")]
    if not labels:
        return
    before = len(datasets["oxigraph"])
    _, rows = answer(datasets, engine, text, {labels[0]: INJECTION})
    assert rows == []
    assert len(datasets["oxigraph"]) == before


# ---------------------------------------------------------------------------------------------
# Answers on the fixture, written by hand from tests/data/store/fixture.trig
# ---------------------------------------------------------------------------------------------

BALLERINA_NAMES = ("Ballerina", "From the World of John Wick: Ballerina")
PARABELLUM_NAMES = ("John Wick: Chapter 3 – Parabellum", "John Wick 3", "Parabellum")
BALLERINA_CAST = [
    ("Ana de Armas", "Eve Macarro"),
    ("Ana de Armas", "Rooney"),
    ("Anjelica Huston", "The Director"),
    ("Keanu Reeves", "John Wick"),
    ("Norman Reedus", None),
]
BALLERINA_CREW = [
    ("fkg:directedBy", "Len Wiseman"),
    ("fkg:producedBy", "Chad Stahelski"),
    ("fkg:producedBy", "Keanu Reeves"),
    ("fkg:writtenBy", "Shay Hatten"),
]

# (query, bindings, columns, expected rows, whether the order is part of the answer)
CASES = [
    ("cast", {}, ("workLabel", "actorLabel", "characterLabel"),
     [(w, a, c) for w in BALLERINA_NAMES for a, c in BALLERINA_CAST]
     + [(w, a, c) for w in PARABELLUM_NAMES for a, c in [("Anjelica Huston", "The Director"), ("Keanu Reeves", "John Wick")]],
     False),
    ("cast", {"workLabel": "Ballerina"}, ("workLabel", "actorLabel", "characterLabel", "work", "actor", "character"),
     [("Ballerina", "Ana de Armas", "Eve Macarro", "fkr:work/ballerina", "fkr:person/ana-de-armas", "fkr:character/eve-macarro"),
      ("Ballerina", "Ana de Armas", "Rooney", "fkr:work/ballerina", "fkr:person/ana-de-armas", "fkr:character/rooney"),
      ("Ballerina", "Anjelica Huston", "The Director", "fkr:work/ballerina", "fkr:person/anjelica-huston", "fkr:character/the-director"),
      ("Ballerina", "Keanu Reeves", "John Wick", "fkr:work/ballerina", "fkr:person/keanu-reeves", "fkr:character/john-wick"),
      ("Ballerina", "Norman Reedus", None, "fkr:work/ballerina", "fkr:person/norman-reedus", None)],
     False),
    ("cast", {"workLabel": "John Wick 3"}, ("workLabel", "actorLabel", "characterLabel"),
     [("John Wick 3", "Anjelica Huston", "The Director"), ("John Wick 3", "Keanu Reeves", "John Wick")], True),
    ("cast", {"workLabel": "ballerina"}, ("workLabel",), [], False),
    ("cast", {"workLabel": "https://w3id.org/franchise-kg/id/work/ballerina"}, ("workLabel",), [], False),
    ("crew", {}, ("workLabel", "role", "personLabel"),
     [(w, r, p) for w in BALLERINA_NAMES for r, p in BALLERINA_CREW], False),
    ("crew", {"workLabel": "Ballerina"}, ("workLabel", "role", "personLabel"),
     [("Ballerina", r, p) for r, p in BALLERINA_CREW], True),
    ("crew", {"workLabel": "Ballerina", "role": "fkg:producedBy"}, ("role", "personLabel"),
     [("fkg:producedBy", "Chad Stahelski"), ("fkg:producedBy", "Keanu Reeves")], True),
    ("release-dates", {}, ("workLabel", "releaseDate", "fileName", "issued", "preferred"),
     [(w, "2024-06-07", "fixture_a.txt", None, None) for w in BALLERINA_NAMES]
     + [(w, "2025-06-06", "fixture_c.txt", "2024-01-15", None) for w in BALLERINA_NAMES]
     + [("John Wick", "2014", "fixture_a.txt", None, None)]
     + [(w, "2019", "fixture_a.txt", None, None) for w in PARABELLUM_NAMES]
     + [("John Wick: Chapter 4", "2023-03", "fixture_b.txt", "2022-11-06", "false"),
        ("John Wick: Chapter 4", "2023-03-24", "fixture_c.txt", "2024-01-15", "true")],
     False),
    ("release-dates", {"workLabel": "Ballerina"}, ("workLabel", "releaseDate", "fileName", "issued", "preferred", "sentence"),
     [("Ballerina", "2024-06-07", "fixture_a.txt", None, None, "Ballerina will open on June 7, 2024."),
      ("Ballerina", "2025-06-06", "fixture_c.txt", "2024-01-15", None, "Ballerina reaches theaters on June 6, 2025.")],
     True),
    ("conflicts", {}, ("subjectLabel", "property", "valueLabel", "status", "preferred", "fileName", "issued"),
     [("Ana de Armas in Ballerina", "fkg:character", "Eve Macarro", "resolved", "true", "fixture_c.txt", "2024-01-15"),
      ("Ana de Armas in Ballerina", "fkg:character", "Rooney", "resolved", "false", "fixture_b.txt", "2022-11-06"),
      ("Ballerina", "fkg:releaseDate", "2024-06-07", "open", None, "fixture_a.txt", None),
      ("Ballerina", "fkg:releaseDate", "2025-06-06", "open", None, "fixture_c.txt", "2024-01-15"),
      ("John Wick: Chapter 4", "fkg:releaseDate", "2023-03", "resolved", "false", "fixture_b.txt", "2022-11-06"),
      ("John Wick: Chapter 4", "fkg:releaseDate", "2023-03-24", "resolved", "true", "fixture_c.txt", "2024-01-15")],
     True),
    ("conflicts", {"subject": "fkr:work/ballerina"}, ("subject", "property", "valueLabel", "fileName"),
     [("fkr:work/ballerina", "fkg:releaseDate", "2024-06-07", "fixture_a.txt"),
      ("fkr:work/ballerina", "fkg:releaseDate", "2025-06-06", "fixture_c.txt")],
     True),
    ("conflicts", {"property": "fkg:character"}, ("subject", "value", "status"),
     [("fkr:performance/ana-de-armas--ballerina", "fkr:character/eve-macarro", "resolved"),
      ("fkr:performance/ana-de-armas--ballerina", "fkr:character/rooney", "resolved")],
     True),
    ("organization-characters", {}, ("organizationLabel", "tie", "characterLabel"),
     [("Ruska Roma", "fkg:leaderOf", "The Director"),
      ("Ruska Roma", "fkg:memberOf", "John Wick"),
      ("Ruska Roma", "fkg:trainedBy", "Eve Macarro"),
      ("Ruska Roma", "fkg:trainedBy", "John Wick"),
      ("The Continental", "fkg:ownerOf", "Winston Scott"),
      ("Continental", "fkg:ownerOf", "Winston Scott")],
     False),
    ("organization-characters", {"organizationLabel": "Ruska Roma"}, ("organizationLabel", "tie", "characterLabel", "character"),
     [("Ruska Roma", "fkg:leaderOf", "The Director", "fkr:character/the-director"),
      ("Ruska Roma", "fkg:memberOf", "John Wick", "fkr:character/john-wick"),
      ("Ruska Roma", "fkg:trainedBy", "Eve Macarro", "fkr:character/eve-macarro"),
      ("Ruska Roma", "fkg:trainedBy", "John Wick", "fkr:character/john-wick")],
     True),
    ("organization-characters", {"tie": "fkg:trainedBy"}, ("organizationLabel", "characterLabel"),
     [("Ruska Roma", "Eve Macarro"), ("Ruska Roma", "John Wick")], True),
    ("people-with-several-roles", {}, ("personLabel", "role", "workLabel"),
     [("Chad Stahelski", "creator", "John Wick"),
      ("Chad Stahelski", "producer", "Ballerina")]
     + [(name, role, work) for name in ("Keanu Reeves", "Reeves")
        for role, work in [("actor", "Ballerina"), ("actor", "John Wick: Chapter 3 – Parabellum"), ("producer", "Ballerina")]],
     False),
    ("people-with-several-roles", {"personLabel": "Chad Stahelski"}, ("personLabel", "role", "workLabel", "work"),
     [("Chad Stahelski", "creator", "John Wick", "fkr:franchise/john-wick"),
      ("Chad Stahelski", "producer", "Ballerina", "fkr:work/ballerina")],
     True),
    ("people-with-several-roles", {"personLabel": "Anjelica Huston"}, ("personLabel",), [], False),
    ("people-with-several-roles", {"person": "fkr:person/keanu-reeves"}, ("personLabel", "role", "workLabel"),
     [(name, role, work) for name in ("Keanu Reeves", "Reeves")
      for role, work in [("actor", "Ballerina"), ("actor", "John Wick: Chapter 3 – Parabellum"), ("producer", "Ballerina")]],
     True),
    ("recurring-actors", {}, ("actorLabel", "workLabel"),
     [("Anjelica Huston", "Ballerina"), ("Anjelica Huston", "John Wick: Chapter 3 – Parabellum"),
      ("Keanu Reeves", "Ballerina"), ("Keanu Reeves", "John Wick: Chapter 3 – Parabellum"),
      ("Reeves", "Ballerina"), ("Reeves", "John Wick: Chapter 3 – Parabellum")],
     True),
    ("recurring-actors", {"actorLabel": "Ana de Armas"}, ("actorLabel",), [], False),
    ("recurring-actors", {"actor": "fkr:person/anjelica-huston"}, ("actorLabel", "workLabel"),
     [("Anjelica Huston", "Ballerina"), ("Anjelica Huston", "John Wick: Chapter 3 – Parabellum")], True),
    ("release-order", {}, ("releaseDate", "workLabel", "conflictStatus"),
     [("2014", "John Wick", None),
      ("2019", "John Wick: Chapter 3 – Parabellum", None),
      ("2023-03-24", "John Wick: Chapter 4", "resolved"),
      ("2024-06-07", "Ballerina", "open"),
      ("2025-06-06", "Ballerina", "open")],
     True),
    ("story-order", {}, ("storyPosition", "workLabel", "work"),
     [("0", "John Wick", "fkr:work/john-wick"),
      ("1", "John Wick: Chapter 3 – Parabellum", "fkr:work/john-wick-chapter-3-parabellum"),
      ("2", "Ballerina", "fkr:work/ballerina"),
      ("3", "John Wick: Chapter 4", "fkr:work/john-wick-chapter-4")],
     True),
    ("filming-locations", {}, ("workLabel", "placeLabel", "place"),
     [(w, "Prague", "fkr:place/prague") for w in BALLERINA_NAMES], False),
    ("filming-locations", {"workLabel": "Ballerina"}, ("workLabel", "placeLabel"), [("Ballerina", "Prague")], True),
    ("filming-locations", {"workLabel": "John Wick"}, ("workLabel",), [], False),
    ("distributors", {}, ("workLabel", "distributorLabel", "distributor"),
     [(w, "Lionsgate", "fkr:organization/lionsgate") for w in BALLERINA_NAMES], False),
    ("distributors", {"workLabel": "From the World of John Wick: Ballerina"}, ("workLabel", "distributorLabel"),
     [("From the World of John Wick: Ballerina", "Lionsgate")], True),
    ("fact-sources", {"subject": "fkr:work/ballerina", "predicate": "fkg:directedBy"},
     ("subjectLabel", "predicate", "objectLabel", "fileName", "title", "issued", "sentence",
      "startOffset", "endOffset", "rule", "confidence", "object", "article", "claim"),
     [("Ballerina", "fkg:directedBy", "Len Wiseman", "fixture_a.txt", "Ballerina: release date, cast and crew", None,
       "It is directed by Len Wiseman and written by Shay Hatten.", "37", "94", "directedBy/passive", "0.9",
       "fkr:person/len-wiseman", "fkr:article/a1a1a1a1a1a1a1a1", "fkr:claim/a02")],
     True),
    ("fact-sources", {"subject": "fkr:performance/ana-de-armas--ballerina", "predicate": "fkg:character"},
     ("subjectLabel", "objectLabel", "fileName", "sentence"),
     [("https://w3id.org/franchise-kg/id/performance/ana-de-armas--ballerina", "Rooney", "fixture_b.txt",
       "Ana de Armas stars as Rooney in Ballerina."),
      ("https://w3id.org/franchise-kg/id/performance/ana-de-armas--ballerina", "Eve Macarro", "fixture_c.txt",
       "Ana de Armas plays Eve Macarro, trained by the Ruska Roma.")],
     True),
    ("fact-sources", {"predicate": "fkg:releaseDate"}, ("subjectLabel", "objectLabel", "fileName"),
     [("Ballerina", "2024-06-07", "fixture_a.txt"),
      ("John Wick", "2014", "fixture_a.txt"),
      ("John Wick: Chapter 3 – Parabellum", "2019", "fixture_a.txt"),
      ("John Wick: Chapter 4", "2023-03", "fixture_b.txt"),
      ("Ballerina", "2025-06-06", "fixture_c.txt"),
      ("John Wick: Chapter 4", "2023-03-24", "fixture_c.txt")],
     True),
    ("fact-sources", {"object": "fkr:organization/ruska-roma"}, ("subjectLabel", "predicate", "fileName"),
     [("The Director", "fkg:leaderOf", "fixture_b.txt"),
      ("Eve Macarro", "fkg:trainedBy", "fixture_c.txt"),
      ("John Wick", "fkg:memberOf", "fixture_c.txt"),
      ("John Wick", "fkg:trainedBy", "fixture_c.txt")],
     True),
    ("entities", {"label": "John Wick"}, ("label", "class", "prefLabel", "entity"),
     [("John Wick", "fkg:Character", "John Wick", "fkr:character/john-wick"),
      ("John Wick", "fkg:Film", "John Wick", "fkr:work/john-wick"),
      ("John Wick", "fkg:Franchise", "John Wick", "fkr:franchise/john-wick")],
     True),
    ("entities", {"label": "Eve"}, ("label", "class", "prefLabel", "entity"),
     [("Eve", "fkg:Character", "Eve Macarro", "fkr:character/eve-macarro")], True),
    ("entities", {"label": "de Armas"}, ("class", "entity"),
     [("fkg:Actor", "fkr:person/ana-de-armas"), ("fkg:Person", "fkr:person/ana-de-armas")], True),
    ("entities", {"class": "fkg:Place"}, ("label", "class", "entity"), [("Prague", "fkg:Place", "fkr:place/prague")], True),
    ("articles", {}, ("fileName", "title", "issued", "claims"),
     [("fixture_a.txt", "Ballerina: release date, cast and crew", None, "14"),
      ("fixture_b.txt", "Ana de Armas to lead the Ballerina spin-off", "2022-11-06", "16"),
      ("fixture_c.txt", "Ballerina: the story so far", "2024-01-15", "29")],
     True),
    ("articles", {"fileName": "fixture_b.txt"}, ("fileName", "claims", "article"),
     [("fixture_b.txt", "16", "fkr:article/b2b2b2b2b2b2b2b2")], True),
]


def _case_id(case) -> str:
    name, bindings = case[0], case[1]
    return name + ("[" + ",".join(f"{k}={v}" for k, v in bindings.items()) + "]" if bindings else "[unbound]")


def test_every_query_has_a_case():
    assert {case[0] for case in CASES} == set(query_names())


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_answer_on_the_fixture(case, engine, datasets):
    name, bindings, columns, expected, ordered = case
    variables, rows = answer(datasets, engine, read_query(name), bindings)
    got = project(variables, rows, columns)
    if ordered:
        assert got == expected
    else:
        assert sorted(set(got), key=repr) == sorted(set(expected), key=repr)
        assert len(set(got)) == len(expected)


@pytest.mark.parametrize("engine", ENGINES)
def test_unbound_fact_sources_lists_every_claim(engine, datasets):
    _, rows = answer(datasets, engine, read_query("fact-sources"))
    assert len(rows) == 59  # 14 + 16 + 29 claims in the fixture's three article graphs


@pytest.mark.parametrize("engine", ENGINES)
def test_values_keep_their_datatypes(engine, datasets):
    """Dates stay dates and counts integers on every engine; names come back as plain strings."""
    variables, rows = answer(datasets, engine, read_query("release-order"))
    dates = {str(row[variables.index("releaseDate")]): row[variables.index("releaseDate")].datatype for row in rows}
    assert dates == {
        "2014": ns.XSD.gYear, "2019": ns.XSD.gYear, "2023-03-24": ns.XSD.date, "2024-06-07": ns.XSD.date, "2025-06-06": ns.XSD.date,
    }
    variables, rows = answer(datasets, engine, read_query("story-order"))
    assert {row[variables.index("storyPosition")].datatype for row in rows} == {ns.XSD.integer}
    variables, rows = answer(datasets, engine, read_query("distributors"), {"workLabel": "Ballerina"})
    label = rows[0][variables.index("distributorLabel")]
    assert str(label) == "Lionsgate" and label.language is None
    assert label.datatype in (None, ns.XSD.string)
