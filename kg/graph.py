"""Records to RDF: facts in a named graph per article, each statement a claim with its evidence.

See docs/model.md for the shape. Every IRI comes from kg.namespaces.mint; claims and conflicts
are named by a hash of what they say, so the same input always gives the same graph.

:func:`graph_quads` makes the quads as a stream, graph after graph (:func:`graph_blocks`, one
Block per named graph), which `kg build` writes straight to graph.trig (kg.pipeline
write_outputs), an article's graph copied from the cache when its Block's key is there: the
graph of 10,000 articles is never in memory as a whole (it took 14 GB in rdflib's memory store;
benchmarks/). :func:`build_dataset` loads the same quads into an rdflib Dataset, for rdflib's API.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any, Callable, Iterable, Iterator, Sequence

import pyoxigraph as ox
from rdflib import Dataset, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS, XSD

from kg.dates import xsd_datatype
from kg.extract import PREDICATES, ArticleExtraction, Fact, Mention
from kg.namespaces import FKG, GRAPH_CONFLICTS, GRAPH_ENTITIES, GRAPH_SOURCES, bind_prefixes, mint, slug
from kg.ontology import coarse_class, single_valued_properties
from kg.resolve import Entity, Resolution
from kg.sources import ArticleMetadata
from kg.export import view_subjects
from kg.terms import from_ox, to_ox

__all__ = ["build_dataset", "graph_quads", "graph_blocks", "Block", "Digest", "MergedView", "article_key"]


def article_key(article: ArticleMetadata) -> str:
    """The article's IRI key: the first 16 hex digits of its text's SHA-256."""
    return article.sha256[:16]


def _hash(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()[:16]


_iri = to_ox  # an rdflib IRI (the namespaces, mint) as Oxigraph's


# The vocabulary, converted once.
_TYPE, _STATEMENT, _CLAIM, _ARTICLE = _iri(RDF.type), _iri(RDF.Statement), _iri(FKG.Claim), _iri(FKG.Article)
_SUBJECT, _PREDICATE, _OBJECT = _iri(RDF.subject), _iri(RDF.predicate), _iri(RDF.object)
_DERIVED, _PROV_ENTITY = _iri(PROV.wasDerivedFrom), _iri(PROV.Entity)
_EVIDENCE, _START, _END = _iri(FKG.evidence), _iri(FKG.startOffset), _iri(FKG.endOffset)
_RULE, _CONFIDENCE, _PREFERRED = _iri(FKG.extractedBy), _iri(FKG.confidence), _iri(FKG.preferred)
_LABEL, _PREF_LABEL, _ALT_LABEL, _COMMENT = _iri(RDFS.label), _iri(SKOS.prefLabel), _iri(SKOS.altLabel), _iri(RDFS.comment)
_INTEGER, _DECIMAL, _BOOLEAN, _DATE = _iri(XSD.integer), _iri(XSD.decimal), _iri(XSD.boolean), _iri(XSD.date)
_SOURCES, _ENTITIES, _CONFLICTS = _iri(GRAPH_SOURCES), _iri(GRAPH_ENTITIES), _iri(GRAPH_CONFLICTS)


@dataclass(slots=True)
class _Claim:
    """A claim of a single-valued property: the conflicts' input."""

    iri: ox.NamedNode
    article: int
    says: tuple              # _Statement.says
    subject: ox.NamedNode
    predicate: ox.NamedNode
    object: ox.NamedNode | ox.Literal


@dataclass
class Digest:
    """What a stream of graph_quads held, filled as the stream is read: the merged view
    (kg.export.merged_view: facts, entities and conflicts, no claims, no sources) and the
    figures of the build's summary. The merged view is a small part of the graph, which is
    what lets `kg build` write graph.ttl and graph.jsonld without holding graph.trig's quads."""

    view: MergedView = field(default_factory=lambda: MergedView())   # the merged view
    quads: int = 0
    claims: int = 0
    classes: Counter = field(default_factory=Counter)  # entities by class (local name)
    stated: set = field(default_factory=set)           # the properties claims state (ox.NamedNode)
    #: each conflict's values: conflict IRI -> [(value, file name of the article stating it)]
    conflicts: dict = field(default_factory=dict)


def _literal_date(lexical: str) -> ox.Literal:
    return ox.Literal(lexical, datatype=_iri(XSD[xsd_datatype(lexical)]))


