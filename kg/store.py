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

A graph file can also be kept as an Oxigraph store on disk, in a folder beside it
(build/graph.trig -> build/graph.trig.oxigraph/): `open_store` makes it on first use (with the
`oxigraph` executable: make_store) and opens it read-only while the file is unchanged, in
milliseconds where reading the 10,000-article graph into memory takes some 20 s
(`load_graph(path, engine="oxigraph-disk")`; `kg query` uses it for large graphs). Oxigraph's on-disk store answers small questions as fast as its in-memory one, and
streams answers of tens of thousands of rows 2-4 times slower (benchmarks/README.md).

>>> dataset = load_graph(REPO_ROOT / "tests" / "data" / "store" / "fixture.trig")
>>> type(dataset.store).__name__
'OxigraphStore'
>>> from kg.namespaces import FKR, SKOS
>>> str(dataset.value(FKR["work/ballerina"], SKOS.prefLabel))
'Ballerina'
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

import pyoxigraph as ox
from rdflib import Dataset

import kg
from kg import ontology
from kg.files import claim, remove_abandoned
from kg.namespaces import bind_prefixes
from kg.processes import die_with_parent, signal_name
from kg.terms import TermConverter

__all__ = [
    "REPO_ROOT", "CONTEXT_FILE", "CONTEXT_IRI", "STORE_SUFFIX", "GraphLoadError", "MakingStopped",
    "OxigraphNotFound", "StoreFolderError", "find_oxigraph", "oxigraph_child", "keep_store", "kept_store",
    "load_graph", "make_store", "open_store", "store_folder",
]

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


class StoreFolderError(GraphLoadError):
    """A graph file's store on disk cannot be made or kept (its folder not writable, the disk
    full, the `oxigraph` executable missing...); the graph itself may still be read into memory."""


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
            source["input"] = json.dumps(_local_contexts(document, str(path))).encode("utf-8")
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise GraphLoadError(f"{path}: not a JSON document: {err}") from None
        except RecursionError:
            raise GraphLoadError(f"{path}: JSON nested too deeply to be read") from None
    else:
        source["path"] = str(path)
    return fmt, source


#: The suffix of the folder that keeps a graph file as an Oxigraph store: graph.trig -> graph.trig.oxigraph/.
STORE_SUFFIX = ".oxigraph"
#: The file of a store folder that records what the store was made from (see _source_record).
_SOURCE_RECORD = "source.json"


def store_folder(path: Path | str) -> Path:
    """The folder that keeps the graph file at `path` as an Oxigraph store (see open_store)."""
    path = Path(path)
    return path.with_name(path.name + STORE_SUFFIX)


def _source_record(path: Path, fmt: ox.RdfFormat) -> dict[str, Any]:
    """What tells the graph file as it is now from any other: its size, modification time and
    inode (writing the file changes the first two, replacing it the inode), the pyoxigraph that
    writes the store and, for JSON-LD, the local context the file is read with."""
    stat = path.stat()
    record: dict[str, Any] = {
        "file": path.name, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "inode": stat.st_ino,
        "pyoxigraph": ox.__version__,
    }
    if fmt == ox.RdfFormat.JSON_LD:
        record["context_sha256"] = hashlib.sha256(CONTEXT_FILE.read_bytes()).hexdigest()
    return record


