"""The build and query benchmark of issue 6: `kg build` against bare spaCy, on corpora of 100 to 10,000 articles.

    python -m benchmarks.run                       # the default run (about an hour on 2 cores)
    python -m benchmarks.run --full 100 --sizes 100 --query-size 100    # a two-minute smoke run

For each corpus size (benchmarks/corpus.py makes the corpora: the seeds' sentences recombined,
people renamed), every measurement runs in a fresh process (benchmarks/child.py), whose wall
time, CPU time and peak RSS (os.wait4) are taken here:

- at the `--full` sizes: bare spaCy (`nlp.pipe`, same model, same batch size, same texts) on
  whole articles and on the lines kg parses, with one process and with two (`n_process=2`);
  `kg build` with two processes (and whether it wrote the same bytes as one);
- at every `--sizes` size: `kg build` with one process, and a rebuild after 1% of the articles
  changed, against the cache of that build;
- on the graph of `--query-size` articles: every query of queries/, median latency on the
  engines `kg query` uses (Oxigraph, through kg.store.load_graph: in memory, and on disk as it
  keeps a graph past 50 MB, the store made afresh first) and on rdflib's own.

Writes benchmarks/results/results.json, benchmarks/results/scaling.png and
benchmarks/results/results.md (the tables, also printed).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterable, Sequence

from benchmarks.child import FIRST_ROW

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable


def _tree_rss(pid: int) -> int | None:
    """Bytes resident in `pid` and its descendants (psutil, where installed), else None."""
    try:
        import psutil
    except ImportError:
        return None
    try:
        proc = psutil.Process(pid)
        total = proc.memory_info().rss
        for child in proc.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
        return total
    except psutil.Error:
        return None


def measure(args: list[str], label: str) -> dict:
    """Run `python -m benchmarks.child ARGS` in a fresh process: its JSON, wall and CPU time, peak RSS."""
    print(f"  {label} ...", end="", file=sys.stderr, flush=True)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.Popen([PYTHON, "-m", "benchmarks.child", *args], cwd=HERE.parent,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak_tree = [0]
    stop = threading.Event()

    def sample() -> None:  # the sum over the process tree: what two worker processes hold together
        while not stop.wait(0.25):
            rss = _tree_rss(proc.pid)
            if rss:
                peak_tree[0] = max(peak_tree[0], rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"\n{label} failed ({proc.returncode}):\n{err.decode(errors='replace')[-3000:]}")
    result = json.loads(out.decode().strip().splitlines()[-1])
    result.update({
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,        # the child and every worker it waited for
        "peak_rss_mb": usage.ru_maxrss / 1024,          # the largest single process of the tree
        "peak_tree_rss_mb": peak_tree[0] / 2**20 or None,  # all processes together, sampled every 0.25 s
        "loadavg_before": load_before,
    })
    print(f" {wall:.1f} s, {result['peak_rss_mb']:.0f} MB", file=sys.stderr, flush=True)
    return result


def corpus(work: Path, size: int, seed: int) -> tuple[Path, int]:
    """The corpus of `size` articles under `work` (made once; the same seed makes the same texts)."""
    from benchmarks.corpus import make_corpus

    folder = work / f"corpus-{size}"
    stamp = folder / ".made"
    if not stamp.exists() or stamp.read_text() != f"{size} {seed}":
        shutil.rmtree(folder, ignore_errors=True)
        print(f"making a corpus of {size} articles in {folder}", file=sys.stderr)
        make_corpus(folder, size, seed=seed)
        stamp.write_text(f"{size} {seed}")
    words = sum(len(p.read_text(encoding="utf-8").split()) for p in folder.glob("*.txt"))
    return folder, words


def _fresh(*folders: Path) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def run_size(work: Path, size: int, full: bool, args: argparse.Namespace) -> dict:
    folder, words = corpus(work, size, args.seed)
    lines = sum(1 for p in folder.glob("*.txt") for line in p.read_text(encoding="utf-8").split("\n") if line.strip())
    print(f"{size} articles: {words} words, {lines} lines", file=sys.stderr)
    model = ["--model", args.model] if args.model else []
    row: dict = {"articles": size, "words": words, "lines": lines}
    out1, cache = work / f"out-{size}-p1", work / f"cache-{size}"
    _fresh(out1, cache)
    if full:
        row["bare_articles_p1"] = measure(["bare", str(folder), "--unit", "articles", *model], "bare spaCy, whole articles, 1 process")
        row["bare_lines_p1"] = measure(["bare", str(folder), "--unit", "lines", *model], "bare spaCy, kg's lines, 1 process")
        row["bare_lines_p2"] = measure(["bare", str(folder), "--unit", "lines", "--processes", "2", *model],
                                       "bare spaCy, kg's lines, 2 processes")
    row["build_p1"] = measure(["build", str(folder), "--out", str(out1), "--cache", str(cache), *model], "kg build, 1 process")
    if full:
        out2, cache2 = work / f"out-{size}-p2", work / f"cache-{size}-p2"
        _fresh(out2, cache2)
        row["build_p2"] = measure(["build", str(folder), "--out", str(out2), "--cache", str(cache2), "--processes", "2", *model],
                                  "kg build, 2 processes")
        row["p2_same_bytes"] = {n: (out1 / n).read_bytes() == (out2 / n).read_bytes()
                                for n in ("graph.trig", "graph.ttl", "graph.jsonld")}
        _fresh(out2, cache2)
    # 1% of the articles changed, in a copy; the rebuild reads the rest from the full build's cache.
    from benchmarks.corpus import perturb

    changed = work / f"corpus-{size}-changed"
    _fresh(changed)
    shutil.copytree(folder, changed)
    edited = perturb(sorted(changed.glob("*.txt")), 0.01, seed=args.seed + 1)
    row["rebuild_1pct"] = measure(["build", str(changed), "--out", str(work / f"out-{size}-rebuild"), "--cache", str(cache), *model],
                                  f"kg build after {len(edited)} articles changed, with the cache")
    row["rebuild_changed"] = len(edited)
    _fresh(changed, work / f"out-{size}-rebuild")
    _fresh(cache)
    return row


def derive(row: dict) -> dict:
    """Throughputs and ratios of one size's measurements."""
    words = row["words"]
    d: dict = {}
    b1 = row["build_p1"]["timings"]
    build_s = b1["total"] - b1["load"]             # everything but loading the model
    d["build_p1_wps"] = words / build_s
    d["extract_p1_wps"] = words / b1["extract"]
    d["build_p1_cpu_wps"] = words / row["build_p1"]["cpu"]
    if "bare_lines_p1" in row:
        d["bare_articles_wps"] = words / row["bare_articles_p1"]["pipe"]
        d["bare_lines_wps"] = words / row["bare_lines_p1"]["pipe"]
        d["bare_lines_p2_wps"] = words / row["bare_lines_p2"]["pipe"]
        d["ratio_vs_bare_articles"] = d["build_p1_wps"] / d["bare_articles_wps"]
        d["ratio_vs_bare_lines"] = d["build_p1_wps"] / d["bare_lines_wps"]
        d["extract_ratio_vs_bare_lines"] = d["extract_p1_wps"] / d["bare_lines_wps"]
        # CPU seconds, which other load on the machine inflates far less than wall time.
        d["cpu_ratio_vs_bare_lines"] = row["bare_lines_p1"]["cpu"] / row["build_p1"]["cpu"]
        b2 = row["build_p2"]["timings"]
        d["build_p2_wps"] = words / (b2["total"] - b2["load"])
        d["p2_speedup"] = d["build_p2_wps"] / d["build_p1_wps"]
        d["p2_extract_speedup"] = b1["extract"] / b2["extract"]
        d["bare_p2_speedup"] = d["bare_lines_p2_wps"] / d["bare_lines_wps"]
    if "rebuild_1pct" in row:
        d["rebuild_share"] = row["rebuild_1pct"]["timings"]["total"] / b1["total"]
        d["rebuild_share_wall"] = row["rebuild_1pct"]["wall"] / row["build_p1"]["wall"]
    return d


