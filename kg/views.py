"""networkx projections of the graph, and pictures of them.

The RDF graph `kg build` writes (docs/model.md) is read into three networkx views:

- `entity_graph`: every entity (a node typed with an fkg class in ``fkr:graph/entities``) as a
  node with its ``label`` (skos:prefLabel), ``cls`` (its most specific fkg class) and literal
  facts (``releaseDate``) as attributes; every fact between two entities, in any article graph,
  as an edge of a ``MultiDiGraph`` keyed by ``relation`` (the predicate's local name) and carrying
  ``sources``, the sorted file names of the articles that state it. Performances are projected
  away: the plain ``portrays`` / ``hasCastMember`` / ``appearsIn`` facts stand for them.
- `cast_network`: the people, linked when they share a work (as cast, director, writer or
  producer), weighted by the number of works they share.
- `neighbourhood`: the entities within a few hops of one entity, e.g. the Ruska Roma's.

`core` cuts any of them down to its best-connected entities: a picture of thousands is
unreadable, and its layout (a matrix of every pair's distance) would take minutes and gigabytes.

`draw_static` and `write_html` picture any of them (PNG + SVG with matplotlib, an offline HTML
page with pyvis); `render` and `cli_viz` (``kg viz``) tie it together.

>>> from kg import store, views
>>> g = views.entity_graph(views.load_dataset(store.REPO_ROOT / "tests/data/views/franchise.trig"))
>>> g.nodes[views.find_entity(g, "ruska roma")]["cls"]
'CriminalOrganization'
>>> [g.nodes[n]["label"] for n in views.shortest_path(g, "Rooney", "Ruska Roma")][1:]
['Ballerina', 'John Wick', 'Ruska Roma']
"""

from __future__ import annotations

import argparse
import difflib
import html
import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import chain, combinations
from pathlib import Path
from typing import IO, Callable, Hashable, Mapping, Sequence

import networkx as nx
import numpy as np
import pyoxigraph as ox
from rdflib import Dataset, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

from kg import ontology
from kg.files import write_atomically
from kg.namespaces import FKG, FKR, GRAPH_ENTITIES, GRAPH_SOURCES, KINDS, PROV, mint, slug
from kg.terms import ox_quads, to_ox

__all__ = [
    "ENTITY_KINDS",
    "CREW_RELATIONS",
    "EntityNotFound",
    "AmbiguousEntity",
    "PathStep",
    "load_dataset",
    "entity_graph",
    "cast_network",
    "neighbourhood",
    "core",
    "find_entity",
    "shortest_path",
    "path_steps",
    "centrality",
    "cast_ties",
    "class_palette",
    "MAX_DRAWN",
    "layout",
    "draw_static",
    "write_html",
    "render",
    "cli_viz",
]

#: The kinds of IRI (docs/model.md) whose things are entities; performances, articles, claims,
#: conflicts and graphs are not.
ENTITY_KINDS = frozenset({"person", "character", "work", "franchise", "organization", "place"})

#: Classes that are never entity nodes, even when typed in the entities graph.
_NOT_ENTITY_CLASSES = frozenset({FKG.Performance, FKG.Article, FKG.Claim, FKG.Conflict})

#: The relations that tie a person to a work in the cast network.
CREW_RELATIONS = ("hasCastMember", "directedBy", "writtenBy", "producedBy")

_ENTITIES = GRAPH_ENTITIES
_SOURCES = GRAPH_SOURCES

#: Seed of every layout, so the same graph always gives the same picture.
SEED = 7


class EntityNotFound(LookupError):
    """No entity of the graph is named so."""


class AmbiguousEntity(EntityNotFound):
    """Several entities of the graph are named so (e.g. "John Wick": character, film, franchise)."""


# ------------------------------------------------------------------------------------- loading


def load_dataset(path: Path | str) -> Dataset:
    """The named graphs of a graph file (e.g. build/graph.trig), read by `kg.store.load_graph`.

    Raises FileNotFoundError (saying to run ``kg build``) when there is no file at `path`.
    """
    from kg import store

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no graph at {path}; run `kg build` first")
    return store.load_graph(path)


# ---------------------------------------------------------------------------------- the views


def _kind(iri: Hashable) -> str:
    """The kind of an fkr: IRI ("work" for fkr:work/ballerina), or "" for any other."""
    text = str(iri)
    if not text.startswith(str(FKR)):
        return ""
    return text[len(str(FKR)):].split("/", 1)[0]


def _local(iri: URIRef) -> str:
    """The local name of an fkg: term ("directedBy" for fkg:directedBy)."""
    return str(iri)[len(str(FKG)):]


def _ontology_superclasses() -> Mapping[URIRef, frozenset[URIRef]]:
    """Every fkg class's strict superclasses (kg.ontology), empty if the ontology is not there."""
    return ontology.superclasses() if ontology.ONTOLOGY_FILE.is_file() else {}


def _most_specific(types: set[URIRef], extension: Counter) -> URIRef:
    """The most specific of an entity's fkg classes.

    A class that is a superclass (in the ontology) of another of the entity's classes is dropped;
    if the ontology cannot tell, the class with the fewest members in the graph wins, then the
    first by name.
    """
    supers = _ontology_superclasses()
    candidates = {t for t in types if not any(t in supers.get(other, ()) for other in types)}
    return min(candidates or types, key=lambda t: (extension[t], str(t)))


def _kind_slug(iri: Hashable) -> str:
    return str(iri)[len(str(FKR)):]


