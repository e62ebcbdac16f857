"""Bad and hostile input through the command line (issue 7).

`kg build` on bad articles: each bad file is one line on stderr naming the file and why, never a
traceback, and never stops the good article beside it from reaching the graph. Every case is a
folder holding one good article and one bad thing, built through the command (`kg.cli.main`, with
the session's spaCy pipeline so the model is loaded once); one test runs the real `kg` command in a
subprocess on a folder holding every bad file at once. Exit codes: 0 all read, 1 some skipped (and
listed), 2 nothing usable or a usage error.

Hostile graph files (a remote JSON-LD @context, RDF/XML external entities) given to every command
that reads --graph are refused, exit 2, without opening a connection; bad queries exit 2 with the
parser's message; --bind values never change a query's structure. What tests/test_store.py,
tests/test_query.py and tests/test_serve.py already prove (timeouts, streaming, read-only localhost server) is not repeated.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Dataset, Literal
from rdflib.namespace import RDF, SKOS

from kg.cli import main
from kg.namespaces import DCTERMS, FKG, mint

ROOT = Path(__file__).resolve().parent.parent

GOOD = "Ballerina was filmed in Prague.\nThe cast of Ballerina includes Tom Ashgrove as Viktor Hale.\n"
#: A cast line with an accented name, for the encodings (Latin-1, UTF-16) that must read it right.
ACCENTED = "Ballerina stars Zoë Bellweather as Ms. Perkins.\n"

BALLERINA = mint("work", "Ballerina")
PRAGUE = mint("place", "Prague")
ASHGROVE = mint("person", "Tom Ashgrove")
HALE = mint("character", "Viktor Hale")
BELLWEATHER = mint("person", "Zoë Bellweather")


# --------------------------------------------------------------------------- helpers


def build(capsys, *args: str | Path) -> tuple[int, list[str], str]:
    """`kg build ARGS --quiet`: (exit code, stderr lines, stdout)."""
    code = main(["build", *map(str, args), "--quiet"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err + out
    return code, err.splitlines(), out


def graph(out: Path) -> Dataset:
    ds = Dataset()
    ds.parse(out / "graph.trig", format="trig")
    return ds


def holds(ds: Dataset, s, p, o) -> bool:
    return any(True for _ in ds.quads((s, p, o, None)))


def assert_good_article_is_in(out: Path) -> Dataset:
    ds = graph(out)
    assert holds(ds, BALLERINA, FKG.filmedIn, PRAGUE)
    assert holds(ds, BALLERINA, FKG.hasCastMember, ASHGROVE)
    assert holds(ds, ASHGROVE, FKG.portrays, HALE)
    names = {str(o) for _, _, o, _ in ds.quads((None, FKG.fileName, None, None))}
    assert "good.txt" in names
    return ds


def articles_in(ds: Dataset) -> set[str]:
    return {str(o) for s, _, _, _ in ds.quads((None, RDF.type, FKG.Article, None))
            for _, _, o, _ in ds.quads((s, FKG.fileName, None, None))}


@pytest.fixture
def folder(tmp_path) -> Path:
    """A folder holding the good article; each test adds its bad thing."""
    path = tmp_path / "articles"
    path.mkdir()
    (path / "good.txt").write_text(GOOD, encoding="utf-8")
    return path


def write_manifest(folder: Path, rows: list[list[str]]) -> Path:
    path = folder / "sources.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["file", "title", "published"], *rows])
    return path


def assert_one_line(lines: list[str], path: Path, reason: str) -> None:
    assert len(lines) == 1, lines
    assert lines[0].startswith("kg build: skipped ")
    assert str(path) in lines[0]
    assert reason in lines[0]


# --------------------------------------------------------------------------- skipped files: exit 1, one line each


@pytest.mark.parametrize(
    "content, reason",
    [
        pytest.param(b"", "empty file", id="empty"),
        pytest.param(b"  \n\t\r\n \xc2\xa0\n", "empty file (whitespace only)", id="whitespace-only"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8, "binary file", id="binary-with-nul"),
        pytest.param(bytes(range(1, 9)) * 400 + b"Ballerina", "binary file", id="binary-control-bytes"),
        pytest.param(codecs.BOM_UTF16_LE + b"\x00\xd8" + "Ballerina".encode("utf-16-le"), "UTF-16", id="bad-utf16"),
        pytest.param(b"<html><body><script>var cast = 'Tom Ashgrove';</script></body></html>", "no text", id="html-no-text"),
    ],
)
def test_unusable_article_is_one_line_and_the_good_one_is_built(quick_build, folder, capsys, content, reason):
    bad = folder / "bad.txt"
    bad.write_bytes(content)
    code, err, _ = build(capsys, folder, "--out", folder.parent / "out")
    assert code == 1
    assert_one_line(err, bad, reason)
    assert articles_in(assert_good_article_is_in(folder.parent / "out")) == {"good.txt"}


def test_unreadable_article_is_one_line(quick_build, folder, capsys, monkeypatch):
    bad = folder / "secret.txt"
    bad.write_text("Ballerina was filmed in Vienna.\n", encoding="utf-8")
    bad.chmod(0)
    if os.geteuid() == 0:  # root reads anything: make the open fail as it would for a user
        real_open = Path.open

        def refusing_open(self, *args, **kwargs):
            if self.name == "secret.txt":
                raise PermissionError(13, "Permission denied", str(self))
            return real_open(self, *args, **kwargs)

        monkeypatch.setattr(Path, "open", refusing_open)
    try:
        code, err, _ = build(capsys, folder, "--out", folder.parent / "out")
    finally:
        bad.chmod(0o644)
    assert code == 1
    assert_one_line(err, bad, "cannot read: permission denied")
    assert not holds(assert_good_article_is_in(folder.parent / "out"), BALLERINA, FKG.filmedIn, mint("place", "Vienna"))


def test_broken_link_is_one_line(quick_build, folder, capsys):
    link = folder / "moved.txt"
    link.symlink_to(folder / "gone.txt")
    code, err, _ = build(capsys, folder, "--out", folder.parent / "out")
    assert code == 1
    assert_one_line(err, link, "broken link")
    assert_good_article_is_in(folder.parent / "out")


@pytest.mark.parametrize(
    "name, content",
    [
        pytest.param("zcopy.txt", GOOD.encode("utf-8"), id="same-bytes"),
        pytest.param("zcopy.txt", codecs.BOM_UTF8 + GOOD.replace("\n", "\r\n").encode("utf-8"), id="bom-and-crlf"),
        pytest.param("acopy.txt", GOOD.encode("utf-8"), id="copy-sorts-first"),
    ],
)
def test_same_article_twice_is_one_source(quick_build, folder, capsys, name, content):
    copy = folder / name
    copy.write_bytes(content)
    code, err, _ = build(capsys, folder, "--out", folder.parent / "out")
    assert code == 1
    first, second = sorted(["good.txt", name])
    assert_one_line(err, folder / second, f"duplicate of {first}")
    ds = graph(folder.parent / "out")
    assert len(set(ds.quads((None, RDF.type, FKG.Article, None)))) == 1
    assert articles_in(ds) == {first}
    assert holds(ds, BALLERINA, FKG.filmedIn, PRAGUE)


def test_same_article_given_twice_on_the_command_line_is_read_once(quick_build, folder, capsys):
    code, err, _ = build(capsys, folder, folder / "good.txt", "--out", folder.parent / "out")
    assert code == 1
    assert_one_line(err, folder / "good.txt", "given more than once")
    assert len(articles_in(assert_good_article_is_in(folder.parent / "out"))) == 1


def test_manifest_row_naming_a_missing_file_is_one_line(quick_build, folder, capsys):
    write_manifest(folder, [["good.txt", "Good", "2024-01-02"], ["ghost.txt", "Ghost", ""]])
    code, err, _ = build(capsys, folder, "--out", folder.parent / "out")
    assert code == 1
    assert_one_line(err, folder / "ghost.txt", "listed in sources.csv (line 3) but missing")
    ds = assert_good_article_is_in(folder.parent / "out")
    # the manifest's other rows still count
    assert holds(ds, None, FKG.fileName, Literal("good.txt"))
    assert {str(o) for _, _, o, _ in ds.quads((None, DCTERMS.title, None, None))} == {"Good"}


@pytest.mark.parametrize(
    "manifest, reason",
    [
        pytest.param(b"name;when\ngood.txt;2024-01-02\n", "line 1: missing column(s) file, title, published", id="missing-columns"),
        pytest.param(b"file,title,published\ngood.txt,Good, Better,2024-01-02\n", "line 2: 4 fields, expected 3", id="unquoted-comma"),
        pytest.param(b"file,title,published\ngood.txt,Good,02/01/2024\n", "line 2: bad published date", id="bad-date"),
        pytest.param(b"file,title,published\ngood.txt,Caf\xe9,\n", "not valid text in UTF-8", id="not-utf8"),
        pytest.param(b"\n \n", "empty manifest", id="blank"),
    ],
)
def test_malformed_manifest_is_one_line_and_the_article_is_still_built(quick_build, folder, capsys, manifest, reason):
    path = folder / "sources.csv"
    path.write_bytes(manifest)
    code, err, _ = build(capsys, folder, "--out", folder.parent / "out")
    assert code == 1
    assert_one_line(err, path, reason)
    assert_good_article_is_in(folder.parent / "out")


def test_missing_source_beside_a_good_folder_is_one_line(quick_build, folder, capsys):
    missing = folder.parent / "no-such-folder"
    code, err, _ = build(capsys, folder, missing, "--out", folder.parent / "out")
    assert code == 1
    assert_one_line(err, missing, "no such file or folder")
    assert_good_article_is_in(folder.parent / "out")


def test_folder_with_no_articles_beside_a_good_one_is_one_line(quick_build, folder, capsys):
    empty = folder.parent / "empty"
    empty.mkdir()
    (empty / "notes.md").write_text("Ballerina was filmed in Vienna.\n", encoding="utf-8")
    code, err, _ = build(capsys, folder, empty, "--out", folder.parent / "out")
    assert code == 1
    assert_one_line(err, empty, "no .txt articles in folder")
    assert_good_article_is_in(folder.parent / "out")


# --------------------------------------------------------------------------- read correctly: exit 0, nothing on stderr


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(("Ballerina (2025)\n\n" + ACCENTED).encode("latin-1"), id="latin-1"),
        pytest.param(("Ballerina (2025)\r\n\r\n" + ACCENTED).encode("cp1252"), id="cp1252-crlf"),
        pytest.param(("Ballerina (2025)\n\n" + ACCENTED).encode("utf-16"), id="utf-16-bom"),
        pytest.param(codecs.BOM_UTF16_BE + ("Ballerina (2025)\n\n" + ACCENTED).encode("utf-16-be"), id="utf-16-be-bom"),
        pytest.param(codecs.BOM_UTF8 + ("Ballerina (2025)\n\n" + ACCENTED).encode("utf-8"), id="utf-8-bom"),
    ],
)
def test_other_encodings_are_read_and_accents_survive(quick_build, folder, capsys, content):
    (folder / "other.txt").write_bytes(content)
    code, err, _ = build(capsys, folder, "--out", folder.parent / "out")
    assert (code, err) == (0, [])
    ds = assert_good_article_is_in(folder.parent / "out")
    assert holds(ds, BELLWEATHER, SKOS.prefLabel, Literal("Zoë Bellweather"))
    assert holds(ds, BELLWEATHER, FKG.portrays, mint("character", "Ms. Perkins"))
    assert articles_in(ds) == {"good.txt", "other.txt"}
    # and the same text in every serialisation, not mojibake
    for name in ("graph.trig", "graph.ttl", "graph.jsonld"):
        text = (folder.parent / "out" / name).read_text(encoding="utf-8")
        assert "Zoë Bellweather" in text and "ZoÃ«" not in text


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Ballerina news</title>
  <style>p { color: red; }</style>
  <script>var cast = "Rex Calloway as Tobias Crane";</script>
</head>
<body>
  <nav><a href="/">Home</a> | <a href="/news">News &amp; Reviews</a></nav>
  <h1>Ballerina adds to its cast</h1>
  <p>Ballerina stars <b>Zoë Bellweather</b> as Ms.&nbsp;Perkins.</p>
  <p>Ballerina was filmed in <a href="/places/budapest">Budapest</a>.</p>
</body>
</html>
"""


