"""A read-only SPARQL 1.1 Protocol endpoint over the graph: Oxigraph's own server, run as a child.

`kg serve` serves the Oxigraph store on disk kept for the graph file in a folder beside it
(build/graph.trig.oxigraph/, the one `kg query` keeps: kg.store.keep_store), made first when
there is none or the file has changed since; then runs
`oxigraph serve-read-only --union-default-graph --timeout-s N` on it: queries see the union of
all named graphs as the default graph (as `kg query` does), updates are refused, and a query
that runs longer than the timeout is stopped by the server. It listens on 127.0.0.1 unless told
otherwise. Ctrl-C (SIGINT) or SIGTERM is forwarded to the server; `kg serve` waits for it to
stop and ends by that signal, as every kg command does (a shell says 130 or 143), leaving the
store for the next run. While the store is being made, either
stops the making at once (a tenth of a second), leaving nothing half-made. When the graph's
folder cannot keep a store, a store of its own is made in a temporary folder, removed at the end.

Endpoints (Oxigraph's): http://HOST:PORT/query for SPARQL queries (GET ?query=... or POST),
with the answer format chosen by the Accept header (JSON, XML, CSV, TSV for SELECT; Turtle,
N-Triples, RDF/XML, JSON-LD... for CONSTRUCT); /update answers 403.

Limits of Oxigraph 0.5 worth knowing: the timeout is checked between evaluation steps, so some
long joins, and an answer already streaming to the client, run past it; and the server runs
SERVICE clauses, fetching whatever endpoint a query names. Keep it on localhost.
"""

from __future__ import annotations

import argparse
import ipaddress
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

from kg.store import (GraphLoadError, MakingStopped, OxigraphNotFound, StoreFolderError, find_oxigraph, keep_store,
                      make_store, oxigraph_child)

__all__ = ["serve", "cli_serve"]

#: Seconds to wait for the server to stop after a forwarded signal, before killing it.
STOP_GRACE_S = 10.0


class _Stopped(BaseException):
    """SIGINT or SIGTERM while the store is found or made (serve's handler raises it there)."""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _cannot_listen(host: str, port: int) -> str | None:
    """Why a server could not listen at host:port (another one is there), or None. Bound as
    servers bind (SO_REUSEADDR), so that the connections a stopped server left closing do not count."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as err:
        return err.strerror or str(err)
    return None


def _listening(host: str, port: int) -> bool:
    """Whether something accepts connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def serve(graph: Path, host: str = "127.0.0.1", port: int = 7878, timeout: int = 30) -> int:
    """Serve `graph` read-only at http://HOST:PORT/query until SIGINT or SIGTERM; the exit code.

    After a stop by Ctrl-C or SIGTERM, and the server's with it, 128 + the signal's number (130,
    143), as every kg command gives (kg.cli.run then ends by that signal, so that a script that
    ran kg serve stops too); the server's own exit code (or 1) if it stopped by itself; 2 if the
    graph or the oxigraph executable is missing.
    """
    oxigraph = find_oxigraph()
    graph = Path(graph)
    address = host.strip("[]")   # an IPv6 address as sockets take it
    taken = _cannot_listen(address, port)
    if taken:   # said before the store is made, which can take a minute
        print(f"kg serve: cannot listen on {host}:{port}: {taken}", file=sys.stderr)
        return 1
    stopping: list[int] = []
    child: subprocess.Popen[bytes] | None = None
    workdir: Path | None = None

    preparing = True   # finding or making the store: a signal stops that at once

    def forward(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)
        if preparing:
            if len(stopping) == 1:  # once: a second signal must not interrupt the way out
                # Raised where the main thread waits: in subprocess.run, which then kills
                # `oxigraph load` (a SIGTERM sent to kg serve alone does not reach it); the
                # half-made store's folder is removed on the way out.
                raise _Stopped
            return
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    def making(folder: Path) -> None:
        print(f"kg serve: keeping {graph} as an Oxigraph store in {folder}/ (once, until the file changes) ...",
              file=sys.stderr, flush=True)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        # Until `preparing` is False, a signal raises _Stopped (forward), caught at the end.
        try:
            location = keep_store(graph, making=making)
            print(f"kg serve: serving the store kept for {graph} in {location.parent}/", file=sys.stderr)
        except MakingStopped:   # killed (for want of memory?): elsewhere, the same end
            raise
        except StoreFolderError as err:  # a folder that cannot keep it: a store of its own, removed at the end
            workdir = Path(tempfile.mkdtemp(prefix="kg-serve-"))
            location = workdir / "store"
            print(f"kg serve: {err}; loading {graph} into {location} instead ...", file=sys.stderr, flush=True)
            make_store(graph, location)
        preparing = False
        if stopping:  # a signal came after the making, before the server started
            print("kg serve: stopped", file=sys.stderr)
            return 128 + stopping[0]
        if not _is_loopback(host):
            print(f"kg serve: warning: listening on {host}, reachable from other machines", file=sys.stderr)
        bind = f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"
        command = [
            str(oxigraph), "serve-read-only",
            "--location", str(location),
            "--bind", bind,
            "--union-default-graph",
            "--timeout-s", str(timeout),
        ]
        # A session of its own: a Ctrl-C in the terminal reaches the child only through us.
        child = subprocess.Popen(command, start_new_session=True, **oxigraph_child())
        url_host = f"[{host}]" if ":" in host and not host.startswith("[") else host
        # Announced once it listens: a server that cannot (a port in use) says why and ends unannounced.
        while child.poll() is None and not stopping and not _listening(address, port):
            time.sleep(0.05)
        if child.poll() is None and not stopping:
            print(
                f"kg serve: SPARQL endpoint http://{url_host}:{port}/query (read-only, union default graph, "
                f"query timeout {timeout} s); Ctrl-C to stop",
                file=sys.stderr,
            )
        while child.poll() is None:
            try:
                child.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                pass
            if stopping:
                if child.poll() is None:  # a signal that came before the server started was not forwarded
                    child.send_signal(stopping[0])
                deadline = time.monotonic() + STOP_GRACE_S
                while child.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.05)
                break
        if child.poll() is None:
            child.kill()
            child.wait()
        if stopping:
            print("kg serve: stopped", file=sys.stderr)
            return 128 + stopping[0]
        print(f"kg serve: the server stopped by itself (exit code {child.returncode})", file=sys.stderr)
        return child.returncode or 1
    except _Stopped:  # a signal while the store was found or made
        print("kg serve: stopped", file=sys.stderr)
        return 128 + stopping[0]
    finally:
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)


def cli_serve(args: argparse.Namespace) -> int:
    """`kg serve [--graph PATH] [--host 127.0.0.1] [--port 7878] [--timeout N]`; see serve()."""
    try:
        return serve(args.graph, host=args.host, port=args.port, timeout=args.timeout)
    except (OxigraphNotFound, GraphLoadError) as err:
        print(f"kg serve: {err}", file=sys.stderr)
        return 2
    except subprocess.SubprocessError as err:
        print(f"kg serve: {err}", file=sys.stderr)
        return 2