def entity_graph(dataset: Dataset) -> nx.MultiDiGraph:
    """The entities and the facts between them, as a networkx MultiDiGraph.

    Nodes are entity IRIs (strings) with ``label``, ``cls`` (most specific fkg class), ``kind``
    (the IRI's kind: person, work, ...), ``alt_labels`` and, per literal-valued fact, the sorted
    list of its values (``releaseDate: ["2023-12-01", "2024-06-07"]`` when sources disagree).
    Edges run subject -> object, keyed by ``relation`` (the predicate's local name), with
    ``sources``: the sorted file names of the articles that claim the fact.
    Nodes and edges are added in sorted order, so every traversal is deterministic.

    The dataset is read in one pass over its quads, in Oxigraph's terms (kg.terms.ox_quads),
    keeping only what the view needs: through rdflib's API, term by term, the 1,000-article
    graph took 6.8 s, most of it making rdflib terms of every quad several times over.
    """
    entities_graph, sources_graph = to_ox(_ENTITIES), to_ox(_SOURCES)
    rdf_type, pref_label, rdfs_label, alt_label = (to_ox(t) for t in (RDF.type, SKOS.prefLabel, RDFS.label, SKOS.altLabel))
    file_name_of, derived_from = to_ox(FKG.fileName), to_ox(PROV.wasDerivedFrom)
    claim_parts = {to_ox(RDF.subject): 0, to_ox(RDF.predicate): 1, to_ox(RDF.object): 2, derived_from: 3}
    fkg, entity_prefixes = str(FKG), tuple(f"{FKR}{kind}/" for kind in sorted(ENTITY_KINDS))

    types: dict[str, set[str]] = defaultdict(set)
    names: dict[str, dict[ox.NamedNode, list[str]]] = defaultdict(lambda: defaultdict(list))
    file_names: dict[str, str] = {}          # article -> its file name
    graph_articles: dict[str, str] = {}      # an article's graph -> the article
    claims: dict[tuple, list] = defaultdict(lambda: [None] * 4)   # (graph, claim) -> subject, predicate, object, article
    stated: list[tuple[str, str, str, ox.NamedNode | ox.Literal]] = []   # (graph, entity, fkg predicate, object)
    for quad in ox_quads(dataset):
        g, s, p, o = quad.graph_name, quad.subject, quad.predicate, quad.object
        if g == entities_graph:
            if p == rdf_type and isinstance(s, ox.NamedNode) and o.value.startswith(fkg):
                types[s.value].add(o.value)
            elif p in (pref_label, rdfs_label, alt_label):
                names[s.value][p].append(o.value)
        elif g == sources_graph:
            if p == file_name_of:
                file_names[s.value] = o.value
            elif p == derived_from and _kind(s.value) == "graph":
                graph_articles[s.value] = o.value
        elif isinstance(g, ox.NamedNode):
            part = claim_parts.get(p)
            if part is not None:
                claims[(g.value, s.value)][part] = o
            elif p.value.startswith(fkg) and s.value.startswith(entity_prefixes):
                stated.append((g.value, s.value, p.value, o))

    not_entities = {str(cls) for cls in _NOT_ENTITY_CLASSES}
    entities = {e for e, classes in types.items() if not classes & not_entities and _kind(e) in ENTITY_KINDS}
    extension = Counter(URIRef(cls) for e in entities for cls in types[e])
    articles = {graph: file_names.get(article, _kind_slug(article)) for graph, article in graph_articles.items()}

    sources: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    literals: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for (graph, _), (s, p, o, article) in claims.items():
        if graph in articles and isinstance(s, ox.NamedNode) and isinstance(p, ox.NamedNode) and isinstance(o, ox.NamedNode):
            name = file_names.get(article.value) if isinstance(article, ox.NamedNode) else None
            sources[(s.value, p.value, o.value)].add(name or articles[graph])
    for graph, s, p, o in stated:
        if graph not in articles or s not in entities:
            continue
        if isinstance(o, ox.NamedNode) and o.value in entities:
            sources[(s, p, o.value)].add(articles[graph])
        elif isinstance(o, ox.Literal):
            literals[s][p[len(fkg):]].add(o.value)

    g = nx.MultiDiGraph()
    for e in sorted(entities):
        own = names.get(e, {})
        label = (own.get(pref_label) or own.get(rdfs_label) or [_kind_slug(e)])[0]
        attrs: dict[str, object] = {
            "label": label,
            "cls": _local(_most_specific({URIRef(cls) for cls in types[e]}, extension)),
            "kind": _kind(e),
            "alt_labels": sorted(set(own.get(alt_label, ())) - {label}),
        }
        for relation, values in sorted(literals.get(e, {}).items()):
            attrs[relation] = sorted(values)
        g.add_node(e, **attrs)
    for (s, p, o), files in sorted(sources.items()):
        if s in entities and o in entities:
            relation = p[len(fkg):]
            g.add_edge(s, o, key=relation, relation=relation, sources=sorted(files))
    g.graph["articles"] = sorted(articles.values())
    return g


def cast_network(graph: nx.MultiDiGraph) -> nx.Graph:
    """People linked by the works they share, from an `entity_graph`.

    A person takes part in a work when the graph says the work ``hasCastMember``, is
    ``directedBy``, ``writtenBy`` or ``producedBy`` them (see CREW_RELATIONS). Nodes are the people
    who take part in at least one work (attributes copied from `graph`, plus ``works``); an edge
    joins two people who share works, with ``weight`` (how many) and ``works`` (their labels,
    sorted).
    """
    works_of: dict[str, set[str]] = defaultdict(set)
    for u, v, relation in graph.edges(keys=True):
        if relation not in CREW_RELATIONS:
            continue
        for person, work in ((u, v), (v, u)):
            if graph.nodes[person]["kind"] == "person" and graph.nodes[work]["kind"] == "work":
                works_of[person].add(work)
    cast = nx.Graph()
    for person in sorted(works_of):
        cast.add_node(person, **graph.nodes[person],
                      works=sorted(graph.nodes[w]["label"] for w in works_of[person]))
    for a, b in combinations(sorted(works_of), 2):
        shared = works_of[a] & works_of[b]
        if shared:
            cast.add_edge(a, b, weight=len(shared), works=sorted(graph.nodes[w]["label"] for w in shared))
    return cast