def test_html_page_saved_as_txt_is_read_as_its_text(quick_build, folder, capsys):
    (folder / "page.txt").write_text(PAGE, encoding="utf-8")
    code, err, _ = build(capsys, folder, "--out", folder.parent / "out")
    assert (code, err) == (0, [])
    ds = assert_good_article_is_in(folder.parent / "out")
    assert holds(ds, BELLWEATHER, FKG.portrays, mint("character", "Ms. Perkins"))
    assert holds(ds, BALLERINA, FKG.filmedIn, mint("place", "Budapest"))
    # the headline is the page's <h1>; the script's text never became a fact
    assert holds(ds, None, DCTERMS.title, Literal("Ballerina adds to its cast"))
    assert not holds(ds, None, None, mint("person", "Rex Calloway"))
    evidence = [str(o) for _, _, o, _ in ds.quads((None, FKG.evidence, None, None))]
    assert evidence and not any(mark in text for text in evidence for mark in ("<", ">", "&amp;", "&nbsp;"))


#: Size of the large article. The issue asks for 5 MB; a 5 MB article takes ~6 minutes and ~1 GB
#: to build (1 MB: ~85 s), so the test uses a size that keeps the suite quick. The reading side
#: of a 5 MB file is covered by tests/test_sources.py.
LARGE_BYTES = 128 * 1024


