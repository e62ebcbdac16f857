"""kg/check.py: OWL reasoning with HermiT, the shapes of ontology/shapes.ttl, and `kg check`.

The graphs are written by hand in TriG following docs/model.md; each fault is a small TriG
snippet added to (or a replacement in) a graph that passes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Dataset, Graph, Literal, Namespace
from rdflib.namespace import PROV, RDF, SH, SKOS, XSD

from kg import check
from kg.cli import main

FKG = Namespace("https://w3id.org/franchise-kg/ontology#")
FKR = Namespace("https://w3id.org/franchise-kg/id/")
SCHEMA = Namespace("https://schema.org/")
ROOT = Path(__file__).resolve().parent.parent

PREFIXES = """
@base <https://w3id.org/franchise-kg/id/> .
@prefix fkg: <https://w3id.org/franchise-kg/ontology#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
"""

SENTENCE = "Ana de Armas plays Eve Macarro in Ballerina."


def claim(name: str, s: str, p: str, o: str, *, graph_article: str = "aaaa000000000001",
          evidence: str = SENTENCE, start: int = 0, end: int = 44, rule: str = "performance/plays",
          confidence: str = "0.9") -> str:
    """One claim node in TriG, as docs/model.md shows it."""
    return f"""
  <claim/{name}> a rdf:Statement, fkg:Claim ;
      rdf:subject {s} ; rdf:predicate {p} ; rdf:object {o} ;
      prov:wasDerivedFrom <article/{graph_article}> ;
      fkg:evidence "{evidence}" ;
      fkg:startOffset {start} ; fkg:endOffset {end} ; fkg:extractedBy "{rule}" ; fkg:confidence {confidence} ."""


PERFORMANCE = "<performance/ana-de-armas--ballerina>"

GOOD = PREFIXES + """
<graph/entities> {
  <work/ballerina> a fkg:Film ; rdfs:label "Ballerina" ; skos:prefLabel "Ballerina" .
  <work/john-wick-chapter-3-parabellum> a fkg:Film ; skos:prefLabel "John Wick: Chapter 3 – Parabellum" .
  <person/ana-de-armas> a fkg:Actor ; skos:prefLabel "Ana de Armas" .
  <character/eve-macarro> a fkg:Character ; skos:prefLabel "Eve Macarro" ; skos:altLabel "Eve" .
  <organization/ruska-roma> a fkg:CriminalOrganization ; skos:prefLabel "Ruska Roma" .
  <performance/ana-de-armas--ballerina> a fkg:Performance .
}

<graph/aaaa000000000001> {
  <performance/ana-de-armas--ballerina> fkg:performer <person/ana-de-armas> ;
      fkg:work <work/ballerina> ; fkg:character <character/eve-macarro> .
  <person/ana-de-armas> fkg:portrays <character/eve-macarro> .
  <work/ballerina> fkg:hasCastMember <person/ana-de-armas> ;
      fkg:releaseDate "2025-06-06"^^xsd:date ;
      fkg:setAfter <work/john-wick-chapter-3-parabellum> .
  <character/eve-macarro> fkg:appearsIn <work/ballerina> ;
      fkg:trainedBy <organization/ruska-roma> .
""" + "".join([
    claim("c01", PERFORMANCE, "fkg:performer", "<person/ana-de-armas>"),
    claim("c02", PERFORMANCE, "fkg:work", "<work/ballerina>"),
    claim("c03", PERFORMANCE, "fkg:character", "<character/eve-macarro>"),
    claim("c04", "<person/ana-de-armas>", "fkg:portrays", "<character/eve-macarro>"),
    claim("c05", "<work/ballerina>", "fkg:hasCastMember", "<person/ana-de-armas>"),
    claim("c06", "<character/eve-macarro>", "fkg:appearsIn", "<work/ballerina>"),
    claim("c07", "<work/ballerina>", "fkg:releaseDate", '"2025-06-06"^^xsd:date',
          evidence="Ballerina opens on June 6, 2025.", start=45, end=77, rule="releaseDate/opens-on", confidence="0.8"),
    claim("c08", "<work/ballerina>", "fkg:setAfter", "<work/john-wick-chapter-3-parabellum>",
          evidence="It is set after the events of Parabellum.", start=78, end=119, rule="setAfter/set-after",
          confidence="0.7"),
    claim("c09", "<character/eve-macarro>", "fkg:trainedBy", "<organization/ruska-roma>",
          evidence="Eve was trained by the Ruska Roma.", start=120, end=154, rule="trainedBy/passive",
          confidence="0.85"),
]) + """
}

