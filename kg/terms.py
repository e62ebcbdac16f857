"""RDF terms between rdflib and Oxigraph: the package programs against rdflib, Oxigraph holds
the data and answers the queries (kg.store, kg.query), and these convert one's terms into the
other's.

>>> from_ox(to_ox(Literal("Ballerina")))
rdflib.term.Literal('Ballerina')
>>> to_ox(URIRef("https://w3id.org/franchise-kg/id/work/ballerina"))
<NamedNode value=https://w3id.org/franchise-kg/id/work/ballerina>
"""

from __future__ import annotations

import sys
from typing import Any, Iterator

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.term import Identifier

from kg.namespaces import XSD

__all__ = ["to_ox", "from_ox", "TermConverter", "oxigraph_of", "ox_quads"]

_XSD_STRING = str(XSD.string)


def to_ox(term: Identifier) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """The Oxigraph term for an rdflib IRI, blank node or literal."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


def from_ox(term: Any) -> Identifier | None:
    """An rdflib term; xsd:string literals become plain literals, as rdflib's engine returns them."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        return Literal(term.value) if datatype == _XSD_STRING else Literal(term.value, datatype=URIRef(datatype))
    raise TypeError(f"unexpected Oxigraph term {term!r} (RDF-star triples are not supported)")


def oxigraph_of(dataset: Graph) -> ox.Store | None:
    """The pyoxigraph store under an oxrdflib-backed graph, or None for any other store."""
    # oxrdflib is imported only where a graph is loaded (it brings rdflib's SPARQL parser: 0.1 s
    # of the 1 s `kg build` takes to start); until then, no graph can be held by it.
    oxrdflib = sys.modules.get("oxrdflib")
    store = dataset.store
    # oxrdflib exposes the pyoxigraph store only as a private property; pinned to oxrdflib 0.5.
    return store._inner if oxrdflib is not None and isinstance(store, oxrdflib.OxigraphStore) else None


class TermConverter:
    """from_ox with a memo, for the terms of one stream: an answer's rows, a graph's triples.

    A term repeated down a column (a name, a date, a file name) becomes an rdflib term once:
    building an rdflib Literal parses its value and costs as much as the rest of a row, and
    answers of tens of thousands of rows repeat their terms a lot. The memo starts afresh when
    it holds LIMIT terms, so that a long stream keeps a bounded memory.
    """

    LIMIT = 1 << 16
    __slots__ = ("_memo",)

    def __init__(self) -> None:
        self._memo: dict[Any, Identifier | None] = {}

    def __call__(self, term: Any) -> Identifier | None:
        if term is None:
            return None
        converted = self._memo.get(term)
        if converted is None:
            if len(self._memo) >= self.LIMIT:
                self._memo.clear()
            converted = self._memo[term] = from_ox(term)
        return converted


def ox_quads(dataset: Graph) -> Iterator[ox.Quad]:
    """Every quad of `dataset` as an Oxigraph quad, whichever store holds it."""
    store = oxigraph_of(dataset)
    if store is not None:
        yield from store.quads_for_pattern(None, None, None, None)
        return
    for s, p, o, g in dataset.quads((None, None, None, None)):
        graph_id = getattr(g, "identifier", g)
        graph = ox.DefaultGraph() if graph_id in (None, DATASET_DEFAULT_GRAPH_ID) else to_ox(graph_id)
        yield ox.Quad(to_ox(s), to_ox(p), to_ox(o), graph)

