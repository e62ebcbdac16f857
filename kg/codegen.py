"""Generate code and context from ontology/franchise.ttl, so they cannot drift from it.

- kg/_fkg.py: the ontology's terms as an rdflib `DefinedNamespace`, so a misspelt term fails
  loudly (`FKG.directedby` raises AttributeError) instead of minting a new IRI;
- ontology/context.jsonld: the JSON-LD 1.1 context the graph's JSON-LD export is compacted with.

tests/test_ontology.py checks that both are current::

    python -m kg.codegen            # rewrite both
    python -m kg.codegen --check    # exit 1 if either is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

from kg.ontology import CONTEXT_FILE, ONTOLOGY_FILE, ONTOLOGY_IRI

__all__ = ["ONTOLOGY", "ONTOLOGY_IRI", "NAMESPACE", "TARGET", "CONTEXT", "generate", "generate_context", "main"]

ONTOLOGY = ONTOLOGY_FILE
TARGET = Path(__file__).resolve().parent / "_fkg.py"
CONTEXT = CONTEXT_FILE
NAMESPACE = "https://w3id.org/franchise-kg/ontology#"

# The order the terms are listed in, grouped by what they are.
_KINDS = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def generate(ontology: Path | str = ONTOLOGY) -> str:
    """The source of kg/_fkg.py for the ontology in `ontology` (a Turtle file).

    Deterministic (no date in it), so the test can compare it byte for byte with the file.
    """
    graph = Graph().parse(str(ontology), format="turtle")
    title = _one_line(graph.value(ONTOLOGY_IRI, RDFS.label) or "")
    about = _one_line(graph.value(ONTOLOGY_IRI, RDFS.comment) or "")
    version = _one_line(graph.value(ONTOLOGY_IRI, OWL.versionInfo) or "")
    lines = [
        '"""The terms of the franchise-kg ontology, as an rdflib DefinedNamespace.',
        "",
        "Generated from ontology/franchise.ttl by `python -m kg.codegen`; do not edit by hand.",
        '"""',
        "",
        "from rdflib.namespace import DefinedNamespace, Namespace",
        "from rdflib.term import URIRef",
        "",
        "",
        "class FKG(DefinedNamespace):",
        '    """',
        f"    {title}",
        "",
        f"    {about}",
        "",
        "    Generated from: ontology/franchise.ttl",
        f"    Version: {version}",
        '    """',
        "",
        "    _fail = True",
    ]
    seen: set[str] = set()
    for kind in _KINDS:
        terms = sorted(
            str(term)[len(NAMESPACE):]
            for term in graph.subjects(RDF.type, kind)
            if isinstance(term, URIRef) and str(term).startswith(NAMESPACE)
        )
        terms = [name for name in terms if name not in seen]
        if not terms:
            continue
        lines += ["", f"    # {kind}"]
        for name in terms:
            if not name.isidentifier():
                raise ValueError(f"{ontology}: term {name!r} is not a Python identifier")
            seen.add(name)
            comment = _one_line(graph.value(URIRef(NAMESPACE + name), RDFS.comment) or "")
            lines.append(f"    {name}: URIRef  # {comment}".rstrip())
    lines += ["", f'    _NS = Namespace("{NAMESPACE}")', ""]
    return "\n".join(lines)


#: Terms from other vocabularies that the graph uses (docs/model.md), with their JSON-LD definitions.
_EXTERNAL_TERMS = {
    "label": {"@id": "rdfs:label"},
    "comment": {"@id": "rdfs:comment"},
    "prefLabel": {"@id": "skos:prefLabel"},
    "altLabel": {"@id": "skos:altLabel"},
    "title": {"@id": "dcterms:title"},
    "issued": {"@id": "dcterms:issued", "@type": "xsd:date"},
    "Entity": {"@id": "prov:Entity"},
    "Activity": {"@id": "prov:Activity"},
    "wasDerivedFrom": {"@id": "prov:wasDerivedFrom", "@type": "@id"},
    "wasGeneratedBy": {"@id": "prov:wasGeneratedBy", "@type": "@id"},
    "Statement": {"@id": "rdf:Statement"},
    "subject": {"@id": "rdf:subject", "@type": "@id"},
    "predicate": {"@id": "rdf:predicate", "@type": "@id"},
    "object": {"@id": "rdf:object"},
}

_PREFIXES = {
    "fkg": NAMESPACE,
    "fkr": "https://w3id.org/franchise-kg/id/",
    "prov": str(PROV),
    "dcterms": str(DCTERMS),
    "skos": str(SKOS),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
}


def _term_definition(graph: Graph, term: URIRef, kind: URIRef) -> dict[str, str] | str:
    curie = "fkg:" + str(term)[len(NAMESPACE):]
    if kind == OWL.ObjectProperty:
        return {"@id": curie, "@type": "@id"}
    if kind == OWL.DatatypeProperty:
        datatype = graph.value(term, RDFS.range)
        # A union of datatypes (releaseDate) cannot be one term's @type: its values keep their own.
        if isinstance(datatype, URIRef) and datatype != XSD.string:
            return {"@id": curie, "@type": "xsd:" + str(datatype)[len(str(XSD)):]}
        return {"@id": curie}
    return curie


def generate_context(ontology: Path | str = ONTOLOGY) -> str:
    """The text of ontology/context.jsonld: prefixes, one term per class and property of the ontology.

    Object properties get `"@type": "@id"`; datatype properties the datatype of their range, so
    offsets, confidences and flags compact to bare strings.
    """
    graph = Graph().parse(str(ontology), format="turtle")
    context: dict[str, object] = {"@version": 1.1, **_PREFIXES}
    terms: dict[str, object] = {}
    for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty):
        for term in graph.subjects(RDF.type, kind):
            if isinstance(term, URIRef) and str(term).startswith(NAMESPACE):
                terms[str(term)[len(NAMESPACE):]] = _term_definition(graph, term, kind)
    clash = sorted(set(terms) & set(_EXTERNAL_TERMS))
    if clash:
        raise ValueError(f"{ontology}: terms {clash} clash with terms of other vocabularies in the context")
    context.update(sorted(terms.items()))
    context.update(sorted(_EXTERNAL_TERMS.items()))
    return json.dumps({"@context": context}, indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Write kg/_fkg.py and ontology/context.jsonld, or with --check tell whether they are current."""
    parser = argparse.ArgumentParser(prog="python -m kg.codegen", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file is not current")
    args = parser.parse_args(argv)
    stale = 0
    for target, text in ((TARGET, generate()), (CONTEXT, generate_context())):
        current = target.exists() and target.read_text(encoding="utf-8") == text
        if args.check:
            print(f"{target}: {'current' if current else 'stale; run python -m kg.codegen'}", file=sys.stderr)
            stale += not current
        elif not current:
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target}", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