<graph/sources> {
  <article/aaaa000000000001> a prov:Entity, fkg:Article ;
      fkg:fileName "000_aaaa000000000001.txt" ;
      dcterms:title "Ballerina sets its date" ;
      dcterms:issued "2024-11-07"^^xsd:date ;
      fkg:sha256 "aaaa000000000001aaaa000000000001aaaa000000000001aaaa000000000001" .
  <graph/aaaa000000000001> prov:wasDerivedFrom <article/aaaa000000000001> .
  <article/bbbb000000000002> a prov:Entity, fkg:Article ;
      fkg:fileName "001_bbbb000000000002.txt" ;
      fkg:sha256 "bbbb000000000002bbbb000000000002bbbb000000000002bbbb000000000002" .
  <graph/bbbb000000000002> prov:wasDerivedFrom <article/bbbb000000000002> .
}
"""

ARTICLE_FILE = "000_aaaa000000000001.txt"


def dataset(text: str) -> Dataset:
    ds = Dataset()
    ds.parse(data=text, format="trig")
    return ds


def in_graph(graph: str, body: str) -> str:
    """A TriG block adding `body` to a named graph (TriG merges repeated graph blocks)."""
    return f"\n<graph/{graph}> {{\n{body}\n}}\n"


def keys(findings) -> set[tuple]:
    return {(f.rule, f.node, f.path, f.value) for f in findings}


# --- a graph that passes ---------------------------------------------------------------------


def test_good_graph_passes_everything():
    report = check.check(dataset(GOOD))
    assert report.findings == []
    assert report.consistent is True
    assert report.conforms is True
    assert report.ok


def test_shacl_report_of_good_graph_says_it_conforms():
    conforms, report, findings = check.validate(dataset(GOOD))
    assert conforms and findings == []
    (result,) = report.subjects(RDF.type, SH.ValidationReport)
    assert report.value(result, SH.conforms) == Literal(True)


# --- reasoning ------------------------------------------------------------------------------

MINIMAL = PREFIXES + """
<graph/entities> {
  <work/w> a fkg:Film . <person/a> a fkg:Actor . <character/c> a fkg:Character .
  <performance/a--w> a fkg:Performance .
}
<graph/x> {
  <performance/a--w> fkg:performer <person/a> ; fkg:work <work/w> ; fkg:character <character/c> .
}
"""


def test_reasoner_infers_cast_appearances_and_types_from_a_performance():
    inferred = check.reason(dataset(MINIMAL))
    w, a, c, p = FKR["work/w"], FKR["person/a"], FKR["character/c"], FKR["performance/a--w"]
    assert set(inferred) == {
        (w, FKG.hasCastMember, a),       # chain hasPerformance o performer
        (w, SCHEMA.actor, a),            # hasCastMember is a subproperty of schema:actor
        (c, FKG.appearsIn, w),           # chain characterIn o work
        (a, FKG.portrays, c),            # chain performerIn o character
        (w, FKG.hasPerformance, p),      # inverses
        (a, FKG.performerIn, p),
        (c, FKG.characterIn, p),
        (a, RDF.type, FKG.Person),       # Actor is a Person, Film is a Work
        (a, RDF.type, SCHEMA.Person),
        (w, RDF.type, FKG.Work),
        (w, RDF.type, SCHEMA.Movie),     # Film is equivalent to schema:Movie
    }


def test_reasoner_orders_the_story_both_ways_and_transitively():
    text = PREFIXES + """
    <graph/entities> { <work/u> a fkg:Film . <work/v> a fkg:Film . <work/w> a fkg:Film . }
    <graph/x> { <work/w> fkg:setAfter <work/v> . <work/v> fkg:setAfter <work/u> . }
    """
    inferred = check.reason(dataset(text))
    u, v, w = FKR["work/u"], FKR["work/v"], FKR["work/w"]
    order = {t for t in inferred if t[1] in (FKG.setAfter, FKG.setBefore)}
    assert order == {(w, FKG.setAfter, u), (u, FKG.setBefore, v), (v, FKG.setBefore, w), (u, FKG.setBefore, w)}


def test_reasoner_infers_types_from_domain_and_range():
    text = PREFIXES + "<graph/x> { <work/w> fkg:directedBy <person/d> . }"
    inferred = check.reason(dataset(text))
    assert (FKR["work/w"], RDF.type, FKG.Work) in inferred
    assert (FKR["person/d"], RDF.type, FKG.Person) in inferred
    assert (FKR["work/w"], SCHEMA.director, FKR["person/d"]) in inferred


def test_reasoner_reads_facts_not_claims():
    facts = check.fact_graph(dataset(GOOD))
    assert not set(facts.subjects(RDF.type, FKG.Claim))
    assert (FKR["work/ballerina"], FKG.releaseDate, Literal("2025-06-06", datatype=XSD.date)) in facts
    assert (FKR["person/ana-de-armas"], RDF.type, FKG.Actor) in facts


def test_inferred_triples_go_to_their_own_graph_marked_as_reasoning():
    ds = dataset(GOOD)
    article_graph = ds.graph(FKR["graph/aaaa000000000001"])
    before = len(article_graph)
    inferred = check.reason(ds)
    check.add_inferred(ds, inferred)
    assert set(ds.graph(check.INFERRED)) == set(inferred)
    assert (FKR["work/ballerina"], RDF.type, FKG.Work) in ds.graph(check.INFERRED)
    assert (check.INFERRED, PROV.wasGeneratedBy, check.REASONING) in ds.graph(FKR["graph/sources"])
    assert len(article_graph) == before
    # the inferences are not facts to claim: the graph still passes SHACL and the provenance check
    assert check.validate(ds)[0]
    assert check.check_provenance(ds) == []
    assert set(check.fact_graph(ds)) == set(check.fact_graph(dataset(GOOD)))


def test_inconsistencies_are_explained_one_clash_each():
    # two independent faults in one graph (one HermiT run and one Pellet run for both):
    # a Person typed as a Film, and a second performer for a functional fkg:performer
    ds = dataset(GOOD + in_graph("entities", "<person/ana-de-armas> a fkg:Film ."
                                 '<person/keanu-reeves> a fkg:Actor ; skos:prefLabel "Keanu Reeves" .')
                 + in_graph("aaaa000000000001", f"{PERFORMANCE} fkg:performer <person/keanu-reeves> ."
                            + claim("c10", PERFORMANCE, "fkg:performer", "<person/keanu-reeves>")))
    with pytest.raises(check.InconsistentGraph) as raised:
        check.reason(ds)
    findings = {f.node: f for f in raised.value.findings}
    assert set(findings) == {FKR["person/ana-de-armas"], FKR["performance/ana-de-armas--ballerina"]}
    assert all(f.check == "owl" and f.rule == "consistency" for f in findings.values())

    film = findings[FKR["person/ana-de-armas"]]
    assert "fkr:person/ana-de-armas type Film" in film.message
    assert "DisjointClasses(" in film.message

    performers = findings[FKR["performance/ana-de-armas--ballerina"]]
    assert "Functional performer" in performers.message
    # the unique name assumption, stated of the two people the functional property would make one
    assert "fkr:person/ana-de-armas differentFrom fkr:person/keanu-reeves" in performers.message
    assert "fkr:performance/ana-de-armas--ballerina performer fkr:person/keanu-reeves" in performers.message
    assert performers.sources == (ARTICLE_FILE,)


def test_an_inconsistent_graph_leaves_no_temporary_file(tmp_path, monkeypatch):
    """owlready2 keeps HermiT's input file when HermiT fails; kg check removes it all the same."""
    import tempfile

    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    ds = dataset(GOOD + in_graph("entities", "<person/ana-de-armas> a fkg:Film ."))
    with pytest.raises(check.InconsistentGraph):
        check.reason(ds)
    assert list(temporary.iterdir()) == []
    assert tempfile.gettempdir() == str(temporary)   # as it was


