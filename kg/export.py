"""Writing the graph: the dataset as TriG or N-Quads, and its merged view as Turtle, N-Triples,
JSON-LD and GraphML.

The merged view (merged_view; docs/model.md) is the graph without its provenance: the facts,
the entities and the conflicts, as build/graph.ttl and build/graph.jsonld hold them. Every
writer sorts what it writes, so the same graph is always the same bytes. `kg build` writes its
files with these functions (kg.pipeline), keeping each article's TriG block (trig_block) and
each JSON-LD node (NodeTable) to copy on a rebuild; `kg export` is `cli_export`.

>>> import io
>>> from kg.store import REPO_ROOT, load_graph
>>> dataset = load_graph(REPO_ROOT / "tests" / "data" / "store" / "fixture.trig")
>>> out = io.BytesIO()
>>> export_graph(dataset, "nt", out)
>>> b'<https://w3id.org/franchise-kg/id/work/ballerina> <http://www.w3.org/2004/02/skos/core#prefLabel> "Ballerina" .' in out.getvalue().splitlines()
True
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import re
import sys
from itertools import chain, islice
from typing import IO, Any, Iterable, Iterator, Protocol

import pyoxigraph as ox
from rdflib import Graph, URIRef

from kg import ontology
from kg.cli import EXIT_OK, fail, silence_stdout
from kg.files import write_atomically
from kg.namespaces import FKG, FKR, GRAPH_SOURCES, KIND_PREFIXES, PREFIXES, RDF, RDFS, SKOS, bind_prefixes
from kg.store import CONTEXT_FILE, GraphLoadError, load_graph
from kg.terms import TermConverter, ox_quads, to_ox

__all__ = [
    "EXPORT_FORMATS",
    "MERGED_FORMATS",
    "MergedTriples",
    "NodeTable",
    "merged_view",
    "to_networkx",
    "export_graph",
    "export_merged",
    "write_quads",
    "trig_prefixes",
    "trig_block",
    "view_subjects",
    "cli_export",
]

EXPORT_FORMATS = ("turtle", "json-ld", "nt", "trig", "nquads", "graphml")
#: The formats that hold the merged view (no named graphs, no claims).
MERGED_FORMATS = ("turtle", "nt", "json-ld", "graphml")
_PREFIXES = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}
#: Prefixes of written Turtle and TriG: the usual ones and one per kind of minted IRI.
_WRITE_PREFIXES = {**_PREFIXES, **KIND_PREFIXES}



def _merged_store(dataset: Graph) -> ox.Store:
    """The merged view (see merged_view) in the default graph of a fresh Oxigraph store."""
    sources = ox.NamedNode(str(GRAPH_SOURCES))
    claims = {to_ox(claim) for claim, _, _, _ in dataset.quads((None, RDF.type, FKG.Claim, None))}
    merged = ox.Store()
    merged.bulk_extend(
        ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph())
        for q in ox_quads(dataset)
        if q.graph_name != sources and q.subject not in claims
    )
    return merged


def merged_view(dataset: Graph) -> Graph:
    """The graph without its provenance, as docs/model.md defines build/graph.ttl.

    Every fact triple, every entity description and the conflicts, in one graph: the union of
    all named graphs, less the sources graph (articles) and the description of every claim
    (fkg:Claim nodes). The exports to Turtle, N-Triples, JSON-LD and GraphML are this view;
    TriG and N-Quads keep the named graphs and the claims.
    """
    return _graph_of(_merged_store(dataset))


class MergedTriples(Protocol):
    """What the merged view's writers read: an Oxigraph store with the view in its default graph
    (_merged_store), or kg.graph.MergedView, which `kg build` fills and which answers the same.

    A MergedView also answers `subjects()` (see view_subjects), without the pass over every
    triple that a store needs, which for a MergedView would make the entities' triples."""

    def quads_for_pattern(self, subject: Any, predicate: Any, object: Any,
                          graph_name: Any = None) -> Iterator[ox.Quad]:
        """The quads that match, None matching anything (as ox.Store.quads_for_pattern)."""


def _graph_of(merged: MergedTriples, *, sort: bool = True, prefixes: bool = True) -> Graph:
    """The default graph of `merged` as an rdflib Graph (_rdflib_graph), its triples added in
    sorted order, or in the store's for a writer that sorts its own output."""
    if sort:
        triples: Iterable[Any] = _sorted_triples(merged)
    else:
        triples = merged.quads_for_pattern(None, None, None, ox.DefaultGraph())
    return _rdflib_graph(triples, prefixes=prefixes)


