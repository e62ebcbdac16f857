"""The ontology as data the code reads: where its files are, and what it says about classes.

Everything the package needs to know about the class hierarchy or the single-valued properties
is derived here from ontology/franchise.ttl, once, instead of being restated in each module.

>>> coarse_class("Hotel"), coarse_class("Actor"), coarse_class("Film")
('Organization', 'Person', 'Work')
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import RDFS

__all__ = [
    "ONTOLOGY_DIR", "ONTOLOGY_FILE", "CONTEXT_FILE", "SHAPES_FILE", "ONTOLOGY_IRI",
    "load", "superclasses", "coarse_class", "entity_classes", "single_valued_properties",
]

ONTOLOGY_DIR = Path(__file__).resolve().parent.parent / "ontology"
ONTOLOGY_FILE = ONTOLOGY_DIR / "franchise.ttl"
CONTEXT_FILE = ONTOLOGY_DIR / "context.jsonld"
SHAPES_FILE = ONTOLOGY_DIR / "shapes.ttl"
ONTOLOGY_IRI = URIRef("https://w3id.org/franchise-kg/ontology")
# kg.namespaces is imported inside the functions below: kg.codegen reads the paths above to
# generate kg/_fkg.py, which kg.namespaces needs, so this module must import without it.


@lru_cache(maxsize=1)
def load() -> Graph:
    """ontology/franchise.ttl, parsed once."""
    return Graph().parse(ONTOLOGY_FILE, format="turtle")


def _local(term: URIRef) -> str:
    from kg.namespaces import FKG

    return str(term)[len(str(FKG)):]


@lru_cache(maxsize=1)
def superclasses() -> dict[URIRef, frozenset[URIRef]]:
    """Every fkg class's strict fkg superclasses (the transitive closure of rdfs:subClassOf)."""
    from kg.namespaces import FKG

    ontology = load()
    parents: dict[URIRef, set[URIRef]] = {}
    for sub, sup in ontology.subject_objects(RDFS.subClassOf):
        if str(sub).startswith(str(FKG)) and isinstance(sup, URIRef) and str(sup).startswith(str(FKG)):
            parents.setdefault(sub, set()).add(sup)
    closure: dict[URIRef, frozenset[URIRef]] = {}
    for cls in parents:
        seen: set[URIRef] = set()
        todo = list(parents[cls])
        while todo:
            sup = todo.pop()
            if sup not in seen:
                seen.add(sup)
                todo.extend(parents.get(sup, ()))
        closure[cls] = frozenset(seen)
    return closure


@lru_cache(maxsize=1)
def _coarse() -> dict[str, str]:
    from kg.namespaces import ENTITY_KINDS

    # The coarse classes are those the builder mints entity IRIs for (kg.namespaces.ENTITY_KINDS).
    tops = {name for name in (_local(c) for c in set(load().subjects()) if isinstance(c, URIRef))
            if name.lower() in ENTITY_KINDS and name[:1].isupper()}
    coarse = {top: top for top in tops}
    for cls, supers in superclasses().items():
        above = [_local(s) for s in supers if _local(s) in tops]
        if len(above) == 1:
            coarse[_local(cls)] = above[0]
    return coarse


def coarse_class(name: str) -> str | None:
    """The coarse class (Work, Person, Character, Organization, Place, Franchise) of an fkg class's local name."""
    return _coarse().get(name)


def entity_classes() -> frozenset[str]:
    """The local names of every class an entity of the graph can have."""
    return frozenset(_coarse())


@lru_cache(maxsize=1)
def single_valued_properties() -> frozenset[URIRef]:
    """Properties marked fkg:singleValued: several values for one subject are a conflict."""
    from kg.namespaces import FKG

    return frozenset(s for s, o in load().subject_objects(FKG.singleValued) if o.toPython() is True)
