"""kg/export.py: the dataset as TriG and N-Quads, its merged view as Turtle, N-Triples, JSON-LD
(also a batch of nodes at a time, and copied from an earlier write) and GraphML, and `kg export`.
"""

from __future__ import annotations

import gc
import io
import json
import re
import subprocess
import sys
from itertools import groupby
from pathlib import Path

import networkx as nx
import pyoxigraph as ox
import pytest
import rdflib.namespace as ns
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.compare import isomorphic

from kg import cli, export
from kg.namespaces import FKG, FKR
from kg.export import export_graph, merged_view
from kg.store import load_graph
from kg.terms import ox_quads

FIXTURE = Path(__file__).parent / "data" / "store" / "fixture.trig"
BALLERINA = FKR["work/ballerina"]
WISEMAN = FKR["person/len-wiseman"]


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return load_graph(FIXTURE)


def kg_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "kg.cli", *args]


# ---------------------------------------------------------------------------------------------
# Exporting
# ---------------------------------------------------------------------------------------------


def test_merged_view_drops_claims_and_sources_keeps_facts_entities_conflicts(dataset):
    view = merged_view(dataset)
    assert (BALLERINA, FKG.directedBy, WISEMAN) in view
    assert (BALLERINA, ns.SKOS.prefLabel, Literal("Ballerina")) in view
    assert (FKR["conflict/ballerina--release-date"], ns.RDF.type, FKG.Conflict) in view
    assert not set(view.subjects(ns.RDF.type, FKG.Claim))
    assert not set(view.subjects(ns.RDF.type, FKG.Article))
    assert not set(view.triples((None, FKG.evidence, None)))
    assert not set(view.triples((None, FKG.preferred, None)))


def _export(dataset, fmt: str) -> bytes:
    out = io.BytesIO()
    export_graph(dataset, fmt, out)
    return out.getvalue()


@pytest.mark.parametrize("fmt, rdflib_format", [("trig", "trig"), ("nquads", "nquads")])
def test_trig_and_nquads_keep_every_named_graph(dataset, fmt, rdflib_format):
    back = Dataset()
    back.parse(data=_export(dataset, fmt), format=rdflib_format)
    original = Dataset()
    original.parse(FIXTURE, format="trig")
    graph_ids = lambda d: {g.identifier for g in d.graphs() if len(g)}  # noqa: E731
    assert graph_ids(back) == graph_ids(original)
    for graph_id in graph_ids(original):
        assert isomorphic(back.graph(graph_id), original.graph(graph_id)), graph_id


@pytest.mark.parametrize("fmt, rdflib_format", [("turtle", "turtle"), ("nt", "nt")])
def test_turtle_and_ntriples_are_the_merged_view(dataset, fmt, rdflib_format):
    back = Graph()
    back.parse(data=_export(dataset, fmt), format=rdflib_format)
    assert isomorphic(back, merged_view(dataset))


def test_jsonld_is_compacted_with_the_ontology_context_and_parses_back(dataset, tmp_path):
    text = _export(dataset, "json-ld")
    document = json.loads(text)
    context = json.loads(export.CONTEXT_FILE.read_text())["@context"]
    assert document["@context"] == context  # inline: nothing to fetch when reading it back
    ballerina = next(node for node in document["@graph"] if node["@id"] in (str(BALLERINA), "fkr:work/ballerina"))
    assert ballerina["@type"] == "Film"
    assert "directedBy" in ballerina and "prefLabel" in ballerina
    path = tmp_path / "graph.jsonld"
    path.write_bytes(text)
    assert isomorphic(merged_view(load_graph(path)), merged_view(dataset))
    with_rdflib = Graph()
    with_rdflib.parse(data=text, format="json-ld")
    assert isomorphic(with_rdflib, merged_view(dataset))


@pytest.mark.parametrize("at_once", [1, 2, 3])
def test_jsonld_made_a_few_subjects_at_a_time_is_the_same_document(dataset, monkeypatch, at_once):
    whole = _export(dataset, "json-ld")
    assert len(json.loads(whole)["@graph"]) > 3   # more subjects than a batch
    monkeypatch.setattr(export, "JSONLD_SUBJECTS_AT_ONCE", at_once)
    assert _export(dataset, "json-ld") == whole


class _Nodes:
    """A kg.export.NodeTable in memory: the nodes the last write kept, and those this one keeps."""

    def __init__(self) -> None:
        self.last: dict[str, str] = {}
        self.kept: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        return self.last.get(key)

    def keep(self, key: str, text: str) -> None:
        self.kept[key] = text

    def next_write(self) -> None:
        self.last, self.kept = self.kept, {}


def _view_jsonld(view: ox.Store, nodes: _Nodes | None = None) -> bytes:
    out = io.BytesIO()
    export.export_merged(view, "json-ld", out, jsonld_nodes=nodes)
    return out.getvalue()


