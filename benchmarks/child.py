"""One measurement, run in a fresh process by benchmarks/run.py so that its peak memory is its own.

Prints one JSON object on stdout (`queries`: one JSON line per query run). Three kinds:

    python -m benchmarks.child bare CORPUS --unit articles|lines --processes N [--kg-attribute-ruler]
    python -m benchmarks.child build CORPUS --out DIR [--cache DIR] --processes N
    python -m benchmarks.child queries GRAPH --engine oxigraph|oxigraph-disk|rdflib --repeat N --timeout S [--start I]

`bare` is spaCy alone: `spacy.load` of the model kg loads, `nlp.pipe` over the same texts with
the same batch size, nothing else (with --kg-attribute-ruler, the model as kg runs it: its
attribute ruler replaced by kg.attribute_ruler's, which sets the same attributes faster).
`build` runs what `kg build` runs (kg.pipeline.build, write_outputs, which makes the graph as it
writes it, and summary) and reports the time of each step. `queries` loads a graph with
kg.store.load_graph (in memory, or the store on disk beside the file, made first if need be)
and times every query of queries/ on it, and beside each answer its floor: as many rows, of as
many columns, handed over by Oxigraph from the cheapest query there is (`time_floor`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rdflib import Graph


def _texts(corpus: Path) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(corpus.glob("*.txt"))]


def bare(args: argparse.Namespace) -> dict:
    import spacy

    started = time.perf_counter()
    lang = spacy.load(_package(args.model))  # the model under kg's pipeline, without kg's components
    if args.kg_attribute_ruler:
        # The model as kg runs it: its attribute ruler answered by kg's tables, nothing else of kg.
        from kg.attribute_ruler import replace_attribute_ruler

        replace_attribute_ruler(lang)
    texts = _texts(args.corpus)
    if args.unit == "lines":
        # Exactly the lines kg parses (kg.nlp.blocks): every non-blank line, on its own.
        from kg.nlp import blocks

        texts = [line for text in texts for _, line in blocks(text)]
    loaded = time.perf_counter()
    docs = sum(1 for _ in lang.pipe(texts, batch_size=lang.batch_size, n_process=args.processes))
    done = time.perf_counter()
    return {"load": loaded - started, "pipe": done - loaded, "docs": docs, "batch_size": lang.batch_size,
            "model": f"{lang.meta['name']}-{lang.meta['version']}"}


def _package(model: str | None) -> str:
    """The package name kg.nlp.load_pipeline loads: the one named, else the first installed default."""
    import spacy

    from kg.nlp import DEFAULT_MODELS

    for name in ([model] if model else DEFAULT_MODELS):
        if spacy.util.is_package(name):
            return name
    return model or DEFAULT_MODELS[-1]


def build(args: argparse.Namespace) -> dict:
    from kg.pipeline import build as run_build
    from kg.pipeline import summary, write_outputs

    samples: list[tuple[float, int]] = []
    stop = threading.Event()

    def sample() -> None:  # this process's RSS every 0.2 s, to tell the extraction's peak from the graph's
        page = os.sysconf("SC_PAGE_SIZE")
        while not stop.wait(0.2):
            with open("/proc/self/statm") as handle:
                samples.append((time.perf_counter(), int(handle.read().split()[1]) * page))

    sampler = threading.Thread(target=sample, daemon=True)
    if Path("/proc/self/statm").exists():
        sampler.start()
    started = time.perf_counter()
    result = run_build([args.corpus], model=args.model, cache_dir=args.cache, processes=args.processes)
    built = time.perf_counter()
    write_outputs(result, args.out)
    written = time.perf_counter()
    text = summary(result)
    done = time.perf_counter()
    stop.set()
    timings = dict(result.timings)
    timings.update({"write": written - built, "summary": done - written, "total": done - started})
    extracted = started + timings["load"] + timings["extract"]
    resolved = extracted + timings.get("resolve", 0.0)

    def peak(start: float, end: float) -> float:
        return max((r for t, r in samples if start < t <= end), default=0) / 2**20

    rss = {"extract": peak(0.0, extracted), "resolve_graph_write": peak(extracted, done),
           "resolve": peak(extracted, resolved), "write": peak(resolved, written)}
    return {"timings": timings, "rss_mb_by_phase": rss, "model": _package(args.model), "articles": len(result.articles), "cached": result.cached,
            "problems": len(result.problems), "quads": result.digest.quads, "summary": text.splitlines()[:3]}


class _Timeout(BaseException):  # not an Exception: kg.query turns those into query errors
    pass


#: One JSON line at a time on stdout, from the main thread or the watchdog.
_PRINTING = threading.Lock()


def _alarm(signum, frame):
    raise _Timeout()


def query_parameters(name: str, text: str | None = None) -> list[str]:
    """The parameters query `name`'s header declares ("#   ?name  what it is"), in their order
    (from `text`, the query's text, when it is already read)."""
    from kg.query import find_query

    text = find_query(name).read_text(encoding="utf-8") if text is None else text
    block = re.search(r"^# Parameters.*?^# Answer", text, re.MULTILINE | re.DOTALL)
    return re.findall(r"^#\s+\?(\w+)", block.group(0), re.MULTILINE) if block else []


#: A run bound on one of a query's parameters, to that column's value in the first row of the
#: query's unbound answer: one entity (or property, class, role) looked up, as a user asks most
#: queries; by name and, where the header lists one, by IRI.
FIRST_ROW = "first row"


def query_runs() -> list[tuple[str, str, dict | None]]:
    """(query name, label, bindings) for every query of queries/: unbound; bound as its header's
    example; and bound on each parameter its header lists, one at a time, to that column of the
    first row of its unbound answer (bindings None: known once that answer is read)."""
    from rdflib import Literal

    from kg.query import find_query, query_names

    runs: list[tuple[str, str, dict | None]] = []
    for name in query_names():
        runs.append((name, "unbound", {}))
        text = find_query(name).read_text(encoding="utf-8")
        # The header's example ("Example answer (the seeds, ?workLabel "Ballerina")") as a bound run.
        example = re.search(r"Example answer \(the seeds, \?(\w+) \"([^\"]+)\"[;)]", text)
        if example:
            runs.append((name, f"{example.group(1)}={example.group(2)}", {example.group(1): Literal(example.group(2))}))
        for parameter in query_parameters(name, text):
            runs.append((name, f"{parameter}={FIRST_ROW}", None))
    return runs


#: The cheapest query of `rows` rows and `columns` columns: one triple pattern, no join, no filter,
#: no sort; the columns past three repeat its terms. No query with an answer of that shape can be
#: read faster from the same engine, so a floor over a target says the answer alone misses it,
#: whatever the query's plan.
def floor_query(rows: int, columns: int) -> str:
    """The text of the floor query for an answer of `rows` rows and `columns` columns."""
    terms = ["?s", "?p", "?o"]
    projection = [terms[i] if i < 3 else f"({terms[i % 3]} AS ?c{i})" for i in range(columns)]
    return f"SELECT {' '.join(projection)} WHERE {{ ?s ?p ?o }} LIMIT {rows}"


def time_floor(dataset: Graph, rows: int, columns: int, repeat: int) -> float:
    """The median milliseconds Oxigraph itself takes to hand over floor_query(rows, columns)'s every
    term, on the store under `dataset` (a kg.store.load_graph of either Oxigraph engine): pyoxigraph's
    own terms, none made into rdflib's, so that the floor is the engine's and owes nothing to kg."""
    from kg.terms import oxigraph_of

    store = oxigraph_of(dataset)
    if store is None:
        raise ValueError("the floor is Oxigraph's: load the graph with an Oxigraph engine")
    union = bool(getattr(dataset, "default_union", False))
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        read = 0
        for solution in store.query(floor_query(rows, columns), use_default_graph_as_union=union):
            for _term in solution:
                pass
            read += 1
        times.append(time.perf_counter() - t)
    if read != rows:
        raise SystemExit(f"the floor query read {read} rows, not {rows}: the graph holds fewer triples")
    return statistics.median(times) * 1000


def queries(args: argparse.Namespace) -> None:
    """Print one JSON line per query run, from run number `args.start` on.

    rdflib's engine is Python, so an alarm stops a run that outlives `args.timeout`; Oxigraph
    evaluates outside Python and cannot be interrupted, so a watchdog prints the timeout and ends
    the process (exit code 3), and benchmarks/run.py starts another one from the next run.
    """
    from kg.query import read_query, run_query
    from kg.store import load_graph

    started = time.perf_counter()
    dataset = load_graph(args.graph, engine=args.engine)
    print(json.dumps({"load": time.perf_counter() - started}), flush=True)
    signal.signal(signal.SIGALRM, _alarm)
    first_rows: dict[str, dict] = {}   # query name -> its unbound answer's first row, by variable
    floors: dict[tuple[int, int], float] = {}   # (rows, columns) -> the floor's median ms
    for index, (name, label, bindings) in enumerate(query_runs()):
        if index < args.start:
            continue
        text = read_query(name)
        key = f"{name} ({label})"
        times, rows, note, columns = [], None, "", 0
        if bindings is None:  # bound to the unbound answer's first row
            parameter = label.split("=", 1)[0]
            value = first_rows.get(name, {}).get(parameter)
            if value is None:
                print(json.dumps({"index": index, "query": key, "median_ms": None, "runs": 0, "rows": None,
                                  "note": "no first row: the unbound run was stopped or empty"}), flush=True)
                continue
            bindings = {parameter: value}
        for _ in range(args.repeat):
            def expire(key: str = key, index: int = index) -> None:
                _PRINTING.acquire()  # held until the process ends: no line of the main thread's cut in two
                print(json.dumps({"index": index, "query": key, "median_ms": None, "runs": 0, "rows": None,
                                  "note": f"over {args.timeout:g} s"}), flush=True)
                os._exit(3)

            watchdog = threading.Timer(args.timeout + 2, expire)
            watchdog.daemon = True
            watchdog.start()
            signal.setitimer(signal.ITIMER_REAL, args.timeout)
            try:
                t = time.perf_counter()
                answer = run_query(dataset, text, bindings, source=name)
                count, first = 0, None
                for row in answer.rows if answer.rows is not None else ():
                    if count == 0:
                        first = row
                    count += 1
                times.append(time.perf_counter() - t)
                columns = len(answer.variables)
                if not bindings and first is not None:
                    first_rows[name] = dict(zip(answer.variables, first))
                rows = count
            except _Timeout:
                note = f"over {args.timeout:g} s"
                break
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                watchdog.cancel()
            if times[-1] > args.slow:  # a slow query is timed once: its median would not change the verdict
                break
        floor = None
        if rows and columns and args.engine != "rdflib":  # rdflib's engine misses by seconds, not by its floor
            shape = (rows, columns)
            if shape not in floors:
                floors[shape] = time_floor(dataset, rows, columns, args.repeat)
            floor = floors[shape]
        with _PRINTING:
            print(json.dumps({"index": index, "query": key, "median_ms": statistics.median(times) * 1000 if times else None,
                              "runs": len(times), "rows": rows, "note": note, "floor_ms": floor,
                              "bindings": {k: str(v) for k, v in bindings.items()}}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="kind", required=True)
    p = sub.add_parser("bare")
    p.add_argument("corpus", type=Path)
    p.add_argument("--unit", choices=["articles", "lines"], default="articles")
    p.add_argument("--processes", type=int, default=1)
    p.add_argument("--model")
    p.add_argument("--kg-attribute-ruler", action="store_true",
                   help="replace the model's attribute ruler with kg's (kg.attribute_ruler), as kg.nlp.load_pipeline does")
    p = sub.add_parser("build")
    p.add_argument("corpus", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--cache", type=Path)
    p.add_argument("--processes", type=int, default=1)
    p.add_argument("--model")
    p = sub.add_parser("queries")
    p.add_argument("graph", type=Path)
    p.add_argument("--engine", choices=["oxigraph", "oxigraph-disk", "rdflib"], default="oxigraph")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--timeout", type=float, default=120.0)
    p.add_argument("--slow", type=float, default=5.0)
    p.add_argument("--start", type=int, default=0, help="the first query run to time (after a timeout)")
    args = parser.parse_args()
    if args.kind == "queries":
        queries(args)
        return
    result = {"bare": bare, "build": build}[args.kind](args)
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