def find_entity(graph: nx.Graph, name: str) -> str:
    """The node of `graph` that `name` names.

    `name` is an IRI, ``fkr:kind/slug`` or ``kind/slug``, or a label, compared case-insensitively
    with skos:prefLabel first, then skos:altLabel (a leading "the" may be left out). Raises
    AmbiguousEntity when several entities carry the name, EntityNotFound when none does.
    """
    text = name.strip()
    if text in graph:
        return text
    short = text[4:] if text.startswith("fkr:") else text
    kind, _, key = short.partition("/")
    if kind in KINDS and key and str(mint(kind, key)) in graph:
        return str(mint(kind, key))

    def norm(label: str) -> str:
        return re.sub(r"^the\s+", "", " ".join(label.casefold().split()))

    wanted = " ".join(text.casefold().split())
    for attribute in ("label", "alt_labels"):
        for compare in (lambda s: " ".join(s.casefold().split()), norm):
            found = sorted(
                n for n, data in graph.nodes(data=True)
                if any(compare(l) == compare(wanted)
                       for l in ([data.get(attribute, "")] if attribute == "label" else data.get(attribute, [])))
            )
            if len(found) == 1:
                return found[0]
            if found:
                choices = "; ".join(f"{_kind_slug(n)} ({graph.nodes[n].get('cls')})" for n in found)
                raise AmbiguousEntity(f"{name!r} names {len(found)} entities: {choices}; give one of these instead")
    labels = sorted({data.get("label", "") for _, data in graph.nodes(data=True)})
    close = difflib.get_close_matches(text, labels, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    raise EntityNotFound(f"no entity named {name!r} among the {graph.number_of_nodes()} of the graph{hint}")


def _induced(graph: nx.Graph, nodes: Sequence[str]) -> nx.Graph:
    """A copy of the subgraph of `graph` on `nodes`: its nodes in the order given, each node's
    edges in `graph`'s order. networkx's subgraph view iterates a set of the nodes when they are
    few next to the graph, in an order that changes with the process's hash seed: the same graph
    gave different cuts, layouts and pictures from run to run."""
    kept = set(nodes)
    sub = graph.__class__()
    sub.graph.update(graph.graph)
    sub.add_nodes_from((n, dict(graph.nodes[n])) for n in nodes)
    for u in nodes:
        for v, data in graph.adj[u].items():
            if v in kept:
                if graph.is_multigraph():
                    sub.add_edges_from((u, v, key, dict(d)) for key, d in data.items())
                else:
                    sub.add_edge(u, v, **data)
    return sub


def neighbourhood(graph: nx.MultiDiGraph, entity: str, radius: int = 2) -> nx.MultiDiGraph:
    """The entities within `radius` hops of `entity` (a name, see find_entity), edges in either direction.

    The hops are counted on the undirected view; the result keeps `graph`'s directed edges between
    those entities, and ``graph["center"]`` names the entity it is centred on.
    """
    center = find_entity(graph, entity)
    ego = nx.ego_graph(graph.to_undirected(as_view=True), center, radius=radius)
    sub = _induced(graph, sorted(ego.nodes))
    sub.graph["center"] = center
    return sub


#: The most entities a picture holds (render, kg viz): at 300 the layout takes seconds; the
#: 6,121 entities of a 1,000-article corpus took over ten minutes and 3.8 GB, and were a blot.
MAX_DRAWN = 300


def core(graph: nx.MultiDiGraph, limit: int = MAX_DRAWN) -> nx.MultiDiGraph:
    """`graph` cut down to its `limit` best-connected entities and the facts between them, or
    `graph` itself when it has no more.

    Entities are ranked by their number of facts, in either direction, then by the number of
    articles stating them (in a corpus where thousands of entities have two or three facts, the
    ones more articles speak of), then by id, so the same graph gives the same cut. The entity a
    neighbourhood is centred on (``graph["center"]``) always stays. ``graph["of"]`` holds how
    many entities the cut was made from.
    """
    if graph.number_of_nodes() <= limit:
        return graph
    center = graph.graph.get("center")

    def articles(node: str) -> int:
        edges = chain(graph.out_edges(node, data="sources"), graph.in_edges(node, data="sources"))
        return len({name for _, _, names in edges for name in names or ()})

    ranked = sorted((n for n in graph if n != center), key=lambda n: (-graph.degree(n), -articles(n), n))
    kept = ([center] if center is not None else []) + ranked[:limit - (center is not None)]
    sub = _induced(graph, sorted(kept))
    sub.graph.update(graph.graph, of=graph.number_of_nodes())
    return sub


@dataclass(frozen=True)
class PathStep:
    """One hop of a path: ``source`` -[``relations``]-> ``target`` as the graph states it."""

    source: str
    relations: tuple[str, ...]
    target: str
    sources: tuple[str, ...]


def shortest_path(graph: nx.Graph, start: str, end: str) -> list[str]:
    """The nodes of a shortest path between two entities (names, see find_entity), ignoring direction.

    Raises networkx.NetworkXNoPath when they are not connected.
    """
    a, b = find_entity(graph, start), find_entity(graph, end)
    undirected = graph.to_undirected(as_view=True) if graph.is_directed() else graph
    return nx.shortest_path(undirected, a, b)


def path_steps(graph: nx.MultiDiGraph, path: Sequence[str]) -> list[PathStep]:
    """The facts along `path` (a list of nodes), each hop read in the direction the graph states it."""
    steps = []
    for u, v in zip(path, path[1:]):
        for s, t in ((u, v), (v, u)):
            data = graph.get_edge_data(s, t) or {}
            if data:
                steps.append(PathStep(
                    source=graph.nodes[s]["label"],
                    relations=tuple(sorted(data)),
                    target=graph.nodes[t]["label"],
                    sources=tuple(sorted({n for d in data.values() for n in d.get("sources", [])})),
                ))
    return steps


def _simple(graph: nx.Graph) -> nx.Graph:
    """`graph` as a simple undirected graph (several relations between two nodes are one edge, the
    last one's data kept), its nodes and edges in `graph`'s own order. networkx's undirected view
    of a directed graph iterates a set of neighbours, whose order changes with the process's hash
    seed: drawn from it, the same graph gave different SVG files from run to run."""
    simple = nx.Graph(**graph.graph)
    simple.add_nodes_from(graph.nodes(data=True))
    simple.add_edges_from(graph.edges(data=True))
    return simple


def centrality(graph: nx.Graph, *, kind: str | None = None, top: int | None = None) -> list[dict[str, object]]:
    """Who holds the graph together: degree and betweenness of every node, most central first.

    Computed on the undirected simple graph (several relations between two entities count once).
    Each row: ``entity`` (IRI), ``label``, ``cls``, ``degree`` (number of neighbours),
    ``betweenness`` (normalised: the share of shortest paths through the node) and, for a weighted
    graph such as the cast network, ``strength`` (sum of edge weights). `kind` keeps the rows of
    one kind of entity (e.g. "person"), still measured on the whole graph; `top` the first rows.
    """
    simple = _simple(graph)
    between = nx.betweenness_centrality(simple, normalized=True)
    weighted = any("weight" in d for _, _, d in simple.edges(data=True))
    rows = []
    for node, data in simple.nodes(data=True):
        if kind and data.get("kind") != kind:
            continue
        row: dict[str, object] = {"entity": node, "label": data.get("label", node), "cls": data.get("cls"),
                                  "degree": simple.degree(node), "betweenness": round(between[node], 4)}
        if weighted:
            row["strength"] = simple.degree(node, weight="weight")
        rows.append(row)
    rows.sort(key=lambda r: (-r["betweenness"], -r.get("strength", r["degree"]), -r["degree"], str(r["label"])))
    return rows[:top] if top else rows


def cast_ties(cast: nx.Graph, *, top: int | None = None) -> list[dict[str, object]]:
    """The pairs of a `cast_network`, those who share the most works first, with the works' names."""
    rows = [{"person": cast.nodes[a]["label"], "other": cast.nodes[b]["label"], "shared": d["weight"],
             "works": ", ".join(d["works"])}
            for a, b, d in cast.edges(data=True)]
    for row in rows:
        if row["other"] < row["person"]:
            row["person"], row["other"] = row["other"], row["person"]
    rows.sort(key=lambda r: (-r["shared"], r["person"], r["other"]))
    return rows[:top] if top else rows


# ------------------------------------------------------------------------------------ pictures

#: Colours of the ontology's classes (kin share a hue); any other class takes a spare tab20 colour.
_CLASS_COLOURS = {
    "Person": "#1f4e8c", "Actor": "#5aa9e6",
    "Character": "#d62728",
    "Work": "#0b5d1e", "Film": "#2ca02c", "TVSeries": "#98df8a",
    "Franchise": "#9467bd",
    "Organization": "#ff7f0e", "CriminalOrganization": "#8c564b", "Company": "#ffbb78", "Hotel": "#e377c2",
    "Place": "#17becf",
}


def class_palette(graph: nx.Graph) -> dict[str, str]:
    """A colour (hex) for each class of `graph`'s nodes, stable from picture to picture."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    spare = (to_hex(c) for c in colormaps["tab20"].colors if to_hex(c) not in _CLASS_COLOURS.values())
    palette = {}
    for cls in sorted({d.get("cls", "?") for _, d in graph.nodes(data=True)}):
        palette[cls] = _CLASS_COLOURS.get(cls) or next(spare, "#7f7f7f")
    return palette


def _stress(graph: nx.Graph, seed: int) -> dict[str, np.ndarray]:
    """Stress majorization (SMACOF) of one connected graph: Euclidean distances follow hop counts.

    The layout Graphviz's neato and networkx's kamada_kawai_layout aim at, without SciPy: nodes one
    hop apart end up about one unit apart (more around a hub: sqrt(degree) / 2.5 units), so a hub's
    neighbours ring it with room for their labels instead of piling up.
    """
    nodes = list(graph)
    n = len(nodes)
    index = {v: i for i, v in enumerate(nodes)}
    # An edge at a hub is longer, so that the hub's many neighbours get room around it.
    weighted = nx.Graph()
    weighted.add_nodes_from(nodes)
    for u, v in graph.edges():
        weighted.add_edge(u, v, length=max(1.0, np.sqrt(max(graph.degree(u), graph.degree(v))) / 2.5))
    hops = np.zeros((n, n))
    for source, lengths in nx.all_pairs_dijkstra_path_length(weighted, weight="length"):
        for target, length in lengths.items():
            hops[index[source], index[target]] = length
    weights = np.divide(1.0, hops**2, out=np.zeros_like(hops), where=hops > 0)
    laplacian = -weights
    np.fill_diagonal(laplacian, weights.sum(axis=1))
    pseudo_inverse = np.linalg.pinv(laplacian)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, 2)) * np.sqrt(n)
    for _ in range(400):
        gaps = np.linalg.norm(x[:, None, :] - x[None, :, :], axis=2)
        b = -np.divide(weights * hops, gaps, out=np.zeros_like(gaps), where=gaps > 1e-9)
        np.fill_diagonal(b, -b.sum(axis=1))
        new = pseudo_inverse @ b @ x
        if np.abs(new - x).max() < 1e-4:
            x = new
            break
        x = new
    return {v: x[index[v]] for v in nodes}


def layout(graph: nx.Graph, *, seed: int = SEED) -> dict[str, np.ndarray]:
    """Node positions, in units of about one hop, the same for the same graph (seeded).

    Each connected component is laid out by stress majorization (`_stress`), then components are
    packed in rows, biggest first, so a few isolated entities do not squeeze the rest.
    """
    simple = _simple(graph)
    components = sorted((sorted(c) for c in nx.connected_components(simple)), key=lambda c: (-len(c), c))
    if not components:
        return {}
    laid = [_stress(_induced(simple, c), seed) if len(c) > 1 else {c[0]: np.zeros(2)} for c in components]
    first = np.array(list(laid[0].values()))
    width = max(float(np.ptp(first[:, 0])) + 1.0, np.sqrt(simple.number_of_nodes()) * 1.5)
    placed: dict[str, np.ndarray] = {}
    x = y = row_height = 0.0
    for pos in laid:
        coords = np.array(list(pos.values()))
        low, size = coords.min(axis=0), np.ptp(coords, axis=0) + 1.0
        if x > 0 and x + size[0] > width:
            x, y, row_height = 0.0, y - row_height, 0.0
        for node, p in pos.items():
            placed[node] = p - low + np.array([x, y - size[1] + 1.0])
        x += size[0]
        row_height = max(row_height, size[1])
    return placed


def _display_labels(graph: nx.Graph) -> dict[str, str]:
    """Node labels for pictures: the class is added where several nodes share a label ("John Wick")."""
    counts = Counter(d.get("label", v) for v, d in graph.nodes(data=True))
    return {
        v: f"{d.get('label', v)} ({d.get('cls', '?')})" if counts[d.get("label", v)] > 1 else d.get("label", v)
        for v, d in graph.nodes(data=True)
    }


def _segment_hits_box(p: np.ndarray, q: np.ndarray, box: np.ndarray) -> bool:
    """Whether the segment p-q crosses the box (x0, y0, x1, y1) (Liang-Barsky clipping)."""
    d = q - p
    t0, t1 = 0.0, 1.0
    for edge_p, edge_q in ((-d[0], p[0] - box[0]), (d[0], box[2] - p[0]),
                           (-d[1], p[1] - box[1]), (d[1], box[3] - p[1])):
        if edge_p == 0:
            if edge_q < 0:
                return False
        else:
            t = edge_q / edge_p
            if edge_p < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
            if t0 > t1:
                return False
    return True


def _place_labels(sizes: np.ndarray, anchors: np.ndarray, gaps: np.ndarray, is_edge: np.ndarray,
                  nodes: np.ndarray, radii: np.ndarray, segments: list, own: list[set[int]],
                  frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where to put each label (display pixels), greedily, the most important first.

    Each label tries spots around its anchor (below, above, beside, diagonally, then further out;
    an edge label slides across and along its edge) and takes the one that covers the least of the
    labels already placed, of the nodes and of the edges (but its own: `own[i]` indexes the
    segments a label may cross, a node's edges or the edge itself), and stays inside `frame`
    (x0, y0, x1, y1). Labels come in the order given (nodes by importance, then edges). Returns the centres and, per
    label, whether it had to move away from its anchor (worth a leader line).
    """
    placed: list[np.ndarray] = []
    centres = np.zeros_like(anchors)
    far = np.zeros(len(anchors), dtype=bool)
    node_boxes = np.column_stack([nodes - radii[:, None], nodes + radii[:, None]]) if len(nodes) else np.zeros((0, 4))

    def overlap(box: np.ndarray, others: np.ndarray) -> float:
        if not len(others):
            return 0.0
        w = np.clip(np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0]), 0, None)
        h = np.clip(np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1]), 0, None)
        return float((w * h).sum())

    for i, ((w, h), anchor, gap) in enumerate(zip(sizes, anchors, gaps)):
        candidates: list[tuple[np.ndarray, bool]] = []
        if is_edge[i]:
            for along in (0.0, -0.6, 0.6):
                for across in (0.0, 1.0, -1.0, 2.0, -2.0):
                    candidates.append((anchor + np.array([along * w, across * h]), across != 0 or along != 0))
        else:
            for extra in (0.0, 0.8, 1.8):
                ring = gap + extra * h
                for dx, dy in ((0, -1), (0, 1), (1, 0), (-1, 0), (1, -1), (-1, -1), (1, 1), (-1, 1)):
                    offset = np.array([dx * (w / 2 + ring * (0.75 if dy else 1.0)),
                                       dy * (h / 2 + ring * (0.75 if dx else 1.0))])
                    candidates.append((anchor + offset, extra > 0))
        best, best_cost = None, np.inf
        others = np.array(placed) if placed else np.zeros((0, 4))
        for rank, (c, moved) in enumerate(candidates):
            box = np.array([c[0] - w / 2, c[1] - h / 2, c[0] + w / 2, c[1] + h / 2])
            cost = 3.0 * overlap(box, others) + 2.0 * overlap(box, node_boxes) + 0.8 * rank
            outside = (max(frame[0] - box[0], 0) + max(box[2] - frame[2], 0) + max(frame[1] - box[1], 0)
                       + max(box[3] - frame[3], 0))
            cost += 50.0 * outside * h
            if cost < best_cost:
                cost += 0.15 * w * h * sum(_segment_hits_box(p, q, box)
                                           for k, (p, q) in enumerate(segments) if k not in own[i])
            if cost < best_cost:
                best, best_cost, far[i] = box, cost, moved
        placed.append(best)
        centres[i] = (best[:2] + best[2:]) / 2
    return centres, far


