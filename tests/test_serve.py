"""kg/serve.py: `kg serve` runs Oxigraph's read-only SPARQL endpoint and stops cleanly.

The server runs as a child process on a free port of 127.0.0.1; every wait is bounded and the
child is always killed in a `finally`.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from rdflib import Graph
from SPARQLWrapper import CSV, JSON, POST, TURTLE, SPARQLWrapper

from kg.store import OxigraphNotFound, find_oxigraph, kept_store, open_store
from kg.namespaces import FKG, FKR

FIXTURE = Path(__file__).parent / "data" / "store" / "fixture.trig"
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30
PREFIXES = "PREFIX fkg: <https://w3id.org/franchise-kg/ontology#>\nPREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    query = urllib.parse.urlencode({"query": "ASK { }"})
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"kg serve exited early with {process.returncode}: {process.stderr.read().decode()}")
        try:
            with urllib.request.urlopen(f"{url}?{query}", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise AssertionError(f"no answer from {url} within {START_TIMEOUT_S} s")


def stop(process: subprocess.Popen, sig: int) -> int:
    process.send_signal(sig)
    return process.wait(timeout=STOP_TIMEOUT_S)


@contextmanager
def serving(graph: Path, *options: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """(query URL, process) of `kg serve --graph GRAPH` on a free port, once it answers; stopped
    at the end as a user would stop it (SIGTERM, so that it stops its server too), else killed."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "kg.cli", "serve", "--graph", str(graph), "--port", str(port), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/query"
    try:
        wait_until_up(url, process)
        yield url, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_S)
        process.stdout.close()
        process.stderr.close()


@pytest.fixture
def server(tmp_path):
    """(query URL, process, graph folder) of `kg serve` on a copy of the fixture in tmp_path."""
    graph = tmp_path / "graph.trig"
    shutil.copyfile(FIXTURE, graph)
    with serving(graph, "--timeout", "2") as (url, process):
        yield url, process, tmp_path


def sparql(url: str, query: str, fmt: str) -> SPARQLWrapper:
    wrapper = SPARQLWrapper(url)
    wrapper.setQuery(query)
    wrapper.setReturnFormat(fmt)
    wrapper.setTimeout(30)
    return wrapper


def directors(url: str) -> list[str]:
    """The names of the people who directed a work, as the endpoint at `url` answers."""
    select = PREFIXES + "SELECT DISTINCT ?name WHERE { ?w fkg:directedBy ?p . ?p skos:prefLabel ?name }"
    return [b["name"]["value"] for b in sparql(url, select, JSON).queryAndConvert()["results"]["bindings"]]


def test_serve_answers_json_csv_and_turtle_refuses_updates_and_stops_on_ctrl_c(server):
    url, process, folder = server
    assert kept_store(folder / "graph.trig") == folder / "graph.trig.oxigraph" / "store"  # made, and kept

    # JSON results; the default graph is the union of the named graphs (the facts are in article graphs)
    assert directors(url) == ["Len Wiseman"]

    # CSV results
    csv_text = sparql(url, PREFIXES + "SELECT DISTINCT ?place WHERE { ?w fkg:filmedIn ?place }", CSV).queryAndConvert()
    assert csv_text.decode().splitlines() == ["place", str(FKR["place/prague"])]

    # CONSTRUCT as Turtle
    construct = PREFIXES + "CONSTRUCT { ?w fkg:distributedBy ?d } WHERE { ?w fkg:distributedBy ?d }"
    turtle = sparql(url, construct, TURTLE).queryAndConvert()
    graph = Graph().parse(data=turtle, format="turtle")
    assert set(graph) == {(FKR["work/ballerina"], FKG.distributedBy, FKR["organization/lionsgate"])}

    # updates are refused, and nothing changed
    update = SPARQLWrapper(url, updateEndpoint=url.replace("/query", "/update"))
    update.setMethod(POST)
    update.setQuery("DELETE WHERE { ?s ?p ?o }")
    with pytest.raises(urllib.error.HTTPError) as refused:
        update.query()
    assert refused.value.code == 403
    count = sparql(url, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", JSON).queryAndConvert()
    assert int(count["results"]["bindings"][0]["n"]["value"]) > 800

    # Ctrl-C: the server stops, and kg serve ends by SIGINT as every kg command does (a shell
    # says 130); the store stays for the next run
    assert stop(process, signal.SIGINT) == -signal.SIGINT
    assert sorted(p.name for p in folder.iterdir()) == ["graph.trig", "graph.trig.oxigraph"]
    err = process.stderr.read().decode()
    assert err.splitlines()[0] == (f"kg serve: keeping {folder / 'graph.trig'} as an Oxigraph store in "
                                   f"{folder / 'graph.trig.oxigraph'}/ (once, until the file changes) ...")
    assert err.splitlines()[-1] == "kg serve: stopped"


def test_serve_stops_on_sigterm(server):
    url, process, folder = server
    assert stop(process, signal.SIGTERM) == -signal.SIGTERM
    assert sorted(p.name for p in folder.iterdir()) == ["graph.trig", "graph.trig.oxigraph"]


def test_serve_serves_the_store_kg_query_kept_and_leaves_it(tmp_path):
    graph = tmp_path / "graph.trig"
    shutil.copyfile(FIXTURE, graph)
    kept = open_store(graph)   # as `kg query` keeps a large graph
    del kept
    with serving(graph) as (url, process):
        assert directors(url) == ["Len Wiseman"]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.trig", "graph.trig.oxigraph"]  # no other
        assert stop(process, signal.SIGINT) == -signal.SIGINT
        err = process.stderr.read().decode()
    assert f"serving the store kept for {graph} in {tmp_path / 'graph.trig.oxigraph'}/" in err
    assert "loading" not in err
    assert kept_store(graph) == tmp_path / "graph.trig.oxigraph" / "store"   # still there for the next run


def test_serve_stops_a_query_that_runs_too_long(server):
    """--timeout reaches Oxigraph's --timeout-s: the evaluation is cancelled after 2 s, not minutes.

    Oxigraph checks its cancellation token between evaluation steps, so the answer's status line
    may already have gone out: the cancellation then ends the body instead of an error status.
    """
    url, _, _ = server
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    request = urllib.request.Request(f"{url}?{urllib.parse.urlencode({'query': slow})}", headers={"Accept": "text/csv"})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            body = response.read().decode()
    except urllib.error.HTTPError as error:
        body = error.read().decode()
    assert "cancelled" in body
    assert time.monotonic() - started < 30


def test_the_server_does_not_outlive_kg_serve(server):
    """Even a `kg serve` killed outright (SIGKILL, no chance to forward) takes its server along."""
    url, process, _ = server
    process.kill()
    process.wait(timeout=STOP_TIMEOUT_S)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}?{urllib.parse.urlencode({'query': 'ASK { }'})}", timeout=1).close()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return
        time.sleep(0.2)
    raise AssertionError("the Oxigraph server still answers after kg serve was killed")