def _rdflib_graph(triples: Iterable[Any], *, prefixes: bool = True) -> Graph:
    """Oxigraph's `triples` (or quads, their graph left out) as an rdflib Graph, with kg's
    prefixes bound unless `prefixes` is False.

    A graph with prefixes bound is in a reference cycle with its namespace manager, so only the
    cyclic collector frees it, which a build runs seldom (kg.pipeline): the JSON-LD writer, which
    needs no prefixes (its context compacts), makes a graph per batch of nodes without them, and
    each is freed as soon as it is converted (at 10,000 articles they had piled up to 90 MB).

    The graph is in rdflib's SimpleMemory store: one graph needs no contexts, and it fills and
    answers faster than the Memory store (graph.jsonld of 1,000 articles: 0.93 -> 0.73 s)."""
    graph = Graph(store="SimpleMemory")
    if prefixes:
        bind_prefixes(graph)
    convert = TermConverter()  # entities and properties recur in triple after triple
    graph += [(convert(t.subject), convert(t.predicate), convert(t.object)) for t in triples]
    return graph


def _jsonld_context() -> dict[str, Any]:
    if CONTEXT_FILE.is_file():
        return json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))["@context"]
    return dict(_PREFIXES)  # before ontology/context.jsonld exists: prefixes only


def _local_name(iri: str) -> str:
    return re.split(r"[#/]", iri.rstrip("/#"))[-1]


def _node_id(iri: str, index: int) -> str:
    """A GraphML node id (an XML NMTOKEN): "work:ballerina" for fkr:work/ballerina, else "n<index>"."""
    local = iri[len(str(FKR)):] if iri.startswith(str(FKR)) else ""
    return local.replace("/", ":") if re.fullmatch(r"[a-z]+/[a-z0-9-]+", local) else f"n{index}"


def to_networkx(graph: Graph):
    """The entities of `graph` (an rdflib Graph, e.g. merged_view's) as a networkx MultiDiGraph.

    Nodes are the IRIs typed with an ontology class (not claims, conflicts or articles), with id
    "kind:slug" (e.g. work:ballerina) and attributes label (skos:prefLabel, else rdfs:label, else
    the IRI's last segment), class (the most specific of its classes' local names; several are
    joined with "|") and iri. Edges are the triples between two such nodes, with ids e0, e1, ...
    and attributes relation and label (the property's local name, e.g. directedBy) and iri.
    Every id is an XML name token, as the GraphML schema wants, and unique, as Gephi wants.
    """
    import networkx as nx

    skipped = {str(FKG.Claim), str(FKG.Conflict), str(FKG.Article)}
    types: dict[str, set[str]] = {}
    for s, o in graph.subject_objects(RDF.type):
        if isinstance(s, URIRef) and str(o).startswith(str(FKG)):
            types.setdefault(str(s), set()).add(str(o))
    nodes = {iri: classes for iri, classes in sorted(types.items()) if not classes & skipped}
    ids = {iri: _node_id(iri, index) for index, iri in enumerate(nodes)}
    supers = ontology.superclasses() if ontology.ONTOLOGY_FILE.is_file() else {}
    digraph = nx.MultiDiGraph()
    for iri, classes in nodes.items():
        specific = sorted(c for c in classes if not any(URIRef(c) in supers.get(URIRef(other), ()) for other in classes))
        node = URIRef(iri)
        label = graph.value(node, SKOS.prefLabel) or graph.value(node, RDFS.label) or _local_name(iri)
        digraph.add_node(ids[iri], label=str(label), **{"class": "|".join(_local_name(c) for c in specific)}, iri=iri)
    edges = sorted((str(s), str(p), str(o)) for s, p, o in graph if p != RDF.type and str(s) in nodes and str(o) in nodes)
    for index, (s, p, o) in enumerate(edges):
        relation = _local_name(p)
        digraph.add_edge(ids[s], ids[o], key=f"e{index}", relation=relation, label=relation, iri=p)
    return digraph


