"""Loading the graph: rdflib as the interface, Oxigraph underneath.

`load_graph` returns an rdflib `Dataset` backed by an in-memory Oxigraph store (through
oxrdflib), so the rest of the package programs against rdflib while queries run on Oxigraph's
engine (kg.query). `load_graph(path, engine="rdflib")` gives the same data in rdflib's memory
store, queried by rdflib's engine; the tests run every query on both.

Named graphs: every query sees the union of all named graphs as its default graph, on both
engines (rdflib: ``Dataset(default_union=True)``; Oxigraph: ``use_default_graph_as_union``).
``GRAPH ?g { ... }`` still reaches the named graphs one by one.

Reading files is safe with untrusted input: every format is parsed by Oxigraph's parsers, which
never fetch a remote JSON-LD ``@context`` (the document is refused) and refuse RDF/XML external
entities; RDF/XML entities that refer to other entities (the "billion laughs") are refused here.
A JSON-LD ``@context`` naming this project's own context by its IRI (CONTEXT_IRI) is replaced by
the local copy in ontology/context.jsonld before parsing.

>>> dataset = load_graph(REPO_ROOT / "tests" / "data" / "store" / "fixture.trig")
>>> type(dataset.store).__name__
'OxigraphStore'
>>> from kg.namespaces import FKR, SKOS
>>> str(dataset.value(FKR["work/ballerina"], SKOS.prefLabel))
'Ballerina'
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Dataset

import kg
from kg import ontology
from kg.namespaces import bind_prefixes
from kg.terms import from_ox

__all__ = ["REPO_ROOT", "CONTEXT_FILE", "CONTEXT_IRI", "GraphLoadError", "load_graph"]

#: The repository root: queries/ and ontology/ are found next to the installed package.
REPO_ROOT = Path(kg.__file__).resolve().parent.parent
CONTEXT_FILE = ontology.CONTEXT_FILE
#: The IRI a JSON-LD document may use to name our context; it is read from CONTEXT_FILE, never fetched.
CONTEXT_IRI = "https://w3id.org/franchise-kg/context.jsonld"

#: Graph file formats, chosen by the file's extension.
_FORMAT_BY_SUFFIX = {
    ".trig": ox.RdfFormat.TRIG,
    ".nq": ox.RdfFormat.N_QUADS,
    ".nquads": ox.RdfFormat.N_QUADS,
    ".ttl": ox.RdfFormat.TURTLE,
    ".turtle": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".ntriples": ox.RdfFormat.N_TRIPLES,
    ".n3": ox.RdfFormat.N3,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".json": ox.RdfFormat.JSON_LD,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
    ".xml": ox.RdfFormat.RDF_XML,
}


class GraphLoadError(Exception):
    """A graph file that cannot be read: missing, of an unknown format, malformed or unsafe."""


def _rdf_format(path: Path) -> ox.RdfFormat:
    try:
        return _FORMAT_BY_SUFFIX[path.suffix.lower()]
    except KeyError:
        known = ", ".join(sorted(_FORMAT_BY_SUFFIX))
        raise GraphLoadError(f"{path}: unknown graph format {path.suffix!r}; expected one of {known}") from None


def _local_contexts(node: Any, where: str) -> Any:
    """`node` with every @context that names CONTEXT_IRI replaced by the local file's content.

    Any other context given by reference (a string, or an @import) is refused here with a clear
    message; Oxigraph's parser would refuse it too, as it has no way to fetch documents.
    """
    if isinstance(node, list):
        return [_local_contexts(item, where) for item in node]
    if not isinstance(node, dict):
        return node
    result = {}
    for key, value in node.items():
        if key == "@context":
            result[key] = _resolve_context(value, where)
        else:
            result[key] = _local_contexts(value, where)
    return result


def _resolve_context(value: Any, where: str) -> Any:
    if isinstance(value, list):
        return [_resolve_context(item, where) for item in value]
    if isinstance(value, str):
        if value == CONTEXT_IRI and CONTEXT_FILE.is_file():
            return json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))["@context"]
        raise GraphLoadError(
            f"{where}: refusing remote JSON-LD @context {value!r}: only inline contexts and "
            f"{CONTEXT_IRI} (read from {CONTEXT_FILE.relative_to(REPO_ROOT)}) are allowed"
        )
    if isinstance(value, dict):
        if "@import" in value:
            raise GraphLoadError(f"{where}: refusing JSON-LD @import {value['@import']!r}: contexts are never fetched")
        return {key: _local_contexts(item, where) for key, item in value.items()}
    return value


_DOCTYPE = re.compile(rb"<!DOCTYPE\s[^\[>]*(\[(.*?)\])?\s*>", re.S)
_ENTITY = re.compile(rb"<!ENTITY\s+(%\s+)?[^\s\"']+\s+(\"[^\"]*\"|'[^']*'|\S+)", re.S)


def _check_rdf_xml(path: Path) -> None:
    """Refuse an RDF/XML document whose DTD could reach outside it or blow up when expanded.

    Oxigraph refuses external entities itself, but expands internal ones without bound (a
    "billion laughs" document yields a literal of a gigabyte). Internal entities whose text holds
    no further reference (as OWL files use for namespaces) stay allowed; external entities,
    parameter entities, nested references and an external DTD are refused.
    """
    with open(path, "rb") as stream:
        head = stream.read(1 << 20)
    if b"<!DOCTYPE" not in head and b"<!ENTITY" not in head:
        return
    match = _DOCTYPE.search(head)
    if match is None or re.search(rb"<!DOCTYPE\s+\S+\s+(SYSTEM|PUBLIC)\b", match.group(0)):
        raise GraphLoadError(f"{path}: refusing an RDF/XML document type with an external DTD")
    subset = match.group(2) or b""
    if head.count(b"<!ENTITY") != len(_ENTITY.findall(subset)):
        raise GraphLoadError(f"{path}: refusing RDF/XML entity declarations outside the document type")
    for percent, value in _ENTITY.findall(subset):
        if percent or value[:1] not in (b'"', b"'"):
            raise GraphLoadError(f"{path}: refusing an external or parameter entity in RDF/XML")
        if b"&" in value or b"%" in value:
            raise GraphLoadError(f"{path}: refusing an RDF/XML entity that refers to other entities")


def _read(path: Path) -> tuple[ox.RdfFormat, dict[str, Any]]:
    """The format of a graph file and the arguments that make Oxigraph parse it safely."""
    fmt = _rdf_format(path)
    if not path.is_file():
        raise GraphLoadError(f"{path}: no such file")
    source: dict[str, Any] = {"base_iri": path.resolve().as_uri()}
    if fmt == ox.RdfFormat.RDF_XML:
        _check_rdf_xml(path)
    if fmt == ox.RdfFormat.JSON_LD:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise GraphLoadError(f"{path}: not a JSON document: {err}") from None
        source["input"] = json.dumps(_local_contexts(document, str(path))).encode("utf-8")
    else:
        source["path"] = str(path)
    return fmt, source


def load_graph(path: Path | str, *, engine: str = "oxigraph") -> Dataset:
    """The graph file at `path` as an rdflib Dataset whose default graph is the union of all graphs.

    The format comes from the extension (.trig, .nq, .ttl, .nt, .n3, .jsonld/.json, .rdf/.owl/.xml);
    triples of a graph format land in the default graph. `engine="oxigraph"` (the default) keeps
    the data in an in-memory Oxigraph store through oxrdflib; `engine="rdflib"` in rdflib's
    memory store, queried by rdflib's own SPARQL engine (slow; for comparison and tests).
    Raises GraphLoadError.
    """
    path = Path(path)
    fmt, source = _read(path)
    try:
        if engine == "oxigraph":
            from oxrdflib import OxigraphStore

            store = ox.Store()
            store.load(format=fmt, **source)
            dataset = Dataset(store=OxigraphStore(store=store), default_union=True)
        elif engine == "rdflib":
            dataset = Dataset(default_union=True)
            # rdflib 7.6 renamed default_context to default_graph
            default = dataset.default_graph if hasattr(dataset, "default_graph") else dataset.default_context
            dataset.addN(
                (
                    from_ox(q.subject),
                    from_ox(q.predicate),
                    from_ox(q.object),
                    default
                    if isinstance(q.graph_name, ox.DefaultGraph)
                    else dataset.graph(from_ox(q.graph_name)),
                )
                for q in ox.parse(format=fmt, **source)
            )
        else:
            raise ValueError(f"unknown engine {engine!r}; expected 'oxigraph' or 'rdflib'")
    except SyntaxError as err:
        raise GraphLoadError(f"{path}: {err}") from None
    except OSError as err:
        raise GraphLoadError(f"{path}: {err}") from None
    bind_prefixes(dataset)
    return dataset
