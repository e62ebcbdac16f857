"""Loading, querying and exporting the graph: rdflib as the interface, Oxigraph underneath.

`load_graph` returns an rdflib `Dataset` backed by an in-memory Oxigraph store (through
oxrdflib), so the rest of the package programs against rdflib while queries run on Oxigraph's
engine, some forty times faster than rdflib's own on a large join (0.4 s against 18 s). `load_graph(path,
engine="rdflib")` gives the same data in rdflib's memory store, queried by rdflib's engine; the
tests run every query on both.

Named graphs: every query sees the union of all named graphs as its default graph, on both
engines (rdflib: ``Dataset(default_union=True)``; Oxigraph: ``use_default_graph_as_union``).
``GRAPH ?g { ... }`` still reaches the named graphs one by one. Oxigraph 0.5 yields a triple of
that union once per graph holding it (oxigraph/oxigraph#1919), where rdflib yields it once: a
fact stated by three articles matches three times. Queries that must agree on both engines say
SELECT DISTINCT or COUNT(DISTINCT ...), as every query in queries/ does.

Parameters reach a query as RDF terms, never as text a user wrote: `run_query(..., bindings=...)`
hands them to rdflib as ``initBindings``, and to Oxigraph either written into a copy of the
query's text as Oxigraph's own serialization of each term (a literal escaped, an IRI checked:
kg.inline, where that means the same) or as substitutions. Oxigraph orders a query's patterns
with the terms written in its text, and as if substituted ones were unbound: every claim about
one performance takes 85 ms written in, 923 ms substituted. Engines differ where a bound
variable appears nowhere but in an OPTIONAL, a FILTER or a BIND, so the queries in queries/ use
each parameter in a required triple pattern, of the top-level group or of a subquery that
returns it (Oxigraph substitutes a variable a subquery projects; rdflib binds it everywhere).
Oxigraph yields a fact once per article graph stating it: the queries make facts distinct in
subqueries before joining them, and join names as tables rather than looking them up row by row
(benchmarks/README.md has the latencies).
A bound name that the header declares the name of an entity (``?personLabel  a name of
?person``), and that one IRI alone holds, binds that entity's variable to the IRI as well, so
one entity looked up by name costs what it costs by IRI.

Reading files is safe with untrusted input: every format is parsed by Oxigraph's parsers, which
never fetch a remote JSON-LD ``@context`` (the document is refused) and refuse RDF/XML external
entities; RDF/XML entities that refer to other entities (the "billion laughs") are refused here.
A JSON-LD ``@context`` naming this project's own context by its IRI (CONTEXT_IRI) is replaced by
the local copy in ontology/context.jsonld before parsing.

>>> dataset = load_graph(REPO_ROOT / "tests" / "data" / "store" / "fixture.trig")
>>> answer = run_query(dataset, read_query("distributors"), {"workLabel": Literal("Ballerina")})
>>> answer.variables
('workLabel', 'distributorLabel', 'work', 'distributor')
>>> [str(row[1]) for row in answer.rows]
['Lionsgate']
"""

from __future__ import annotations

import argparse
import csv
import functools
import hashlib
import json
import os
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, Mapping, Protocol, Sequence

import pyoxigraph as ox
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.namespace import NamespaceManager
from rdflib.term import Identifier

import kg
from kg import ontology
from kg.inline import inline
from kg.namespaces import FKG, FKR, GRAPH_SOURCES, KIND_PREFIXES, OWL, PREFIXES, RDF, RDFS, SKOS, XSD, bind_prefixes

__all__ = [
    "REPO_ROOT",
    "QUERIES_DIR",
    "CONTEXT_FILE",
    "CONTEXT_IRI",
    "EXPORT_FORMATS",
    "RESULT_FORMATS",
    "GraphLoadError",
    "QueryNotFound",
    "BindingError",
    "QuerySyntaxError",
    "QueryError",
    "Answer",
    "load_graph",
    "query_names",
    "find_query",
    "read_query",
    "query_variables",
    "parse_binding",
    "run_query",
    "write_answer",
    "merged_view",
    "to_networkx",
    "export_graph",
    "cli_query",
    "cli_export",
]

