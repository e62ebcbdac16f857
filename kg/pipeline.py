"""`kg build`: sources -> nlp -> extract -> resolve -> graph -> files.

The per-article step (:func:`extract_text`: text and date in, an ArticleExtraction of mentions
and facts out) is a pure function of the article and the pipeline's version, so its result is
cached under ``<out>/cache/`` keyed by both, and articles can be processed anywhere, in any
order; each article's named graph is cached there too, as TriG, under a hash of what it is made
from (kg.graph.Block), so a rebuild writes the unchanged ones as they were. `build` streams the
articles through it (:func:`extract_stream`: the lines of consecutive articles share the model's
batches, and only about one batch of Docs is in memory at a time), in one process or in a pool
of worker processes that each load the model once. Canonicalisation and conflicts are global
and run after. Output files are written aside and renamed into place, so an interrupted build
never leaves a half-written graph where the previous good one was.
docs/scaling.md says how the same steps would run on a cluster.
"""

from __future__ import annotations

import argparse
import copy
import ctypes
import datetime
import functools
import gc
import hashlib
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import weakref
from array import array
from collections import Counter, deque
from contextlib import closing, contextmanager, nullcontext
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, Sequence

import pyoxigraph as ox
from rdflib import Dataset
from rdflib.namespace import SKOS
from spacy.tokens import Doc

from kg import __version__, export
from kg.extract import ArticleExtraction, Fact, Mention, extract_article
from kg.files import temp_beside, write_atomically
from kg.graph import Block, Digest, build_dataset, graph_blocks, graph_quads
from kg.namespaces import FKG
from kg.nlp import (
    PIPELINE_VERSION,
    ModelNotFound,
    data_path,
    load_pipeline,
    make_docs,
    one_reading_per_article,
)
from kg.processes import die_with_parent, ending
from kg.resolve import Resolution, resolve
from kg.sources import Article, ArticleMetadata, NoArticles, Problem, iter_sources
from kg.terms import ox_quads, oxigraph_of, to_ox

__all__ = ["BuildResult", "ExtractionFailed", "WorkerLost", "build", "extract_text", "write_outputs", "cli_build", "DEFAULT_SOURCES"]

DEFAULT_SOURCES = Path("seeds")


@dataclass
class BuildResult:
    """What a build made and what it skipped.

    The graph is not held: `quads()` makes it afresh from the extractions and the resolution
    (kg.graph.graph_quads), as a stream that write_outputs writes straight to the files, and
    `dataset` loads it into an in-memory Oxigraph store on first use (for SPARQL, the reasoner
    or a notebook).
    """

    articles: list[ArticleMetadata] = field(default_factory=list)   # the texts let go once extracted
    extractions: ExtractionFile = field(default_factory=lambda: ExtractionFile())   # on file, made again when read
    problems: list[Problem] = field(default_factory=list)
    resolution: Resolution | None = None
    cached: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    digest: Digest | None = None   # the merged view and the summary's figures, once written
    cache: Cache | None = field(default=None, repr=False)  # where write_outputs keeps the articles' graphs
    _dataset: Dataset | None = field(default=None, repr=False)

    def quads(self, digest: Digest | None = None) -> Iterator[ox.Quad]:
        """Every quad of the graph, each once, in the order the files hold them (none when no
        article was read); `digest` is filled as they are read (kg.graph.Digest)."""
        if self.resolution is None:
            return iter(())
        return graph_quads(self.articles, self.extractions, self.resolution, digest)

    def blocks(self, digest: Digest) -> Iterator[Block]:
        """The graph's named graphs, in the order of `quads` (kg.graph.graph_blocks)."""
        if self.resolution is None:
            return iter(())
        return graph_blocks(self.articles, self.extractions, self.resolution, digest)

    @property
    def dataset(self) -> Dataset | None:
        """The graph as an rdflib Dataset over an in-memory Oxigraph store, made on first use; None without articles."""
        if self._dataset is None and self.resolution is not None:
            self._dataset = build_dataset(self.articles, self.extractions, self.resolution)
        return self._dataset


# --------------------------------------------------------------------------- per article


def extract_text(nlp, text: str, *, published: datetime.date | None = None) -> ArticleExtraction:
    """Mentions and facts of one article's text (and its date, where known): the pure per-article step.

    Nothing but its arguments and the pipeline's data files decide the result, so it can run
    anywhere (another process, another machine) and be cached by the text's hash; `build` runs
    the same step over a stream of articles (see `extract_stream`), with identical results.
    """
    with closing(extract_stream(nlp, [(text, published)])) as stream:
        extraction = next(stream)
    if isinstance(extraction, ExtractionFailed):
        raise extraction.error or RuntimeError(extraction.said)
    return extraction


@dataclass(frozen=True)
class ExtractionFailed:
    """What `extract_stream` gives for an article whose rules raised: a bug met on a text nobody
    foresaw, which costs that article, not the build. `said` is the error in one line; `error`
    the exception itself, traceback and all, within the process that raised it (a worker
    process sends the line only: not every exception can be pickled)."""

    said: str
    error: Exception | None = field(default=None, compare=False)

    @classmethod
    def of(cls, error: Exception) -> "ExtractionFailed":
        return cls(f"{type(error).__name__}: {error}", error)

    def __str__(self) -> str:
        return f"its extraction failed ({self.said}), a bug in kg worth reporting"


