"""kg/store.py: loading a graph file safely, on either engine, and the fixture the query and
export tests share (tests/data/store/fixture.trig).

The query answers themselves are tested in tests/test_queries.py; kg.query in tests/test_query.py.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib.namespace as ns
from rdflib import Dataset, Literal, URIRef

from kg import store
from kg.namespaces import FKG, FKR
from kg.export import merged_view
from kg.store import (GraphLoadError, MakingStopped, OxigraphNotFound, StoreFolderError, kept_store, load_graph, make_store, open_store,
                      store_folder)

FIXTURE = Path(__file__).parent / "data" / "store" / "fixture.trig"
BALLERINA = FKR["work/ballerina"]
WISEMAN = FKR["person/len-wiseman"]


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return load_graph(FIXTURE)


# ---------------------------------------------------------------------------------------------
# The fixture itself follows docs/model.md
# ---------------------------------------------------------------------------------------------


def test_fixture_every_fact_has_its_claim_and_every_claim_its_fact():
    """In each article graph, the plain facts and the claims' (subject, predicate, object) coincide."""
    data = Dataset()
    data.parse(FIXTURE, format="trig")
    sources = data.graph(FKR["graph/sources"])
    article_graphs = set(sources.subjects(ns.PROV.wasDerivedFrom, None))
    assert len(article_graphs) == 3
    for graph_id in article_graphs:
        graph = data.graph(graph_id)
        article = sources.value(graph_id, ns.PROV.wasDerivedFrom)
        claims = set(graph.subjects(ns.RDF.type, FKG.Claim))
        stated = {
            (graph.value(c, ns.RDF.subject), graph.value(c, ns.RDF.predicate), graph.value(c, ns.RDF.object)) for c in claims
        }
        facts = {(s, p, o) for s, p, o in graph if s not in claims}
        assert stated == facts, graph_id
        assert {graph.value(c, ns.PROV.wasDerivedFrom) for c in claims} == {article}


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_load_graph_gives_the_union_of_the_named_graphs(engine):
    data = load_graph(FIXTURE, engine=engine)
    assert isinstance(data, Dataset) and data.default_union
    named = {str(g.identifier) for g in data.graphs()} - {"urn:x-rdflib:default"}
    assert named == {str(FKR[f"graph/{n}"]) for n in ("entities", "sources", "conflicts")} | {
        str(FKR[f"graph/{h * 8}"]) for h in ("a1", "b2", "c3")
    }
    assert (BALLERINA, FKG.directedBy, WISEMAN) in data  # a fact of an article graph, seen in the union
    assert dict(data.namespaces())["fkg"] == URIRef(str(FKG))


def test_load_graph_is_backed_by_oxigraph(dataset):
    from oxrdflib import OxigraphStore

    assert isinstance(dataset.store, OxigraphStore)


@pytest.mark.parametrize("suffix", [".ttl", ".nt", ".nq", ".trig", ".jsonld", ".rdf"])
def test_load_graph_reads_each_format_by_extension(tmp_path, dataset, suffix):
    fmt = {".ttl": ox.RdfFormat.TURTLE, ".nt": ox.RdfFormat.N_TRIPLES, ".nq": ox.RdfFormat.N_QUADS,
           ".trig": ox.RdfFormat.TRIG, ".jsonld": ox.RdfFormat.JSON_LD, ".rdf": ox.RdfFormat.RDF_XML}[suffix]
    source = ox.Store()
    source.load(path=str(FIXTURE))
    path = tmp_path / f"graph{suffix}"
    if fmt in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
        source.dump(str(path), fmt)
    else:
        source.dump(str(path), fmt, from_graph=ox.NamedNode(str(FKR["graph/entities"])))
    loaded = load_graph(path)
    assert (BALLERINA, ns.SKOS.prefLabel, Literal("Ballerina")) in loaded
    on_disk = load_graph(path, engine="oxigraph-disk")
    assert (BALLERINA, ns.SKOS.prefLabel, Literal("Ballerina")) in on_disk
    assert kept_store(path) is not None