#: The repository root: queries/ and ontology/ are found next to the installed package.
REPO_ROOT = Path(kg.__file__).resolve().parent.parent
QUERIES_DIR = REPO_ROOT / "queries"
CONTEXT_FILE = ontology.CONTEXT_FILE
ONTOLOGY_FILE = ontology.ONTOLOGY_FILE
#: The IRI a JSON-LD document may use to name our context; it is read from CONTEXT_FILE, never fetched.
CONTEXT_IRI = "https://w3id.org/franchise-kg/context.jsonld"

EXPORT_FORMATS = ("turtle", "json-ld", "nt", "trig", "nquads", "graphml")
RESULT_FORMATS = ("table", "csv", "tsv", "json")

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

#: Prefixes for output: Turtle and TriG exports, and the IRIs shown by the table format.
_PREFIXES = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}

_SOURCES_GRAPH = GRAPH_SOURCES
#: Prefixes of written Turtle and TriG: the usual ones and one per kind of minted IRI.
_WRITE_PREFIXES = {**_PREFIXES, **KIND_PREFIXES}
_XSD_STRING = str(XSD.string)
_RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_VARNAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: A prefixed name as the table format writes IRIs (see _short): a prefix, a colon, no space.
_PREFIXED = re.compile(r"[a-z]+:\S+")
_OX_SYNTAX = re.compile(r"error at (\d+):(\d+):\s*(.*)", re.DOTALL)


class GraphLoadError(Exception):
    """A graph file that cannot be read: missing, of an unknown format, malformed or unsafe."""


class QueryNotFound(Exception):
    """A query name that is neither in queries/ nor a readable file."""


class BindingError(ValueError):
    """A --bind argument that is not VAR=VALUE, names no variable of the query, or holds a bad IRI."""


class QueryError(Exception):
    """A query that failed while it was evaluated."""