def _quad_key(quad: ox.Quad) -> tuple[str, str, str, str]:
    """Graph, subject, predicate, object: so that exports come out in the same order every time."""
    graph = "" if isinstance(quad.graph_name, ox.DefaultGraph) else str(quad.graph_name)
    return graph, str(quad.subject), str(quad.predicate), str(quad.object)


def export_graph(dataset: Graph, fmt: str, out: IO[bytes]) -> None:
    """Write `dataset` to the binary stream `out` in `fmt` (one of EXPORT_FORMATS).

    trig and nquads: the whole dataset, named graphs and claims included. turtle, nt, json-ld
    and graphml: the merged view (see merged_view). Quads and triples come sorted, so the same
    graph always exports to the same bytes. json-ld is compacted with the ontology's context
    (ontology/context.jsonld), written inline so that the file parses back on its own.
    """
    if fmt in ("trig", "nquads"):
        write_quads(sorted(ox_quads(dataset), key=_quad_key), fmt, out)
    elif fmt in MERGED_FORMATS:
        export_merged(_merged_store(dataset), fmt, out)
    else:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {EXPORT_FORMATS}")


def write_quads(quads: Iterable[ox.Quad], fmt: str, out: IO[bytes]) -> None:
    """Serialise `quads`, in the order given, as TriG (with kg's prefixes) or N-Quads, streaming."""
    rdf_format = ox.RdfFormat.TRIG if fmt == "trig" else ox.RdfFormat.N_QUADS
    ox.serialize(quads, out, rdf_format, prefixes=_WRITE_PREFIXES if fmt == "trig" else None)


@functools.cache
def trig_prefixes() -> bytes:
    """The lines a TriG file written by write_quads starts with: kg's prefixes."""
    probe = ox.NamedNode("urn:x-kg:probe")
    text = ox.serialize([ox.Quad(probe, probe, probe, probe)], None, ox.RdfFormat.TRIG, prefixes=_WRITE_PREFIXES)
    return text[:text.index(b"<urn:x-kg:probe> {")]


def trig_block(quads: Iterable[ox.Quad]) -> tuple[int, bytes]:
    """How many `quads` there are, and their TriG, all in one named graph, without the prefix
    lines (trig_prefixes); read once, so a stream is never held.

    trig_prefixes() followed by the blocks of consecutive graphs are the bytes write_quads
    writes for all their quads in one stream (tests/test_export.py), so a graph's block can be
    kept and written again without making its quads.
    """
    count = 0

    def counted() -> Iterator[ox.Quad]:
        nonlocal count
        for quad in quads:
            count += 1
            yield quad

    text = ox.serialize(counted(), None, ox.RdfFormat.TRIG, prefixes=_WRITE_PREFIXES)
    if not count:
        return 0, b""
    head = trig_prefixes()
    if not text.startswith(head):
        raise ValueError("Oxigraph's TriG did not start with the prefix lines")
    return count, text[len(head):]


def view_subjects(merged: MergedTriples) -> tuple[set[Any], bool]:
    """The subjects of `merged`'s default graph, and whether any of its terms is a blank node:
    its own `subjects()` where it has one (kg.graph.MergedView), else one pass over its triples."""
    own = getattr(merged, "subjects", None)
    if own is not None:
        return own()
    subjects: set[Any] = set()
    blank = False
    for quad in merged.quads_for_pattern(None, None, None, ox.DefaultGraph()):
        subjects.add(quad.subject)
        blank = blank or isinstance(quad.subject, ox.BlankNode) or isinstance(quad.object, ox.BlankNode)
    return subjects, blank


def _sorted_triples(merged: MergedTriples) -> Iterator[ox.Triple]:
    """The triples of `merged`'s default graph in _quad_key's order, sorted a subject at a time.

    Sorting them all at once held a key of four strings for each of them beside the triples
    (the 10,000-article view: 371,824), the peak of writing graph.ttl.
    """
    default = ox.DefaultGraph()
    for subject in sorted(view_subjects(merged)[0], key=str):
        for quad in sorted(merged.quads_for_pattern(subject, None, None, default), key=_quad_key):
            yield quad.triple


#: Subjects of the merged view converted to JSON-LD together (see _write_jsonld).
JSONLD_SUBJECTS_AT_ONCE = 2_000

_JSONLD_ENCODER = json.JSONEncoder(indent=2, sort_keys=True, ensure_ascii=False)