def test_unknown_extension_and_missing_file_are_refused(tmp_path):
    (tmp_path / "graph.csv").write_text("a,b\n")
    with pytest.raises(GraphLoadError, match="unknown graph format"):
        load_graph(tmp_path / "graph.csv")
    with pytest.raises(GraphLoadError, match="no such file"):
        load_graph(tmp_path / "absent.trig")


def test_malformed_graph_is_a_load_error(tmp_path):
    path = tmp_path / "bad.ttl"
    path.write_text("<http://e/a> <http://e/p> .\n")
    with pytest.raises(GraphLoadError, match="bad.ttl"):
        load_graph(path)


@pytest.mark.parametrize(
    "context",
    [
        "http://127.0.0.1:9/context.jsonld",
        ["http://127.0.0.1:9/context.jsonld", {"ex": "http://e/"}],
        {"@import": "http://127.0.0.1:9/context.jsonld"},
    ],
    ids=["string", "list", "import"],
)
def test_jsonld_remote_context_is_refused(tmp_path, context):
    path = tmp_path / "remote.jsonld"
    path.write_text(json.dumps({"@context": context, "@id": "http://e/a", "http://e/p": "x"}))
    with pytest.raises(GraphLoadError, match="refusing"):
        load_graph(path)


def test_jsonld_nested_remote_context_is_refused(tmp_path):
    path = tmp_path / "nested.jsonld"
    path.write_text(json.dumps({"@id": "http://e/a", "http://e/p": {"@context": "http://127.0.0.1:9/c", "@id": "http://e/b"}}))
    with pytest.raises(GraphLoadError, match="refusing"):
        load_graph(path)


def test_oxigraph_itself_never_fetches_a_context():
    """The second line of defence: Oxigraph's JSON-LD parser has no document loader."""
    with pytest.raises(SyntaxError):
        list(ox.parse(b'{"@context": "http://127.0.0.1:9/c", "@id": "http://e/a"}', format=ox.RdfFormat.JSON_LD))


def test_jsonld_naming_our_context_uses_the_local_copy(tmp_path):
    path = tmp_path / "ours.jsonld"
    path.write_text(json.dumps({
        "@context": store.CONTEXT_IRI,
        "@id": str(BALLERINA), "@type": "Film", "directedBy": str(WISEMAN), "prefLabel": "Ballerina",
    }))
    loaded = load_graph(path)
    assert (BALLERINA, FKG.directedBy, WISEMAN) in loaded
    assert (BALLERINA, ns.RDF.type, FKG.Film) in loaded


