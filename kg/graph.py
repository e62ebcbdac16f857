"""Records to RDF: facts in a named graph per article, each statement a claim with its evidence.

See docs/model.md for the shape. Every IRI comes from kg.namespaces.mint; claims and conflicts
are named by a hash of what they say, so the same input always gives the same graph.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Sequence

from rdflib import Dataset, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS, XSD

from kg.dates import xsd_datatype
from kg.extract import PREDICATES, ArticleExtraction, Fact, Mention
from kg.namespaces import FKG, GRAPH_CONFLICTS, GRAPH_ENTITIES, GRAPH_SOURCES, bind_prefixes, mint, slug
from kg.ontology import coarse_class, single_valued_properties
from kg.resolve import Resolution
from kg.sources import Article

__all__ = ["build_dataset", "article_key"]


def article_key(article: Article) -> str:
    """The article's IRI key: the first 16 hex digits of its text's SHA-256."""
    return article.sha256[:16]


def _hash(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()[:16]


@dataclass
class _Claim:
    iri: URIRef
    article: int
    subject: URIRef
    predicate: URIRef
    object: URIRef | Literal


def _literal_date(lexical: str) -> Literal:
    return Literal(lexical, datatype=XSD[xsd_datatype(lexical)])


def build_dataset(articles: Sequence[Article], extractions: Sequence[ArticleExtraction], resolution: Resolution) -> Dataset:
    """The whole graph: sources, entities, one graph of facts and claims per article, conflicts."""
    ds = Dataset()
    bind_prefixes(ds)
    sources = ds.graph(GRAPH_SOURCES)
    entities = ds.graph(GRAPH_ENTITIES)
    claims: list[_Claim] = []
    used: set[str] = set()

    for index, (article, extraction) in enumerate(zip(articles, extractions)):
        key = article_key(article)
        article_iri, graph_iri = mint("article", key), mint("graph", key)
        sources.add((article_iri, RDF.type, PROV.Entity))
        sources.add((article_iri, RDF.type, FKG.Article))
        sources.add((article_iri, FKG.fileName, Literal(article.name)))
        sources.add((article_iri, FKG.sha256, Literal(article.sha256)))
        if article.title:
            sources.add((article_iri, DCTERMS.title, Literal(article.title)))
        if article.published:
            sources.add((article_iri, DCTERMS.issued, Literal(article.published.isoformat(), datatype=XSD.date)))
        sources.add((graph_iri, PROV.wasDerivedFrom, article_iri))
        graph = ds.graph(graph_iri)

        def state(s: URIRef, p: URIRef, o, fact: Fact) -> None:
            graph.add((s, p, o))
            claim = mint("claim", _hash(article.sha256, s, p, o, fact.sentence_start, fact.sentence_end, fact.rule))
            graph.add((claim, RDF.type, RDF.Statement))
            graph.add((claim, RDF.type, FKG.Claim))
            graph.add((claim, RDF.subject, s))
            graph.add((claim, RDF.predicate, p))
            graph.add((claim, RDF.object, o))
            graph.add((claim, PROV.wasDerivedFrom, article_iri))
            graph.add((claim, FKG.evidence, Literal(fact.sentence)))
            graph.add((claim, FKG.startOffset, Literal(fact.sentence_start)))
            graph.add((claim, FKG.endOffset, Literal(fact.sentence_end)))
            graph.add((claim, FKG.extractedBy, Literal(fact.rule)))
            graph.add((claim, FKG.confidence, Literal(Decimal(str(fact.confidence)), datatype=XSD.decimal)))
            claims.append(_Claim(claim, index, s, p, o))

        def node(mention: Mention | None, expected: str) -> URIRef | None:
            """The entity a mention resolves to, if its class (decided over the whole corpus)
            fits the slot: a name voted a Person elsewhere does not become a Character here."""
            if mention is None:
                return None
            entity = resolution.entity(index, mention)
            if entity is None or coarse_class(entity.cls) not in expected.split("|"):
                return None
            used.add(entity.key)
            return mint(entity.kind, entity.key.split("/", 1)[1])

        for fact in extraction.facts:
            subject_class, object_class = PREDICATES[fact.predicate]
            subject = node(fact.subject, subject_class)
            if subject is None:
                continue
            if fact.predicate == "releaseDate":
                state(subject, FKG.releaseDate, _literal_date(fact.object), fact)
                continue
            obj = node(fact.object, object_class)
            if obj is None or obj == subject:
                continue
            if fact.predicate == "performance":
                state(subject, FKG.portrays, obj, fact)
                work = node(fact.work, "Work")
                if work is None:
                    continue
                performance = mint("performance", f"{slug(str(subject).rsplit('/', 1)[1])}--{slug(str(work).rsplit('/', 1)[1])}")
                entities.add((performance, RDF.type, FKG.Performance))
                state(performance, FKG.performer, subject, fact)
                state(performance, FKG.work, work, fact)
                state(performance, FKG.character, obj, fact)
                state(work, FKG.hasCastMember, subject, fact)
                state(obj, FKG.appearsIn, work, fact)
            else:
                state(subject, FKG[fact.predicate], obj, fact)

    for key in sorted(used):
        entity = resolution.entities[key]
        iri = mint(entity.kind, key.split("/", 1)[1])
        entities.add((iri, RDF.type, FKG[entity.cls]))
        entities.add((iri, RDFS.label, Literal(entity.label)))
        entities.add((iri, SKOS.prefLabel, Literal(entity.label)))
        for alt in entity.alt_labels:
            entities.add((iri, SKOS.altLabel, Literal(alt)))

    _mark_conflicts(ds, articles, claims)
    return ds


def _mark_conflicts(ds: Dataset, articles: Sequence[Article], claims: list[_Claim]) -> None:
    """Several values of a single-valued property: keep them all, and say which is preferred, if any."""
    single = single_valued_properties()
    groups: dict[tuple[URIRef, URIRef], list[_Claim]] = defaultdict(list)
    for claim in claims:
        if claim.predicate in single:
            groups[(claim.subject, claim.predicate)].append(claim)
    conflicts = ds.graph(GRAPH_CONFLICTS)
    for (subject, predicate), group in sorted(groups.items()):
        values = sorted({c.object for c in group}, key=str)
        if len(values) < 2:
            continue
        iri = mint("conflict", _hash(subject, predicate))
        conflicts.add((iri, RDF.type, FKG.Conflict))
        conflicts.add((iri, FKG.conflictSubject, subject))
        conflicts.add((iri, FKG.conflictProperty, predicate))
        for claim in group:
            conflicts.add((iri, FKG.conflictingClaim, claim.iri))
        newest: dict = {}
        undated: set[str] = set()
        for value in values:
            dates = [articles[c.article].published for c in group if c.object == value]
            if any(d is None for d in dates):
                undated.update(articles[c.article].name for c in group if c.object == value and articles[c.article].published is None)
            newest[value] = max((d for d in dates if d is not None), default=None)
        if undated or len(set(newest.values())) < len(values):
            conflicts.add((iri, FKG.conflictStatus, Literal("open")))
            why = (f"{len(values)} values; not every source carries a publication date "
                   f"(undated: {', '.join(sorted(undated))}), so none is preferred") if undated else \
                f"{len(values)} values stated by sources of the same date; none is preferred"
            conflicts.add((iri, RDFS.comment, Literal(why)))
            continue
        preferred_value = max(values, key=lambda v: newest[v])
        conflicts.add((iri, FKG.conflictStatus, Literal("resolved")))
        conflicts.add((iri, RDFS.comment, Literal(
            f"{len(values)} values; the newest dated source ({newest[preferred_value].isoformat()}) is preferred")))
        for claim in group:
            graph = ds.graph(mint("graph", articles[claim.article].sha256[:16]))
            is_preferred = claim.object == preferred_value
            graph.add((claim.iri, FKG.preferred, Literal(is_preferred)))
            if is_preferred:
                conflicts.add((iri, FKG.preferredClaim, claim.iri))