#: Articles whose words share one of spaCy's memory zones (extract_stream).
ZONE_ARTICLES = 256


def extract_stream(nlp, items: Iterable[tuple[str, datetime.date | None]], *, batch_size: int | None = None,
                   zone: int = ZONE_ARTICLES) -> Iterator[ArticleExtraction | ExtractionFailed]:
    """`extract_text` over (text, published) pairs, lazily and in order, batching lines across articles;
    an article whose rules raise gives an ExtractionFailed and the stream goes on.

    Each article is cut into its lines (kg.nlp.make_docs) and every line is parsed on its own;
    the lines of consecutive articles go through one `nlp.pipe` stream, so the model sees full
    batches (`nlp.batch_size` lines) rather than one short batch per article. An article is
    finished (one reading per article, the relation rules) as soon as its last line comes out,
    so only about one batch of Docs is ever held in memory, whatever the corpus size. A line's
    parse does not depend on the other lines of its batch, so the results are those of
    `extract_text` article by article.

    The words of each run of `zone` articles after the first run go through one of spaCy's
    memory zones (`Language.memory_zone`): the strings and lexemes they add to the model's
    vocabulary are dropped when the run is done, where they would otherwise pile up with every
    new name (the peak while extracting 10,000 generated articles fell from 674 to 622 MB;
    benchmarks/). The first run warms what is kept for good: the tokenizer's cache (not filled
    inside a zone) and the components' tables made on first use.
    """
    items = iter(items)
    for item in items:  # a run is this article and the next zone - 1, read as the model asks for them
        run = chain([item], islice(items, zone - 1))
        with nlp.memory_zone() if nlp in _WARMED else nullcontext():
            yield from _extract_run(nlp, run, batch_size)
        _WARMED.add(nlp)


#: The pipelines that have extracted a first run of articles outside a memory zone (extract_stream).
_WARMED: weakref.WeakSet = weakref.WeakSet()


def _extract_run(nlp, items: Iterator[tuple[str, datetime.date | None]],
                 batch_size: int | None) -> Iterator[ArticleExtraction | ExtractionFailed]:
    """extract_stream over one run of articles, their lines in one `nlp.pipe` stream."""
    pending: deque[_Pending] = deque()

    def lines() -> Iterator[Doc]:
        for text, published in items:
            blocks = _or_failed(make_docs, nlp, text)   # the text's repairs and its cutting into lines
            if isinstance(blocks, ExtractionFailed):
                pending.append(_Pending([], published, failed=blocks))
                continue
            pending.append(_Pending([offset for offset, _ in blocks], published))
            for _, doc in blocks:
                yield doc

    def finished() -> Iterator[ArticleExtraction | ExtractionFailed]:
        while pending and len(pending[0].docs) == len(pending[0].offsets):
            done = pending.popleft()
            yield done.failed or _or_failed(_finish_article, nlp, done)

    for doc in nlp.pipe(lines(), batch_size=batch_size or nlp.batch_size):
        yield from finished()  # articles without a line
        pending[0].docs.append(doc)
        yield from finished()
    yield from finished()


def _finish_article(nlp, done: _Pending) -> ArticleExtraction:
    """An article whose lines are all parsed, through the rules: one reading per article, then
    its mentions and facts."""
    one_reading_per_article(done.docs)
    return extract_article(nlp, list(zip(done.offsets, done.docs)), published=done.published)


def _or_failed(step: Callable[..., Any], *args: Any) -> Any:
    """step(*args), or an ExtractionFailed if it raises: a step of the per-article work meeting a
    text nobody foresaw costs that article alone. Out of memory is the whole build's problem."""
    try:
        return step(*args)
    except MemoryError:
        raise
    except Exception as error:
        return ExtractionFailed.of(error)


@dataclass
class _Pending:
    """An article whose lines are in the nlp.pipe stream: their offsets, and the Docs parsed so far;
    or one whose text could not be cut into lines (`failed`, no lines)."""

    offsets: list[int]
    published: datetime.date | None
    docs: list[Doc] = field(default_factory=list)
    failed: ExtractionFailed | None = None


#: The layout of a cache entry (Cache): a new layout starts a new cache rather than reading old entries as corrupt.
CACHE_FORMAT = 3

#: The name of a pipeline's folder in the cache (_rules_fingerprint).
_FINGERPRINT = re.compile(r"[0-9a-f]{16}")


def _rules_fingerprint(model_name: str) -> str:
    digest = hashlib.sha256(f"{PIPELINE_VERSION}|{CACHE_FORMAT}|{__version__}|{model_name}".encode())
    for name in sorted(os.listdir(data_path(""))):
        digest.update(name.encode())
        digest.update(data_path(name).read_bytes())
    # The per-article code too: a changed rule runner must not reuse old extractions. (Not
    # sources.py: an extraction reads the text and the date alone, and an entry's key is both.)
    package = Path(__file__).parent
    for name in ("nlp.py", "attribute_ruler.py", "extract.py", "dates.py"):
        digest.update((package / name).read_bytes())
    return digest.hexdigest()[:16]