def test_jsonld_nodes_kept_from_an_earlier_write_are_copied_and_only_a_changed_one_is_converted(dataset, monkeypatch):
    import rdflib.plugins.serializers.jsonld as rdflib_jsonld

    monkeypatch.setattr(export, "JSONLD_SUBJECTS_AT_ONCE", 2)
    view = export._merged_store(dataset)
    fresh = _view_jsonld(view)
    subjects = len(json.loads(fresh)["@graph"])
    converted: list[str] = []
    real = rdflib_jsonld.from_rdf
    monkeypatch.setattr(rdflib_jsonld, "from_rdf", lambda graph, *a, **k: converted.extend(map(str, set(graph.subjects()))) or real(graph, *a, **k))

    nodes = _Nodes()
    assert _view_jsonld(view, nodes) == fresh
    assert len(converted) == len(nodes.kept) == subjects   # the first write converts every node, and keeps each
    converted.clear()
    nodes.next_write()
    assert _view_jsonld(view, nodes) == fresh
    assert converted == []                                  # the second copies every one

    nodes.next_write()
    view.add(ox.Quad(ox.NamedNode(str(BALLERINA)), ox.NamedNode(str(RDFS.comment)), ox.Literal("A spin-off."), ox.DefaultGraph()))
    changed = _view_jsonld(view, nodes)
    assert converted == [str(BALLERINA)]                    # Ballerina's node alone is made again
    assert '"comment": "A spin-off."' in changed.decode("utf-8")
    assert changed == _view_jsonld(view)                    # the same bytes as a write that kept nothing
    assert len(nodes.kept) == subjects and nodes.kept.keys() != nodes.last.keys()   # Ballerina's new node kept, not its old one


def _jsonld_nodes(triples) -> dict[str, dict]:
    ds = Dataset()
    graph = ds.graph(FKR["graph/test"])
    for triple in triples:
        graph.add(triple)
    nodes = json.loads(_export(ds, "json-ld"))["@graph"]
    assert len({node["@id"] for node in nodes}) == len(nodes)   # one node per subject
    return {node["@id"]: node for node in nodes}


def test_jsonld_keeps_a_blank_nodes_description_when_made_a_subject_at_a_time(monkeypatch):
    monkeypatch.setattr(export, "JSONLD_SUBJECTS_AT_ONCE", 1)
    a, b, place = URIRef("http://example.org/a"), URIRef("http://example.org/b"), BNode()
    nodes = _jsonld_nodes([(a, RDFS.label, Literal("a")), (b, RDFS.label, Literal("b")),
                           (a, URIRef("http://example.org/near"), place), (place, RDFS.label, Literal("somewhere"))])
    near = nodes["http://example.org/a"]["http://example.org/near"]["@id"]
    assert nodes[near]["label"] == "somewhere"
    assert len(nodes) == 3


def test_jsonld_keeps_a_list_when_made_a_subject_at_a_time(monkeypatch):
    monkeypatch.setattr(export, "JSONLD_SUBJECTS_AT_ONCE", 1)
    a, b, c = (URIRef(f"http://example.org/{name}") for name in "abc")
    first, second = BNode(), BNode()
    nodes = _jsonld_nodes([(a, URIRef("http://example.org/items"), first), (first, RDF.first, b), (first, RDF.rest, second),
                           (second, RDF.first, c), (second, RDF.rest, RDF.nil), (b, RDFS.label, Literal("b"))])
    assert nodes["http://example.org/a"]["http://example.org/items"] == {
        "@list": [{"@id": "http://example.org/b"}, {"@id": "http://example.org/c"}]}


def test_graphml_has_entities_and_named_relations(dataset, tmp_path):
    path = tmp_path / "graph.graphml"
    path.write_bytes(_export(dataset, "graphml"))
    graph = nx.read_graphml(path, force_multigraph=True)
    by_iri = {attrs["iri"]: node for node, attrs in graph.nodes(data=True)}
    ballerina = graph.nodes[by_iri[str(BALLERINA)]]
    assert by_iri[str(BALLERINA)] == "work:ballerina"
    assert (ballerina["label"], ballerina["class"]) == ("Ballerina", "Film")
    assert graph.nodes[by_iri[str(FKR["person/ana-de-armas"])]]["class"] == "Actor"  # Person is its superclass
    assert graph.nodes[by_iri[str(FKR["organization/ruska-roma"])]]["class"] == "CriminalOrganization"
    relations = {(s, d["relation"], o) for s, o, d in graph.edges(data=True)}
    assert ("work:ballerina", "directedBy", "person:len-wiseman") in relations
    assert ("character:the-director", "leaderOf", "organization:ruska-roma") in relations
    assert all(d["label"] == d["relation"] and d["iri"].endswith(d["relation"]) for _, _, d in graph.edges(data=True))
    assert {node.split(":")[0] for node in graph.nodes} == {
        "work", "franchise", "person", "character", "organization", "place", "performance",
    }