def build_dataset(articles: Sequence[ArticleMetadata], extractions: Sequence[ArticleExtraction], resolution: Resolution) -> Dataset:
    """The whole graph (see graph_quads) as an rdflib Dataset in rdflib's memory store, for
    rdflib's API (a notebook, the reasoner, tests). `kg build` does not make it: it writes the
    quads as they come (kg.pipeline.write_outputs)."""
    ds = Dataset()
    bind_prefixes(ds)
    graphs: dict[ox.NamedNode, object] = {}
    for q in graph_quads(articles, extractions, resolution):
        graph = graphs.get(q.graph_name)
        if graph is None:
            graph = graphs[q.graph_name] = ds.graph(from_ox(q.graph_name))
        graph.add((from_ox(q.subject), from_ox(q.predicate), from_ox(q.object)))
    return ds


#: Merged-view quads gathered before they go into Digest.view.
_VIEW_BATCH = 10_000


@dataclass
class Block:
    """One named graph of the graph's stream (graph_blocks): its quads, made when asked for.

    An article's block also has a `key`, a hash of everything its quads are made from besides
    the article's extraction (its entities' IRIs, its claims, which of them a conflict prefers):
    for one extraction of the article and one version of this module, the same key means the
    same quads, so a cache can keep the block's serialisation under it (kg.pipeline).
    """

    quads: Callable[[], Iterable[ox.Quad]]   # a list, or for the entities' graph a stream
    key: str | None = None


def graph_quads(articles: Sequence[ArticleMetadata], extractions: Sequence[ArticleExtraction],
                resolution: Resolution, digest: Digest | None = None) -> Iterator[ox.Quad]:
    """Every quad of the graph once, in the order to write it: the sources graph, the conflicts
    graph, one graph of facts and claims per article, then the entities graph.

    Each graph's quads come together, so a TriG writer fed this stream writes one block per
    graph; the order depends on nothing but the input, so the same corpus gives the same bytes.
    Only the claims of single-valued properties (the conflicts' input), one article's statements
    and one named graph's quads are held in memory. `digest`, if given, is filled as the stream
    is read.
    """
    digest = digest if digest is not None else Digest()
    for block in graph_blocks(articles, extractions, resolution, digest):
        for quad in block.quads():
            digest.quads += 1
            yield quad


def graph_blocks(articles: Sequence[ArticleMetadata], extractions: Sequence[ArticleExtraction],
                 resolution: Resolution, digest: Digest) -> Iterator[Block]:
    """graph_quads's named graphs, one Block each, in the same order.

    The merged view and the summary's figures go into `digest` as the blocks come, whether or
    not their quads are made (all but `digest.quads`, which counts the quads made). The
    conflicts' graph comes before the articles' and decides which of their claims are
    preferred, so a first pass gathers the claims of single-valued properties; an article's
    statements are made again when its block comes, and only one article's are held at a time.
    The entities' graph, the largest, is a stream made afresh each time its quads are asked for.
    """
    single = single_valued_properties()
    statements = _Statements(resolution)
    view: list[ox.Quad] = []
    facts: set[tuple] = set()   # the articles' facts so far: one that many articles state is made a quad once
    default = ox.DefaultGraph()

    def into_view(triples: Iterable[tuple], *, once: set[tuple] | None = None) -> None:
        for triple in triples:
            if once is None or triple not in once:
                if once is not None:
                    once.add(triple)
                view.append(ox.Quad(*triple, default))
        if len(view) >= _VIEW_BATCH:  # into the store as it comes, not held twice
            digest.view.extend(view)
            view.clear()

    claims = [_Claim(said.claim(article), index, said.says, said.subject, said.predicate, said.object)
              for index, (article, extraction) in enumerate(zip(articles, extractions))
              for said in statements(extraction, only=single)]
    yield Block(lambda: [quad for article in articles for quad in _source_quads(article)])
    preferred: dict[tuple, bool] = {}   # (article index, _Statement.says) -> whether its value is preferred
    conflicts = list(_conflicts(articles, claims, preferred, digest))
    del claims
    into_view((q.subject, q.predicate, q.object) for q in conflicts)
    yield Block(lambda: conflicts)
    for index, (article, extraction) in enumerate(zip(articles, extractions)):
        said = statements(extraction)
        into_view(_article_facts(said, digest), once=facts)
        chosen = {st.says: preferred[(index, st.says)] for st in said if (index, st.says) in preferred}
        # (A claim's IRI is a hash of the article and of what the claim says: the key covers both.)
        key = _hash(article.sha256, article.published, *(
            f"{st.subject.value} {st.predicate.value} {st.object} {st.fact.sentence_start} {st.fact.sentence_end} "
            f"{st.fact.rule} {chosen.get(st.says)}" for st in said))
        yield Block(partial(_article_quads, article, said, chosen), key)
    facts.clear()   # no article's facts come after this: the set is not held over the entities' graph
    preferred.clear()
    entities = _EntityGraph(sorted(statements.performances, key=lambda iri: iri.value), sorted(statements.used),
                            resolution, statements)
    for key in entities.used:
        digest.classes[resolution.entities[key].cls] += 1
    digest.view.extend(view)
    # The entities' graph, more than half the view, is made when read rather than held, for the
    # view as for the writer: in the view's store at 10,000 articles it took some 160 MB at the
    # build's peak.
    digest.view.entities = entities
    yield Block(entities.quads)