@functools.cache
def _graph_fingerprint() -> str:
    """What an article's TriG block is made by, besides its key (kg.graph.Block): the code and Oxigraph's version."""
    digest = hashlib.sha256(f"{ox.__version__}|{__version__}".encode())
    package = Path(__file__).parent
    for name in ("graph.py", "export.py", "terms.py", "namespaces.py"):
        digest.update((package / name).read_bytes())
    return digest.hexdigest()[:16]


def _to_json(extraction: ArticleExtraction) -> dict:
    """The record as JSON values, laid out as tables: each mention once (a list of its fields, in
    Mention's order) and each sentence once, the facts and the mentions list pointing into them
    by position. A fact's mentions and sentence recur from fact to fact: written out in full,
    they made entries 2.5 times larger and 1.7 times slower to read back (benchmarks/)."""
    mentions: dict[Mention, int] = {}
    sentences: dict[str, int] = {}

    def mention(m: Mention) -> int:
        return mentions.setdefault(m, len(mentions))

    def sentence(text: str) -> int:
        return sentences.setdefault(text, len(sentences))

    facts = [[f.predicate, mention(f.subject), mention(f.object) if isinstance(f.object, Mention) else f.object,
              f.rule, f.confidence, f.sentence_start, f.sentence_end, sentence(f.sentence),
              None if f.work is None else mention(f.work)] for f in extraction.facts]
    listed = [mention(m) for m in extraction.mentions]
    main_work = None if extraction.main_work is None else mention(extraction.main_work)
    return {"mention_table": [[m.text, m.start, m.end, m.label, m.lexicon_id, m.via] for m in mentions],
            "sentence_table": list(sentences), "mentions": listed, "facts": facts, "main_work": main_work}


def _from_json(data: dict) -> ArticleExtraction:
    """The record _to_json wrote, each mention and sentence one object however many facts name it.

    A date's lexical form is the only object that is not a mention's position; positions are
    ints. (Nothing is interned: a build keeps its records on file, and each one read is let go
    once used.)"""
    table = [Mention(*row) for row in data["mention_table"]]
    sentences = data["sentence_table"]
    facts = [Fact(predicate, table[subject], table[obj] if type(obj) is int else obj, rule, confidence,
                  start, end, sentences[sentence], None if work is None else table[work])
             for predicate, subject, obj, rule, confidence, start, end, sentence, work in data["facts"]]
    main_work = data["main_work"]
    return ArticleExtraction([table[i] for i in data["mentions"]], facts, None if main_work is None else table[main_work])


def _record_json(extraction: ArticleExtraction) -> bytes:
    """The record as the cache and ExtractionFile keep it: _to_json's tables, as JSON text."""
    return json.dumps(_to_json(extraction), sort_keys=True).encode("utf-8")


def _record(data: bytes) -> ArticleExtraction:
    """The record _record_json wrote."""
    return _from_json(json.loads(data))


class ExtractionFile(Sequence[ArticleExtraction]):
    """The build's extraction records, each written as its JSON (_record_json, as in the cache)
    to a temporary file and made again whenever it is read: a build keeps every article's
    record to the end and reads them three times (resolve, then the graph's claims and its
    blocks), but memory holds only where each one is (16 bytes).

    At 10,000 articles the records took 184 MB as objects; on file they leave the build's memory
    flat. Reading one back takes about 0.1 ms, from the operating system's cache of the file.
    """

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="kg-records-")
        self._spans = array("q")   # offset and length of each record in the file, in order

    def append(self, record: bytes) -> None:
        """Keep a record, given as _record_json's JSON."""
        offset = self._file.seek(0, os.SEEK_END)
        self._file.write(record)
        self._spans.extend((offset, len(record)))

    def __len__(self) -> int:
        return len(self._spans) // 2

    def _read(self, position: int) -> ArticleExtraction:
        self._file.seek(self._spans[2 * position])   # (a seek writes out what is buffered)
        return _record(self._file.read(self._spans[2 * position + 1]))

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self.reordered(range(len(self))[index])
        return self._read(range(len(self))[index])

    def __iter__(self) -> Iterator[ArticleExtraction]:
        return map(self._read, range(len(self)))

    def reordered(self, order: Iterable[int]) -> ExtractionFile:
        """The records in `order` (positions into this sequence), in the same file."""
        view = copy.copy(self)
        view._spans = array("q", (value for i in order for value in self._spans[2 * i:2 * i + 2]))
        return view


