"""Queries: finding them, binding their parameters, running them, and writing their answers.

`run_query` runs a SPARQL 1.1 query on a graph from kg.store.load_graph: on Oxigraph's engine,
some forty times faster than rdflib's own on a large join (0.4 s against 18 s), or on rdflib's
for a graph in rdflib's memory store; the tests run every query on both. `write_answer` writes
the rows as a table or in the SPARQL 1.1 results formats (CSV, TSV, JSON); `kg query` is
`cli_query`.

Oxigraph 0.5 yields a triple of the union default graph once per graph holding it
(oxigraph/oxigraph#1919), where rdflib yields it once: a fact stated by three articles matches
three times. Queries that must agree on both engines say SELECT DISTINCT or COUNT(DISTINCT ...),
as every query in queries/ does.

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

>>> from kg.store import load_graph
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
import json
import os
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any, Iterator, Mapping, Sequence

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import NamespaceManager
from rdflib.term import Identifier
from rdflib.util import from_n3

from kg.cli import EXIT_OK, EXIT_PARTIAL, fail, silence_stdout
from kg.inline import run_inlined
from kg.namespaces import PREFIXES, XSD, bind_prefixes
from kg.store import REPO_ROOT, GraphLoadError, MakingStopped, StoreFolderError, load_graph
from kg.terms import TermConverter, from_ox, oxigraph_of, to_ox

__all__ = [
    "QUERIES_DIR",
    "RESULT_FORMATS",
    "QueryNotFound",
    "BindingError",
    "QuerySyntaxError",
    "QueryError",
    "Answer",
    "query_names",
    "find_query",
    "read_query",
    "query_variables",
    "parse_binding",
    "run_query",
    "write_answer",
    "cli_query",
]

#: The queries shipped with kg, found next to the installed package.
QUERIES_DIR = REPO_ROOT / "queries"
RESULT_FORMATS = ("table", "csv", "tsv", "json")

#: Prefixes of the IRIs the table format shows, and of the names a binding may be given with.
_PREFIXES = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}
_XSD_STRING = str(XSD.string)
_RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_VARNAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: A prefixed name as the table format writes IRIs (see _short): a prefix, a colon, no space.
_PREFIXED = re.compile(r"([a-z]+):\S+")
#: A literal as Turtle and N-Triples write it: "text", "text"@lang or "text"^^datatype, the
#: datatype an <IRI> or a prefixed name (group 1: its prefix).
_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*|\^\^(?:<[^<>"{}|^`\\\s]*>|([a-z]+):\S+))?')
_OX_SYNTAX = re.compile(r"error at (\d+):(\d+):\s*(.*)", re.DOTALL)


class QueryNotFound(Exception):
    """A query name that is neither in queries/ nor a readable file."""


class BindingError(ValueError):
    """A --bind argument that is not VAR=VALUE, names no variable of the query, or holds a bad
    IRI, an unknown prefix or a malformed literal."""


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
    that IRI; one in double quotes, as Turtle writes a literal, as that literal, typed or tagged
    ("2025-06-06"^^xsd:date, as the tsv format shows a date; "Ballerina"@en); anything else binds
    as a plain literal (an xsd:string), whatever characters it holds. A name whose prefix is not
    one of kg's is refused rather than taken for text: it would match nothing.

    >>> parse_binding("workLabel=Ballerina")
    ('workLabel', rdflib.term.Literal('Ballerina'))
    >>> parse_binding("?work=https://w3id.org/franchise-kg/id/work/ballerina")[1]
    rdflib.term.URIRef('https://w3id.org/franchise-kg/id/work/ballerina')
    >>> parse_binding("work=fkr:work/ballerina")[1]
    rdflib.term.URIRef('https://w3id.org/franchise-kg/id/work/ballerina')
    >>> parse_binding('workLabel=x" } ; DROP ALL ; #')[1]
    rdflib.term.Literal('x" } ; DROP ALL ; #')
    >>> parse_binding('releaseDate="2025-06-06"^^xsd:date')[1]
    rdflib.term.Literal('2025-06-06', datatype=rdflib.term.URIRef('http://www.w3.org/2001/XMLSchema#date'))
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
    elif value.startswith('"'):
        return name, _literal(name, value)
    elif prefixed := _PREFIXED.fullmatch(value):
        iri = _expand(value)
        if iri is None:
            raise BindingError(f"{name}: {value!r}: {_unknown(prefixed.group(1))}; give an IRI as <...>, "
                               f"or the text in double quotes: {json.dumps(value)}")
    else:
        return name, Literal(value)
    try:
        ox.NamedNode(iri)
    except ValueError as err:
        raise BindingError(f"{name}: {iri!r} is not a valid IRI ({err})") from None
    return name, URIRef(iri)


def _literal(name: str, value: str) -> Literal:
    """The literal a binding's value writes as Turtle does ("text", "text"@en, "text"^^xsd:date)."""
    match = _LITERAL.fullmatch(value)
    if match is None:
        raise BindingError(f"{name}: {value!r} is not a literal as Turtle writes one: \"text\", "
                           f"\"text\"@en or \"text\"^^xsd:date (a double quote inside written \\\")")
    if match.group(1) and match.group(1) not in _PREFIXES:
        raise BindingError(f"{name}: {value!r}: {_unknown(match.group(1))}")
    return from_n3(value, nsm=_namespace_manager())


def _unknown(prefix: str) -> str:
    return f"no prefix {prefix!r} is known (only {', '.join(sorted(_PREFIXES))})"


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
    store = oxigraph_of(dataset)
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


