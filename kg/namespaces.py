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
from pathlib import Path

from rdflib import Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

from kg._fkg import FKG

__all__ = ["FKG", "FKR", "ONTOLOGY", "PROV", "DCTERMS", "SKOS", "RDF", "RDFS", "OWL", "XSD", "KINDS", "slug", "mint", "bind_prefixes"]

FKR = Namespace("https://w3id.org/franchise-kg/id/")

#: The folder of the ontology, its JSON-LD context and its SHACL shapes.
ONTOLOGY = Path(__file__).resolve().parent.parent / "ontology"

#: The kinds of thing the builder mints IRIs for; the kind is the first path segment.
KINDS = frozenset(
    {"person", "character", "work", "franchise", "organization", "place", "performance",
     "article", "graph", "claim", "conflict", "activity"}
)


def slug(text: str) -> str:
    """A lower-case ASCII slug: accents dropped, runs of other characters turned into one hyphen.

    >>> slug("John Wick: Chapter 3 – Parabellum")
    'john-wick-chapter-3-parabellum'
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "x"


def mint(kind: str, key: str) -> URIRef:
    """The IRI of a thing of `kind` (see KINDS) named by `key`, which is slugged unless it already is one."""
    if kind not in KINDS:
        raise ValueError(f"unknown IRI kind {kind!r}; expected one of {sorted(KINDS)}")
    return FKR[f"{kind}/{slug(key) if not re.fullmatch(r'[a-z0-9-]+', key) else key}"]


def bind_prefixes(graph) -> None:
    """Bind the prefixes a reader expects on `graph` (an rdflib Graph or Dataset)."""
    for prefix, ns in (("fkg", FKG), ("fkr", FKR), ("prov", PROV), ("dcterms", DCTERMS),
                       ("skos", SKOS), ("owl", OWL), ("xsd", XSD), ("rdfs", RDFS), ("rdf", RDF)):
        graph.bind(prefix, ns, override=True)