XXE = """<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ <!ENTITY xxe SYSTEM "file://{secret}"> ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://e/">
  <rdf:Description rdf:about="http://e/a"><e:p>&xxe;</e:p></rdf:Description>
</rdf:RDF>
"""
LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [
  <!ENTITY a "aaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
  <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
  <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
  <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
  <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
  <!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">
  <!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://e/">
  <rdf:Description rdf:about="http://e/a"><e:p>&i;</e:p></rdf:Description>
</rdf:RDF>
"""


@pytest.mark.parametrize("declaration", [
    '<!ENTITY xxe SYSTEM "file://{secret}">',
    '<!ENTITY xxe PUBLIC "-//x//y" "file://{secret}">',
    '<!ENTITY % xxe SYSTEM "file://{secret}"> %xxe;',
], ids=["system", "public", "parameter"])
def test_rdfxml_external_entities_are_not_expanded(tmp_path, declaration):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    path = tmp_path / "xxe.rdf"
    path.write_text(XXE.replace('<!ENTITY xxe SYSTEM "file://{secret}">', declaration).format(secret=secret))
    with pytest.raises(GraphLoadError) as refused:
        load_graph(path)
    assert "TOP-SECRET" not in str(refused.value)


def test_rdfxml_external_dtd_is_refused(tmp_path):
    path = tmp_path / "dtd.rdf"
    path.write_text(XXE.replace('[ <!ENTITY xxe SYSTEM "file://{secret}"> ]', 'SYSTEM "http://127.0.0.1:9/x.dtd"')
                    .replace("&xxe;", "x"))
    with pytest.raises(GraphLoadError, match="external DTD"):
        load_graph(path)


def test_rdfxml_billion_laughs_is_refused_quickly(tmp_path):
    path = tmp_path / "laughs.rdf"
    path.write_text(LAUGHS)
    started = time.monotonic()
    with pytest.raises(GraphLoadError, match="refers to other entities"):
        load_graph(path)
    assert time.monotonic() - started < 2


def test_rdfxml_plain_internal_entities_still_load(tmp_path):
    """OWL files written by Protégé declare namespaces as entities: those stay readable."""
    path = tmp_path / "owl.rdf"
    path.write_text(XXE.replace('<!ENTITY xxe SYSTEM "file://{secret}">', '<!ENTITY e "http://e/">')
                    .replace('rdf:about="http://e/a"', 'rdf:about="&e;a"').replace("&xxe;", "x"))
    assert (URIRef("http://e/a"), URIRef("http://e/p"), Literal("x")) in merged_view(load_graph(path))


# ---------------------------------------------------------------------------------------------
# A graph file kept as an Oxigraph store on disk (open_store)
# ---------------------------------------------------------------------------------------------


def _quads(data: Dataset) -> set:
    return set(data.store._inner.quads_for_pattern(None, None, None, None))


@pytest.fixture
def graph_copy(tmp_path) -> Path:
    copy = tmp_path / "graph.trig"
    copy.write_bytes(FIXTURE.read_bytes())
    return copy


def test_store_on_disk_is_made_once_and_holds_the_file(graph_copy):
    made: list[Path] = []
    first = load_graph(graph_copy, engine="oxigraph-disk", making=made.append)
    assert made == [graph_copy.parent / "graph.trig.oxigraph"]
    assert _quads(first) == _quads(load_graph(graph_copy))
    assert (BALLERINA, FKG.directedBy, WISEMAN) in first   # an article graph's fact, seen in the union
    assert dict(first.namespaces())["fkg"] == URIRef(str(FKG))
    again = load_graph(graph_copy, engine="oxigraph-disk", making=made.append)
    assert len(made) == 1   # opened, not made again
    assert (BALLERINA, FKG.directedBy, WISEMAN) in again
    assert sorted(p.name for p in graph_copy.parent.iterdir()) == ["graph.trig", "graph.trig.oxigraph"]


def test_store_on_disk_is_made_again_when_the_file_changes(graph_copy):
    open_store(graph_copy)
    added = (URIRef("https://example.org/later"), ns.SKOS.prefLabel, Literal("Added later"))
    with open(graph_copy, "a", encoding="utf-8") as out:
        out.write('\n<https://example.org/later> <http://www.w3.org/2004/02/skos/core#prefLabel> "Added later" .\n')
    made: list[Path] = []
    data = load_graph(graph_copy, engine="oxigraph-disk", making=made.append)
    assert len(made) == 1 and added in data
    assert sorted(p.name for p in graph_copy.parent.iterdir()) == ["graph.trig", "graph.trig.oxigraph"]  # the old one removed


def test_kept_store_is_given_only_while_the_file_is_unchanged(graph_copy):
    assert kept_store(graph_copy) is None
    open_store(graph_copy)
    assert kept_store(graph_copy) == graph_copy.parent / "graph.trig.oxigraph" / "store"
    with open(graph_copy, "a", encoding="utf-8") as out:
        out.write("\n")
    assert kept_store(graph_copy) is None
    assert kept_store(graph_copy.parent / "absent.trig") is None


def test_damaged_store_on_disk_is_made_again(graph_copy):
    open_store(graph_copy)
    shutil.rmtree(store_folder(graph_copy) / "store")
    made: list[Path] = []
    data = load_graph(graph_copy, engine="oxigraph-disk", making=made.append)
    assert len(made) == 1 and (BALLERINA, FKG.directedBy, WISEMAN) in data


def test_malformed_graph_leaves_no_store_behind(tmp_path):
    path = tmp_path / "bad.ttl"
    path.write_text("<http://e/a> <http://e/p> .\n")
    with pytest.raises(GraphLoadError) as on_disk:
        open_store(path)
    assert type(on_disk.value) is GraphLoadError   # the file, not the folder: no reading into memory instead
    with pytest.raises(GraphLoadError) as in_memory:
        load_graph(path)
    assert str(on_disk.value) == str(in_memory.value)   # said in the same words
    assert str(on_disk.value).startswith(f"{path}: ") and "line 1" in str(on_disk.value)
    assert [p.name for p in tmp_path.iterdir()] == ["bad.ttl"]


def test_make_store_reads_jsonld_through_the_safe_reader(tmp_path, dataset):
    """Formats `oxigraph load` reads itself go straight in; JSON-LD reaches it as N-Quads that
    kg.store's reader made (local context, nothing fetched), removed afterwards."""
    from kg.export import export_graph

    jsonld = tmp_path / "graph.jsonld"
    with open(jsonld, "wb") as out:
        export_graph(dataset, "json-ld", out)
    make_store(jsonld, tmp_path / "store")
    made = ox.Store.read_only(str(tmp_path / "store"))
    places = [s["place"].value for s in made.query(
        "SELECT DISTINCT ?place WHERE { ?w <https://w3id.org/franchise-kg/ontology#filmedIn> ?place }")]
    assert places == [str(FKR["place/prague"])]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.jsonld", "store"]


def test_make_store_without_the_oxigraph_executable_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(store.sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(OxigraphNotFound, match="install it with `pip install oxigraph`"):
        make_store(FIXTURE, tmp_path / "store")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def killed_oxigraph(graph_copy, monkeypatch) -> Path:
    """An `oxigraph` that is killed as soon as it starts, as the out-of-memory killer would."""
    killed = graph_copy.parent / "bin" / "oxigraph"
    killed.parent.mkdir()
    killed.write_text("#!/bin/sh\nkill -KILL $$\n")
    killed.chmod(0o755)
    monkeypatch.setattr(store, "find_oxigraph", lambda: killed)
    return killed


def test_oxigraph_killed_while_making_the_store_is_said_so_and_leaves_no_store(graph_copy, killed_oxigraph):
    with pytest.raises(MakingStopped, match="making the store was stopped by SIGKILL"):
        open_store(graph_copy)
    assert kept_store(graph_copy) is None
    assert sorted(p.name for p in graph_copy.parent.iterdir()) == ["bin", graph_copy.name]


@pytest.mark.parametrize("command", [["query", "--text", "ASK { ?s ?p ?o }", "--store", "disk"], ["serve"]])
def test_a_killed_making_is_not_tried_again_another_way(graph_copy, killed_oxigraph, capsys, command):
    """Killed for want of memory, the making would fare no better in memory (kg query) or in
    another folder (kg serve): one line says so, exit 2."""
    from kg.cli import main

    assert main([command[0], "--graph", str(graph_copy), *command[1:]]) == 2
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert out == "" and len(lines) == 2 and lines[0].startswith(f"kg {command[0]}: keeping {graph_copy}")
    assert lines[1].startswith(f"kg {command[0]}: {graph_copy.parent}/.graph.trig.oxigraph.")
    assert lines[1].endswith("/store: making the store was stopped by SIGKILL")
    assert sorted(p.name for p in graph_copy.parent.iterdir()) == ["bin", graph_copy.name]


def test_make_store_of_jsonld_leaves_a_file_of_the_same_name_alone(tmp_path, dataset):
    """JSON-LD reaches `oxigraph load` as N-Quads written beside the store: under a name of its own."""
    from kg.export import export_graph

    source = tmp_path / "graph.jsonld"
    with open(source, "wb") as out:
        export_graph(dataset, "json-ld", out)
    mine = tmp_path / "store.nq"
    mine.write_text("<http://e/mine> <http://e/is> <http://e/here> .\n", encoding="utf-8")
    make_store(source, tmp_path / "store")
    assert mine.read_text(encoding="utf-8") == "<http://e/mine> <http://e/is> <http://e/here> .\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.jsonld", "store", "store.nq"]


def test_json_nested_too_deeply_is_a_load_error(tmp_path):
    deep = tmp_path / "deep.jsonld"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(GraphLoadError, match="JSON nested too deeply to be read"):
        load_graph(deep)


def test_an_oxigraph_left_alone_by_a_killed_kg_stops_and_its_folder_goes_at_the_next_making(tmp_path, alive):
    """kg killed outright (SIGKILL, the out-of-memory killer) while `oxigraph load` makes its store:
    the kernel tells the load to stop (PR_SET_PDEATHSIG) instead of leaving it running on."""
    import signal
    import subprocess
    import sys

    graph = _large_graph(tmp_path)
    process = subprocess.Popen([sys.executable, "-m", "kg.cli", "query", "--graph", str(graph),
                                "--text", "ASK { ?s ?p ?o }", "--store", "disk"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        assert f"keeping {graph}" in process.stderr.readline().decode()
        time.sleep(0.5)
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        assert len(children) == 1 and "oxigraph" in Path(f"/proc/{children[0]}/cmdline").read_text()
        process.kill()
        process.wait(timeout=30)
        deadline = time.monotonic() + 5
        while alive(children[0]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(children[0])   # gone (or only a zombie)
    finally:
        process.stderr.close()
        try:
            os.killpg(process.pid, signal.SIGKILL)   # whatever of the group is left: the test's, not the check's
        except ProcessLookupError:
            pass
        process.wait()
    # What it left, hidden beside the graph, is removed by the next making (a minute on: the
    # killed kg can no longer hold it, and it is no younger than a temporary a kg has just made).
    (left,) = tmp_path.glob(".large.nt.oxigraph.*")
    assert (left / "store").is_dir()
    os.utime(left, (time.time() - 120, time.time() - 120))
    graph.write_text("<http://e/a> <http://e/p> <http://e/b> .\n", encoding="utf-8")   # quicker to make
    assert len(open_store(graph)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["large.nt", "large.nt.oxigraph"]




def test_folder_that_cannot_hold_a_store_is_a_store_folder_error(graph_copy, monkeypatch):
    def refuse(**kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(store.tempfile, "mkdtemp", refuse)
    with pytest.raises(StoreFolderError, match=f"{graph_copy.parent}: cannot keep a store there: Permission denied"):
        open_store(graph_copy)


def _large_graph(folder: Path, triples: int = 1_000_000) -> Path:
    """An N-Triples file that takes `oxigraph load` seconds, written in well under one."""
    path = folder / "large.nt"
    with open(path, "w", encoding="utf-8") as out:
        out.writelines(f'<http://e/s{i}> <http://e/p{i % 7}> "value {i}" .\n' for i in range(triples))
    return path


QUERY_ON_DISK = ["query", "--text", "ASK { ?s ?p ?o }", "--store", "disk"]
SERVE = ["serve"]   # stopped before it listens


@pytest.mark.parametrize("command, group, signal_name, said", [
    # A terminal's Ctrl-C reaches the whole process group: kg and the `oxigraph load` it runs.
    (QUERY_ON_DISK, True, "SIGINT", (-2, "kg: interrupted; the previous output was left as it was.\n")),
    (SERVE, True, "SIGINT", (-2, "kg serve: stopped\n")),
    # `kill`, `timeout` or a service manager (`docker stop`, `systemctl stop`) sends SIGTERM to
    # kg alone: the `oxigraph load` it runs does not hear it, and kg stops it.
    (SERVE, False, "SIGTERM", (-15, "kg serve: stopped\n")),
    (QUERY_ON_DISK, False, "SIGTERM", (-15, "kg: terminated; the previous output was left as it was.\n")),
], ids=["query-ctrl-c", "serve-ctrl-c", "serve-sigterm", "query-sigterm"])
def test_a_stop_while_the_store_is_made_stops_at_once_and_leaves_nothing(tmp_path, command, group, signal_name, said):
    import signal
    import subprocess
    import sys

    graph = _large_graph(tmp_path)
    process = subprocess.Popen([sys.executable, "-m", "kg.cli", command[0], "--graph", str(graph), *command[1:]],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        first_line = process.stderr.readline().decode()   # said just before the making starts
        assert f"keeping {graph}" in first_line
        time.sleep(0.5)
        if group:
            os.killpg(process.pid, getattr(signal, signal_name))
        else:
            process.send_signal(getattr(signal, signal_name))
        started = time.monotonic()
        code = process.wait(timeout=30)
        assert time.monotonic() - started < 2   # the load would take some 4 s more (5 s in all here)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    rest = process.stderr.read().decode()
    process.stderr.close()
    assert (code, rest) == said
    assert [p.name for p in tmp_path.iterdir()] == ["large.nt"]