class QuerySyntaxError(QueryError):
    """A query the parser refused; `line` and `column` are 1-based, when the parser gives them."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None, source: str = "query"):
        self.message, self.line, self.column, self.source = message, line, column, source
        where = f"line {line}, column {column}: " if line is not None else ""
        super().__init__(f"{source}: syntax error at {where}{message}" if where else f"{source}: {message}")

    def excerpt(self, text: str) -> str:
        """The offending line of `text` with a caret under the column, or "" when unknown."""
        lines = text.splitlines()
        if self.line is None or not 1 <= self.line <= len(lines):
            return ""
        return f"  {lines[self.line - 1]}\n  {' ' * max((self.column or 1) - 1, 0)}^"


@dataclass(frozen=True)
class Answer:
    """What a query returned. Rows and triples are lazy iterators: read them once, as they come.

    kind: "SELECT", "ASK" or "CONSTRUCT" (also for DESCRIBE).
    variables: the SELECT's variables, in order; each row holds one term or None per variable.
    """

    kind: str
    variables: tuple[str, ...] = ()
    rows: Iterator[tuple[Identifier | None, ...]] = field(default_factory=lambda: iter(()))
    boolean: bool | None = None
    triples: Iterator[tuple[Identifier, Identifier, Identifier]] = field(default_factory=lambda: iter(()))


# ---------------------------------------------------------------------------------------------
# Terms between rdflib and Oxigraph
# ---------------------------------------------------------------------------------------------


def _to_ox(term: Identifier) -> ox.NamedNode | ox.BlankNode | ox.Literal:
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


def _from_ox(term: Any) -> Identifier | None:
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


def _oxigraph_of(dataset: Graph) -> ox.Store | None:
    """The pyoxigraph store under an oxrdflib-backed graph, or None for any other store."""
    # oxrdflib is imported only where a graph is loaded (it brings rdflib's SPARQL parser: 0.1 s
    # of the 1 s `kg build` takes to start); until then, no graph can be held by it.
    oxrdflib = sys.modules.get("oxrdflib")
    store = dataset.store
    # oxrdflib exposes the pyoxigraph store only as a private property; pinned to oxrdflib 0.5.
    return store._inner if oxrdflib is not None and isinstance(store, oxrdflib.OxigraphStore) else None


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


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
                    _from_ox(q.subject),
                    _from_ox(q.predicate),
                    _from_ox(q.object),
                    default
                    if isinstance(q.graph_name, ox.DefaultGraph)
                    else dataset.graph(_from_ox(q.graph_name)),
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


# ---------------------------------------------------------------------------------------------
# Queries: finding them, binding their parameters, running them
# ---------------------------------------------------------------------------------------------


def query_names() -> list[str]:
    """The names of the queries shipped in queries/ (file names without .rq), sorted."""
    return sorted(p.stem for p in QUERIES_DIR.glob("*.rq"))


def find_query(name_or_path: str) -> Path:
    """queries/NAME.rq for a bare name (NAME or NAME.rq), else the .rq file at the given path.

    A file in the working directory wins over queries/ only when written as a path (with a
    slash) or with its .rq suffix. Raises QueryNotFound.
    """
    candidate = Path(name_or_path)
    as_path = "/" in name_or_path or os.sep in name_or_path
    if (as_path or candidate.suffix == ".rq") and candidate.is_file():
        return candidate
    if not as_path:
        shipped = QUERIES_DIR / (name_or_path if candidate.suffix == ".rq" else f"{name_or_path}.rq")
        if shipped.is_file():
            return shipped
    raise QueryNotFound(
        f"no query named {name_or_path!r}: not in {QUERIES_DIR} and not a file. "
        f"Known queries: {', '.join(query_names()) or '(none)'}"
    )


def read_query(name_or_path: str) -> str:
    """The text of a query in queries/ (by name) or of a .rq file (by path)."""
    return find_query(name_or_path).read_text(encoding="utf-8")


def query_variables(text: str) -> set[str]:
    """The variable names written in a query (comment lines aside), e.g. {'work', 'workLabel'}."""
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    return set(re.findall(r"[?$]([A-Za-z_][A-Za-z0-9_]*)", body))


def parse_binding(text: str) -> tuple[str, Identifier]:
    """A VAR=VALUE argument as (name, RDF term).

    A value that looks like an IRI, written <...>, starting with http:// or https://, or a name
    with one of the prefixes the table format shows (fkr:work/ballerina, fkg:directedBy), binds as
    that IRI; anything else binds as a plain literal (an xsd:string), whatever characters it holds.

    >>> parse_binding("workLabel=Ballerina")
    ('workLabel', rdflib.term.Literal('Ballerina'))
    >>> parse_binding("?work=https://w3id.org/franchise-kg/id/work/ballerina")[1]
    rdflib.term.URIRef('https://w3id.org/franchise-kg/id/work/ballerina')
    >>> parse_binding("work=fkr:work/ballerina")[1]
    rdflib.term.URIRef('https://w3id.org/franchise-kg/id/work/ballerina')
    >>> parse_binding('workLabel=x" } ; DROP ALL ; #')[1]
    rdflib.term.Literal('x" } ; DROP ALL ; #')
    """
    name, sep, value = text.partition("=")
    name = name.strip()
    if name[:1] in "?$":
        name = name[1:]
    if not sep or not _VARNAME.fullmatch(name):
        raise BindingError(f"expected VAR=VALUE (e.g. workLabel=Ballerina), got {text!r}")
    if len(value) >= 2 and value.startswith("<") and value.endswith(">"):
        iri = value[1:-1]
    elif re.match(r"https?://", value):
        iri = value
    else:
        iri = _expand(value) if _PREFIXED.fullmatch(value) else None
        if iri is None:
            return name, Literal(value)
    try:
        ox.NamedNode(iri)
    except ValueError as err:
        raise BindingError(f"{name}: {iri!r} is not a valid IRI ({err})") from None
    return name, URIRef(iri)


@functools.cache
def _namespace_manager() -> NamespaceManager:
    """An rdflib NamespaceManager with kg's prefixes bound (kg.namespaces.bind_prefixes), and no other."""
    graph = Graph(bind_namespaces="none")
    bind_prefixes(graph)
    return graph.namespace_manager


def _expand(name: str) -> str | None:
    """The IRI a prefixed name (fkr:work/ballerina) stands for, or None if its prefix is not kg's."""
    try:
        return str(_namespace_manager().expand_curie(name))
    except ValueError:
        return None


def _syntax_error_from_oxigraph(err: SyntaxError, source: str) -> QuerySyntaxError:
    message = str(err)
    match = _OX_SYNTAX.match(message)
    if match:
        return QuerySyntaxError(match.group(3).strip(), int(match.group(1)), int(match.group(2)), source)
    return QuerySyntaxError(message, source=source)


def _syntax_error_from_rdflib(err: Exception, source: str) -> QuerySyntaxError:
    line, column = getattr(err, "lineno", None), getattr(err, "col", None)
    message = getattr(err, "msg", None) or str(err)
    return QuerySyntaxError(message, line, column, source)


