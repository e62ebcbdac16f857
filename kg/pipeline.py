"""`kg build`: sources -> nlp -> extract -> resolve -> graph -> files.

The per-article step (:func:`extract_text`) is a pure function of the article's text and the
pipeline's version, so its result is cached under ``<out>/cache/`` keyed by both, and articles
can be processed in several processes. Canonicalisation and conflicts are global and run after.
Output files are written aside and renamed into place, so an interrupted build never leaves a
half-written graph where the previous good one was.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

from rdflib import Dataset
from rdflib.namespace import RDF

from kg import __version__
from kg.extract import ArticleExtraction, Fact, Mention, extract_article
from kg.graph import build_dataset
from kg.namespaces import FKG, GRAPH_CONFLICTS, GRAPH_ENTITIES, PROV
from kg.nlp import PIPELINE_VERSION, ModelNotFound, data_path, load_pipeline, make_docs, one_reading_per_article
from kg.resolve import resolve
from kg.sources import Article, NoArticles, Problem, iter_sources

__all__ = ["BuildResult", "build", "extract_text", "write_outputs", "cli_build", "DEFAULT_SOURCES"]

DEFAULT_SOURCES = Path("seeds")


@dataclass
class BuildResult:
    """What a build made and what it skipped."""

    articles: list[Article] = field(default_factory=list)
    extractions: list[ArticleExtraction] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    dataset: Dataset | None = None
    cached: int = 0


# --------------------------------------------------------------------------- per article


def extract_text(nlp, text: str) -> ArticleExtraction:
    """Mentions and facts of one article's text: the pure per-article step."""
    blocks = make_docs(nlp, text)
    docs = list(nlp.pipe([doc for _, doc in blocks]))
    one_reading_per_article(docs)
    return extract_article(nlp, list(zip([offset for offset, _ in blocks], docs)))


def _rules_fingerprint(model_name: str) -> str:
    digest = hashlib.sha256(f"{PIPELINE_VERSION}|{__version__}|{model_name}".encode())
    for name in sorted(os.listdir(data_path(""))):
        digest.update(name.encode())
        digest.update(data_path(name).read_bytes())
    # The per-article code too: a changed rule runner must not reuse old extractions.
    package = Path(__file__).parent
    for name in ("nlp.py", "extract.py", "dates.py", "sources.py"):
        digest.update((package / name).read_bytes())
    return digest.hexdigest()[:16]


def _to_json(extraction: ArticleExtraction) -> dict:
    return {"mentions": [asdict(m) for m in extraction.mentions],
            "facts": [asdict(f) for f in extraction.facts],
            "main_work": asdict(extraction.main_work) if extraction.main_work else None}


def _from_json(data: dict) -> ArticleExtraction:
    def mention(raw):
        return Mention(**raw) if raw else None

    facts = []
    for raw in data["facts"]:
        raw = dict(raw)
        raw["subject"] = mention(raw["subject"])
        raw["object"] = mention(raw["object"]) if isinstance(raw["object"], dict) else raw["object"]
        raw["work"] = mention(raw["work"])
        facts.append(Fact(**raw))
    return ArticleExtraction([Mention(**m) for m in data["mentions"]], facts, mention(data["main_work"]))


class Cache:
    """Extractions on disk, one JSON file per article, keyed by the text's hash and the rules' fingerprint.

    Each entry carries a checksum of its own content: a corrupted entry is detected, reported and
    rebuilt, never trusted.
    """

    def __init__(self, folder: Path, fingerprint: str):
        self.folder = folder / fingerprint
        self.notes: list[str] = []

    def _path(self, article: Article) -> Path:
        return self.folder / f"{article.sha256}.json"

    def get(self, article: Article) -> ArticleExtraction | None:
        path = self._path(article)
        if not path.exists():
            return None
        try:
            wrapper = json.loads(path.read_text(encoding="utf-8"))
            body = wrapper["body"]
            if hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest() != wrapper["sha256"]:
                raise ValueError("checksum mismatch")
            return _from_json(body)
        except (OSError, ValueError, KeyError, TypeError) as error:
            self.notes.append(f"{path}: corrupted cache entry ({error}); rebuilt")
            return None

    def put(self, article: Article, extraction: ArticleExtraction) -> None:
        body = _to_json(extraction)
        wrapper = {"sha256": hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest(), "body": body}
        self.folder.mkdir(parents=True, exist_ok=True)
        _atomic_write(self._path(article), json.dumps(wrapper, sort_keys=True).encode("utf-8"))