def test_a_second_performer_stated_through_the_inverse_property_is_found():
    # Keanu Reeves "performer in" Ana de Armas's performance: read backwards, a second performer
    ds = dataset(GOOD + in_graph("entities", '<person/keanu-reeves> a fkg:Actor ; skos:prefLabel "Keanu Reeves" .')
                 + in_graph("aaaa000000000001", f"<person/keanu-reeves> fkg:performerIn {PERFORMANCE} ."))
    with pytest.raises(check.InconsistentGraph) as raised:
        check.reason(ds)
    (finding,) = raised.value.findings
    assert "fkr:person/ana-de-armas differentFrom fkr:person/keanu-reeves" in finding.message
    assert f"fkr:person/keanu-reeves performerIn fkr:{PERFORMANCE[1:-1]}" in finding.message


ONE_PERFORMER_EACH = PREFIXES + """
<performance/a--w> fkg:performer <person/a> ; fkg:work <work/w> .
<performance/b--w> fkg:performer <person/b> ; fkg:work <work/w> .
<person/a> fkg:portrays <character/c> .
<person/b> fkg:portrays <character/c> .
"""


def test_only_individuals_the_ontology_could_make_one_are_declared_different():
    # One owl:AllDifferent of every individual is quadratic for HermiT (a 1,000-article graph's
    # 8,375 individuals ran it out of memory): only those a functional property could join are.
    tbox = check._ontology_graph(check.ONTOLOGY)
    assert check._may_be_one(Graph().parse(data=ONE_PERFORMER_EACH, format="turtle"), tbox) == []
    two_of_each = ONE_PERFORMER_EACH + """
<performance/a--w> fkg:performer <person/a2> ; fkg:work <work/w2> .
<person/b2> fkg:performerIn <performance/b--w> .
"""
    groups = check._may_be_one(Graph().parse(data=two_of_each, format="turtle"), tbox)
    assert groups == [[FKR["person/a"], FKR["person/a2"]], [FKR["person/b"], FKR["person/b2"]],
                      [FKR["work/w"], FKR["work/w2"]]]