class Cache:
    """Extractions on disk, one JSON file per article, keyed by the text's hash and the rules' fingerprint.

    Each entry carries a checksum of its own content: a corrupted entry is detected, reported and
    rebuilt, never trusted. Once a build's outputs are written, `prune` removes what it did not
    use, so that the cache does not grow with every edit, model and upgrade (see there).
    """

    #: The pipelines (fingerprints: model, rules, kg's version) whose extractions are kept: the
    #: one in use and the most recently used others, so that switching between two or three
    #: models keeps each one's cache, and upgrades do not pile up.
    PIPELINES_KEPT = 3

    def __init__(self, folder: Path, fingerprint: str):
        self.folder = folder / fingerprint
        self.notes: list[Problem] = []
        self._used: set[Path] = set()   # the entries and the graphs this build read or wrote

    def _path(self, article: ArticleMetadata) -> Path:
        # The date is part of the key: it gives "in March" its year.
        return self.folder / f"{article.sha256}-{article.published or 'undated'}.json"

    #: An entry: {"sha256": "<the SHA-256 of the body's bytes>", "body": <the body>}, in that order,
    #: so the body's bytes are checked as they are, before they are parsed.
    _ENTRY = re.compile(rb'\{"sha256": "([0-9a-f]{64})", "body": (.*)\}', re.DOTALL)

    def get(self, article: ArticleMetadata) -> bytes | None:
        """The article's record as _record_json wrote it, checked (its checksum, and that it
        reads back), or None: not there, or corrupted (then reported)."""
        path = self._path(article)
        entry = self._verified(path, self._ENTRY)
        if entry is None:
            return None
        try:
            _record(entry.group(2))
        except (ValueError, KeyError, TypeError, IndexError) as error:
            self._corrupted(path, error)
            return None
        self._used.add(path)
        return entry.group(2)

    def _verified(self, path: Path, layout: re.Pattern[bytes]) -> re.Match[bytes] | None:
        """The entry at `path` matched against `layout`, whose group 1 is the SHA-256 of its last
        group, the body; None when there is no entry, or when it is corrupted (and then reported)."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            self._corrupted(path, error)
            return None
        entry = layout.fullmatch(data)
        if entry is None:
            self._corrupted(path, "not a cache entry")
        elif hashlib.sha256(entry.group(entry.lastindex)).hexdigest() != entry.group(1).decode():
            self._corrupted(path, "checksum mismatch")
        else:
            return entry
        return None

    def _corrupted(self, path: Path, why: object) -> None:
        self.notes.append(Problem(path, f"corrupted cache entry ({why}); rebuilt"))

    def put(self, article: ArticleMetadata, body: bytes) -> None:
        """Keep the article's record, given as _record_json's JSON."""
        entry = b'{"sha256": "%s", "body": %s}' % (hashlib.sha256(body).hexdigest().encode(), body)
        self.folder.mkdir(parents=True, exist_ok=True)
        # Not synced to disk: an entry lost to a crash is extracted again, a torn one fails its
        # checksum; syncing each (3 ms) would cost a build of 10,000 articles half a minute.
        write_atomically({self._path(article): entry}, durable=False)
        self._used.add(self._path(article))

    def prune(self) -> None:
        """Remove what this build did not use: the entries it did not read or write, the
        articles' graphs it did not write, those an older version of the code wrote, and the
        folders of all but the PIPELINES_KEPT most recently used pipelines (this one counted).

        Called once a build's outputs are written. An entry the build did not read is an
        article's former text (an edited article is a new entry) or an article no longer read;
        an article's graph changes with its entities. Kept, they would pile up build after
        build: the cache belongs to one output folder and follows its last build. A folder whose
        name is not a fingerprint is left alone, and so is what cannot be removed: a cache that
        cannot be pruned is only larger.
        """
        if not self.folder.is_dir():
            return
        blocks = self._blocks()
        try:
            for path in [*self.folder.glob("*.json"), *blocks.glob("*.trig")]:
                if path not in self._used:
                    path.unlink(missing_ok=True)
            stale = [folder for folder in self.folder.glob("trig-*") if folder != blocks]
            os.utime(self.folder)  # this pipeline's last use: now
            others = [folder for folder in self.folder.parent.iterdir()
                      if folder != self.folder and folder.is_dir() and _FINGERPRINT.fullmatch(folder.name)]
            others.sort(key=lambda folder: folder.stat().st_mtime, reverse=True)
        except OSError:
            return
        for folder in stale + others[self.PIPELINES_KEPT - 1:]:
            shutil.rmtree(folder, ignore_errors=True)

    # An article's graph as TriG (kg.graph.Block), kept under its key: a rebuild writes the
    # graphs of the articles whose entities, claims and conflicts did not change from here.

    #: A block entry: {"sha256": "<the SHA-256 of the TriG>", "quads": <how many>}, a newline, the TriG.
    _BLOCK = re.compile(rb'\{"sha256": "([0-9a-f]{64})", "quads": ([0-9]+)\}\n(.*)', re.DOTALL)

    def _blocks(self) -> Path:
        return self.folder / f"trig-{_graph_fingerprint()}"

    def get_block(self, key: str) -> tuple[int, bytes] | None:
        """(quad count, TriG) of the block kept under `key`, or None (a corrupted entry is reported)."""
        path = self._blocks() / f"{key}.trig"
        entry = self._verified(path, self._BLOCK)
        if entry is None:
            return None
        self._used.add(path)
        return int(entry.group(2)), entry.group(3)

    def put_block(self, key: str, quads: int, trig: bytes) -> None:
        entry = b'{"sha256": "%s", "quads": %d}\n%s' % (hashlib.sha256(trig).hexdigest().encode(), quads, trig)
        path = self._blocks() / f"{key}.trig"
        write_atomically({path: entry}, durable=False)
        self._used.add(path)

    def jsonld_nodes(self) -> CachedNodes:
        """graph.jsonld's nodes, by a hash of their subject's triples (kg.export.export_merged):
        those the last write kept, and a new table for this write's (see CachedNodes)."""
        return CachedNodes(self._blocks() / "graph.jsonld-nodes", self._corrupted)