def _title(graph: nx.Graph, what: str) -> str:
    center = graph.graph.get("center")
    around = f" around {graph.nodes[center]['label']}" if center else ""
    of = graph.graph.get("of")
    entities = f"the {graph.number_of_nodes():,} best-connected of {of:,} entities" if of else f"{graph.number_of_nodes()} entities"
    return f"{what}{around}: {entities}, {graph.number_of_edges()} facts"


#: Inches per hop of the layout: enough room for a label between two neighbours.
_INCHES_PER_HOP = 1.5
_MAX_INCHES = 34.0


def draw_static(graph: nx.Graph, stem: Path | str, *, title: str | None = None,
                palette: Mapping[str, str] | None = None, edge_labels: bool | None = None,
                pos: Mapping[str, np.ndarray] | None = None) -> list[Path]:
    """Draw `graph` to ``stem.png`` and ``stem.svg``; return the two paths.

    Nodes are coloured by class (legend beside the picture) and sized by degree; labels are sized
    by degree and moved apart so that none covers another or a node; the figure grows with the
    layout, so labels keep their room as the graph grows. Edge labels (relation names, or shared
    work counts in the cast network) are drawn for graphs of up to 40 edges unless `edge_labels`
    says otherwise. Uses matplotlib's Agg canvas directly: no display needed, and the caller's
    backend (e.g. a notebook's) is left alone. `pos` is `layout(graph)`, if the caller has it.
    """
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    palette = dict(palette or class_palette(graph))
    nodes = list(graph.nodes)
    pos = layout(graph) if pos is None else pos
    simple = _simple(graph)
    degree = dict(simple.degree())
    labels = _display_labels(graph)
    center = graph.graph.get("center")

    xy = np.array([pos[v] for v in nodes]) if nodes else np.zeros((1, 2))
    low, high = xy.min(axis=0) - 0.6, xy.max(axis=0) + 0.6
    extent = high - low
    inches = min(_INCHES_PER_HOP, _MAX_INCHES / max(extent.max(), 1e-9))
    box = np.maximum(extent * inches, (5.0, 4.0))  # the axes, in inches; one hop is `inches` both ways
    fig = Figure(figsize=(box[0] + 2.8, box[1] + 0.7), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.1 / fig.get_figwidth(), 0.1 / fig.get_figheight(),
                       box[0] / fig.get_figwidth(), box[1] / fig.get_figheight()))
    ax.set_axis_off()
    middle, half = (low + high) / 2, box / inches / 2
    ax.set_xlim(middle[0] - half[0], middle[0] + half[0])
    ax.set_ylim(middle[1] - half[1], middle[1] + half[1])
    fig.suptitle(title or _title(graph, "Entity graph"), x=0.01, ha="left", fontsize=14)
    if not nodes:
        ax.text(0.5, 0.5, "(no entities)", ha="center", va="center", transform=ax.transAxes)

    max_weight = max((d.get("weight", 1) for _, _, d in simple.edges(data=True)), default=1)
    for u, v, d in simple.edges(data=True):
        width = 0.7 + 2.8 * (d.get("weight", 1) - 1) / max(max_weight - 1, 1)
        ax.plot([pos[u][0], pos[v][0]], [pos[u][1], pos[v][1]], color="#c4c4c4", lw=width, zorder=1)

    sizes = np.array([70 + 45 * min(degree.get(v, 0), 20) for v in nodes])
    colours = [palette.get(graph.nodes[v].get("cls", "?"), "#7f7f7f") for v in nodes]
    if nodes:
        ax.scatter(xy[:, 0], xy[:, 1], s=sizes, c=colours, zorder=3, linewidths=[2.5 if v == center else 0.8
                   for v in nodes], edgecolors=["black" if v == center else "white" for v in nodes])

    to_px = ax.transData.transform
    from_px = ax.transData.inverted().transform
    radii = np.sqrt(sizes) / 2 * fig.dpi / 72 if nodes else np.zeros(0)  # marker size is in points²
    # Labels: nodes by degree (the hubs' labels get the best spots), then edges.
    texts, anchors, gaps, is_edge = [], [], [], []
    label_nodes = [nodes[i] for i in sorted(range(len(nodes)), key=lambda i: (-degree.get(nodes[i], 0), i))]
    for v in label_nodes:
        i = nodes.index(v)
        fontsize = 8 + 0.55 * min(degree.get(v, 0), 10)
        texts.append(ax.text(0, 0, _wrap(labels[v]), fontsize=fontsize, ha="center", va="center", zorder=4,
                             fontweight="bold" if v == center or degree.get(v, 0) >= 6 else "normal",
                             bbox=dict(boxstyle="square,pad=0.05", fc="white", ec="none", alpha=0.65)))
        anchors.append(pos[v])
        gaps.append(radii[i] + 2)
        is_edge.append(False)
    edge_list = list(simple.edges())
    if edge_labels is None:
        edge_labels = 0 < simple.number_of_edges() <= 40
    if edge_labels:
        for u, v in edge_list:
            if graph.is_multigraph():
                names = sorted({k for a, b in ((u, v), (v, u)) for k in (graph.get_edge_data(a, b) or {})})
            else:
                names = [str(graph.get_edge_data(u, v).get("weight", ""))]
            texts.append(ax.text(0, 0, "\n".join(names), fontsize=6.5, color="#555555", ha="center",
                                 va="center", zorder=2, style="italic"))
            anchors.append((pos[u] + pos[v]) / 2)
            gaps.append(0.0)
            is_edge.append(True)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    sizes_px = np.array([[t.get_window_extent(renderer).width + 4, t.get_window_extent(renderer).height + 2]
                         for t in texts]).reshape(-1, 2)
    segments = [(to_px(pos[u]), to_px(pos[v])) for u, v in edge_list]
    own = [{k for k, (u, v) in enumerate(edge_list) if node in (u, v)} for node in label_nodes]
    own += [{k} for k in range(len(texts) - len(label_nodes))]
    frame = np.array(ax.get_window_extent(renderer).extents)
    anchors_px = to_px(np.array(anchors).reshape(-1, 2)) if anchors else np.zeros((0, 2))
    centres, far = _place_labels(sizes_px, anchors_px, np.array(gaps), np.array(is_edge, dtype=bool),
                                 to_px(xy) if nodes else np.zeros((0, 2)), radii, segments, own, frame)
    for text, c, size, anchor, gap, moved, edge in zip(texts, centres, sizes_px, anchors_px, gaps, far, is_edge):
        text.set_position(from_px(c))
        if moved and not edge:  # a leader from the node's rim to the nearest point of its label
            end = np.clip(anchor, c - size / 2, c + size / 2)
            reach = np.linalg.norm(end - anchor)
            if reach > gap + 4:
                start = anchor + (end - anchor) * (gap - 2) / reach
                (x0, y0), (x1, y1) = from_px(start), from_px(end)
                ax.plot([x0, x1], [y0, y1], color="#8a8a8a", lw=0.7, ls=":", zorder=1.5)

    counts = Counter(graph.nodes[v].get("cls", "?") for v in nodes)
    handles = [Line2D([], [], marker="o", ls="", markersize=10, markerfacecolor=palette[c], markeredgecolor="white",
                      label=f"{c} ({counts[c]})") for c in sorted(counts)]
    if handles:
        fig.legend(handles=handles, loc="upper right", frameon=False, fontsize=10, title="class",
                   title_fontsize=11, bbox_to_anchor=(0.995, 0.95))
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]

    def save(path: Path) -> Callable[[IO[bytes]], None]:
        return lambda out: fig.savefig(out, format=path.suffix[1:], facecolor="white",
                                       metadata={"Date": None} if path.suffix == ".svg" else None)

    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "kg"}):  # SVG text stays text; stable ids
        write_atomically({path: save(path) for path in paths})   # both replaced, or neither
    return paths