class _EntityGraph:
    """The entities' graph, made from the resolution whenever it is read: each performance
    typed, each entity used typed and named. `quads` gives it whole, `of_subject` one thing's."""

    def __init__(self, performances: list[ox.NamedNode], used: list[str], resolution: Resolution,
                 statements: _Statements) -> None:
        self.performances, self.used, self._resolution, self._statements = performances, used, resolution, statements
        self._subjects: dict[ox.NamedNode, str | None] = dict.fromkeys(performances)   # IRI -> entity key (None: a performance)
        for key in used:
            self._subjects[statements.entity_iri(key, resolution.entities[key].kind)] = key

    def quads(self, graph: ox.NamedNode | ox.DefaultGraph = _ENTITIES) -> Iterator[ox.Quad]:
        """The whole graph, its quads in `graph` (fkr:graph/entities unless told)."""
        for performance in self.performances:
            yield from self._performance_quads(performance, graph)
        for key in self.used:
            yield from self._entity_quads(key, graph)

    @property
    def subjects(self) -> Iterable[ox.NamedNode]:
        """The things the graph describes (IRIs all: the graph has no blank node), without making their quads."""
        return self._subjects.keys()

    def of_subject(self, subject: Any, graph: ox.NamedNode | ox.DefaultGraph = _ENTITIES) -> Iterable[ox.Quad]:
        """The quads of one subject (none for a thing the graph does not describe)."""
        if subject not in self._subjects:
            return ()
        key = self._subjects[subject]
        return self._performance_quads(subject, graph) if key is None else self._entity_quads(key, graph)

    @staticmethod
    def _performance_quads(performance: ox.NamedNode, graph: ox.NamedNode | ox.DefaultGraph) -> list[ox.Quad]:
        return [ox.Quad(performance, _TYPE, _iri(FKG.Performance), graph)]

    def _entity_quads(self, key: str, graph: ox.NamedNode | ox.DefaultGraph) -> Iterator[ox.Quad]:
        entity = self._resolution.entities[key]
        iri = self._statements.entity_iri(key, entity.kind)
        label = ox.Literal(entity.label)
        yield ox.Quad(iri, _TYPE, _iri(FKG[entity.cls]), graph)
        yield ox.Quad(iri, _LABEL, label, graph)
        yield ox.Quad(iri, _PREF_LABEL, label, graph)
        for alt in entity.alt_labels:
            yield ox.Quad(iri, _ALT_LABEL, ox.Literal(alt), graph)


#: The properties of the entities' graph. No article states a fact with one of them (their
#: properties are the ontology's relations), so in the merged view a triple with one of them
#: comes from the entities' graph only.
_ENTITY_PROPERTIES = frozenset({_TYPE, _LABEL, _PREF_LABEL, _ALT_LABEL})