def test_large_article_is_processed_to_its_end(quick_build, folder, capsys):
    sentences = ["The crew worked late in the studio.", "Critics praised the long action scenes.",
                 "Fans waited outside the cinema for hours.", "The film was shot over several months."]
    lines, size, i = [], 0, 0
    while size < LARGE_BYTES:
        line = " ".join(sentences[(i + k) % 4] for k in range(4))
        lines.append(line)
        size += len(line) + 1
        i += 1
    lines.append("Ballerina was also filmed in Budapest.")  # the last line: read only if all was
    (folder / "large.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, err, _ = build(capsys, folder, "--out", folder.parent / "out")
    assert (code, err) == (0, [])
    ds = assert_good_article_is_in(folder.parent / "out")
    assert holds(ds, BALLERINA, FKG.filmedIn, mint("place", "Budapest"))
    assert articles_in(ds) == {"good.txt", "large.txt"}


# --------------------------------------------------------------------------- nothing usable: exit 2


def test_folder_of_bad_files_only_exits_2_and_lists_each(quick_build, tmp_path, capsys):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "a.txt").write_bytes(b"")
    (folder / "b.txt").write_bytes(b"\x00\x01\x02" * 100)
    write_manifest(folder, [["c.txt", "", ""]])
    out = tmp_path / "out"
    code, err, _ = build(capsys, folder, "--out", out)
    assert code == 2
    assert len(err) == 4, err
    assert any("a.txt: empty file" in line for line in err)
    assert any("b.txt: binary file" in line for line in err)
    assert any("c.txt: listed in sources.csv" in line for line in err)
    assert err[-1] == f"kg build: no usable article in {folder}; nothing written"
    assert not out.exists() or not list(out.glob("graph.*"))