def _wrap(label: str, width: int = 18) -> str:
    """A long label on two lines, split at the space nearest its middle."""
    if len(label) <= width or " " not in label:
        return label
    middle = len(label) / 2
    cut = min((i for i, ch in enumerate(label) if ch == " "), key=lambda i: abs(i - middle))
    return label[:cut] + "\n" + label[cut + 1:]


_REMOTE = re.compile(
    r"""<link\b[^>]*\bhref\s*=\s*["']https?://[^>]*>|<script\b[^>]*\bsrc\s*=\s*["']https?://[^>]*>\s*</script>""",
    re.IGNORECASE | re.DOTALL,
)


def write_html(graph: nx.Graph, path: Path | str, *, title: str | None = None,
               palette: Mapping[str, str] | None = None, pos: Mapping[str, np.ndarray] | None = None) -> Path:
    """An interactive page of `graph` (pyvis / vis-network) that works offline.

    The vis-network script and stylesheet are inlined (``cdn_resources="in_line"``) and the
    stylesheet and script pyvis always links from a CDN (Bootstrap, unused here) are removed, so the
    page loads nothing from the network. Hovering a node shows its class, IRI and literal facts;
    hovering an edge shows the relations and the articles that state them. Nodes stand where
    `layout` puts them (`pos`, if the caller has it), so the page and the PNG look alike.
    """
    from pyvis.network import Network

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    palette = dict(palette or class_palette(graph))
    title = title or _title(graph, "Entity graph")
    directed = graph.is_directed()
    net = Network(height="880px", width="100%", directed=directed, cdn_resources="in_line",
                  bgcolor="#ffffff", font_color="#222222")
    pos = layout(graph) if pos is None else pos
    simple = _simple(graph)
    # vis-network units per unit of `layout` (about one hop); more for a small graph, which the
    # page would otherwise show small (vis does not zoom in past 1:1 to fit).
    spread = 150.0 * max(1.0, 5.0 / np.sqrt(max(graph.number_of_nodes(), 1)))
    center = graph.graph.get("center")
    labels = _display_labels(graph)
    for v, data in graph.nodes(data=True):
        degree = simple.degree(v)
        lines = [data.get("label", v), f"class: {data.get('cls')}", str(v)]
        if data.get("alt_labels"):
            lines.append("also: " + ", ".join(data["alt_labels"]))
        for key, value in data.items():
            if key not in {"label", "cls", "kind", "alt_labels", "works"} and isinstance(value, list):
                lines.append(f"{key}: {', '.join(map(str, value))}")
        if data.get("works"):
            lines.append("works: " + ", ".join(data["works"]))
        x, y = pos[v] * spread
        net.add_node(v, label=_wrap(labels[v], width=22), title="\n".join(lines),
                     color={"background": palette.get(data.get("cls"), "#7f7f7f"),
                            "border": "#000000" if v == center else "#ffffff"},
                     borderWidth=3 if v == center else 1,
                     size=10 + 1.5 * min(degree, 20), x=float(x), y=float(-y),
                     font={"size": 18 + min(degree, 10), "strokeWidth": 4, "strokeColor": "#ffffff"})
    if graph.is_multigraph():
        merged: dict[tuple[str, str], list[tuple[str, list[str]]]] = defaultdict(list)
        for u, v, key, data in graph.edges(keys=True, data=True):
            merged[(u, v)].append((key, data.get("sources", [])))
        for (u, v), facts in merged.items():
            text = "\n".join(f"{graph.nodes[u]['label']} {k} {graph.nodes[v]['label']}\n  stated by: "
                             f"{', '.join(s) or '?'}" for k, s in facts)
            net.add_edge(u, v, title=text, color="#aaaaaa", width=1 + 0.5 * (len(facts) - 1))
    else:
        for u, v, data in graph.edges(data=True):
            weight = data.get("weight", 1)
            text = f"{graph.nodes[u]['label']} and {graph.nodes[v]['label']}: {weight} shared"
            if data.get("works"):
                text += "\n" + "\n".join(data["works"])
            net.add_edge(u, v, title=text, value=weight, color="#aaaaaa")
    # Physics off: the page shows `layout`'s positions at once (no wait for a simulation, which
    # also flings isolated entities far away) and looks like the PNG; nodes can still be dragged.
    net.set_options(json.dumps({
        "physics": {"enabled": False},
        "edges": {"smooth": False, "arrows": {"to": {"enabled": directed, "scaleFactor": 0.5}}},
        "interaction": {"hover": True, "tooltipDelay": 120, "dragNodes": True},
    }))
    page = net.generate_html(notebook=False)
    page = _REMOTE.sub("", page)
    page = re.sub(r"<!--.*?-->", "", page, flags=re.DOTALL)  # pyvis leaves commented-out script tags
    page = re.sub(r"<center>\s*<h1>\s*</h1>\s*</center>", "", page)
    page = page.replace("<body>", "<body>\n" + _legend_html(graph, palette, title), 1)
    page = page.replace('<div class="card" style="width: 100%">', '<div class="card" style="width: 100%; border: 0">', 1)
    write_atomically({path: page.encode("utf-8")})
    return path