class MergedView:
    """The merged view (kg.export.merged_view: facts, entities and conflicts, no claims, no
    sources) as `kg build` holds it: the articles' facts and the conflicts in an Oxigraph store,
    the entities' graph (`entities`, once the stream has reached it) made when read.

    `quads_for_pattern` answers as an Oxigraph store's does, in the default graph, so the
    writers of graph.ttl and graph.jsonld (kg.export.export_merged) and the summary read it as
    they would a store; a pattern on another graph matches nothing.
    """

    def __init__(self) -> None:
        self.store = ox.Store()
        self.entities: _EntityGraph | None = None

    def extend(self, quads: Iterable[ox.Quad]) -> None:
        self.store.extend(quads)

    def quads_for_pattern(self, subject: Any = None, predicate: Any = None, object: Any = None,
                          graph_name: Any = None) -> Iterator[ox.Quad]:
        """The quads of the view that match, in the default graph; None matches anything."""
        default = ox.DefaultGraph()
        if graph_name is not None and graph_name != default:
            return
        yield from self.store.quads_for_pattern(subject, predicate, object, default)
        if self.entities is None or (predicate is not None and predicate not in _ENTITY_PROPERTIES):
            return
        quads = self.entities.quads(default) if subject is None else self.entities.of_subject(subject, default)
        if predicate is None and object is None:
            yield from quads
            return
        for quad in quads:
            if (predicate is None or quad.predicate == predicate) and (object is None or quad.object == object):
                yield quad

    def subjects(self) -> tuple[set[Any], bool]:
        """The subjects of the view, and whether any of its terms is a blank node: one pass over
        the store's quads, the entities' graph's subjects taken as they are, its quads not made
        (kg.export's writers of graph.ttl and graph.jsonld each ask, see MergedTriples)."""
        subjects, blank = view_subjects(self.store)
        if self.entities is not None:
            subjects.update(self.entities.subjects)
        return subjects, blank


#: The properties a fact of each kind states (_Statements.__call__), where they are not the
#: kind itself: a pass for a few properties skips the facts that state none of them.
STATED_BY = {"performance": ("portrays", "performer", "work", "character", "hasCastMember", "appearsIn")}


class _Statements:
    """An article's statements: its facts with their terms resolved to IRIs, each a claim.

    Called once per article for its graph (and once before, for the claims of single-valued
    properties only); it gathers the entities the statements use and the performances they
    make, for the entities' graph, and makes each entity's, performance's and property's IRI
    once (statements come by the hundred thousand; the things they name, far fewer).
    """

    def __init__(self, resolution: Resolution) -> None:
        self.resolution = resolution
        self.used: set[str] = set()
        self._nodes: dict[str, ox.NamedNode] = {}
        self._performances: dict[tuple[ox.NamedNode, ox.NamedNode], ox.NamedNode] = {}
        self._properties: dict[str, tuple[URIRef, ox.NamedNode]] = {}   # a score of properties, by local name
        self._kinds: dict[frozenset[URIRef], set[str]] = {}             # the kinds of fact stating any of these

    @property
    def performances(self) -> set[ox.NamedNode]:
        """The performances the statements made so far (pairs whose names slug alike share one IRI)."""
        return set(self._performances.values())

    def entity_iri(self, key: str, kind: str) -> ox.NamedNode:
        node = self._nodes.get(key)
        if node is None:
            node = self._nodes[key] = _iri(mint(kind, key.split("/", 1)[1]))
        return node

    def _node(self, found: dict[tuple[int, int, str], Entity], mention: Mention | None,
              expected: str) -> ox.NamedNode | None:
        """The entity a mention resolves to (`found`: Resolution.entities_of), if its class
        (decided over the whole corpus) fits the slot: a name voted a Person elsewhere does
        not become a Character here."""
        if mention is None:
            return None
        entity = found.get((mention.start, mention.end, mention.text))
        if entity is None or coarse_class(entity.cls) not in expected.split("|"):
            return None
        self.used.add(entity.key)
        return self.entity_iri(entity.key, entity.kind)

    def _performance(self, person: ox.NamedNode, work: ox.NamedNode) -> ox.NamedNode:
        node = self._performances.get((person, work))
        if node is None:
            name = f"{slug(person.value.rsplit('/', 1)[1])}--{slug(work.value.rsplit('/', 1)[1])}"
            node = self._performances[(person, work)] = _iri(mint("performance", name))
        return node

    def __call__(self, extraction: ArticleExtraction, *, only: frozenset[URIRef] | None = None) -> list[_Statement]:
        """The statements of an article, in its facts' order; with `only`, those of these properties."""
        said: list[_Statement] = []
        properties = self._properties
        kinds = None if only is None else self._kinds.get(only)
        if only is not None and kinds is None:
            kinds = self._kinds[only] = {kind for kind in PREDICATES if any(FKG[name] in only for name in STATED_BY.get(kind, (kind,)))}

        def state(s: ox.NamedNode, name: str, o: ox.NamedNode | ox.Literal, fact: Fact) -> None:
            """`s` fkg:`name` `o`, as `fact` states it."""
            known = properties.get(name)
            if known is None:
                known = properties[name] = (FKG[name], _iri(FKG[name]))
            p, predicate = known
            if only is not None and p not in only:
                return
            said.append(_Statement(s, predicate, o, fact))

        found = self.resolution.entities_of(extraction)
        for fact in extraction.facts:
            if kinds is not None and fact.predicate not in kinds:
                continue
            subject_class, object_class = PREDICATES[fact.predicate]
            subject = self._node(found, fact.subject, subject_class)
            if subject is None:
                continue
            if fact.predicate == "releaseDate":
                state(subject, "releaseDate", _literal_date(fact.object), fact)
                continue
            obj = self._node(found, fact.object, object_class)
            if obj is None or obj == subject:
                continue
            if fact.predicate == "performance":
                state(subject, "portrays", obj, fact)
                work = self._node(found, fact.work, "Work")
                if work is None:
                    continue
                performance = self._performance(subject, work)
                state(performance, "performer", subject, fact)
                state(performance, "work", work, fact)
                state(performance, "character", obj, fact)
                state(work, "hasCastMember", subject, fact)
                state(obj, "appearsIn", work, fact)
            else:
                state(subject, fact.predicate, obj, fact)
        return said