# --------------------------------------------------------------------------- build


def _progress(iterable, total: int | None, enabled: bool):
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, unit="article", file=sys.stderr, leave=False)


def build(
    sources: Sequence[Path],
    *,
    model: str | None = None,
    cache_dir: Path | None = None,
    processes: int = 1,
    progress: bool = False,
) -> BuildResult:
    """Read `sources`, extract every article (from the cache where it can), resolve and build the graph."""
    result = BuildResult()
    nlp = load_pipeline(model)
    model_name = f"{nlp.meta.get('name')}-{nlp.meta.get('version')}"
    cache = Cache(cache_dir, _rules_fingerprint(model_name)) if cache_dir else None
    items = iter_sources(list(sources))
    pending: list[Article] = []

    def flush() -> None:
        texts = [a.text for a in pending]
        for article, extraction in zip(pending, _extract_many(nlp, texts, processes)):
            if cache:
                cache.put(article, extraction)
            result.extractions.append(extraction)
            result.articles.append(article)
        pending.clear()

    try:
        for item in _progress(items, None, progress):
            if isinstance(item, Problem):
                result.problems.append(item)
                continue
            cached = cache.get(item) if cache else None
            if cached is not None:
                result.articles.append(item)
                result.extractions.append(cached)
                result.cached += 1
                continue
            pending.append(item)
            if len(pending) >= 64:
                flush()
        flush()
    except NoArticles:
        pass
    if cache:
        result.problems.extend(Problem(Path(n.split(":")[0]), n.split(": ", 1)[1]) for n in cache.notes)
    order = sorted(range(len(result.articles)), key=lambda i: (result.articles[i].name, result.articles[i].sha256))
    result.articles = [result.articles[i] for i in order]
    result.extractions = [result.extractions[i] for i in order]
    if result.articles:
        resolution = resolve(result.extractions)
        result.dataset = build_dataset(result.articles, result.extractions, resolution)
    return result