def test_no_usable_article_leaves_a_previous_graph_alone(quick_build, folder, tmp_path, capsys):
    out = tmp_path / "out"
    assert build(capsys, folder, "--out", out)[0] == 0
    before = {p.name: p.read_bytes() for p in out.glob("graph.*")}
    empty = tmp_path / "empty"
    empty.mkdir()
    code, err, _ = build(capsys, empty, "--out", out)
    assert code == 2
    assert err == [f"kg build: skipped {empty}: no .txt articles in folder",
                   f"kg build: no usable article in {empty}; nothing written"]
    assert {p.name: p.read_bytes() for p in out.glob("graph.*")} == before


def test_a_full_disk_is_one_line_and_leaves_a_previous_graph_alone(quick_build, folder, tmp_path, capsys, monkeypatch):
    # The build keeps its records in a temporary file (and its extractions in the cache):
    # a disk that cannot take them stops the build with a line, not a traceback.
    out = tmp_path / "out"
    assert build(capsys, folder, "--out", out)[0] == 0
    before = {p.name: p.read_bytes() for p in out.glob("graph.*")}
    import kg.pipeline

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(kg.pipeline.tempfile, "TemporaryFile", full)
    code, err, _ = build(capsys, folder, "--out", out, "--no-cache")
    assert code == 2
    assert err == ["kg build: cannot write (the cache or a temporary file): No space left on device; nothing written"]
    assert {p.name: p.read_bytes() for p in out.glob("graph.*")} == before


@pytest.mark.parametrize("args", [["--processes", "many"], ["--no-such-option"]], ids=["bad-value", "unknown-option"])
def test_usage_error_exits_2(tmp_path, capsys, args):
    with pytest.raises(SystemExit) as exited:
        main(["build", str(tmp_path), *args])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "usage: kg" in err and "Traceback" not in err