def _legend_html(graph: nx.Graph, palette: Mapping[str, str], title: str) -> str:
    counts = Counter(d.get("cls", "?") for _, d in graph.nodes(data=True))
    items = "".join(
        f'<span style="margin-right:14px;white-space:nowrap"><span style="display:inline-block;width:12px;'
        f'height:12px;border-radius:6px;background:{palette.get(c, "#7f7f7f")};margin-right:4px;'
        f'vertical-align:middle"></span>{html.escape(c)} ({counts[c]})</span>'
        for c in sorted(counts)
    )
    return (f'<div style="font-family:sans-serif;font-size:14px;padding:6px 10px">'
            f'<div style="font-size:17px;font-weight:bold;margin-bottom:4px">{html.escape(title)}</div>'
            f'{items}<div style="color:#666;font-size:12px;margin-top:3px">Hover a node or an edge for '
            f'details and sources; drag to move, scroll to zoom.</div></div>')


def render(graph: nx.MultiDiGraph, out: Path | str, *, focus: str | None = None,
           radius: int = 2, limit: int = MAX_DRAWN) -> list[Path]:
    """Write ``graph.png``, ``graph.svg`` and ``graph.html`` of an `entity_graph` into folder `out`.

    With `focus` (an entity name, see find_entity), only its neighbourhood within `radius` hops,
    into ``graph-<slug>.*`` (e.g. graph-ruska-roma.png). Past `limit` entities, only the
    best-connected `limit` of them are drawn (`core`; the title says so). Colours come from the
    whole graph, so a class has the same colour in every picture. Returns the paths written.
    """
    return _write_pictures(graph, _drawn(graph, focus=focus, radius=radius, limit=limit), Path(out))