class CachedNodes:
    """graph.jsonld's nodes kept in the build's cache (a kg.export.NodeTable), never all in memory.

    The last write's are indexed when the table is opened and read from their file when asked
    for; this write's are written to a new file as they come, which replaces the old one on
    commit(). A line is a key, a space and the node's text as a JSON string; the last line is
    "sha256 " and the SHA-256 of the lines before it: a file that does not match is reported
    (`corrupted`) and not read, and every node is made again.
    """

    def __init__(self, path: Path, corrupted: Callable[[Path, object], None]) -> None:
        self.path = path
        self._index: dict[str, tuple[int, int]] = {}
        self._old: IO[bytes] | None = None
        self._open_old(corrupted)
        fd, self._tmp = temp_beside(path)
        self._new = os.fdopen(fd, "wb", buffering=1 << 20)
        self._digest = hashlib.sha256()

    def _open_old(self, corrupted: Callable[[Path, object], None]) -> None:
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return
        except OSError as error:
            corrupted(self.path, error)
            return
        digest, offset, index, trailer = hashlib.sha256(), 0, {}, None
        for line in handle:
            if line.startswith(b"sha256 "):
                trailer = line
                break
            key, space, text = line.partition(b" ")
            if not space or not line.endswith(b"\n"):
                break
            index[key.decode("ascii", "replace")] = (offset + len(key) + 1, len(text) - 1)
            digest.update(line)
            offset += len(line)
        if trailer != b"sha256 %s\n" % digest.hexdigest().encode() or handle.read(1):
            handle.close()
            corrupted(self.path, "not a table of nodes" if trailer is None else "checksum mismatch")
            return
        self._old, self._index = handle, index

    def get(self, key: str) -> str | None:
        where = self._index.get(key)
        if where is None or self._old is None:
            return None
        self._old.seek(where[0])
        return json.loads(self._old.read(where[1]))

    def keep(self, key: str, text: str) -> None:
        line = f"{key} {json.dumps(text, ensure_ascii=False)}\n".encode("utf-8")
        self._digest.update(line)
        self._new.write(line)

    def commit(self) -> None:
        """Put this write's nodes in place of the last one's."""
        self._new.write(b"sha256 %s\n" % self._digest.hexdigest().encode())
        self._new.close()
        os.replace(self._tmp, self.path)

    def close(self) -> None:
        """Let go of the files (this write's removed unless committed)."""
        if self._old is not None:
            self._old.close()
        self._new.close()
        Path(self._tmp).unlink(missing_ok=True)


# --------------------------------------------------------------------------- build


def _progress(iterable, total: int | None, enabled: bool):
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, unit="article", file=sys.stderr, leave=False)


#: The collector's first threshold while a build runs (CPython's default is 700 allocations).
GC_THRESHOLD = 50_000


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """CPython's cyclic garbage collector run less often, then as before.

    A build makes hundreds of thousands of objects that live to its end (every article's
    records, the entities, the graph's terms), and the collector, run every 700 allocations by
    default, would scan them again and again: it took a fifth of the resolve and write steps
    (benchmarks/). Reference counting still frees everything at once; only cycles wait longer.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """The C library's malloc_trim (glibc), or None where there is none (macOS, musl, Windows)."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError, TypeError):
        return None