def run_query(
    dataset: Graph,
    query: str,
    bindings: Mapping[str, Identifier] | None = None,
    *,
    source: str = "query",
) -> Answer:
    """Run a SPARQL 1.1 query on `dataset`, with `bindings` (variable name -> RDF term) fixed.

    On an Oxigraph-backed dataset (see load_graph) the query runs on Oxigraph directly and rows
    stream as Oxigraph yields them; on any other rdflib graph it runs on rdflib's engine. Raises
    QuerySyntaxError (with line and column where the parser gives them) or QueryError.

    A name bound to a parameter that the query's header declares "a name of" an entity
    (``#   ?personLabel  a name of ?person: ...``) is looked up first: when one IRI alone holds
    that name, the entity's variable is bound to it too (see _entities_named).
    """
    bindings = dict(bindings or {})
    bindings.update(_entities_named(dataset, query, bindings))
    store = _oxigraph_of(dataset)
    if store is not None:
        return _run_oxigraph(store, dataset, query, bindings, source)
    return _run_rdflib(dataset, query, bindings, source)


#: A query header's line declaring a parameter a name of an entity the query returns, e.g.
#: "#   ?personLabel  a name of ?person: matched exactly ...". It promises that every row's
#: ?person holds the row's ?personLabel as the object of one of its statements.
_NAME_OF = re.compile(r"^#\s+\?([A-Za-z_]\w*)\s+a name of \?([A-Za-z_]\w*)", re.MULTILINE)
#: What holds a name as the object of any statement; two rows tell one holder from several.
_HOLDERS = "SELECT DISTINCT ?holder ?name WHERE { ?holder ?property ?name } LIMIT 2"


def _entities_named(dataset: Graph, query: str, bindings: Mapping[str, Identifier]) -> dict[str, URIRef]:
    """Entity variables of `query` to bind as well: for each "?L  a name of ?X" of its header
    with ?L bound to a literal and ?X unbound, ?X -> the one IRI that holds that literal, when
    exactly one does.

    The answer is the same either way, for every row's ?X holds the name; but a bound name
    narrows only the patterns it appears in, where a bound IRI narrows every table (sub-select)
    that returns ?X: at 10,000 articles one person's roles by name took 409 ms, and take 54-69 ms.
    A name that several entities hold, or none, binds nothing more.
    """
    found: dict[str, URIRef] = {}
    for name_variable, entity_variable in _NAME_OF.findall(query):
        name = bindings.get(name_variable)
        if not isinstance(name, Literal) or entity_variable in bindings or entity_variable in found:
            continue
        holders = [row[0] for row in run_query(dataset, _HOLDERS, {"name": name}).rows]
        if len(holders) == 1 and isinstance(holders[0], URIRef):
            found[entity_variable] = holders[0]
    return found