def _run_oxigraph(store: ox.Store, dataset: Graph, query: str, bindings: dict[str, Identifier], source: str) -> Answer:
    terms = {name: to_ox(term) for name, term in bindings.items()}
    options: dict[str, Any] = {
        "use_default_graph_as_union": bool(getattr(dataset, "default_union", False)),
        "prefixes": {prefix: str(ns) for prefix, ns in dataset.namespaces()},
    }
    # The terms written into the text when that means the same (kg.inline), so that Oxigraph
    # plans with them; else substituted.
    try:
        result = run_inlined(
            query, {name: str(term) for name, term in terms.items()},
            lambda text: store.query(text, **options),
            lambda: store.query(query, **options, substitutions={ox.Variable(name): term for name, term in terms.items()}))
    except SyntaxError as err:
        raise _syntax_error_from_oxigraph(err, source) from None
    except (OSError, RuntimeError, ValueError) as err:
        raise QueryError(f"{source}: {err}") from None
    if isinstance(result, ox.QueryBoolean):
        return Answer("ASK", boolean=bool(result))
    if isinstance(result, ox.QuerySolutions):
        variables = tuple(v.value for v in result.variables)
        convert = TermConverter()

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
                yield (from_ox(triple.subject), from_ox(triple.predicate), from_ox(triple.object))
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
# The command line: `kg query`
# ---------------------------------------------------------------------------------------------

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

    def __init__(self, seconds: float | None, hint: str = ""):
        self.seconds = seconds
        self.hint = hint
        self._timer = threading.Timer(seconds, self._expire) if seconds and seconds > 0 else None
        if self._timer is not None:
            self._timer.daemon = True

    def _expire(self) -> None:
        try:
            sys.stdout.flush()
        except Exception:
            pass
        print(f"\nkg query: stopped after {self.seconds:g} s (--timeout); the answer above is incomplete.{self.hint}",
              file=sys.stderr)
        sys.stderr.flush()
        os._exit(EXIT_PARTIAL)

    def __enter__(self) -> "_Watchdog":
        if self._timer is not None:
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()


#: Seconds of reading the graph after which `kg query` says that `kg serve` reads it once.
SLOW_LOAD_S = 5.0
#: Megabytes of graph file past which `kg query`, at a terminal, says it is reading it first
#: (the 10,000-article graph.trig, 220 MB, takes some 17 s).
LARGE_GRAPH_MB = 50
#: Megabytes of graph file past which `kg query --store auto` keeps the graph as a store on disk
#: (kg.store.open_store): reading 50 MB into memory takes some 5 s at every run.
DISK_STORE_MB = 50


def _load(graph: Path, store: str) -> tuple[Graph, float | None]:
    """The graph for `kg query`, and the seconds spent reading it into memory (None: a store on disk).

    `store` is "memory", "disk", or "auto": disk past DISK_STORE_MB. A store that cannot be kept
    on disk is said on stderr, and the graph read into memory.
    """
    size_mb = graph.stat().st_size / 2**20 if graph.is_file() else 0.0
    if store == "disk" or (store == "auto" and size_mb > DISK_STORE_MB):
        def making(folder: Path) -> None:
            print(f"kg query: keeping {graph} ({size_mb:.0f} MB) as an Oxigraph store in {folder}/ "
                  "(once, until the file changes) ...", file=sys.stderr, flush=True)
        try:
            return load_graph(graph, engine="oxigraph-disk", making=making), None
        except MakingStopped:   # killed (for want of memory?): reading it into memory would fare no better
            raise
        except StoreFolderError as err:
            print(f"kg query: {err}; reading the graph into memory instead", file=sys.stderr, flush=True)
    if size_mb > LARGE_GRAPH_MB and sys.stderr.isatty():  # the wait has a reason, said before it
        print(f"kg query: reading {graph} ({size_mb:.0f} MB) ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    dataset = load_graph(graph)
    return dataset, time.perf_counter() - started


#: What `kg query` adds when a query on a store on disk is stopped: the answer may stream faster from memory.
_FROM_MEMORY = " Read into memory (--store memory), the graph streams answers of many rows 2-4 times faster."


def cli_query(args: argparse.Namespace) -> int:
    """`kg query NAME|FILE.rq [--text Q] [--graph PATH] [--bind VAR=VALUE ...] [--format F] [--timeout S]
    [--store auto|memory|disk]`.

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
        dataset, seconds = _load(Path(args.graph), args.store)
    except (QueryNotFound, BindingError, GraphLoadError) as err:
        return fail("query", str(err))
    if seconds is not None and seconds > SLOW_LOAD_S:  # every run reads the whole graph: say how not to
        print(f"kg query: reading {args.graph} took {seconds:.0f} s; `--store disk` keeps it on disk for the next "
              f"runs, and `kg serve --graph {args.graph}` reads it once and answers every query sent to it",
              file=sys.stderr)
    try:
        with _Watchdog(args.timeout, _FROM_MEMORY if seconds is None else ""):
            answer = run_query(dataset, text, bindings, source=source)
            count = write_answer(answer, sys.stdout, args.format)
            sys.stdout.flush()
    except QuerySyntaxError as err:
        excerpt = err.excerpt(text)
        return fail("query", str(err) + (f"\n{excerpt}" if excerpt else ""))
    except QueryError as err:
        return fail("query", str(err))
    except BrokenPipeError:
        silence_stdout()
        return EXIT_OK
    if args.format == "table" and answer.kind == "SELECT":
        print(f"({count} row{'s' if count != 1 else ''})", file=sys.stderr)
    return EXIT_OK