@dataclass(slots=True)
class _Statement:
    """One claim of an article, its terms resolved; its IRI is made only when asked for (`claim`),
    which is when its article's graph is made, not each time its block is read from the cache."""

    subject: ox.NamedNode
    predicate: ox.NamedNode
    object: ox.NamedNode | ox.Literal
    fact: Fact

    @property
    def says(self) -> tuple:
        """What the claim says, from which sentence, by which rule: within an article, one claim per value."""
        return self.subject, self.predicate, self.object, self.fact.sentence_start, self.fact.sentence_end, self.fact.rule

    def claim(self, article: ArticleMetadata) -> ox.NamedNode:
        """The claim's IRI: a hash of the article and of what the claim says."""
        fact = self.fact
        return _iri(mint("claim", _hash(article.sha256, self.subject.value, self.predicate.value, self.object.value,
                                        fact.sentence_start, fact.sentence_end, fact.rule)))


def _source_quads(article: ArticleMetadata) -> Iterator[ox.Quad]:
    """The article in the sources graph: a prov:Entity, its file, hash, title and date; its graph derived from it."""
    key = article_key(article)
    article_iri = _iri(mint("article", key))
    yield ox.Quad(article_iri, _TYPE, _PROV_ENTITY, _SOURCES)
    yield ox.Quad(article_iri, _TYPE, _ARTICLE, _SOURCES)
    yield ox.Quad(article_iri, _iri(FKG.fileName), ox.Literal(article.name), _SOURCES)
    yield ox.Quad(article_iri, _iri(FKG.sha256), ox.Literal(article.sha256), _SOURCES)
    if article.title:
        yield ox.Quad(article_iri, _iri(DCTERMS.title), ox.Literal(article.title), _SOURCES)
    if article.published:
        yield ox.Quad(article_iri, _iri(DCTERMS.issued), ox.Literal(article.published.isoformat(), datatype=_DATE), _SOURCES)
    yield ox.Quad(_iri(mint("graph", key)), _DERIVED, article_iri, _SOURCES)


def _article_facts(statements: list[_Statement], digest: Digest) -> list[tuple]:
    """The facts (subject, predicate, object) an article's statements state, each once, in
    order; its claims counted into `digest`."""
    facts = dict.fromkeys((said.subject, said.predicate, said.object) for said in statements)
    digest.claims += len({said.says for said in statements})
    digest.stated.update(p for _, p, _ in facts)
    return list(facts)