class _TermConverter:
    """_from_ox with a memo, for the rows of one answer.

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
            converted = self._memo[term] = _from_ox(term)
        return converted


def _run_oxigraph(store: ox.Store, dataset: Graph, query: str, bindings: dict[str, Identifier], source: str) -> Answer:
    terms = {name: _to_ox(term) for name, term in bindings.items()}
    options: dict[str, Any] = {
        "use_default_graph_as_union": bool(getattr(dataset, "default_union", False)),
        "prefixes": {prefix: str(ns) for prefix, ns in dataset.namespaces()},
    }
    # The terms written into the text when that means the same (kg.inline), so that Oxigraph
    # plans with them; else substituted. The text as given has the last word on its syntax.
    written = inline(query, {name: str(term) for name, term in terms.items()})
    try:
        try:
            result = store.query(written, **options) if written is not None else None
        except SyntaxError:
            result = None
        if result is None:
            result = store.query(query, **options, substitutions={ox.Variable(name): term for name, term in terms.items()})
    except SyntaxError as err:
        raise _syntax_error_from_oxigraph(err, source) from None
    except (OSError, RuntimeError, ValueError) as err:
        raise QueryError(f"{source}: {err}") from None
    if isinstance(result, ox.QueryBoolean):
        return Answer("ASK", boolean=bool(result))
    if isinstance(result, ox.QuerySolutions):
        variables = tuple(v.value for v in result.variables)
        convert = _TermConverter()

        def rows() -> Iterator[tuple[Identifier | None, ...]]:
            try:
                for solution in result:  # a solution yields its values in the order of `variables`
                    yield tuple([convert(term) for term in solution])
            except (OSError, RuntimeError) as err:
                raise QueryError(f"{source}: {err}") from None

        return Answer("SELECT", variables, rows())

    def triples() -> Iterator[tuple[Identifier, Identifier, Identifier]]:
        try:
            for triple in result:
                yield (_from_ox(triple.subject), _from_ox(triple.predicate), _from_ox(triple.object))
        except (OSError, RuntimeError) as err:
            raise QueryError(f"{source}: {err}") from None

    return Answer("CONSTRUCT", triples=triples())


def _run_rdflib(dataset: Graph, query: str, bindings: dict[str, Identifier], source: str) -> Answer:
    from pyparsing import ParseException

    try:
        result = dataset.query(query, initBindings=bindings)
    except ParseException as err:
        raise _syntax_error_from_rdflib(err, source) from None
    except Exception as err:  # rdflib raises bare Exceptions, e.g. for an unknown prefix
        raise QuerySyntaxError(str(err), source=source) from None
    if result.type == "ASK":
        return Answer("ASK", boolean=bool(result.askAnswer))
    if result.type == "SELECT":
        variables = tuple(str(v) for v in result.vars or ())
        return Answer("SELECT", variables, (tuple(row) for row in result))
    return Answer("CONSTRUCT", triples=iter(result.graph or ()))


# ---------------------------------------------------------------------------------------------
# Writing answers: table, CSV, TSV, JSON (SPARQL 1.1 results formats), row by row
# ---------------------------------------------------------------------------------------------


def _short(iri: str) -> str:
    for prefix, namespace in _PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    return f"<{iri}>"


def _display(term: Identifier | None) -> str:
    """A term as a person reads it: prefixed IRIs, literals as their text."""
    if term is None:
        return ""
    if isinstance(term, URIRef):
        return _short(str(term))
    if isinstance(term, BNode):
        return f"_:{term}"
    return " ".join(str(term).split())


def _csv_value(term: Identifier | None) -> str:
    if term is None:
        return ""
    if isinstance(term, BNode):
        return f"_:{term}"
    return str(term)


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    )


def _nt(term: Identifier | None) -> str:
    """A term in N-Triples syntax (the encoding of SPARQL TSV results and of CONSTRUCT output)."""
    if term is None:
        return ""
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, BNode):
        return f"_:{term}"
    if isinstance(term, Literal):
        text = f'"{_escape(str(term))}"'
        if term.language:
            return f"{text}@{term.language}"
        if term.datatype is not None and str(term.datatype) != _XSD_STRING:
            return f"{text}^^<{term.datatype}>"
        return text
    raise TypeError(f"not an RDF term: {term!r}")


def _json_term(term: Identifier) -> dict[str, str]:
    if isinstance(term, URIRef):
        return {"type": "uri", "value": str(term)}
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term)}
    value: dict[str, str] = {"type": "literal", "value": str(term)}
    if term.language:
        value["xml:lang"] = term.language
    elif term.datatype is not None and str(term.datatype) not in (_XSD_STRING, _RDF_LANG_STRING):
        value["datatype"] = str(term.datatype)
    return value


def _write_table(variables: Sequence[str], rows: Iterator[tuple], out: IO[str], *, sample: int = 1000, cap: int = 70) -> int:
    """An aligned text table; widths come from the first `sample` rows, later rows stream."""

    def cells(row: tuple) -> list[str]:
        texts = [_display(term) for term in row]
        return [t if len(t) <= cap else t[: cap - 1] + "…" for t in texts]

    head = [cells(row) for row in islice(rows, sample)]
    widths = [max([len(v)] + [len(r[i]) for r in head]) for i, v in enumerate(variables)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip() + "\n"

    out.write(line(variables))
    out.write(line(["-" * w for w in widths]))
    count = 0
    for row_cells in head:
        out.write(line(row_cells))
        count += 1
    for row in rows:
        out.write(line(cells(row)))
        count += 1
    return count


def write_answer(answer: Answer, out: IO[str], fmt: str = "table") -> int:
    """Write `answer` to `out` in `fmt` (table, csv, tsv or json), row by row; returns the row count.

    csv and tsv follow the SPARQL 1.1 CSV/TSV results formats (CSV: plain values, CRLF line ends;
    TSV: N-Triples terms), json the SPARQL 1.1 JSON results format. An ASK answer is `true` or
    `false` (json: {"boolean": ...}); a CONSTRUCT or DESCRIBE answer is N-Triples, whatever `fmt`.
    """
    if fmt not in RESULT_FORMATS:
        raise ValueError(f"unknown result format {fmt!r}; expected one of {RESULT_FORMATS}")
    if answer.kind == "ASK":
        if fmt == "json":
            out.write(json.dumps({"head": {}, "boolean": bool(answer.boolean)}) + "\n")
        else:
            out.write(("true" if answer.boolean else "false") + "\n")
        return 1
    if answer.kind == "CONSTRUCT":
        count = 0
        for s, p, o in answer.triples:
            out.write(f"{_nt(s)} {_nt(p)} {_nt(o)} .\n")
            count += 1
        return count
    variables = answer.variables
    if fmt == "table":
        return _write_table(variables, answer.rows, out)
    count = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(variables)
        for row in answer.rows:
            writer.writerow([_csv_value(term) for term in row])
            count += 1
    elif fmt == "tsv":
        out.write("\t".join(f"?{v}" for v in variables) + "\n")
        for row in answer.rows:
            out.write("\t".join(_nt(term) for term in row) + "\n")
            count += 1
    else:
        out.write('{"head": {"vars": ' + json.dumps(list(variables)) + '}, "results": {"bindings": [')
        for row in answer.rows:
            binding = {v: _json_term(term) for v, term in zip(variables, row) if term is not None}
            out.write(("\n  " if count == 0 else ",\n  ") + json.dumps(binding, ensure_ascii=False))
            count += 1
        out.write("\n]}}\n")
    return count


# ---------------------------------------------------------------------------------------------
# Exporting
# ---------------------------------------------------------------------------------------------


def _ox_quads(dataset: Graph) -> Iterator[ox.Quad]:
    """Every quad of `dataset` as an Oxigraph quad, whichever store holds it."""
    store = _oxigraph_of(dataset)
    if store is not None:
        yield from store.quads_for_pattern(None, None, None, None)
        return
    for s, p, o, g in dataset.quads((None, None, None, None)):
        graph_id = getattr(g, "identifier", g)
        graph = ox.DefaultGraph() if graph_id in (None, DATASET_DEFAULT_GRAPH_ID) else _to_ox(graph_id)
        yield ox.Quad(_to_ox(s), _to_ox(p), _to_ox(o), graph)


def _merged_store(dataset: Graph) -> ox.Store:
    """The merged view (see merged_view) in the default graph of a fresh Oxigraph store."""
    sources = ox.NamedNode(str(_SOURCES_GRAPH))
    claims = {_to_ox(claim) for claim, _, _, _ in dataset.quads((None, RDF.type, FKG.Claim, None))}
    merged = ox.Store()
    merged.bulk_extend(
        ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph())
        for q in _ox_quads(dataset)
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

    A MergedView also answers `subjects()` (see _view_subjects), without the pass over every
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
    convert = _TermConverter()  # entities and properties recur in triple after triple
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
    supers = ontology.superclasses() if ONTOLOGY_FILE.is_file() else {}
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
        write_quads(sorted(_ox_quads(dataset), key=_quad_key), fmt, out)
    elif fmt in MERGED_FORMATS:
        export_merged(_merged_store(dataset), fmt, out)
    else:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {EXPORT_FORMATS}")


#: The formats that hold the merged view (no named graphs, no claims).
MERGED_FORMATS = ("turtle", "nt", "json-ld", "graphml")


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
    writes for all their quads in one stream (tests/test_store.py), so a graph's block can be
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


def _view_subjects(merged: MergedTriples) -> tuple[set[Any], bool]:
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
    for subject in sorted(_view_subjects(merged)[0], key=str):
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

    subjects, blank = _view_subjects(merged)
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


# ---------------------------------------------------------------------------------------------
# The command line: `kg query` and `kg export`
# ---------------------------------------------------------------------------------------------

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2


def _error(command: str, message: str) -> int:
    print(f"kg {command}: {message}", file=sys.stderr)
    return EXIT_USAGE


def _query_text(args: argparse.Namespace) -> tuple[str, str]:
    """(source name, text) of the query the arguments name: --text, a name in queries/, or a path."""
    if args.text is not None and args.name:
        raise BindingError("give either a query NAME|FILE.rq or --text, not both")
    if args.text is not None:
        return "--text", args.text
    if not args.name:
        raise QueryNotFound(f"no query given: name one of {', '.join(query_names())}, a .rq file, or --text")
    path = find_query(args.name)
    try:
        return str(path), path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise QueryNotFound(f"{path}: {err}") from None


class _Watchdog:
    """Stops the process when the query outlives `seconds`.

    Oxigraph evaluates outside Python (the GIL released), so it cannot be interrupted from
    Python; the watchdog thread reports, flushes what was written and exits the process.
    """

    def __init__(self, seconds: float | None):
        self.seconds = seconds
        self._timer = threading.Timer(seconds, self._expire) if seconds and seconds > 0 else None
        if self._timer is not None:
            self._timer.daemon = True

    def _expire(self) -> None:
        try:
            sys.stdout.flush()
        except Exception:
            pass
        print(f"\nkg query: stopped after {self.seconds:g} s (--timeout); the answer above is incomplete.", file=sys.stderr)
        sys.stderr.flush()
        os._exit(EXIT_PARTIAL)

    def __enter__(self) -> "_Watchdog":
        if self._timer is not None:
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()


def _silence_stdout() -> None:
    """After the reader of stdout went away (`| head`), send further output nowhere."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