def _release_freed_memory() -> None:
    """Hand back to the system the pages the C allocator holds free (glibc's malloc_trim).

    The model's work (spaCy's Docs and arrays) is allocated with malloc; once it is freed, glibc
    keeps the space, and gives it back only when nothing live sits above it. Python's own objects
    come from separate arenas and cannot reuse it, so resolve and the graph, mostly Python
    objects, were stacked on top: at 10,000 articles the rebuild's peak was 672 MB or 757 MB
    from one run to the next of the same build, as the hash seed moved allocations about, and
    672 MB every time once the space is handed back (benchmarks/). Takes milliseconds.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@_fewer_collections()
def build(
    sources: Sequence[Path],
    *,
    model: str | None = None,
    cache_dir: Path | None = None,
    processes: int = 1,
    progress: bool = False,
) -> BuildResult:
    """Read `sources`, extract every article (from the cache where it can), resolve and build the graph.

    Articles stream through: read one at a time, looked up in the cache, and the others parsed
    in batches of lines (in `processes` worker processes when more than one), so memory holds
    the articles' metadata (the extractions are kept on file: ExtractionFile), never every
    article's Docs or text (`result.articles` are ArticleMetadata: iter_sources reads a text
    again from its path; at 10,000 articles the texts took some 70 MB). Canonicalisation and the graph
    are global and follow once every article is extracted (the graph itself is made when it is
    written: see BuildResult). `result.timings` gives the seconds spent loading the model,
    extracting and resolving.
    """
    result = BuildResult()
    started = time.perf_counter()
    nlp = load_pipeline(model)
    loaded = time.perf_counter()
    result.timings["load"] = loaded - started
    model_name = f"{nlp.meta.get('name')}-{nlp.meta.get('version')}"
    cache = result.cache = Cache(cache_dir, _rules_fingerprint(model_name)) if cache_dir else None

    def uncached() -> Iterator[Article]:
        """The articles to extract; problems and cache hits are recorded on the way."""
        try:
            for item in _progress(iter_sources(list(sources)), None, progress):
                if isinstance(item, Problem):
                    result.problems.append(item)
                    continue
                cached = cache.get(item) if cache else None
                if cached is not None:
                    result.articles.append(item.metadata())
                    result.extractions.append(cached)
                    result.cached += 1
                    continue
                yield item
        except NoArticles:
            return

    extracted = _extract_articles(nlp, model, uncached(), processes)
    done = 0
    try:
        for article, extraction in extracted:
            if isinstance(extraction, ExtractionFailed):   # not cached: the next run tries it again
                result.problems.append(Problem(article.path, str(extraction)))
                continue
            record = _record_json(extraction)
            if cache:
                cache.put(article, record)
            result.extractions.append(record)
            result.articles.append(article.metadata())
            done += 1
    except WorkerLost as lost:
        lost.extracted = done
        raise
    # The model is done with. Its objects hold reference cycles, which the collector frees now
    # (it has little else to look at: the records are on file) rather than after resolve, when
    # the entities and the view sit above them (at 10,000 articles the write's peak was 44 MB
    # higher); most of what extraction held is malloc'd space, handed back here.
    del nlp, extracted
    gc.collect()
    _release_freed_memory()
    if cache:
        result.problems.extend(cache.notes)
    order = sorted(range(len(result.articles)), key=lambda i: (result.articles[i].name, result.articles[i].sha256))
    result.articles = [result.articles[i] for i in order]
    result.extractions = result.extractions.reordered(order)
    lap = _stopwatch(result.timings, loaded)
    lap("extract")
    if result.articles:
        result.resolution = resolve(result.extractions)
        lap("resolve")
    return result


def _stopwatch(timings: dict[str, float], start: float):
    """lap(name): the seconds since the previous lap (or `start`) recorded as timings[name]."""
    last = [start]

    def lap(name: str) -> None:
        now = time.perf_counter()
        timings[name] = now - last[0]
        last[0] = now

    return lap


#: Articles per task handed to a worker process: enough lines for full batches of the model.
CHUNK = 16


def _extract_articles(nlp, model: str | None, articles: Iterator[Article],
                      processes: int) -> Iterator[tuple[Article, ArticleExtraction | ExtractionFailed]]:
    """(article, extraction) for each article, in order; in `processes` worker processes when more than one.

    Several processes: chunks of CHUNK articles go to a pool of workers that each load the
    pipeline once and run `extract_stream` over their chunk; at most a few chunks per worker are
    in flight, so memory stays flat, and results are yielded in the articles' order. A worker's
    results are those of one process: a line's parse does not depend on its batch.
    """
    if processes <= 1:
        held: deque[Article] = deque()

        def items() -> Iterator[tuple[str, datetime.date | None]]:
            for article in articles:
                held.append(article)
                yield article.text, article.published

        for extraction in extract_stream(nlp, items()):
            yield held.popleft(), extraction
        return

    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    global _WORKER
    _WORKER = (model, nlp)  # a forked worker inherits the loaded pipeline instead of loading it again
    # fork where the platform has it: the workers start at once, sharing the parent's model pages.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    context = multiprocessing.get_context(method)
    in_flight: deque = deque()
    pool = ProcessPoolExecutor(max_workers=processes, mp_context=context, initializer=_worker_init,
                               initargs=(model, os.getpid()))
    try:
        while True:
            while len(in_flight) < 3 * processes:
                chunk = list(islice(articles, CHUNK))
                if not chunk:
                    break
                in_flight.append((chunk, pool.submit(_worker_extract, [(a.text, a.published) for a in chunk])))
            if not in_flight:
                break
            chunk, future = in_flight.popleft()
            yield from zip(chunk, _chunk_result(pool, future))
    except BrokenProcessPool:
        _stop_workers(pool)
        raise WorkerLost(f"a worker process was {_how_workers_ended(pool)}") from None
    except BaseException:
        # Ctrl-C, SIGTERM, an error: the chunks in flight are dropped rather than finished first
        # (some 10 s with two processes).
        _stop_workers(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _WORKER = None


class WorkerLost(RuntimeError):
    """A worker process of a several-process build ended before its work was done: killed (the
    out-of-memory killer sends SIGKILL) or crashed. `extracted` counts the articles the build had
    extracted, and cached, before."""

    extracted: int = 0


#: Seconds between two looks at the workers while a chunk's results are awaited.
WATCH_S = 1.0


def _chunk_result(pool: Any, future: Any) -> list[ArticleExtraction]:
    """A chunk's extractions, once its worker has sent them; BrokenProcessPool if a worker died.

    The executor finds a dead worker by itself, unless the worker died while sending its
    results: then its manager thread waits for the rest of the message for ever (_stop_workers),
    and so would this. The workers are looked at every WATCH_S while the results are awaited,
    and on a dead one the others are stopped, which ends the wait.
    """
    while True:
        try:
            return future.result(timeout=WATCH_S)
        except TimeoutError:
            if any(process.exitcode is not None for process in _workers(pool)):
                _stop_workers(pool)


def _workers(pool: Any) -> list[Any]:
    """A ProcessPoolExecutor's worker processes (multiprocessing.Process)."""
    return list((getattr(pool, "_processes", None) or {}).values())