@pytest.mark.parametrize("args, said", [
    (["build", "--processes", "0"], "kg build: error: argument --processes: '0' is not a whole number of 1 or more"),
    (["build", "--processes", "-3"], "kg build: error: argument --processes: '-3' is not a whole number of 1 or more"),
    (["query", "cast", "--timeout", "0"], "kg query: error: argument --timeout: '0' is not a number of seconds above 0"),
    (["query", "cast", "--timeout", "-1"], "kg query: error: argument --timeout: '-1' is not a number of seconds above 0"),
    (["query", "cast", "--timeout", "nan"], "kg query: error: argument --timeout: 'nan' is not a number of seconds above 0"),
    (["query", "cast", "--timeout", "soon"], "kg query: error: argument --timeout: 'soon' is not a number of seconds above 0"),
    (["serve", "--port", "0"], "kg serve: error: argument --port: '0' is not a port from 1 to 65535"),
    (["serve", "--port", "65536"], "kg serve: error: argument --port: '65536' is not a port from 1 to 65535"),
    (["serve", "--port", "http"], "kg serve: error: argument --port: 'http' is not a port from 1 to 65535"),
    (["serve", "--timeout", "0"], "kg serve: error: argument --timeout: '0' is not a whole number of 1 or more"),
    (["viz", "--max-entities", "0"], "kg viz: error: argument --max-entities: '0' is not a whole number of 1 or more"),
    (["viz", "--max-entities", "1.5"], "kg viz: error: argument --max-entities: '1.5' is not a whole number of 1 or more"),
])
def test_a_number_out_of_range_is_a_usage_error_naming_the_option(capsys, args, said):
    """--processes 0 ran one process, --timeout -1 or --max-entities -1 ran as if sensible, and
    --port 0 or 99999 reached Oxigraph, which failed after kg had announced its endpoint."""
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == said


# --------------------------------------------------------------------------- the real command, everything at once


def test_kg_build_command_with_every_bad_file_at_once(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD, encoding="utf-8")
    bad = {
        "empty.txt": (b"", "empty file"),
        "blank.txt": (b" \n\n\t\n", "empty file (whitespace only)"),
        "image.txt": (b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)) * 4, "binary file"),
        "twin.txt": (GOOD.encode("utf-8"), "duplicate of good.txt"),
    }
    for name, (content, _) in bad.items():
        (folder / name).write_bytes(content)
    (folder / "latin.txt").write_bytes(("Ballerina (2025)\n\n" + ACCENTED).encode("latin-1"))
    (folder / "page.txt").write_text(PAGE, encoding="utf-8")
    write_manifest(folder, [["good.txt", "Good", "2024-01-02"], ["ghost.txt", "", ""]])
    bad["ghost.txt"] = (None, "listed in sources.csv (line 3) but missing")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "kg.cli", "build", str(folder), "--out", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == len(bad), lines
    for name, (_, reason) in bad.items():
        assert sum(f"kg build: skipped {folder / name}: {reason}" in line for line in lines) == 1, (name, lines)
    # the summary (on stdout) lists what was skipped too
    assert done.stdout.startswith(f"articles: 3 read, {len(bad)} skipped")
    ds = assert_good_article_is_in(out)
    assert articles_in(ds) == {"good.txt", "latin.txt", "page.txt"}
    assert holds(ds, BELLWEATHER, SKOS.prefLabel, Literal("Zoë Bellweather"))


# --------------------------------------------------------------------------- hostile graph files: every command that reads --graph
#
# A remote JSON-LD @context, an RDF/XML external entity or DTD: refused with a message and exit 2,
# and no connection is ever opened. The "remote" host is a local server that counts connections
# and would serve a valid context, so a fetch would have been seen (and would have succeeded).


class _Recorder:
    """A local HTTP server that records every connection made to it."""

    def __init__(self) -> None:
        import http.server
        import threading

        recorder = self
        self.connections: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                body = b'{"@context": {"p": "http://e/p"}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/ld+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        class Server(http.server.ThreadingHTTPServer):
            def verify_request(self, request, client_address) -> bool:
                recorder.connections.append(f"{client_address}")
                return True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def remote():
    recorder = _Recorder()
    yield recorder
    recorder.close()


def kg_command(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "kg.cli", *map(str, args)]