def _drawn(graph: nx.MultiDiGraph, *, focus: str | None, radius: int = 2, limit: int = MAX_DRAWN) -> nx.MultiDiGraph:
    """What `render` draws of `graph`: the focus's neighbourhood, if any, cut down by `core`
    (whose ``graph["of"]`` says from how many entities, and ``graph["center"]`` around which)."""
    return core(neighbourhood(graph, focus, radius=radius) if focus else graph, limit)


def _write_pictures(graph: nx.MultiDiGraph, view: nx.MultiDiGraph, out: Path) -> list[Path]:
    """`view`'s PNG, SVG and HTML in `out`, coloured by `graph`'s classes and named after the
    entity the view is centred on, if any."""
    palette = class_palette(graph)
    center = view.graph.get("center")
    stem = f"graph-{_focus_slug(graph, center)}" if center else "graph"
    pos = layout(view)  # the pictures' one costly step (2.3 s for 300 entities), made once for both
    paths = draw_static(view, out / stem, palette=palette, pos=pos)
    paths.append(write_html(view, out / f"{stem}.html", palette=palette, pos=pos))
    return paths


def _focus_slug(graph: nx.Graph, node: str) -> str:
    """The file-name slug of an entity: its IRI's last segment, with the kind if another entity shares it."""
    last = _kind_slug(node).split("/", 1)[-1]
    if sum(1 for n in graph if _kind_slug(n).split("/", 1)[-1] == last) > 1:
        return slug(f"{_kind(node)}-{last}")
    return slug(last)


