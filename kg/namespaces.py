"""The namespaces of the graph, and the one place where IRIs are minted.

`FKG` (the ontology's terms) is generated from ontology/franchise.ttl into kg/_fkg.py as an
rdflib `DefinedNamespace`, so a misspelt term fails loudly; `FKR` holds everything the builder
mints. Nothing else in the package builds an IRI by hand.

>>> str(mint("person", "Lina de Vries"))
'https://w3id.org/franchise-kg/id/person/lina-de-vries'
"""

from __future__ import annotations

import re
import unicodedata

from rdflib import Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

from kg._fkg import FKG

__all__ = ["FKG", "FKR", "PROV", "DCTERMS", "SKOS", "RDF", "RDFS", "OWL", "XSD", "KINDS", "ENTITY_KINDS", "KIND_PREFIXES", "PREFIXES", "GRAPH_ENTITIES", "GRAPH_SOURCES", "GRAPH_CONFLICTS", "GRAPH_INFERRED", "slug", "mint", "bind_prefixes"]

FKR = Namespace("https://w3id.org/franchise-kg/id/")

#: The kinds of entity the graph holds: each is a coarse class of the ontology, lower-cased.
ENTITY_KINDS = frozenset({"person", "character", "work", "franchise", "organization", "place"})

#: The kinds of thing the builder mints IRIs for; the kind is the first path segment.
KINDS = ENTITY_KINDS | {"performance", "article", "graph", "claim", "conflict", "activity"}


#: A prefix per kind (work: for fkr:work/ ...), so Turtle and TriG write work:ballerina
#: rather than fkr:work\/ballerina.
KIND_PREFIXES = {kind: str(FKR) + f"{kind}/" for kind in sorted(KINDS)}


def slug(text: str) -> str:
    """A lower-case slug: accents dropped, letters of other scripts kept (an IRI may hold them),
    runs of anything else turned into one hyphen.

    >>> slug("John Wick: Chapter 3 – Parabellum"), slug("Zoë Bellweather"), slug("Иван Петров")
    ('john-wick-chapter-3-parabellum', 'zoe-bellweather', 'иван-петров')
    """
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"[\W_]+", "-", bare.lower()).strip("-") or "x"


def mint(kind: str, key: str) -> URIRef:
    """The IRI of a thing of `kind` (see KINDS) named by `key`, which is slugged unless it already is one."""
    if kind not in KINDS:
        raise ValueError(f"unknown IRI kind {kind!r}; expected one of {sorted(KINDS)}")
    already = key == key.lower() and "_" not in key and re.fullmatch(r"[\w-]+", key)
    return FKR[f"{kind}/{key if already else slug(key)}"]


#: The prefixes a reader expects: bound on every graph kg makes, written in Turtle and TriG, shown
#: by `kg query`'s table and read back from its bindings.
PREFIXES = {"fkg": FKG, "fkr": FKR, "prov": PROV, "dcterms": DCTERMS, "skos": SKOS,
            "owl": OWL, "xsd": XSD, "rdfs": RDFS, "rdf": RDF}


def bind_prefixes(graph) -> None:
    """Bind PREFIXES on `graph` (an rdflib Graph or Dataset)."""
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns, override=True)


#: The named graphs that are not an article's (docs/model.md).
GRAPH_ENTITIES = mint("graph", "entities")
GRAPH_SOURCES = mint("graph", "sources")
GRAPH_CONFLICTS = mint("graph", "conflicts")
GRAPH_INFERRED = mint("graph", "inferred")