def _jsonld_sorted(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`nodes` sorted by @id, each one's lists of values sorted by their JSON: rdflib walks a set
    of subjects, whose order follows Python's hash seed, and the bytes must not."""
    nodes.sort(key=lambda node: str(node.get("@id", "")))
    for node in nodes:
        for values in node.values():
            if isinstance(values, list):
                values.sort(key=lambda value: json.dumps(value, sort_keys=True, ensure_ascii=False))
    return nodes


class NodeTable(Protocol):
    """Where export_merged finds the JSON-LD nodes an earlier write made, by a hash of their
    subject's triples, and keeps those of this write (kg.pipeline keeps one in the build's cache)."""

    def get(self, key: str) -> str | None:
        """The text of the node kept under `key`, if any."""

    def keep(self, key: str, text: str) -> None:
        """Keep `text`, a node of this write, under `key`."""


def _jsonld_salt(context: dict[str, Any]) -> bytes:
    """What a node's text depends on besides its subject's triples: the context and rdflib's version."""
    import rdflib

    return f"{rdflib.__version__}\n{json.dumps(context, sort_keys=True)}\n".encode("utf-8")


def _jsonld_node_key(salt: bytes, triples: list[Any]) -> str:
    """A subject's node's key in a NodeTable: a hash of its triples, sorted, and of `salt`."""
    digest = hashlib.sha256(salt)
    digest.update("\n".join(sorted(map(str, triples))).encode("utf-8"))
    return digest.hexdigest()[:32]


def _node_texts(nodes: list[dict[str, Any]]) -> list[str]:
    """Each node's text as it stands in the document, two levels in, its first line's indent off.

    The list is encoded at once and cut between its nodes: json's indenting encoder is pure Python
    and sets itself up on every call, which node by node cost 2 s at 10,000 articles. A newline
    inside a value is written "\\n", so every newline of the text is layout, and a node of the
    list closes on the only line that is two spaces and a brace.
    """
    if not nodes:
        return []
    body = _JSONLD_ENCODER.encode(nodes)[len("[\n  {"):-len("\n  }\n]")]
    return ["{" + part.replace("\n", "\n  ") + "\n    }" for part in body.split("\n  },\n  {")]


def _jsonld_nodes(merged: MergedTriples, context: dict[str, Any], table: NodeTable | None) -> Iterator[str] | None:
    """The text of each JSON-LD node of the merged view (_node_texts), in the order of their @id,
    made JSONLD_SUBJECTS_AT_ONCE subjects at a time; None when the view must be converted whole
    (blank nodes or lists, or no more than a batch).

    rdflib's from_rdf reads an rdflib Graph, which holds a triple in some 800 bytes (300 MB for
    the 10,000-article view). Without blank nodes and lists, which from_rdf follows from the node
    that refers to them, each subject's node is made from its own triples alone, so from_rdf runs
    on a small Graph of a batch of subjects at a time. The subjects are taken in the order of the
    @id from_rdf gives them (the context's shrink_iri), so the batches follow one another.

    For the same reason a node's text is known by its subject's triples: those `table` has are
    copied from it, the others converted, and every one is kept in it.
    """
    from rdflib.plugins.serializers.jsonld import from_rdf
    from rdflib.plugins.shared.jsonld.context import Context

    subjects, blank = view_subjects(merged)
    lists = next(merged.quads_for_pattern(None, ox.NamedNode(str(RDF.first)), None, ox.DefaultGraph()), None) is not None
    if blank or lists or len(subjects) <= JSONLD_SUBJECTS_AT_ONCE:
        return None
    parsed = Context(context)
    ids = {subject: parsed.shrink_iri(subject.value) for subject in subjects}
    ordered = sorted(subjects, key=ids.__getitem__)
    salt = _jsonld_salt(context)

    def texts() -> Iterator[str]:
        for start in range(0, len(ordered), JSONLD_SUBJECTS_AT_ONCE):
            part = ordered[start:start + JSONLD_SUBJECTS_AT_ONCE]
            # Each subject's quads read once, for its key and, if its node is not kept, for from_rdf.
            quads = [list(merged.quads_for_pattern(subject, None, None, ox.DefaultGraph())) for subject in part]
            keys = [_jsonld_node_key(salt, own) for own in quads] if table is not None else [""] * len(part)
            found = [table.get(key) for key in keys] if table is not None else [None] * len(part)
            missing = [own for own, text in zip(quads, found) if text is None]
            made: dict[str, str] = {}
            if missing:
                document = from_rdf(_rdflib_graph(chain.from_iterable(missing), prefixes=False), parsed, auto_compact=True)
                document.pop("@context")
                nodes = _jsonld_sorted(document["@graph"] if set(document) == {"@graph"} else [document])  # (one node comes as itself)
                made = dict(zip((str(node["@id"]) for node in nodes), _node_texts(nodes)))
            for subject, key, text in zip(part, keys, found):
                text = text if text is not None else made[ids[subject]]
                if table is not None:
                    table.keep(key, text)
                yield text

    return texts()


def _write_jsonld(merged: MergedTriples, out: IO[bytes], table: NodeTable | None = None) -> None:
    """The merged view as rdflib's compacted JSON-LD document, with the ontology's context inline.

    The nodes are sorted by @id and their values sorted (_jsonld_sorted), so that the bytes are
    the same in every process. Converted a batch of subjects at a time (_jsonld_nodes), each
    node is written as it comes, laid out as json.dumps(indent=2) lays out the whole document,
    which is never held: at 10,000 articles its dicts took 100-200 MB.
    """
    from rdflib.plugins.serializers.jsonld import from_rdf

    context = _jsonld_context()
    nodes = _jsonld_nodes(merged, context, table)
    if nodes is None:
        data = from_rdf(_graph_of(merged, sort=False, prefixes=False), context, auto_compact=True)
        if isinstance(data.get("@graph"), list):
            _jsonld_sorted(data["@graph"])
        # Written a few thousand pieces at a time, not as one string (the text as a str is
        # twice its UTF-8 bytes).
        pieces = _JSONLD_ENCODER.iterencode(data)
        while batch := list(islice(pieces, 1 << 14)):
            out.write("".join(batch).encode("utf-8"))
        out.write(b"\n")
        return
    # {"@context": ..., "@graph": [...]} as json.dumps(indent=2, sort_keys=True) lays it out:
    # each node indented two levels. (A newline inside a value is written "\n": every newline
    # of the text is layout.)
    out.write(('{\n  "@context": ' + _JSONLD_ENCODER.encode(context).replace("\n", "\n  ") + ',\n  "@graph": [').encode("utf-8"))
    for index, text in enumerate(nodes):
        out.write((("\n    " if index == 0 else ",\n    ") + text).encode("utf-8"))
    out.write(b"\n  ]\n}\n")


def export_merged(merged: MergedTriples, fmt: str, out: IO[bytes], *, jsonld_nodes: NodeTable | None = None) -> None:
    """Write the merged view `merged` holds (see MergedTriples) in `fmt`, one of MERGED_FORMATS.

    With `jsonld_nodes` (json-ld only), a node an earlier write kept there, under a hash of its
    subject's triples, is copied rather than converted again (a rebuild changes few of them), and
    every node written is kept there (none when the view is converted whole: a small view, or one
    with blank nodes or lists).
    """
    if fmt in ("turtle", "nt"):
        rdf_format = ox.RdfFormat.TURTLE if fmt == "turtle" else ox.RdfFormat.N_TRIPLES
        ox.serialize(_sorted_triples(merged), out, rdf_format, prefixes=_WRITE_PREFIXES if fmt == "turtle" else None)
    elif fmt == "json-ld":
        _write_jsonld(merged, out, jsonld_nodes)
    elif fmt == "graphml":
        import networkx as nx

        nx.write_graphml(to_networkx(_graph_of(merged)), out, encoding="utf-8", prettyprint=True)
    else:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {MERGED_FORMATS}")


def cli_export(args: argparse.Namespace) -> int:
    """`kg export --format F [--graph PATH] [-o FILE]`: the graph in another format (see export_graph)."""
    try:
        dataset = load_graph(args.graph)
    except GraphLoadError as err:
        return fail("export", str(err))
    try:
        if args.output is None:
            export_graph(dataset, args.format, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        else:
            # written aside: an export that fails or is stopped leaves the previous file as it was
            write_atomically({args.output: lambda out: export_graph(dataset, args.format, out)})
            print(f"kg export: wrote {args.output} ({args.format})", file=sys.stderr)
    except BrokenPipeError:
        silence_stdout()
    except OSError as err:
        return fail("export", f"{args.output or 'stdout'}: cannot write: {err.strerror or err}")
    return EXIT_OK