@pytest.mark.parametrize("axiom", [
    "fkg:Person owl:hasKey ( fkg:birthName ) .",
    # a chain into (a sub-property of) a functional property states values that no fact states
    "fkg:leadPerformer rdfs:subPropertyOf fkg:performer ; owl:propertyChainAxiom ( fkg:work fkg:hasPerformance fkg:performer ) .",
])
def test_every_individual_is_declared_different_when_the_ontology_could_join_any_two(axiom):
    tbox = check._ontology_graph(check.ONTOLOGY)
    tbox.parse(data=PREFIXES + axiom, format="turtle")
    assert check._may_be_one(Graph().parse(data=ONE_PERFORMER_EACH, format="turtle"), tbox) is None


def test_one_finding_per_clash_however_pellet_orders_its_justifications():
    film_by_actor = ["fkr:person/x type Actor", "Actor subClassOf Person", "DisjointClasses(Person Work)",
                     "fkr:person/x type Film", "Film subClassOf Work"]
    film_by_range = ["fkr:work/w hasCastMember fkr:person/x", "hasCastMember range Person",
                     "DisjointClasses(Person Work)", "fkr:person/x type Film", "Film subClassOf Work"]
    performers = ["fkr:performance/p performer fkr:person/y", "fkr:performance/p performer fkr:person/z",
                  "DifferentIndividuals(fkr:person/y fkr:person/z)", "Functional performer"]
    # Pellet leaving out the merge of y and z: one class assertion cannot clash on its own
    incomplete = ["fkr:person/z type Actor", "Actor subClassOf Person", "DisjointClasses(Person Work)"]
    bad_date = ['fkr:work/w releaseDate "June 2025"', "releaseDate range date or gYear or gYearMonth"]
    assert check._independent([film_by_actor, film_by_range, performers, incomplete]) == [film_by_actor, performers]
    assert check._independent([film_by_range, incomplete, film_by_actor, performers]) == [film_by_range, performers]
    assert check._independent([bad_date]) == [bad_date]