def cli_viz(args: argparse.Namespace) -> int:
    """``kg viz [--graph PATH] [--focus ENTITY] [--out DIR] [--max-entities N]``: write the
    pictures, print their paths; say on stderr when only the best-connected entities are drawn."""
    from kg.store import GraphLoadError

    try:
        dataset = load_dataset(args.graph)
    except (FileNotFoundError, GraphLoadError) as error:
        print(f"kg viz: {error}", file=sys.stderr)
        return 2
    graph = entity_graph(dataset)
    if graph.number_of_nodes() == 0:
        print(f"kg viz: {args.graph} holds no entities (nothing typed in fkr:graph/entities)", file=sys.stderr)
        return 2
    focus, limit = getattr(args, "focus", None), getattr(args, "max_entities", MAX_DRAWN)
    try:
        view = _drawn(graph, focus=focus, limit=limit)
    except EntityNotFound as error:
        print(f"kg viz: {error.args[0]}", file=sys.stderr)
        return 2
    paths = _write_pictures(graph, view, Path(args.out))
    if "of" in view.graph:  # cut down by core
        around = " around the focus" if focus else ""
        print(f"kg viz: drew the {limit:,} best-connected of {view.graph['of']:,} entities{around} "
              f"(--max-entities N for more, --focus ENTITY for one entity's neighbourhood)", file=sys.stderr)
    for path in paths:
        print(path)
    return 0