def run_queries(work: Path, size: int, args: argparse.Namespace) -> dict:
    """Every query run on the graph of `size` articles, on both engines, each engine in its own processes."""
    graph = work / f"out-{size}-p1" / "graph.trig"
    if not graph.exists():
        raise SystemExit(f"no graph of {size} articles at {graph}: give --query-size one of --sizes")
    out = {"articles": size, "graph_mb": graph.stat().st_size / 2**20, "repeat": args.repeat, "timeout": args.query_timeout}
    for engine in args.engines:
        runs: dict = {}
        loads, peaks, start = [], [], 0
        if engine == "oxigraph-disk":  # made afresh, timed apart: a process that makes the store and runs nothing
            from kg.store import store_folder

            shutil.rmtree(store_folder(graph), ignore_errors=True)
            made = subprocess.run([PYTHON, "-m", "benchmarks.child", "queries", str(graph), "--engine", engine,
                                   "--start", str(10**9)], cwd=HERE.parent, capture_output=True, text=True, check=True)
            out["store_made_s"] = json.loads(made.stdout.splitlines()[0])["load"]
            out["store_mb"] = sum(f.stat().st_size for f in store_folder(graph).rglob("*") if f.is_file()) / 2**20
        while True:  # a process per stretch of runs: an Oxigraph run over the timeout ends its process
            print(f"  queries on {size} articles, {engine}, from run {start} ...", end="", file=sys.stderr, flush=True)
            proc = subprocess.Popen([PYTHON, "-m", "benchmarks.child", "queries", str(graph), "--engine", engine,
                                     "--repeat", str(args.repeat), "--timeout", str(args.query_timeout), "--start", str(start)],
                                    cwd=HERE.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            last = start - 1
            for line in proc.stdout:
                record = json.loads(line)
                if "load" in record:
                    loads.append(record["load"])
                    continue
                last = record.pop("index")
                runs[record.pop("query")] = record
            err = proc.stderr.read()
            _, status, usage = os.wait4(proc.pid, 0)
            code = os.waitstatus_to_exitcode(status)
            peaks.append(usage.ru_maxrss / 1024)
            print(f" exit {code}", file=sys.stderr, flush=True)
            if code == 0:
                break
            if code != 3:
                raise SystemExit(f"queries on {engine} failed ({code}):\n{err[-3000:]}")
            start = last + 1
        out[engine] = {"load": min(loads), "peak_rss_mb": max(peaks), "queries": runs}
    return out


# --------------------------------------------------------------------------- report


def _f(value, digits=0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _mb(value) -> str:
    return "—" if value is None else f"{value:,.0f} MB"


def _same(flags: dict[str, bool]) -> str:
    return ", ".join(f"{name.split('.')[1]} {'yes' if same else 'no'}" for name, same in flags.items())


def _table(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A titled Markdown table: columns right-aligned, but for those whose name ends with "<"
    (left-aligned, the marker dropped)."""
    left = [name.endswith("<") for name in columns]
    names = [name.rstrip("<") for name in columns]
    return "\n".join([title, "", "| " + " | ".join(names) + " |",
                      "|" + "|".join("---" if is_left else "---:" for is_left in left) + "|",
                      *("| " + " | ".join(cells) + " |" for cells in rows)])


def tables(results: dict) -> str:
    rows = results["sizes"]

    def build_row(row: dict) -> list[str]:
        b = row["build_p1"]
        t = b["timings"]
        return [f"{row['articles']:,}", f"{row['words']:,}", f"{b['quads']:,}", f"{_f(t['total'], 1)} s",
                f"{_f(t['extract'], 1)} s", f"{_f(t.get('resolve'), 1)} s", f"{_f(t['write'] + t['summary'], 1)} s",
                _mb(b.get("rss_mb_by_phase", {}).get("extract")), _mb(b["peak_rss_mb"])]

    blocks = [_table("Build time and memory against corpus size (`kg build`, one process; load average at the start of "
                     "each run in the JSON):",
                     ["articles", "words", "quads", "build", "extraction", "resolve", "graph, written + summary",
                      "peak RSS, extraction", "peak RSS, whole build"],
                     map(build_row, rows))]
    full = [row for row in rows if "bare_lines_wps" in row["derived"]]
    if full:
        def throughput_row(row: dict) -> list[str]:
            d = row["derived"]
            cpu_articles = row["bare_articles_p1"]["cpu"] / row["build_p1"]["cpu"]
            return [f"{row['articles']:,}", _f(d["bare_lines_wps"]), _f(d["bare_articles_wps"]), _f(d["build_p1_wps"]),
                    _f(d["extract_p1_wps"]), f"{_f(d['ratio_vs_bare_lines'], 2)} / {_f(d['cpu_ratio_vs_bare_lines'], 2)}",
                    f"{_f(d['ratio_vs_bare_articles'], 2)} / {_f(cpu_articles, 2)}"]

        def processes_row(row: dict) -> list[str]:
            d = row["derived"]
            return [f"{row['articles']:,}", _f(d["bare_p2_speedup"], 2), f"{_f(d['p2_speedup'], 2)} ({_f(d['p2_extract_speedup'], 2)})",
                    _same(row["p2_same_bytes"]), f"{_f(row['build_p2']['peak_tree_rss_mb'])} MB"]

        blocks.append(_table("Throughput, one process each, on the same texts (words/s of wall time, model loading excluded; "
                              "the ratios also in CPU seconds of the whole process, which other load on the machine distorts less):",
                              ["articles", "bare spaCy, kg's lines", "bare spaCy, whole articles", "`kg build`",
                               "`kg build` extraction only", "build ÷ bare lines (wall / CPU)", "build ÷ bare articles (wall / CPU)"],
                              map(throughput_row, full)))
        blocks.append(_table("Two processes against one:",
                              ["articles", "bare spaCy, 2 ÷ 1", "`kg build`, 2 ÷ 1 (extraction only)",
                               "same bytes, 1 and 2 processes<", "peak RSS, 2 processes together"],
                              map(processes_row, full)))
    rebuilt = [row for row in rows if "rebuild_share" in row["derived"]]
    if rebuilt:
        def rebuild_row(row: dict) -> list[str]:
            d, rebuild, full_build = row["derived"], row["rebuild_1pct"], row["build_p1"]
            return [f"{row['articles']:,}", str(row["rebuild_changed"]), f"{_f(rebuild['timings']['total'], 1)} s",
                    f"{_f(full_build['timings']['total'], 1)} s", f"{_f(d['rebuild_share'] * 100, 1)}%",
                    f"{_f(rebuild['wall'], 1)} s, {_f(full_build['wall'], 1)} s", f"{_f(d['rebuild_share_wall'] * 100, 1)}%"]

        blocks.append(_table("A rebuild after 1% of the articles changed, against the full build (on the build's clock, "
                              "load to summary; and in wall time, which adds Python's start and the imports to both):",
                              ["articles", "changed", "rebuild", "full build", "rebuild ÷ full build", "wall: rebuild, full",
                               "rebuild ÷ full build, wall"],
                              map(rebuild_row, rebuilt)))
    q = results.get("queries")
    if q and "oxigraph" in q:
        empty = {"load": None, "peak_rss_mb": None, "queries": {}}
        q = {"rdflib": empty, "oxigraph-disk": empty, **q}
        def query_row(name: str, ox: dict) -> list[str]:
            disk, rd = (q[engine]["queries"].get(name, {}) for engine in ("oxigraph-disk", "rdflib"))
            rows = next((r["rows"] for r in (ox, disk, rd) if r.get("rows") is not None), None)
            label = name
            if name.endswith(f"={FIRST_ROW})") and ox.get("bindings"):  # say which entity the first row gave
                (parameter, value), = ox["bindings"].items()
                label = f"{name.split(' (')[0]} ({parameter}={_short(value)}: the unbound answer's first row)"
            return [label, _f(rows), _ms(ox), _ms(disk), _ms(rd)]

        on_disk = (f"Oxigraph on disk: the store made in {_f(q.get('store_made_s'), 1)} s ({_f(q.get('store_mb'))} MB), "
                   f"then opened in {_f(q['oxigraph-disk']['load'], 2)} s, {_f(q['oxigraph-disk']['peak_rss_mb'])} MB; "
                   if q["oxigraph-disk"]["queries"] else "")
        blocks.append(_table(f"Queries on the graph of {q['articles']:,} articles ({_f(q['graph_mb'])} MB of TriG; "
                              f"loading it: Oxigraph in memory {_f(q['oxigraph']['load'], 1)} s, {_f(q['oxigraph']['peak_rss_mb'])} MB; "
                              f"{on_disk}rdflib {_f(q['rdflib']['load'], 1)} s, {_f(q['rdflib']['peak_rss_mb'])} MB), every row read, "
                              f"median of up to {q.get('repeat', 5)} runs (one run when a run takes over 5 s), a run stopped after "
                              f"{_f(q.get('timeout'))} s. `kg query` reads a graph of up to 50 MB into memory at every run "
                              "and keeps a larger one on disk (`--store`)"
                              + (f"; timed by `{results['query_command']}`" if results.get("query_command") else "") + ":",
                              ["query (parameters)<", "rows", "Oxigraph in memory", "Oxigraph on disk", "rdflib's engine"],
                              (query_row(name, ox) for name, ox in q["oxigraph"]["queries"].items())))
        counts = []
        for engine, title in (("oxigraph", "In memory"), ("oxigraph-disk", "On disk")):
            runs = list(q[engine]["queries"].values())
            if runs:
                timed, under, bounded = floor_count(runs)
                counts.append(f"{title}: {under} of {len(runs)} runs under {TARGET_MS} ms; of the {timed - under} "
                              f"timed over it, {bounded} have a floor over it too; {len(runs) - timed} stopped "
                              "at the timeout or with no first row to bind.")
        if any("floor_ms" in r for r in q["oxigraph"]["queries"].values()):
            blocks.append("The floor of a run over the target is the time Oxigraph itself takes to hand over "
                          "as many rows, of as many columns, of the cheapest query there is, on the same store "
                          "(one triple pattern, no join, no filter, no sort; every term read as pyoxigraph's, "
                          "none converted to rdflib's: `floor_query` and `time_floor` in benchmarks/child.py): "
                          "no answer of that size can be read faster, whatever the query's plan. " + " ".join(counts))
    return "\n\n".join(blocks) + "\n"


def _short(value: str) -> str:
    """An IRI of the graph as its prefixed name (fkr:person/...), anything else as it is."""
    from kg.namespaces import FKG, FKR

    for prefix, namespace in (("fkr", str(FKR)), ("fkg", str(FKG))):
        if value.startswith(namespace):
            return f"{prefix}:{value[len(namespace):]}"
    return value


#: The target of issue 6: every query under this many milliseconds (median) on the 10,000-article graph.
TARGET_MS = 100


def _ms(run: dict) -> str:
    """A run's median as a cell: bold over the target, with its floor (child.floor_query) when it is over."""
    if not run:
        return "—"
    if run.get("median_ms") is None:
        return run.get("note") or "—"
    value = run["median_ms"]
    text = f"{value:,.1f} ms" if value < TARGET_MS else f"**{value:,.0f} ms**"
    notes = [run["note"]] if run.get("note") else []
    if value >= TARGET_MS and run.get("floor_ms") is not None:
        notes.append(f"floor {run['floor_ms']:,.0f} ms")
    return text + (f" ({'; '.join(notes)})" if notes else "")


def floor_count(runs: Iterable[dict]) -> tuple[int, int, int]:
    """(runs timed, runs under the target, runs over it whose floor is over it too) among `runs`."""
    timed = [r for r in runs if r.get("median_ms") is not None]
    under = sum(r["median_ms"] < TARGET_MS for r in timed)
    bounded = sum(r["median_ms"] >= TARGET_MS and (r.get("floor_ms") or 0) >= TARGET_MS for r in timed)
    return len(timed), under, bounded


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["sizes"]
    sizes = [r["articles"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    total = [r["build_p1"]["timings"]["total"] for r in rows]
    extract = [r["build_p1"]["timings"]["extract"] for r in rows]
    left.loglog(sizes, total, "o-", label="kg build, 1 process")
    left.loglog(sizes, extract, "s--", label="  of which extraction (model + rules)")
    bare = [(r["articles"], r["bare_lines_p1"]["pipe"]) for r in rows if "bare_lines_p1" in r]
    if bare:
        left.loglog(*zip(*bare), "^:", label="bare spaCy on the same lines")
    p2 = [(r["articles"], r["build_p2"]["timings"]["total"]) for r in rows if "build_p2" in r]
    if p2:
        left.loglog(*zip(*p2), "d-", label="kg build, 2 processes")
    left.loglog(sizes, [total[-1] * s / sizes[-1] for s in sizes], color="grey", lw=0.8, label="linear in size")
    left.set_xlabel("articles")
    left.set_ylabel("seconds")
    left.set_title("Build time")
    left.legend(fontsize=8)
    right.semilogx(sizes, [r["build_p1"]["peak_rss_mb"] for r in rows], "o-", label="kg build, 1 process")
    p2m = [(r["articles"], r["build_p2"]["peak_tree_rss_mb"]) for r in rows if r.get("build_p2", {}).get("peak_tree_rss_mb")]
    if p2m:
        right.semilogx(*zip(*p2m), "d-", label="kg build, 2 processes (all)")
    barem = [(r["articles"], r["bare_lines_p1"]["peak_rss_mb"]) for r in rows if "bare_lines_p1" in r]
    if barem:
        right.semilogx(*zip(*barem), "^:", label="bare spaCy, 1 process")
    phase = [(r["articles"], r["build_p1"]["rss_mb_by_phase"]["extract"]) for r in rows if r["build_p1"].get("rss_mb_by_phase")]
    if phase:
        right.semilogx(*zip(*phase), "s", label="kg build, 1 process, while extracting")
    right.set_xlabel("articles")
    right.set_ylabel("peak RSS, MB")
    right.set_ylim(bottom=0)
    right.set_title("Peak memory")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000], help="corpus sizes to build")
    parser.add_argument("--full", type=int, nargs="*", default=[1000],
                        help="sizes that also get bare spaCy and 2 processes (every size gets the 1%% rebuild)")
    parser.add_argument("--query-size", type=int, default=10000, help="the size whose graph the queries run on")
    parser.add_argument("--repeat", type=int, default=3, help="runs per query (median)")
    parser.add_argument("--query-timeout", type=float, default=40.0,
                        help="seconds before one query run is stopped (40: every claim, read whole in memory, took 16-23 s)")
    parser.add_argument("--model", help="spaCy model (default: the one kg loads)")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--work", type=Path, default=HERE / "work", help="corpora and builds (default: benchmarks/work)")
    parser.add_argument("--results", type=Path, default=HERE / "results")
    parser.add_argument("--report", action="store_true", help="only redraw the tables and plot from results.json")
    parser.add_argument("--engines", nargs="+", choices=["oxigraph", "oxigraph-disk", "rdflib"],
                        default=["oxigraph", "oxigraph-disk", "rdflib"],
                        help="the query engines to time")
    parser.add_argument("--queries-only", action="store_true",
                        help="only time the queries, on the graph a previous run left in --work")
    args = parser.parse_args()
    if args.report:
        results = json.loads((args.results / "results.json").read_text())
        plot(results, args.results / "scaling.png")
        text = tables(results)
        (args.results / "results.md").write_text(text)
        print(text)
        return
    args.work.mkdir(parents=True, exist_ok=True)
    args.results.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if args.queries_only:  # the builds are done (results.json, benchmarks/work): time the queries again
        results = json.loads((args.results / "results.json").read_text())
        results["queries"] = {**results.get("queries", {}), **run_queries(args.work, args.query_size, args)}
        results["query_command"] = " ".join(["python -m benchmarks.run", *sys.argv[1:]])
        (args.results / "results.json").write_text(json.dumps(results, indent=1))
        plot(results, args.results / "scaling.png")
        text = tables(results)
        (args.results / "results.md").write_text(text)
        print(text)
        return
    results: dict = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "command": " ".join(["python -m benchmarks.run", *sys.argv[1:]]),
        "sizes": [],
    }
    for size in sorted(set(args.sizes) | set(args.full)):
        row = run_size(args.work, size, size in args.full, args)
        row["derived"] = derive(row)
        results["sizes"].append(row)
        (args.results / "results.json").write_text(json.dumps(results, indent=1))
    if args.query_size:
        results["queries"] = {**results.get("queries", {}), **run_queries(args.work, args.query_size, args)}
    results["seconds"] = time.perf_counter() - started
    (args.results / "results.json").write_text(json.dumps(results, indent=1))
    plot(results, args.results / "scaling.png")
    text = tables(results)
    (args.results / "results.md").write_text(text)
    print(text)
    print(f"({results['seconds'] / 60:.0f} minutes; results in {args.results})", file=sys.stderr)


if __name__ == "__main__":
    main()