def _recorded(folder: Path) -> Any:
    """The record a store folder keeps of its graph file, or None."""
    try:
        return json.loads((folder / _SOURCE_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


#: Formats `oxigraph load` reads from the file itself; any other reaches it as N-Quads, parsed
#: here by pyoxigraph with _read's safeguards (JSON-LD contexts, RDF/XML entities).
_LOADED_DIRECTLY = (ox.RdfFormat.TRIG, ox.RdfFormat.N_QUADS, ox.RdfFormat.TURTLE, ox.RdfFormat.N_TRIPLES)


class OxigraphNotFound(StoreFolderError):
    """The `oxigraph` executable (from the `oxigraph` package on PyPI) is not installed: no store
    on disk can be made or served."""


class MakingStopped(StoreFolderError):
    """The `oxigraph` making a store was stopped by a signal (Ctrl-C, the out-of-memory killer):
    making it again elsewhere would come to the same end."""


def find_oxigraph() -> Path:
    """The `oxigraph` executable: next to the running Python first (same virtualenv), then on PATH."""
    names = ("oxigraph.exe", "oxigraph") if sys.platform == "win32" else ("oxigraph",)
    for name in names:
        beside = Path(sys.executable).parent / name
        if beside.is_file():
            return beside
    found = shutil.which("oxigraph")
    if found:
        return Path(found)
    raise OxigraphNotFound(
        "the `oxigraph` executable was not found next to "
        f"{sys.executable} nor on PATH; install it with `pip install oxigraph` "
        "(it comes with `pip install -e .`)"
    )


def oxigraph_child() -> dict[str, Any]:
    """The subprocess options every `oxigraph` that kg runs gets: it ends with kg (die_with_parent),
    and says its errors in one line, without Rust's backtrace where RUST_BACKTRACE is set."""
    return {"preexec_fn": die_with_parent, "env": {**os.environ, "RUST_BACKTRACE": "0", "RUST_LIB_BACKTRACE": "0"}}


def _oxigraph_error(stderr: str) -> str:
    """The line that says why `oxigraph` failed, without its progress lines and backtrace."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("Error"):
            return line.removeprefix("Error: ")
    return lines[0] if lines else "no message"


def make_store(path: Path | str, location: Path | str) -> None:
    """Load the graph file at `path` into a new Oxigraph store on disk at `location`, compacted.

    The `oxigraph` executable does it (`oxigraph load`, then `oxigraph optimize`: compacted, large
    answers stream some twice as fast; for the 220 MB graph of 10,000 articles some 35 + 12 s and
    1.5 GB), in a child process that a Ctrl-C stops at once, where pyoxigraph's bulk load holds
    the interpreter until it returns. Raises GraphLoadError for a file that cannot be read (in
    pyoxigraph's words, as load_graph says it), StoreFolderError when the store cannot be made at
    `location` (OxigraphNotFound without the executable); `location` may then hold a part of it.
    """
    path = Path(path)
    _load_into(path, *_read(path), Path(location))


def _load_into(path: Path, fmt: ox.RdfFormat, source: dict[str, Any], location: Path) -> None:
    """make_store, for a file _read has prepared."""
    oxigraph = find_oxigraph()
    file, file_format = path, fmt
    try:
        if fmt not in _LOADED_DIRECTLY:
            file_format = ox.RdfFormat.N_QUADS
            try:
                handle, name = tempfile.mkstemp(dir=location.parent, prefix=f".{location.name}.", suffix=".nq")
                os.close(handle)
                file = Path(name)   # a name of its own: no file of the user's beside `location` is overwritten
                ox.serialize(ox.parse(format=fmt, **source), str(file), format=ox.RdfFormat.N_QUADS)
            except SyntaxError as err:
                raise GraphLoadError(f"{path}: {err}") from None
            except OSError as err:
                raise StoreFolderError(f"{location.parent}: cannot make the store: {err.strerror or err}") from None
        steps = (
            ["load", "--location", str(location), "--file", str(file), "--format", file_format.media_type,
             "--base", source["base_iri"]],
            ["optimize", "--location", str(location)],
        )
        for step in steps:
            done = subprocess.run([str(oxigraph), *step], capture_output=True, text=True, **oxigraph_child())
            if done.returncode < 0:  # stopped by a signal: Ctrl-C, which reached us too, or another
                raise MakingStopped(f"{location}: making the store was stopped by {signal_name(-done.returncode)}")
            if done.returncode != 0:
                if step[0] == "load" and file == path:  # the file itself, or the folder? pyoxigraph says
                    try:
                        for _ in ox.parse(format=fmt, **source):
                            pass
                    except SyntaxError as err:
                        raise GraphLoadError(f"{path}: {err}") from None
                raise StoreFolderError(
                    f"{location.parent}: cannot make the store: {_oxigraph_error(done.stderr)}")
    finally:
        if file != path:
            file.unlink(missing_ok=True)


def _make_kept_store(path: Path, fmt: ox.RdfFormat, source: dict[str, Any]) -> None:
    """Make the store of the graph file at `path` (make_store; _read gave `fmt` and `source`), then
    put it at store_folder(path) in place of any other, with the record of the file it was made from.

    The store is made in a temporary folder beside the kept one and renamed into place, so that a
    run stopped halfway leaves no half-made store, and of two runs making it at once one wins.
    """
    folder = store_folder(path)
    record = _source_record(path, fmt)  # the file as it is before it is read
    remove_abandoned(folder)   # what a kg killed while making it left (1.5 GB at 10,000 articles)
    try:
        work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    except OSError as err:
        raise StoreFolderError(f"{folder.parent}: cannot keep a store there: {err.strerror or err}") from None
    held: int | None = None
    try:
        held = claim(work)
        _load_into(path, fmt, source, work / "store")
        (work / _SOURCE_RECORD).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(work, 0o777 & ~umask)  # mkdtemp's 0700 would hide the store from the file's other readers
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old.", dir=folder.parent))
            try:  # (unclaimed: only ever removed; a run killed while removing it leaves it to the next)
                os.replace(folder, old)
            finally:  # the old store, or the empty folder that could not take it
                shutil.rmtree(old, ignore_errors=True)
        try:
            os.rename(work, folder)
        except OSError:
            if _recorded(folder) != record:  # else another run has just put the same store there
                raise
    except OSError as err:
        raise StoreFolderError(f"{folder}: cannot make the store: {err.strerror or err}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if held is not None:
            os.close(held)


def kept_store(path: Path | str) -> Path | None:
    """Where the store on disk kept for the graph file at `path` is (open_store), when it was made
    from the file as it is now; else None. For other readers of the store, such as the
    `oxigraph` server that `kg serve` runs."""
    path = Path(path)
    folder = store_folder(path)
    try:
        fresh = path.is_file() and _recorded(folder) == _source_record(path, _rdf_format(path))
    except (GraphLoadError, OSError):
        return None
    return folder / "store" if fresh else None


def _kept_or_made(path: Path, making: Callable[[Path], None] | None) -> tuple[Path, ox.Store]:
    """The store kept for the graph file at `path`, made first when there is none, it is stale or
    it does not open (damaged): where it is, and the store opened read-only."""
    kept = kept_store(path)
    if kept is not None:
        try:
            return kept, ox.Store.read_only(str(kept))
        except (OSError, RuntimeError):
            pass  # a damaged store: made again
    fmt, source = _read(path)  # a missing, unknown or unsafe file is said before the making is
    folder = store_folder(path)
    if making is not None:
        making(folder)
    _make_kept_store(path, fmt, source)
    try:
        return folder / "store", ox.Store.read_only(str(folder / "store"))
    except (OSError, RuntimeError) as err:
        raise StoreFolderError(f"{folder}: cannot open the store: {err}") from None


def keep_store(path: Path | str, *, making: Callable[[Path], None] | None = None) -> Path:
    """Where the store on disk kept for the graph file at `path` is, made first if need be (as
    open_store does); for other readers of it, such as the `oxigraph` server that `kg serve` runs."""
    location, _store = _kept_or_made(Path(path), making)
    return location


def open_store(path: Path | str, *, making: Callable[[Path], None] | None = None) -> ox.Store:
    """The graph file at `path` as a read-only Oxigraph store on disk, kept in store_folder(path).

    A store the folder holds is opened as it is when it was made from the file as it is now (the
    same size, modification time and inode, by the same pyoxigraph): in milliseconds, at any size.
    Else the file is loaded into a new store that replaces it (make_store: for the 220 MB graph of
    10,000 articles 44-47 s and 1.5 GB of disk); `making`, if given, is called with the folder
    first, to tell the user. Raises GraphLoadError for a graph file that cannot be read,
    StoreFolderError when the store cannot be made or kept there.

    >>> import shutil, tempfile
    >>> copy = Path(tempfile.mkdtemp()) / "graph.trig"
    >>> _ = shutil.copy(REPO_ROOT / "tests" / "data" / "store" / "fixture.trig", copy)
    >>> len(open_store(copy)) == len(open_store(copy)) > 0   # made once, then opened
    True
    >>> sorted(p.name for p in store_folder(copy).iterdir())
    ['source.json', 'store']
    >>> shutil.rmtree(copy.parent)
    """
    _location, store = _kept_or_made(Path(path), making)
    return store


def load_graph(path: Path | str, *, engine: str = "oxigraph", making: Callable[[Path], None] | None = None,
               default_union: bool = True) -> Dataset:
    """The graph file at `path` as an rdflib Dataset whose default graph is the union of all graphs
    (unless `default_union=False`).

    The format comes from the extension (.trig, .nq, .ttl, .nt, .n3, .jsonld/.json, .rdf/.owl/.xml);
    triples of a graph format land in the default graph. `engine="oxigraph"` (the default) keeps
    the data in an in-memory Oxigraph store through oxrdflib; `engine="oxigraph-disk"` opens the
    file's store on disk (open_store, which calls `making` before it makes one); `engine="rdflib"` in rdflib's
    memory store, queried by rdflib's own SPARQL engine (slow; for comparison and tests), or read
    by code that walks the named graphs one by one (kg.check). `default_union=False` keeps the
    default graph to the triples of no named graph.
    Raises GraphLoadError (StoreFolderError, for "oxigraph-disk", when the store cannot be kept).
    """
    path = Path(path)
    try:
        if engine in ("oxigraph", "oxigraph-disk"):
            from oxrdflib import OxigraphStore

            if engine == "oxigraph-disk":
                store = open_store(path, making=making)
            else:
                fmt, source = _read(path)
                store = ox.Store()
                store.load(format=fmt, **source)
            dataset = Dataset(store=OxigraphStore(store=store), default_union=default_union)
        elif engine == "rdflib":
            fmt, source = _read(path)
            dataset = Dataset(default_union=default_union)
            # Graph by graph, each term converted once (TermConverter): at 1,000 articles twice as
            # fast as rdflib's own TriG parser, the same quads.
            graphs: dict[Any, Any] = {}
            convert = TermConverter()
            for quad in ox.parse(format=fmt, **source):
                name = quad.graph_name
                graph = graphs.get(name)
                if graph is None:
                    # rdflib 7.6 renamed default_context to default_graph
                    graph = graphs[name] = (
                        (dataset.default_graph if hasattr(dataset, "default_graph") else dataset.default_context)
                        if isinstance(name, ox.DefaultGraph) else dataset.graph(convert(name)))
                graph.add((convert(quad.subject), convert(quad.predicate), convert(quad.object)))
        else:
            raise ValueError(f"unknown engine {engine!r}; expected 'oxigraph', 'oxigraph-disk' or 'rdflib'")
    except SyntaxError as err:
        raise GraphLoadError(f"{path}: {err}") from None
    except OSError as err:
        raise GraphLoadError(f"{path}: {err}") from None
    bind_prefixes(dataset)
    return dataset