#: Every command that reads a graph file, with the arguments it needs besides --graph.
GRAPH_COMMANDS = {
    "query": ["query", "--text", "ASK { ?s ?p ?o }"],
    "export": ["export", "--format", "nt"],
    "eval": ["eval", str(ROOT / "tests" / "gold")],
    "viz": ["viz"],
    "check": ["check"],
    "serve": ["serve"],   # refused before it listens
}


@pytest.mark.parametrize("command", sorted(GRAPH_COMMANDS))
def test_every_command_says_alike_that_there_is_no_graph_yet(tmp_path, monkeypatch, capsys, command):
    monkeypatch.chdir(tmp_path)   # a newcomer's first command, before any `kg build`: the default build/graph.trig
    assert main(GRAPH_COMMANDS[command]) == 2
    assert main([*GRAPH_COMMANDS[command], "--graph", "elsewhere/graph.nt"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"kg {command}: build/graph.trig: no such file; run `kg build` first or pass --graph",
        f"kg {command}: elsewhere/graph.nt: no such file; run `kg build` first or pass --graph",
    ]
    assert list(tmp_path.iterdir()) == []   # nothing made on the way (no output folder, no store)


def test_python_dash_m_kg_is_the_kg_command(tmp_path):
    # Where pip's script folder is not on PATH, `python -m kg` must do what `kg` does.
    done = subprocess.run([sys.executable, "-m", "kg", "query", "cast"], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "kg query: build/graph.trig: no such file; run `kg build` first or pass --graph\n"


def _run_refused(command: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    return done


def _jsonld(tmp_path: Path, document: dict) -> Path:
    import json

    path = tmp_path / "evil.jsonld"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.mark.parametrize("command", sorted(GRAPH_COMMANDS))
def test_remote_jsonld_context_is_refused_by_every_command_without_a_connection(remote, tmp_path, command):
    context = f"{remote.url}/context.jsonld"
    path = _jsonld(tmp_path, {"@context": context, "@id": "http://e/a", "p": "x"})
    before = len(remote.connections)
    done = _run_refused(kg_command(*GRAPH_COMMANDS[command], "--graph", path), tmp_path)
    refusal = done.stderr.strip()
    assert refusal.startswith(f"kg {command}: ") and str(path) in refusal
    assert f"refusing remote JSON-LD @context '{context}'" in refusal
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr   # refused before any store is made
    assert remote.connections[before:] == []


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(lambda url: {"@context": [{"e": "http://e/"}, f"{url}/c"], "@id": "http://e/a"}, id="in-a-list"),
        pytest.param(lambda url: {"@context": {"@import": f"{url}/c"}, "@id": "http://e/a"}, id="import"),
        pytest.param(lambda url: {"@graph": [{"@id": "http://e/a", "http://e/p": {"@context": f"{url}/c", "@id": "http://e/b"}}]},
                     id="nested-node"),
        pytest.param(lambda url: {"@context": {"p": {"@id": "http://e/p", "@context": f"{url}/c"}},
                                  "@id": "http://e/a", "p": {"@id": "http://e/b"}}, id="scoped-context"),
        pytest.param(lambda url: {"@context": "context.jsonld", "@id": "http://e/a"}, id="relative-reference"),
    ],
)
def test_every_form_of_remote_context_is_refused_without_a_connection(remote, tmp_path, document):
    (tmp_path / "context.jsonld").write_text('{"@context": {"p": "http://e/p"}}', encoding="utf-8")
    path = _jsonld(tmp_path, document(remote.url))
    before = len(remote.connections)
    done = _run_refused(kg_command("query", "--text", "ASK { ?s ?p ?o }", "--graph", path), tmp_path)
    assert done.stderr.startswith(f"kg query: {path}: refusing ")
    assert len(done.stderr.strip().splitlines()) == 1
    assert remote.connections[before:] == []


XXE = """<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ {declaration} ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://e/">
  <rdf:Description rdf:about="http://e/a"><e:p>&xxe;</e:p></rdf:Description>
</rdf:RDF>
"""


FILE_ENTITY = '<!ENTITY xxe SYSTEM "file://{secret}">'
HTTP_ENTITY = '<!ENTITY xxe SYSTEM "{url}/secret">'
PARAMETER_ENTITY = '<!ENTITY % dtd SYSTEM "{url}/x.dtd"> %dtd;'


@pytest.mark.parametrize(
    "command, declaration",
    [
        pytest.param("query", FILE_ENTITY, id="query-file-entity"),
        pytest.param("query", HTTP_ENTITY, id="query-http-entity"),
        pytest.param("query", PARAMETER_ENTITY, id="query-parameter-entity"),
        pytest.param("export", FILE_ENTITY, id="export-file-entity"),
        pytest.param("serve", HTTP_ENTITY, id="serve-http-entity"),
    ],
)
def test_rdfxml_external_entities_are_refused_without_reading_or_connecting(remote, tmp_path, declaration, command):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    path = tmp_path / "evil.rdf"
    path.write_text(XXE.replace("{declaration}", declaration.format(secret=secret, url=remote.url)), encoding="utf-8")
    before = len(remote.connections)
    done = _run_refused(kg_command(*GRAPH_COMMANDS[command], "--graph", path), tmp_path)
    assert f"{path}: refusing" in done.stderr
    assert "TOP-SECRET" not in done.stdout + done.stderr
    assert remote.connections[before:] == []


def test_rdfxml_external_dtd_is_refused_without_a_connection(remote, tmp_path):
    path = tmp_path / "dtd.rdf"
    path.write_text(XXE.replace("[ {declaration} ]", f'SYSTEM "{remote.url}/x.dtd"').replace("&xxe;", "x"), encoding="utf-8")
    before = len(remote.connections)
    done = _run_refused(kg_command("query", "--text", "ASK { ?s ?p ?o }", "--graph", path), tmp_path)
    assert "external DTD" in done.stderr
    assert remote.connections[before:] == []


def test_the_recorder_does_see_a_connection(remote):
    """The guard above is real: a fetch of the context would have been recorded."""
    import urllib.request

    before = len(remote.connections)
    with urllib.request.urlopen(f"{remote.url}/context.jsonld", timeout=10) as answer:
        assert b"@context" in answer.read()
    assert len(remote.connections) == before + 1


# --------------------------------------------------------------------------- kg query: bad queries and hostile bindings


FIXTURE = ROOT / "tests" / "data" / "store" / "fixture.trig"


@pytest.mark.parametrize(
    "args, expected",
    [
        pytest.param(["--text", "SELECT ?x WHERE {\n  ?x ?y\n}"], r"kg query: --text: syntax error at line 3, column \d+: ",
                     id="malformed-inline"),
        pytest.param(["--text", "PREFIX e: <http://e/>\nSELECT * WHERE { ?s nope:p ?o }"],
                     r"kg query: --text: syntax error at line 2, column \d+: ", id="unknown-prefix"),
        pytest.param(["no-such-question"], r"kg query: no query named 'no-such-question'", id="unknown-name"),
    ],
)
def test_kg_query_bad_query_exits_2_with_the_parsers_message(tmp_path, args, expected):
    done = subprocess.run(kg_command("query", *args, "--graph", FIXTURE), capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert re.match(expected, done.stderr), done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "value",
    [
        'x" } UNION { ?work ?p ?workLabel } #',
        "x' } UNION { ?work ?p ?workLabel } #",
        'Ballerina"@en . ?work ?p ?o } #',
        "Ballerina\\u0022 } #",
        "?workLabel",
        "Ballerina\n} UNION { ?work ?p ?workLabel }",
    ],
)
def test_kg_query_bindings_never_change_the_querys_structure(capsys, value):
    """Spliced into the text, each of these would widen the answer; bound as a term, it matches nothing."""
    code = main(["query", "cast", "--graph", str(FIXTURE), "--bind", f"workLabel={value}", "--format", "csv"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.splitlines() == [out.splitlines()[0]]  # the header, and no row
    assert main(["query", "cast", "--graph", str(FIXTURE), "--bind", "workLabel=Ballerina", "--format", "csv"]) == 0
    assert len(capsys.readouterr().out.splitlines()) > 1  # the same query, honestly bound, has rows


def test_a_binding_in_double_quotes_that_is_no_literal_is_refused(capsys):
    """A value in double quotes is read as a Turtle literal ("2025-06-06"^^xsd:date); one that is
    not one whole literal is refused, not bound as text nor spliced."""
    code = main(["query", "cast", "--graph", str(FIXTURE), "--bind", 'workLabel="""} ; DROP ALL ; #'])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == ("kg query: workLabel: '\"\"\"} ; DROP ALL ; #' is not a literal as Turtle writes one: "
                   '"text", "text"@en or "text"^^xsd:date (a double quote inside written \\")\n')