def _article_quads(article: ArticleMetadata, statements: list[_Statement], preferred: dict[tuple, bool]) -> list[ox.Quad]:
    """An article's graph: each fact it states, and each claim with its evidence, once
    (`preferred`: _Statement.says -> whether a conflict prefers the claim's value)."""
    key = article_key(article)
    article_iri, graph = _iri(mint("article", key)), _iri(mint("graph", key))
    facts: set[tuple] = set()
    claims: set[tuple] = set()
    quads: list[ox.Quad] = []
    add = quads.append
    for said in statements:
        s, p, o, fact, says = said.subject, said.predicate, said.object, said.fact, said.says
        if (s, p, o) not in facts:
            facts.add((s, p, o))
            add(ox.Quad(s, p, o, graph))
        if says in claims:
            continue
        claims.add(says)
        claim = said.claim(article)
        add(ox.Quad(claim, _TYPE, _CLAIM, graph))
        add(ox.Quad(claim, _TYPE, _STATEMENT, graph))
        add(ox.Quad(claim, _SUBJECT, s, graph))
        add(ox.Quad(claim, _PREDICATE, p, graph))
        add(ox.Quad(claim, _OBJECT, o, graph))
        add(ox.Quad(claim, _DERIVED, article_iri, graph))
        add(ox.Quad(claim, _EVIDENCE, ox.Literal(fact.sentence), graph))
        add(ox.Quad(claim, _START, ox.Literal(str(fact.sentence_start), datatype=_INTEGER), graph))
        add(ox.Quad(claim, _END, ox.Literal(str(fact.sentence_end), datatype=_INTEGER), graph))
        add(ox.Quad(claim, _RULE, ox.Literal(fact.rule), graph))
        add(ox.Quad(claim, _CONFIDENCE, ox.Literal(str(Decimal(str(fact.confidence))), datatype=_DECIMAL), graph))
        if says in preferred:
            add(ox.Quad(claim, _PREFERRED, ox.Literal("true" if preferred[says] else "false", datatype=_BOOLEAN), graph))
    return quads


def _conflicts(articles: Sequence[ArticleMetadata], claims: list[_Claim], preferred: dict[tuple, bool],
               digest: Digest) -> Iterator[ox.Quad]:
    """Several values of a single-valued property: keep them all, and say which is preferred, if
    any (in `preferred`, (article index, what the claim says) -> whether its value is the
    preferred one, for the article graphs)."""
    groups: dict[tuple[str, str], list[_Claim]] = defaultdict(list)
    seen: set[ox.NamedNode] = set()
    for claim in claims:
        if claim.iri not in seen:  # one sentence stating the fact through two mentions: one claim
            seen.add(claim.iri)
            groups[(claim.subject.value, claim.predicate.value)].append(claim)
    for (subject, predicate), group in sorted(groups.items()):
        values = sorted({c.object for c in group}, key=lambda value: value.value)
        if len(values) < 2:
            continue
        iri = _iri(mint("conflict", _hash(subject, predicate)))
        digest.conflicts[iri] = [(c.object, articles[c.article].name) for c in group]
        yield ox.Quad(iri, _TYPE, _iri(FKG.Conflict), _CONFLICTS)
        yield ox.Quad(iri, _iri(FKG.conflictSubject), ox.NamedNode(subject), _CONFLICTS)
        yield ox.Quad(iri, _iri(FKG.conflictProperty), ox.NamedNode(predicate), _CONFLICTS)
        for claim in group:
            yield ox.Quad(iri, _iri(FKG.conflictingClaim), claim.iri, _CONFLICTS)
        newest: dict = {}
        undated: set[str] = set()
        for value in values:
            dates = [articles[c.article].published for c in group if c.object == value]
            if any(d is None for d in dates):
                undated.update(articles[c.article].name for c in group if c.object == value and articles[c.article].published is None)
            newest[value] = max((d for d in dates if d is not None), default=None)
        if undated or len(set(newest.values())) < len(values):
            yield ox.Quad(iri, _iri(FKG.conflictStatus), ox.Literal("open"), _CONFLICTS)
            why = (f"{len(values)} values; not every source carries a publication date "
                   f"(undated: {', '.join(sorted(undated))}), so none is preferred") if undated else \
                f"{len(values)} values stated by sources of the same date; none is preferred"
            yield ox.Quad(iri, _COMMENT, ox.Literal(why), _CONFLICTS)
            continue
        preferred_value = max(values, key=lambda v: newest[v])
        yield ox.Quad(iri, _iri(FKG.conflictStatus), ox.Literal("resolved"), _CONFLICTS)
        yield ox.Quad(iri, _COMMENT, ox.Literal(
            f"{len(values)} values; the newest dated source ({newest[preferred_value].isoformat()}) is preferred"), _CONFLICTS)
        for claim in group:
            preferred[(claim.article, claim.says)] = claim.object == preferred_value
            if claim.object == preferred_value:
                yield ox.Quad(iri, _iri(FKG.preferredClaim), claim.iri, _CONFLICTS)