def test_serve_listens_on_localhost_by_default():
    from kg.cli import build_parser

    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port) == ("127.0.0.1", 7878)


def test_find_oxigraph_prefers_the_one_beside_python(tmp_path, monkeypatch):
    beside = tmp_path / "bin" / "oxigraph"
    beside.parent.mkdir()
    beside.write_text("#!/bin/sh\n")
    beside.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    assert find_oxigraph() == beside


def test_missing_oxigraph_is_a_clear_message(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(OxigraphNotFound, match="pip install oxigraph"):
        find_oxigraph()
    from kg import cli

    assert cli.main(["serve", "--graph", str(FIXTURE)]) == 2
    assert "pip install oxigraph" in capsys.readouterr().err


def test_serve_without_a_graph_exits_2(tmp_path, capsys):
    from kg import cli

    assert cli.main(["serve", "--graph", str(tmp_path / "absent.trig")]) == 2
    assert "run `kg build` first" in capsys.readouterr().err


def test_serve_makes_a_store_of_its_own_when_the_folder_cannot_keep_one(tmp_path):
    graph = tmp_path / "graph.trig"
    shutil.copyfile(FIXTURE, graph)
    (tmp_path / "graph.trig.oxigraph").write_text("a file where the store's folder would go\n")
    with serving(graph) as (url, process):
        assert directors(url) == ["Len Wiseman"]
        assert stop(process, signal.SIGINT) == -signal.SIGINT
        err = process.stderr.read().decode()
    fallback = [line for line in err.splitlines() if "instead" in line]
    assert len(fallback) == 1 and fallback[0].startswith(
        f"kg serve: {tmp_path / 'graph.trig.oxigraph'}: cannot make the store: ")
    temporary = Path(fallback[0].split(" into ")[1].split(" instead")[0])
    assert not temporary.parent.exists()   # removed at the end
    assert (tmp_path / "graph.trig.oxigraph").read_text() == "a file where the store's folder would go\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.trig", "graph.trig.oxigraph"]


def test_a_port_in_use_is_said_in_one_line_before_anything_is_made(tmp_path):
    """It was said by Oxigraph's server after the store was made and the endpoint announced, with
    Rust's backtrace under it wherever RUST_BACKTRACE is set (a Rust developer's machine)."""
    graph = tmp_path / "graph.trig"
    shutil.copyfile(FIXTURE, graph)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "kg.cli", "serve", "--graph", str(graph), "--port", str(port)],
                              capture_output=True, text=True, timeout=60,
                              env={**os.environ, "RUST_BACKTRACE": "1", "RUST_LIB_BACKTRACE": "1"})
    assert (done.returncode, done.stderr) == (1, f"kg serve: cannot listen on 127.0.0.1:{port}: Address already in use\n")
    assert [p.name for p in tmp_path.iterdir()] == ["graph.trig"]   # no store made for nothing