def _extract_many(nlp, texts: list[str], processes: int) -> Iterator[ArticleExtraction]:
    if processes <= 1 or len(texts) < 2:
        for text in texts:
            yield extract_text(nlp, text)
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=processes, initializer=_worker_init, initargs=(nlp.meta.get("name"),)) as pool:
        yield from pool.map(_worker_extract, texts, chunksize=max(1, len(texts) // (processes * 4)))


_WORKER_NLP = None


def _worker_init(model: str | None) -> None:
    global _WORKER_NLP
    _WORKER_NLP = load_pipeline(None)


def _worker_extract(text: str) -> ArticleExtraction:
    return extract_text(_WORKER_NLP, text)


# --------------------------------------------------------------------------- output


def _atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file renamed into place."""
    _atomic_write_all({path: data})


def _atomic_write_all(files: dict[Path, bytes]) -> None:
    """Write every file aside first, then rename them all into place.

    A failure while writing (a full disk, an interruption) removes the temporary files and
    leaves every previous file as it was; only the renames, which do not fail for want of
    space, happen after the first old file is replaced.
    """
    written: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            written.append((tmp, path))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
    except BaseException:
        for tmp, _ in written:
            Path(tmp).unlink(missing_ok=True)
        raise
    for tmp, path in written:
        os.replace(tmp, path)


def write_outputs(ds: Dataset, out: Path) -> dict[str, Path]:
    """graph.trig, graph.ttl and graph.jsonld in `out`, replaced together or not at all.

    The serialisations are kg.store's exports: TriG carries every named graph, Turtle and JSON-LD
    the merged view. All three are rendered and written aside before any is renamed into place.
    """
    from kg.store import export_graph

    files = {}
    for name, fmt in (("graph.trig", "trig"), ("graph.ttl", "turtle"), ("graph.jsonld", "json-ld")):
        buffer = io.BytesIO()
        export_graph(ds, fmt, buffer)
        files[out / name] = buffer.getvalue()
    _atomic_write_all(files)
    return {path.name: path for path in files}


def summary(result: BuildResult) -> str:
    """The one-screen summary of a build."""
    ds = result.dataset
    lines = [f"articles: {len(result.articles)} read" + (f" ({result.cached} from cache)" if result.cached else "")
             + (f", {len(result.problems)} skipped" if result.problems else "")]
    if ds is None:
        return "\n".join(lines)
    classes = Counter(str(o).rsplit("#", 1)[-1] for o in ds.graph(GRAPH_ENTITIES).objects(None, RDF.type)
                      if o != FKG.Performance)
    lines.append("entities: " + ", ".join(f"{n} {c}" for c, n in sorted(classes.items(), key=lambda kv: (-kv[1], kv[0]))))
    # Every fact has its claims: count the claims, and the distinct (subject, predicate, object) they state.
    stated: dict = {}
    claims = 0
    for claim, _, _, _ in ds.quads((None, RDF.type, FKG.Claim, None)):
        claims += 1
        triple = tuple(next((o for _, _, o, _ in ds.quads((claim, term, None, None))), None)
                       for term in (RDF.subject, RDF.predicate, RDF.object))
        stated[triple] = triple[1]
    facts = Counter(str(p).rsplit("#", 1)[-1] for p in stated.values())
    lines.append(f"facts: {len(stated)} distinct, {claims} claims; "
                 + ", ".join(f"{r} {n}" for r, n in sorted(facts.items(), key=lambda kv: (-kv[1], kv[0]))))
    lines.extend(_conflict_lines(ds))
    for problem in result.problems:
        lines.append(f"skipped: {problem}")
    return "\n".join(lines)


def _conflict_lines(ds: Dataset) -> list[str]:
    """One line per conflict: what is disputed, each value with the articles that state it."""
    from rdflib.namespace import SKOS

    conflicts = ds.graph(GRAPH_CONFLICTS)
    entities = ds.graph(GRAPH_ENTITIES)
    files = {s: str(o) for s, _, o, _ in ds.quads((None, FKG.fileName, None, None))}

    def label(node) -> str:
        found = entities.value(node, SKOS.prefLabel)
        if found is None:  # a performance: name it by its performer and work
            performer = next((o for _, _, o, _ in ds.quads((node, FKG.performer, None, None))), None)
            work = next((o for _, _, o, _ in ds.quads((node, FKG.work, None, None))), None)
            if performer is not None and work is not None:
                return f"{label(performer)} in {label(work)}"
            return str(node).rsplit("/", 1)[-1]
        return str(found)

    out = [f"conflicts: {len(set(conflicts.subjects(RDF.type, FKG.Conflict)))}"]
    for conflict in sorted(conflicts.subjects(RDF.type, FKG.Conflict)):
        values: dict[str, set[str]] = {}
        for claim in conflicts.objects(conflict, FKG.conflictingClaim):
            value = next((o for _, _, o, _ in ds.quads((claim, RDF.object, None, None))), None)
            article = next((o for _, _, o, _ in ds.quads((claim, PROV.wasDerivedFrom, None, None))), None)
            shown = label(value) if not hasattr(value, "datatype") else str(value)
            values.setdefault(shown, set()).add(files.get(article, "?")[:3])
        prop = str(conflicts.value(conflict, FKG.conflictProperty)).rsplit("#", 1)[-1]
        said = " vs ".join(f"{v} ({', '.join(sorted(a))})" for v, a in sorted(values.items()))
        out.append(f"  {label(conflicts.value(conflict, FKG.conflictSubject))} {prop}: {said} — "
                   f"{conflicts.value(conflict, FKG.conflictStatus)}")
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
    for problem in result.problems:
        print(f"kg build: skipped {problem}", file=sys.stderr)
    if result.dataset is None:
        print(f"kg build: no usable article in {', '.join(map(str, sources))}; nothing written", file=sys.stderr)
        return 2
    if args.reason:
        from kg import check

        try:
            check.add_inferred(result.dataset, check.reason(result.dataset))
        except Exception as error:  # an inconsistent graph or no Java: say so, keep the extracted graph
            print(f"kg build: --reason failed, graph written without inferences: {error}", file=sys.stderr)
    paths = write_outputs(result.dataset, args.out)
    if not args.quiet:
        print(summary(result))
        print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 1 if result.problems else 0
