"""Tests of kg/graph.py: claims, provenance and conflicts, as docs/model.md promises them.

Each scenario is a tmp folder of tiny hand-made articles with a sources.csv manifest, built with
kg.pipeline.build; the graph is read back with SPARQL over the Dataset (values bound through
initBindings), and compared as sets of rows written by hand.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from rdflib import Literal, URIRef
from rdflib.namespace import RDFS, XSD

from kg import check
from kg.extract import load_rules
from kg.namespaces import FKG, FKR, PROV, RDF, SKOS, mint
from kg.sources import Article, iter_sources

NS = {"fkg": FKG, "fkr": FKR, "prov": PROV, "rdf": RDF, "skos": SKOS}

CHAPTER_5 = mint("work", "john-wick-chapter-5")
BALLERINA = mint("work", "ballerina")

# Two articles that disagree on Chapter 5's release date.
MAY = "John Wick: Chapter 5 is set to release on May 21, 2027.\n"
MARCH = "John Wick: Chapter 5 will premiere in theaters on March 3, 2028.\n"

CLAIMS_OF = """
SELECT ?claim ?value ?file ?g WHERE {
  GRAPH ?g { ?claim a fkg:Claim ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?value ;
                    prov:wasDerivedFrom ?article . }
  GRAPH ?sources { ?article fkg:fileName ?file . }
}"""

CONFLICTS_OF = """
SELECT ?conflict ?status WHERE {
  GRAPH ?g { ?conflict a fkg:Conflict ; fkg:conflictSubject ?s ; fkg:conflictProperty ?p ;
                       fkg:conflictStatus ?status . }
}"""


def rows(ds, query: str, **bindings) -> set[tuple]:
    return {tuple(row) for row in ds.query(query, initNs=NS, initBindings=bindings)}


def objects(ds, subject, predicate) -> list:
    """Objects of (subject, predicate) in any graph of the Dataset (its default graph holds nothing)."""
    return [o for _, _, o, _ in ds.quads((subject, predicate, None, None))]


def date(text: str) -> Literal:
    return Literal(text, datatype=XSD.date)


def claims(ds, subject: URIRef, predicate: URIRef) -> dict[str, tuple]:
    """file name -> (claim, value) of every claim of (subject, predicate)."""
    found = {}
    for claim, value, file, _ in rows(ds, CLAIMS_OF, s=subject, p=predicate):
        assert str(file) not in found, f"two claims of one fact in {file}"
        found[str(file)] = (claim, value)
    return found


def build_folder(build_articles, articles):
    result = build_articles(articles)
    assert result.problems == []
    return result.dataset


# --------------------------------------------------------------------------- conflicts


def test_undated_sources_leave_an_open_conflict_with_both_values(build_articles):
    ds = build_folder(build_articles, {"a.txt": (MAY, ""), "b.txt": (MARCH, "")})
    conflicts = rows(ds, CONFLICTS_OF, s=CHAPTER_5, p=FKG.releaseDate)
    assert [status for _, status in conflicts] == [Literal("open")]
    ((conflict, _),) = conflicts

    by_file = claims(ds, CHAPTER_5, FKG.releaseDate)
    assert {f: v for f, (_, v) in by_file.items()} == {"a.txt": date("2027-05-21"), "b.txt": date("2028-03-03")}
    # both claims are named by the conflict, and neither is preferred
    assert set(objects(ds, conflict, FKG.conflictingClaim)) == {c for c, _ in by_file.values()}
    assert objects(ds, conflict, FKG.preferredClaim) == []
    assert [o for c, _ in by_file.values() for o in objects(ds, c, FKG.preferred)] == []
    # both values stay in the graph as facts
    facts = {(o, g) for _, _, o, g in ds.quads((CHAPTER_5, FKG.releaseDate, None, None))}
    assert {o for o, _ in facts} == {date("2027-05-21"), date("2028-03-03")}


def test_dated_sources_resolve_the_conflict_in_favour_of_the_newer(build_articles):
    ds = build_folder(build_articles, {"a.txt": (MAY, "2024-01-10"), "b.txt": (MARCH, "2024-06-01")})
    conflicts = rows(ds, CONFLICTS_OF, s=CHAPTER_5, p=FKG.releaseDate)
    assert [status for _, status in conflicts] == [Literal("resolved")]
    ((conflict, _),) = conflicts

    by_file = claims(ds, CHAPTER_5, FKG.releaseDate)
    newer, older = by_file["b.txt"][0], by_file["a.txt"][0]
    assert objects(ds, newer, FKG.preferred) == [Literal(True)]
    assert objects(ds, older, FKG.preferred) == [Literal(False)]
    assert objects(ds, conflict, FKG.preferredClaim) == [newer]
    assert set(objects(ds, conflict, FKG.conflictingClaim)) == {newer, older}


def test_older_source_is_not_preferred_whatever_the_file_order(build_articles):
    # the same two statements, but now the first file is the newer one
    ds = build_folder(build_articles, {"a.txt": (MAY, "2025-02-01"), "b.txt": (MARCH, "2023-12-24")})
    by_file = claims(ds, CHAPTER_5, FKG.releaseDate)
    assert objects(ds, by_file["a.txt"][0], FKG.preferred) == [Literal(True)]
    assert objects(ds, by_file["b.txt"][0], FKG.preferred) == [Literal(False)]


def test_two_newest_sources_of_one_date_that_agree_are_both_preferred(build_articles):
    also_march = "Lionsgate confirmed that John Wick: Chapter 5 hits theaters on March 3, 2028.\n"
    ds = build_folder(build_articles, {"a.txt": (MAY, "2024-01-10"), "b.txt": (MARCH, "2024-06-01"),
                                       "c.txt": (also_march, "2024-06-01")})
    ((conflict, status),) = rows(ds, CONFLICTS_OF, s=CHAPTER_5, p=FKG.releaseDate)
    assert status == Literal("resolved")
    by_file = claims(ds, CHAPTER_5, FKG.releaseDate)
    assert set(objects(ds, conflict, FKG.preferredClaim)) == {by_file["b.txt"][0], by_file["c.txt"][0]}
    assert objects(ds, by_file["a.txt"][0], FKG.preferred) == [Literal(False)]
    # and the graph so built has the shape ontology/shapes.ttl asks of a conflict
    assert check.validate(ds)[0]


def test_one_dated_and_one_undated_source_stay_open(build_articles):
    ds = build_folder(build_articles, {"a.txt": (MAY, "2024-01-10"), "b.txt": (MARCH, "")})
    assert [s for _, s in rows(ds, CONFLICTS_OF, s=CHAPTER_5, p=FKG.releaseDate)] == [Literal("open")]


def test_agreeing_sources_make_no_conflict(build_articles):
    again = "Lionsgate confirmed that John Wick: Chapter 5 hits theaters on May 21, 2027.\n"
    ds = build_folder(build_articles, {"a.txt": (MAY, ""), "b.txt": (again, "")})
    assert rows(ds, CONFLICTS_OF, s=CHAPTER_5, p=FKG.releaseDate) == set()
    assert len(claims(ds, CHAPTER_5, FKG.releaseDate)) == 2


# --------------------------------------------------------------------------- one fact, many claims


def test_a_fact_stated_by_three_articles_has_three_claims_in_three_graphs(build_articles):
    ds = build_folder(build_articles, {
        "a.txt": ("Ballerina will be directed by Lena Whitford.\n", ""),
        "b.txt": ("Ballerina follows a young assassin. It will be directed by Lena Whitford.\n", ""),
        "c.txt": ("Ballerina\nDirector: Lena Whitford\n", "2024-03-01"),
    })
    whitford = mint("person", "lena-whitford")
    found = rows(ds, CLAIMS_OF, s=BALLERINA, p=FKG.directedBy)
    assert {str(file) for _, _, file, _ in found} == {"a.txt", "b.txt", "c.txt"}
    assert len({claim for claim, _, _, _ in found}) == 3
    assert {value for _, value, _, _ in found} == {whitford}
    # each claim sits in the graph of the article it was read from, next to the fact itself
    for claim, _, _, graph in found:
        (article,) = objects(ds, claim, PROV.wasDerivedFrom)
        assert (graph, PROV.wasDerivedFrom, article) in ds.graph(mint("graph", "sources"))
        assert (BALLERINA, FKG.directedBy, whitford) in ds.graph(graph)


# --------------------------------------------------------------------------- provenance

EVERY_CLAIM = """
SELECT ?claim ?file ?evidence ?start ?end ?rule ?confidence WHERE {
  GRAPH ?g { ?claim a fkg:Claim ; prov:wasDerivedFrom ?article ; fkg:evidence ?evidence ;
                    fkg:startOffset ?start ; fkg:endOffset ?end ; fkg:extractedBy ?rule ;
                    fkg:confidence ?confidence . }
  GRAPH ?sources { ?article fkg:fileName ?file . }
}"""


def check_provenance(result) -> int:
    # A build keeps no text: each article is read again from its file, as a user checking would.
    texts = {a.name: a.text for a in iter_sources([a.path for a in result.articles]) if isinstance(a, Article)}
    assert len(texts) == len(result.articles)
    rule_ids = {rule.id for rule in load_rules()[0]}
    found = rows(result.dataset, EVERY_CLAIM)
    every = {c for c, _, _, _ in result.dataset.quads((None, RDF.type, FKG.Claim, None))}
    assert {row[0] for row in found} == every, "some claims lack evidence, offsets, rule or confidence"
    for claim, file, evidence, start, end, rule, confidence in found:
        text = texts[str(file)]
        assert text[start.toPython():end.toPython()] == str(evidence), claim
        assert str(rule) in rule_ids
        assert confidence.datatype == XSD.decimal
        assert Decimal(0) <= confidence.toPython() <= Decimal(1)
    return len(found)


def test_every_claim_of_the_seeds_quotes_its_article_at_its_offsets(seeds_build):
    result, _, _ = seeds_build
    assert check_provenance(result) > 100


def test_every_claim_of_tiny_articles_quotes_its_article_at_its_offsets(build_articles):
    result = build_articles({
        "a.txt": ("Headline here\n\n" + MAY + "\nBallerina cast:\nMarisol Ventura as Eve Macarro\n", ""),
        "b.txt": ("  Indented line. " + MARCH, "2024-02-02"),
    })
    assert check_provenance(result) >= 3


def test_each_claim_names_one_article_and_one_statement(seeds_build):
    ds = seeds_build[0].dataset
    for claim, _, _, _ in ds.quads((None, RDF.type, FKG.Claim, None)):
        for term in (PROV.wasDerivedFrom, RDF.subject, RDF.predicate, RDF.object, FKG.evidence):
            assert len(set(objects(ds, claim, term))) == 1, (claim, term)


# --------------------------------------------------------------------------- entities


def test_every_entity_has_exactly_one_preferred_label(seeds_build):
    ds = seeds_build[0].dataset
    entities = ds.graph(mint("graph", "entities"))
    # performances are nodes of their own kind (fkr:performance/...), described by their facts
    performances = set(entities.subjects(RDF.type, FKG.Performance))
    labelled = set(entities.subjects(RDF.type, None)) - performances
    assert labelled and performances
    for node in labelled:
        assert len(list(entities.objects(node, SKOS.prefLabel))) == 1, node


def test_performance_gives_the_facts_the_model_promises(build_articles):
    ds = build_folder(build_articles, {"a.txt": ("Ballerina cast:\nMarisol Ventura as Eve Macarro\n", "")})
    ventura, eve = mint("person", "marisol-ventura"), mint("character", "eve-macarro")
    performance = mint("performance", "marisol-ventura--ballerina")
    merged = {(s, p, o) for s, p, o, _ in ds.quads((None, None, None, None))}
    assert {
        (performance, RDF.type, FKG.Performance),
        (performance, FKG.performer, ventura),
        (performance, FKG.work, BALLERINA),
        (performance, FKG.character, eve),
        (ventura, FKG.portrays, eve),
        (BALLERINA, FKG.hasCastMember, ventura),
        (eve, FKG.appearsIn, BALLERINA),
        (ventura, RDF.type, FKG.Actor),
    } <= merged


def test_the_merged_view_answers_for_the_entities_it_makes_when_read(build_articles):
    # kg build holds the articles' facts in a store and makes the entities' graph when the view is
    # read (kg.graph.MergedView): a pattern must see both, in the default graph, as a store would.
    import pyoxigraph as ox

    from kg.graph import Digest
    from kg.terms import from_ox, to_ox

    result = build_articles({"a.txt": ("Ballerina cast:\nMarisol Ventura as Eve Macarro\n", "")})
    digest = Digest()
    for _ in result.quads(digest):
        pass
    ventura, eve = mint("person", "marisol-ventura"), mint("character", "eve-macarro")
    performance = mint("performance", "marisol-ventura--ballerina")

    def triples(s=None, p=None, o=None, g=None) -> set[tuple]:
        found = list(digest.view.quads_for_pattern(*(None if t is None else to_ox(t) for t in (s, p, o)), g))
        assert all(q.graph_name == ox.DefaultGraph() for q in found)
        return {(from_ox(q.subject), from_ox(q.predicate), from_ox(q.object)) for q in found}

    assert triples(ventura) == {
        (ventura, RDF.type, FKG.Actor),
        (ventura, RDFS.label, Literal("Marisol Ventura")),
        (ventura, SKOS.prefLabel, Literal("Marisol Ventura")),
        (ventura, FKG.portrays, eve),
    }
    assert triples(performance) == {
        (performance, RDF.type, FKG.Performance),
        (performance, FKG.performer, ventura),
        (performance, FKG.work, BALLERINA),
        (performance, FKG.character, eve),
    }
    assert triples(None, SKOS.prefLabel, Literal("Eve Macarro")) == {(eve, SKOS.prefLabel, Literal("Eve Macarro"))}
    assert triples(eve, RDF.type) == {(eve, RDF.type, FKG.Character)}
    assert triples(None, FKG.portrays) == {(ventura, FKG.portrays, eve)}
    assert triples(ventura, None, None, to_ox(mint("graph", "entities"))) == set()
    assert (performance, RDF.type, FKG.Performance) in triples()


def test_the_merged_view_gives_its_subjects_without_making_the_entities_triples(build_articles):
    # The writers of graph.ttl and graph.jsonld ask the view for its subjects; those of the
    # entities' graph come without its triples being made, and must be those a pass over every
    # triple finds. The director is the subject of no fact, only of the entities' graph.
    from kg.graph import Digest
    from kg.terms import from_ox

    result = build_articles({"a.txt": ("Ballerina was directed by Tomas Verhoeven.\n", "")})
    digest = Digest()
    for _ in result.quads(digest):
        pass
    subjects, blank = digest.view.subjects()
    assert {from_ox(s) for s in subjects} == {BALLERINA, mint("person", "tomas-verhoeven")} and not blank
    assert {q.subject for q in digest.view.quads_for_pattern(None, None, None)} == subjects


def test_each_kind_of_fact_states_only_the_properties_listed_for_it(seeds_build):
    # The conflicts' pass over the claims of single-valued properties skips the kinds of fact
    # that, by graph.STATED_BY, state none of them: a kind must state nothing unlisted.
    from kg.graph import STATED_BY, _Statements

    result, _, _ = seeds_build
    statements = _Statements(result.resolution)
    stated: set[tuple[str, str]] = set()
    single = frozenset({FKG.character, FKG.releaseDate})   # the ontology's functional properties
    for extraction in result.extractions:
        every = statements(extraction)
        for said in every:
            stated.add((said.fact.predicate, said.predicate.value.rsplit("#", 1)[1]))
        assert statements(extraction, only=single) == [
            said for said in every if said.predicate.value in {str(FKG.character), str(FKG.releaseDate)}]
    for kind, name in stated:
        assert name in STATED_BY.get(kind, (kind,)), (kind, name)
    assert {name for kind, name in stated if kind == "performance"} == {
        "portrays", "performer", "work", "character", "hasCastMember", "appearsIn"}
    assert ("releaseDate", "releaseDate") in stated and ("directedBy", "directedBy") in stated


# --------------------------------------------------------------------------- regressions (issue 7)


@pytest.mark.parametrize(
    "text",
    [
        "Lena Hartwig plays John Wick (2025).",
        "Tom Ashgrove as Viktor Hale.\nViktor Hale plays Marcus Vale in Ballerina.",
        " Reeves as Joh",
    ],
)
def test_no_fact_takes_an_entity_of_the_wrong_class(build_articles, text):
    # Whatever a sentence seemed to say, a fact only joins entities whose classes, decided over
    # the whole corpus, fit its property: no person portrays a person, no work appears in itself.
    ds = build_articles({"a.txt": (text, "")}).dataset
    from kg.check import validate

    conforms, _, findings = validate(ds)
    assert conforms, [f"{f.rule}: {f.node} {f.value}" for f in findings]


def test_names_in_other_scripts_are_two_people_not_one(build_articles):
    ds = build_articles({"a.txt": ("Иван Петров plays Viktor Hale in Ballerina.\n"
                                   "Сергей Волков plays Ms. Perkins in Ballerina.\n", "")}).dataset
    people = {str(o) for s, p, o, _ in ds.quads((None, SKOS.prefLabel, None, None)) if "/person/" in str(s)}
    assert people == {"Иван Петров", "Сергей Волков"}