#: Seconds of reading the graph after which `kg query` says that `kg serve` reads it once.
SLOW_LOAD_S = 5.0


def cli_query(args: argparse.Namespace) -> int:
    """`kg query NAME|FILE.rq [--text Q] [--graph PATH] [--bind VAR=VALUE ...] [--format F] [--timeout S]`.

    Exit codes: 0 answered; 1 stopped by the timeout (the rows written so far stay); 2 unknown
    query, malformed query or binding, unreadable graph, or a query that failed.
    """
    try:
        source, text = _query_text(args)
        bindings = dict(parse_binding(item) for item in args.bind)
        unknown = sorted(set(bindings) - query_variables(text))
        if unknown:
            raise BindingError(
                f"{source} has no variable {', '.join('?' + u for u in unknown)}"
                f" (its variables: {', '.join('?' + v for v in sorted(query_variables(text)))})"
            )
        started = time.perf_counter()
        dataset = load_graph(args.graph)
        seconds = time.perf_counter() - started
    except (QueryNotFound, BindingError, GraphLoadError) as err:
        if isinstance(err, GraphLoadError) and not Path(args.graph).exists():
            return _error("query", f"{args.graph}: no such file; run `kg build` first or pass --graph")
        return _error("query", str(err))
    if seconds > SLOW_LOAD_S:  # every run reads the whole graph: say how to read it only once
        print(f"kg query: reading {args.graph} took {seconds:.0f} s; `kg serve --graph {args.graph}` reads it "
              "once and answers every query sent to it", file=sys.stderr)
    try:
        with _Watchdog(args.timeout):
            answer = run_query(dataset, text, bindings, source=source)
            count = write_answer(answer, sys.stdout, args.format)
            sys.stdout.flush()
    except QuerySyntaxError as err:
        excerpt = err.excerpt(text)
        return _error("query", str(err) + (f"\n{excerpt}" if excerpt else ""))
    except QueryError as err:
        return _error("query", str(err))
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OK
    if args.format == "table" and answer.kind == "SELECT":
        print(f"({count} row{'s' if count != 1 else ''})", file=sys.stderr)
    return EXIT_OK


def cli_export(args: argparse.Namespace) -> int:
    """`kg export --format F [--graph PATH] [-o FILE]`: the graph in another format (see export_graph)."""
    try:
        dataset = load_graph(args.graph)
    except GraphLoadError as err:
        if not Path(args.graph).exists():
            return _error("export", f"{args.graph}: no such file; run `kg build` first or pass --graph")
        return _error("export", str(err))
    try:
        if args.output is None:
            export_graph(dataset, args.format, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        else:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            with open(args.output, "wb") as out:
                export_graph(dataset, args.format, out)
            print(f"kg export: wrote {args.output} ({args.format})", file=sys.stderr)
    except BrokenPipeError:
        _silence_stdout()
    except OSError as err:
        return _error("export", str(err))
    return EXIT_OK