def test_graphml_ids_are_unique_xml_name_tokens(dataset):
    """GraphML's schema types ids as NMTOKEN; Gephi drops an edge whose id repeats."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(_export(dataset, "graphml"))
    ns_graphml = "{http://graphml.graphdrawing.org/xmlns}"
    node_ids = [n.get("id") for n in root.iter(f"{ns_graphml}node")]
    edge_ids = [e.get("id") for e in root.iter(f"{ns_graphml}edge")]
    assert node_ids and edge_ids
    assert len(set(node_ids)) == len(node_ids) and len(set(edge_ids)) == len(edge_ids)
    assert all(re.fullmatch(r"[\w.:-]+", i) for i in node_ids + edge_ids)


def test_a_graph_made_for_a_batch_of_json_ld_nodes_is_freed_without_the_cyclic_collector():
    """The JSON-LD writer's graphs are made without prefixes: one bound to prefixes is in a cycle
    with its namespace manager, and a build that runs the collector seldom piled them up."""
    merged = ox.Store()
    person = ox.NamedNode("https://w3id.org/franchise-kg/id/person/lina-de-vries")
    merged.add(ox.Quad(person, ox.NamedNode(str(RDFS.label)), ox.Literal("Lina de Vries"), ox.DefaultGraph()))
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        graph = export._rdflib_graph(merged.quads_for_pattern(person, None, None, ox.DefaultGraph()), prefixes=False)
        assert len(graph) == 1
        del graph
        assert gc.collect() == 0
        graph = export._rdflib_graph(merged.quads_for_pattern(person, None, None, ox.DefaultGraph()))  # bound to kg's prefixes, for a reader
        assert graph.namespace_manager.store.namespace("fkr") is not None
        del graph
        assert gc.collect() > 0
    finally:
        if was_enabled:
            gc.enable()


def test_trig_blocks_one_after_another_are_the_trig_of_the_whole_stream(dataset):
    quads = sorted(ox_quads(dataset), key=export._quad_key)  # graph by graph
    whole = io.BytesIO()
    export.write_quads(quads, "trig", whole)
    # each graph handed over as a stream, read once
    blocks = [export.trig_block(graph) for _, graph in groupby(quads, key=lambda q: q.graph_name)]
    assert len(blocks) == 6  # the fixture's sources, conflicts, entities and three article graphs
    assert sum(count for count, _ in blocks) == len(quads)
    assert export.trig_prefixes() + b"".join(text for _, text in blocks) == whole.getvalue()
    prefix_lines = export.trig_prefixes().splitlines()
    assert prefix_lines and all(line.startswith(b"@prefix ") for line in prefix_lines)
    assert export.trig_block([]) == (0, b"")
    assert export.trig_block(iter(())) == (0, b"")


def test_export_of_an_rdflib_memory_dataset_matches(dataset):
    memory = load_graph(FIXTURE, engine="rdflib")
    for fmt in ("nt", "nquads"):
        assert sorted(_export(memory, fmt).splitlines()) == sorted(_export(dataset, fmt).splitlines())


# ---------------------------------------------------------------------------------------------
# The command line: kg export
# ---------------------------------------------------------------------------------------------


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_kg_export_to_a_file_and_to_stdout(capsys, tmp_path):
    target = tmp_path / "out" / "graph.nt"
    code, out, err = run_cli(capsys, "export", "--format", "nt", "--graph", str(FIXTURE), "-o", str(target))
    assert code == 0 and out == "" and "wrote" in err
    assert isomorphic(Graph().parse(target, format="nt"), merged_view(load_graph(FIXTURE)))
    done = subprocess.run(kg_command("export", "--format", "json-ld", "--graph", str(FIXTURE)),
                          capture_output=True, timeout=120)
    assert done.returncode == 0
    assert isomorphic(Graph().parse(data=done.stdout, format="json-ld"), merged_view(load_graph(FIXTURE)))


def test_kg_export_that_fails_midway_leaves_the_previous_file(capsys, tmp_path, monkeypatch):
    target = tmp_path / "graph.nt"
    target.write_text("<http://e/previous> <http://e/export> <http://e/file> .\n", encoding="utf-8")
    real = export.export_graph

    def full_disk_midway(dataset, fmt, out):
        real(dataset, fmt, out)   # some of it written, then the disk is full
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export, "export_graph", full_disk_midway)
    code, out, err = run_cli(capsys, "export", "--format", "nt", "--graph", str(FIXTURE), "-o", str(target))
    assert (code, out, err.splitlines()) == (2, "", [f"kg export: {target}: cannot write: No space left on device"])
    assert target.read_text(encoding="utf-8") == "<http://e/previous> <http://e/export> <http://e/file> .\n"
    assert [p.name for p in tmp_path.iterdir()] == ["graph.nt"]   # no temporary file left


def test_kg_export_missing_graph_exits_2(capsys, tmp_path):
    code, _, err = run_cli(capsys, "export", "--format", "trig", "--graph", str(tmp_path / "absent.trig"))
    assert code == 2 and "no such file" in err


def test_kg_export_offers_the_formats_export_graph_writes(capsys):
    # cli.py spells the choices out, so that `kg --help` does not import the writers.
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["export", "--format", "xml"])
    # "(choose from 'table', 'csv')", or without the quotes in newer Pythons
    listed = capsys.readouterr().err.split("choose from", 1)[1].split(")", 1)[0]
    offered = [name.strip(" '") for name in listed.split(",")]
    assert sorted(offered) == sorted(export.EXPORT_FORMATS) == ["graphml", "json-ld", "nquads", "nt", "trig", "turtle"]