def _how_workers_ended(pool: Any) -> str:
    """How the first of the workers to end did, said in words: "killed by SIGKILL". The others
    were stopped after it, by SIGTERM: a worker's own SIGTERM is named only if all say it."""
    codes = [process.exitcode for process in _workers(pool) if process.exitcode is not None]
    code = next((c for c in codes if c != -signal.SIGTERM), codes[0] if codes else None)
    if code is None:
        return "lost"
    if code == -signal.SIGKILL:
        return f"{ending(code)}, perhaps for want of memory (try fewer --processes)"
    return ending(code)


def _stop_workers(pool: Any) -> None:
    """End a ProcessPoolExecutor's workers now, their tasks unfinished, so that its shutdown ends.

    A worker ended while it sends its results leaves half a message in the result pipe, and the
    executor's manager thread would wait for the rest forever, since this process still holds the
    pipe's writing end: `shutdown(wait=True)` hung (once in CI, on Ctrl-C to a 2-process build).
    Once the workers are gone that end is closed, so the thread reads the end of the pipe, marks
    the pool broken and ends. Python 3.14's `terminate_workers()` does not close it, so this one
    way serves every version.
    """
    processes = _workers(pool)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(5)
        if process.is_alive():   # SIGTERM held off somehow: no waiting on it
            process.kill()
            process.join()
    results = getattr(pool, "_result_queue", None)
    if results is not None:
        results._writer.close()


_WORKER: tuple[str | None, object] | None = None


def _worker_init(model: str | None, parent: int) -> None:
    """Load the pipeline once per worker process (a forked worker already has it). A worker ends
    with kg: killed outright, kg could not stop its workers, which would wait on for ever, each
    holding a model in memory."""
    global _WORKER
    die_with_parent(parent)
    # Ctrl-C is the parent's to handle: a worker that caught it too would print a traceback. A
    # SIGTERM that reaches a worker ends it, without the parent's handler (kg.cli.Terminated).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if _WORKER is None or _WORKER[0] != model:
        _WORKER = (model, load_pipeline(model))


def _worker_extract(items: list[tuple[str, datetime.date | None]]) -> list[ArticleExtraction | ExtractionFailed]:
    return [ExtractionFailed(e.said) if isinstance(e, ExtractionFailed) else e for e in extract_stream(_WORKER[1], items)]


# --------------------------------------------------------------------------- output


@_fewer_collections()
def write_outputs(graph: BuildResult | Dataset, out: Path) -> dict[str, Path]:
    """graph.trig, graph.ttl and graph.jsonld in `out`, replaced together or not at all.

    From a BuildResult, the graph streams into graph.trig one named graph at a time (_write_trig,
    each article's from the cache where it is kept), and the merged view, a small part of it, is
    gathered on the way for graph.ttl and graph.jsonld (`graph.digest`; graph.jsonld's nodes
    copied from the cache where their triples did not change); the whole graph is never in
    memory. A Dataset (say, with the reasoner's inferences added) is written through
    kg.export.export_graph, sorted. Every file is written aside before any is renamed into place.
    """
    if isinstance(graph, BuildResult):
        digest = Digest()
        cache = graph.cache
        noted = len(cache.notes) if cache else 0
        nodes = cache.jsonld_nodes() if cache else None
        writers = {
            "graph.trig": lambda handle: _write_trig(graph, digest, handle),
            "graph.ttl": lambda handle: export.export_merged(digest.view, "turtle", handle),
            "graph.jsonld": lambda handle: export.export_merged(digest.view, "json-ld", handle, jsonld_nodes=nodes),
        }
        files = {out / name: writer for name, writer in writers.items()}
        try:
            write_atomically(files)  # in this order: graph.trig's stream fills the digest
            if nodes is not None:
                nodes.commit()
            if cache:
                cache.prune()
        finally:
            if nodes is not None:
                nodes.close()
        graph.digest = digest
        if cache:
            graph.problems.extend(cache.notes[noted:])  # a kept graph or node table found corrupted
    else:
        view = _oxigraph_copy(graph)
        files = {out / name: (lambda handle, fmt=fmt: export.export_graph(view, fmt, handle))
                 for name, fmt in (("graph.trig", "trig"), ("graph.ttl", "turtle"), ("graph.jsonld", "json-ld"))}
        write_atomically(files)
    return {path.name: path for path in files}


def _write_trig(result: BuildResult, digest: Digest, out: IO[bytes]) -> None:
    """graph.trig, named graph after named graph (BuildResult.blocks), filling `digest`.

    An article's graph is copied from the build's cache when its block is kept there (the
    rebuild after a few articles changed makes only theirs, and those whose entities or
    conflicts moved), else made, written and kept; the blocks no longer written are removed
    once the outputs are (Cache.prune).
    The bytes are those of kg.export.write_quads over the whole stream.
    """
    cache = result.cache
    started = False
    for block in result.blocks(digest):
        entry = cache.get_block(block.key) if cache and block.key else None
        if entry is None:
            entry = export.trig_block(block.quads())
            if cache and block.key:
                cache.put_block(block.key, *entry)
        if entry[1] and not started:
            out.write(export.trig_prefixes())
            started = True
        digest.quads += entry[0]
        out.write(entry[1])