# --- SHACL ----------------------------------------------------------------------------------

BALLERINA, ANA, EVE = FKR["work/ballerina"], FKR["person/ana-de-armas"], FKR["character/eve-macarro"]
PERF = FKR["performance/ana-de-armas--ballerina"]

FAULTS = {
    "person typed as film": (
        GOOD + in_graph("entities", "<person/ana-de-armas> a fkg:Film ."),
        # a SPARQL constraint of a node shape that binds no ?value reports the focus node as the value
        {("fkgsh:DisjointTypes", ANA, None, ANA)},
        ["fkr:person/ana-de-armas is both a", "fkg:Person", "fkg:Work", "disjoint"],
    ),
    "date as a plain string": (
        GOOD.replace('"2025-06-06"^^xsd:date', '"June 6, 2025"'),
        {("fkgsh:ReleaseDateDatatype", BALLERINA, FKG.releaseDate, Literal("June 6, 2025"))},
        ["xsd:date, xsd:gYearMonth or xsd:gYear"],
    ),
    "ill-formed date": (
        GOOD.replace('"2025-06-06"^^xsd:date', '"2025-06-31"^^xsd:date'),
        {("fkgsh:ReleaseDateDatatype", BALLERINA, FKG.releaseDate, Literal("2025-06-31", datatype=XSD.date))},
        ["well-formed"],
    ),
    "character that portrays someone": (
        GOOD + in_graph("aaaa000000000001", "<character/eve-macarro> fkg:portrays <person/ana-de-armas> ."
                        + claim("c10", "<character/eve-macarro>", "fkg:portrays", "<person/ana-de-armas>")),
        {("fkgsh:FactDomain", EVE, FKG.portrays, ANA), ("fkgsh:FactRange", EVE, FKG.portrays, ANA)},
        ["fkg:portrays needs a subject that is a Person", "fkg:portrays needs an object that is a Character"],
    ),
    "fact with no source": (
        GOOD + in_graph("entities", '<person/len-wiseman> a fkg:Person ; skos:prefLabel "Len Wiseman" .')
        + in_graph("aaaa000000000001", "<work/ballerina> fkg:directedBy <person/len-wiseman> ."),
        {("fkgsh:FactHasClaim", BALLERINA, FKG.directedBy, FKR["person/len-wiseman"])},
        ["no claim derived from an fkg:Article states this fact"],
    ),
    "claim from something that is not an article": (
        GOOD.replace("prov:wasDerivedFrom <article/aaaa000000000001> ;\n      fkg:evidence \"Eve was",
                     "prov:wasDerivedFrom <work/ballerina> ;\n      fkg:evidence \"Eve was"),
        {("fkgsh:ClaimSource", FKR["claim/c09"], PROV.wasDerivedFrom, BALLERINA),
         ("fkgsh:FactHasClaim", EVE, FKG.trainedBy, FKR["organization/ruska-roma"])},
        ["a claim is derived from exactly one fkg:Article"],
    ),
    "performance with two performers": (
        GOOD + in_graph("entities", '<person/keanu-reeves> a fkg:Actor ; skos:prefLabel "Keanu Reeves" .')
        + in_graph("aaaa000000000001", f"{PERFORMANCE} fkg:performer <person/keanu-reeves> ."
                   + claim("c10", PERFORMANCE, "fkg:performer", "<person/keanu-reeves>")),
        {("fkgsh:OnePerformer", PERF, FKG.performer, None)},
        ["a performance has exactly one performer"],
    ),
    "performance with no work": (
        GOOD.replace("fkg:work <work/ballerina> ; fkg:character", "fkg:character").replace(
            claim("c02", PERFORMANCE, "fkg:work", "<work/ballerina>"), ""),
        {("fkgsh:OneWork", PERF, FKG.work, None)},
        ["a performance is in exactly one work"],
    ),
    "two characters and no conflict": (
        GOOD + in_graph("entities", '<character/the-ballerina> a fkg:Character ; skos:prefLabel "The Ballerina" .')
        + in_graph("aaaa000000000001", f"{PERFORMANCE} fkg:character <character/the-ballerina> ."
                   + claim("c10", PERFORMANCE, "fkg:character", "<character/the-ballerina>")),
        {("fkgsh:CharacterConflictMarked", PERF, FKG.character, EVE),
         ("fkgsh:CharacterConflictMarked", PERF, FKG.character, FKR["character/the-ballerina"])},
        ["several characters, and no fkg:Conflict on fkg:character"],
    ),
    "entity with two preferred labels": (
        GOOD.replace('skos:prefLabel "Eve Macarro" ; skos:altLabel "Eve"', 'skos:prefLabel "Eve Macarro", "Eve"'),
        {("fkgsh:OnePrefLabel", EVE, SKOS.prefLabel, None)},
        ["exactly one skos:prefLabel"],
    ),
    "confidence above one": (
        GOOD.replace('fkg:confidence 0.85', 'fkg:confidence 1.5'),
        {("fkgsh:ClaimConfidence", FKR["claim/c09"], FKG.confidence, Literal("1.5", datatype=XSD.decimal))},
        ["between 0 and 1"],
    ),
    "confidence as a double": (
        GOOD.replace('fkg:confidence 0.85', 'fkg:confidence 8.5e-1'),
        {("fkgsh:ClaimConfidence", FKR["claim/c09"], FKG.confidence, Literal("8.5e-1", datatype=XSD.double))},
        ["xsd:decimal"],
    ),
    "claim with no evidence": (
        GOOD.replace('fkg:evidence "Eve was trained by the Ruska Roma." ;', ""),
        {("fkgsh:ClaimEvidence", FKR["claim/c09"], FKG.evidence, None)},
        ["fkg:evidence"],
    ),
    "offsets the wrong way round": (
        GOOD.replace("fkg:startOffset 120 ; fkg:endOffset 154", "fkg:startOffset 154 ; fkg:endOffset 120"),
        {("fkgsh:ClaimStart", FKR["claim/c09"], FKG.startOffset, Literal(154))},
        ["below its fkg:endOffset"],
    ),
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_shacl_finds_the_fault(name):
    text, expected, fragments = FAULTS[name]
    conforms, report, findings = check.validate(dataset(text))
    assert not conforms
    assert keys(findings) == expected
    messages = " | ".join(f.message for f in findings)
    for fragment in fragments:
        assert fragment in messages


def test_shacl_names_the_article_the_offending_fact_came_from():
    text, _, _ = FAULTS["character that portrays someone"]
    _, _, findings = check.validate(dataset(text))
    assert {f.sources for f in findings} == {(ARTICLE_FILE,)}


CONFLICT = """
  <conflict/ballerina-character> a fkg:Conflict ;
      fkg:conflictSubject <performance/ana-de-armas--ballerina> ;
      fkg:conflictProperty fkg:character ;
      fkg:conflictingClaim <claim/c03>, <claim/c10> ;
      fkg:conflictStatus "{status}" ;
      {preferred}
      rdfs:comment "Two sources name different characters." .
"""

TWO_CHARACTERS = FAULTS["two characters and no conflict"][0]


def test_two_characters_are_accepted_when_a_conflict_marks_them():
    text = TWO_CHARACTERS + in_graph("conflicts", CONFLICT.format(status="open", preferred=""))
    conforms, _, findings = check.validate(dataset(text))
    assert findings == [] and conforms


def test_a_conflict_on_another_property_does_not_excuse_two_characters():
    text = TWO_CHARACTERS + in_graph("conflicts", CONFLICT.format(status="open", preferred="").replace(
        "fkg:conflictProperty fkg:character", "fkg:conflictProperty fkg:releaseDate"))
    _, _, findings = check.validate(dataset(text))
    assert ("fkgsh:CharacterConflictMarked", PERF, FKG.character, EVE) in keys(findings)


@pytest.mark.parametrize(
    "status,preferred,ok",
    [
        ("open", "", True),
        ("resolved", "fkg:preferredClaim <claim/c10> ;", True),
        ("resolved", "", False),                                   # resolved, but nothing preferred
        ("open", "fkg:preferredClaim <claim/c10> ;", False),        # open, yet something preferred
        ("resolved", "fkg:preferredClaim <claim/c01> ;", False),    # preferred claim not in the conflict
        ("settled", "", False),                                    # no such status
    ],
)
def test_conflict_status_and_preference(status, preferred, ok):
    text = TWO_CHARACTERS + in_graph("conflicts", CONFLICT.format(status=status, preferred=preferred))
    conforms, _, findings = check.validate(dataset(text))
    assert conforms is ok
    assert all(f.node == FKR["conflict/ballerina-character"] for f in findings)


def test_a_conflict_prefers_every_claim_of_one_value_and_no_other():
    # a second sentence of the article names The Ballerina again: the preferred value has two claims
    again = in_graph("aaaa000000000001", claim("c11", PERFORMANCE, "fkg:character", "<character/the-ballerina>",
                                                evidence="She is The Ballerina.", start=155, end=176))

    def conflict(preferred: str) -> str:
        return in_graph("conflicts", CONFLICT.format(status="resolved", preferred=preferred).replace(
            "<claim/c03>, <claim/c10>", "<claim/c03>, <claim/c10>, <claim/c11>"))

    conforms, _, findings = check.validate(dataset(TWO_CHARACTERS + again + conflict(
        "fkg:preferredClaim <claim/c10>, <claim/c11> ;")))
    assert findings == [] and conforms
    _, _, findings = check.validate(dataset(TWO_CHARACTERS + again + conflict(
        "fkg:preferredClaim <claim/c03>, <claim/c10> ;")))
    assert {(f.rule, f.node) for f in findings} == {("fkgsh:ConflictPreferredValue", FKR["conflict/ballerina-character"])}


def test_the_reasoner_accepts_two_characters():
    # fkg:character is single-valued by annotation only: a disputed character is not a contradiction
    text = TWO_CHARACTERS + in_graph("conflicts", CONFLICT.format(status="open", preferred=""))
    inferred = check.reason(dataset(text))
    assert (FKR["character/the-ballerina"], FKG.appearsIn, BALLERINA) in inferred


# --- named-graph provenance -----------------------------------------------------------------


def test_a_claim_in_another_graph_does_not_source_a_fact():
    text = GOOD + in_graph("bbbb000000000002", "<work/ballerina> fkg:setAfter <work/john-wick-chapter-3-parabellum> .")
    ds = dataset(text)
    assert check.validate(ds)[0]  # the union has a claim for the fact...
    findings = check.check_provenance(ds)  # ...but not in the graph of article bbbb
    assert keys(findings) == {("fact-claimed-in-its-graph", BALLERINA, FKG.setAfter,
                               FKR["work/john-wick-chapter-3-parabellum"])}
    assert findings[0].sources == ("001_bbbb000000000002.txt",)


def test_a_claim_whose_fact_is_missing():
    ds = dataset(GOOD.replace("fkg:trainedBy <organization/ruska-roma> .", "."))
    findings = check.check_provenance(ds)
    assert keys(findings) == {("claimed-fact-in-its-graph", FKR["claim/c09"], None, None)}


def test_an_article_graph_with_no_article():
    ds = dataset(GOOD.replace("<graph/aaaa000000000001> prov:wasDerivedFrom <article/aaaa000000000001> .", ""))
    assert keys(check.check_provenance(ds)) == {("graph-has-article", FKR["graph/aaaa000000000001"], None, None)}


# --- kg check -------------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "graph.trig"
    path.write_text(text, encoding="utf-8")
    return path


def test_cli_passes_a_good_graph(tmp_path, capsys):
    path = write(tmp_path, GOOD)
    assert main(["check", "--graph", str(path)]) == 0
    out = capsys.readouterr().out
    assert "reasoning (HermiT): consistent" in out
    assert "SHACL: conforms" in out
    assert out.rstrip().endswith("OK")
    report = Graph().parse(tmp_path / "shacl-report.ttl")
    assert (None, SH.conforms, Literal(True)) in report


def test_cli_says_when_the_shacl_report_cannot_be_written_and_keeps_the_verdict(tmp_path, capsys, monkeypatch):
    path = write(tmp_path, GOOD)

    def full(files, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(check, "write_atomically", full)
    assert main(["check", "--graph", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err.splitlines() == [f"kg check: {tmp_path / 'shacl-report.ttl'}: cannot write the SHACL report: "
                                "No space left on device"]
    assert "  SHACL: conforms\n" in out and out.rstrip().endswith("OK")
    assert not (tmp_path / "shacl-report.ttl").exists()


def test_cli_fails_and_says_where(tmp_path, capsys):
    text, _, _ = FAULTS["character that portrays someone"]
    path = write(tmp_path, text)
    assert main(["check", "--graph", str(path)]) == 1
    out = capsys.readouterr().out
    assert "reasoning (HermiT): INCONSISTENT" in out
    assert "- fkr:character/eve-macarro fkg:portrays fkr:person/ana-de-armas" in out
    assert "rule fkgsh:FactDomain: fkg:portrays needs a subject that is a Person" in out
    assert f"from {ARTICLE_FILE}" in out
    assert out.rstrip().endswith("FAILED")
    report = Graph().parse(tmp_path / "shacl-report.ttl")
    assert (None, SH.conforms, Literal(False)) in report


@pytest.mark.parametrize("content", [None, "this is not TriG {"])
def test_cli_unreadable_graph_exits_2_with_one_line(tmp_path, content):
    path = tmp_path / "graph.trig"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "kg.cli", "check", "--graph", str(path)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0]
    assert "Traceback" not in run.stderr


def test_cli_checks_a_good_graph_written_as_nquads(tmp_path, capsys):
    """N-Quads keeps the named graphs as TriG does: the same graph, the same verdict."""
    path = tmp_path / "graph.nq"
    dataset(GOOD).serialize(path, format="nquads")
    assert main(["check", "--graph", str(path)]) == 0
    out = capsys.readouterr().out
    assert "SHACL: conforms" in out and "provenance: every fact claimed in its own graph" in out
    assert out.rstrip().endswith("OK")


def test_cli_refuses_a_graph_without_article_graphs_in_one_line(tmp_path):
    """The merged view (graph.ttl, graph.jsonld) has facts and no article graph: nothing to check
    them against. kg check says so instead of reporting every fact as unsourced."""
    path = tmp_path / "graph.ttl"
    merged = Graph()
    for s, p, o, _ in dataset(GOOD).quads():
        merged.add((s, p, o))
    merged.serialize(path, format="turtle")
    run = subprocess.run([sys.executable, "-m", "kg.cli", "check", "--graph", str(path)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.splitlines() == [
        f"kg check: {path}: no article graph in it; kg check needs the graph as `kg build` writes it, "
        "each article's claims in a named graph of its own (build/graph.trig, or an N-Quads export of it)"]
    assert not (tmp_path / "shacl-report.ttl").exists()


# --- the seeds ------------------------------------------------------------------------------


def test_seeds_graph_passes_the_check(seeds_build):
    """The real build of seeds/ (conftest.py's session fixture) is consistent and has the promised shape."""
    _, _, out = seeds_build
    graph = out / "graph.trig"
    report = check.check(check.load_dataset(graph))
    assert report.findings == [], check.format_report(report, graph)
    assert report.ok


@pytest.mark.parametrize("output, said", [
    ('Exception in thread "main" java.lang.OutOfMemoryError: Java heap space\n'
     "\tat java.base/java.util.Arrays.copyOf(Arrays.java:3537)\n"
     "\tat org.semanticweb.HermiT.cli.CommandLine.main(CommandLine.java:830)\n",
     "java.lang.OutOfMemoryError: Java heap space"),
    ("java.lang.IllegalArgumentException\n\tat org.semanticweb.HermiT.Reasoner.<init>(Reasoner.java:210)\n",
     "java.lang.IllegalArgumentException"),
    ("could not start\nno java here\n", "no java here"),
])
def test_a_failed_reasoner_says_what_went_wrong_not_where(output, said):
    # HermiT's message was the stack trace's last line, a frame ("at ...CommandLine.main(...)").
    assert check._java_error(output) == said