def _oxigraph_copy(ds: Dataset) -> Dataset:
    """`ds` copied once into an Oxigraph-backed Dataset (unless it is one), which the exports then read natively."""
    from oxrdflib import OxigraphStore

    if oxigraph_of(ds) is not None:
        return ds
    store = ox.Store()
    store.bulk_extend(ox_quads(ds))
    return Dataset(store=OxigraphStore(store=store), default_union=True)


def summary(result: BuildResult) -> str:
    """The one-screen summary of a build (from what writing it gathered; gathered afresh if it was not written)."""
    lines = [f"articles: {len(result.articles)} read" + (f" ({result.cached} from cache)" if result.cached else "")
             + (f", {len(result.problems)} skipped" if result.problems else "")]
    if result.resolution is None:
        return "\n".join(lines)
    digest = result.digest
    if digest is None:
        digest = Digest()
        for _ in result.quads(digest):
            pass
    lines.append("entities: " + (", ".join(f"{n} {c}" for c, n in sorted(digest.classes.items(), key=lambda kv: (-kv[1], kv[0])))
                                 or "none in a fact"))
    default = ox.DefaultGraph()
    facts = Counter({p.value.rsplit("#", 1)[-1]: sum(1 for _ in digest.view.quads_for_pattern(None, p, None, default))
                     for p in digest.stated})
    said = f"facts: {sum(facts.values())} distinct, {digest.claims} claim{'' if digest.claims == 1 else 's'}"
    if facts:
        said += "; " + ", ".join(f"{r} {n}" for r, n in sorted(facts.items(), key=lambda kv: (-kv[1], kv[0])))
    lines.append(said)
    lines.extend(_conflict_lines(digest))
    for problem in result.problems:
        lines.append(f"skipped: {problem}")
    return "\n".join(lines)


def _conflict_lines(digest: Digest) -> list[str]:
    """One line per conflict: what is disputed, each value with the articles that state it."""
    view, default = digest.view, ox.DefaultGraph()

    def value(node, prop):
        return next((q.object for q in view.quads_for_pattern(node, to_ox(prop), None, default)), None)

    def label(node) -> str:
        if isinstance(node, ox.Literal):
            return node.value
        found = value(node, SKOS.prefLabel)
        if found is None:  # a performance: name it by its performer and work
            performer, work = value(node, FKG.performer), value(node, FKG.work)
            if performer is not None and work is not None:
                return f"{label(performer)} in {label(work)}"
            return node.value.rsplit("/", 1)[-1]
        return found.value

    out = [f"conflicts: {len(digest.conflicts)}"]
    for conflict in sorted(digest.conflicts, key=lambda node: node.value):
        values: dict[str, set[str]] = {}
        for stated, file_name in digest.conflicts[conflict]:
            values.setdefault(label(stated), set()).add(file_name[:3])
        prop = value(conflict, FKG.conflictProperty).value.rsplit("#", 1)[-1]
        said = " vs ".join(f"{v} ({', '.join(sorted(a))})" for v, a in sorted(values.items()))
        out.append(f"  {label(value(conflict, FKG.conflictSubject))} {prop}: {said} — "
                   f"{value(conflict, FKG.conflictStatus).value}")
    return out


def cli_build(args: argparse.Namespace) -> int:
    """`kg build`: exit 0 when every article was read, 1 when some were skipped, 2 when none was usable."""
    sources = args.sources or [DEFAULT_SOURCES]
    try:
        result = build(sources, model=args.model, cache_dir=None if args.no_cache else args.out / "cache",
                       processes=args.processes, progress=not args.quiet and sys.stderr.isatty())
    except ModelNotFound as error:
        print(f"kg build: {error}", file=sys.stderr)
        return 2
    except WorkerLost as error:
        n = error.extracted
        kept = (f"; the {n} article{'s' if n > 1 else ''} extracted before {'are' if n > 1 else 'is'} cached for the next run"
                if n and not args.no_cache else "")
        print(f"kg build: {error}; nothing written, the previous output was left as it was{kept}", file=sys.stderr)
        return 2
    except OSError as error:   # the cache, or the records' temporary file, could not be written
        where = f" {error.filename}" if error.filename else " (the cache or a temporary file)"
        print(f"kg build: cannot write{where}: {error.strerror or error}; nothing written", file=sys.stderr)
        return 2
    for problem in result.problems:
        print(f"kg build: skipped {problem}", file=sys.stderr)
    if result.resolution is None:
        print(f"kg build: no usable article in {', '.join(map(str, sources))}; nothing written", file=sys.stderr)
        return 2
    if args.reason:
        from kg import check

        try:
            check.add_inferred(result.dataset, check.reason(result.dataset))
        except Exception as error:  # an inconsistent graph or no Java: say so, keep the extracted graph
            print(f"kg build: --reason failed, graph written without inferences: {error}", file=sys.stderr)
    # With inferences the graph is the dataset's, written sorted; else it streams from the records.
    reported = len(result.problems)
    paths = write_outputs(result.dataset if args.reason else result, args.out)
    for problem in result.problems[reported:]:  # a kept graph of the cache found corrupted
        print(f"kg build: {problem}", file=sys.stderr)
    if not args.quiet:
        print(summary(result))
        print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 1 if result.problems else 0
