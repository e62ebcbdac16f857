"""Tests of kg/views.py on a hand-written graph (tests/data/views/franchise.trig, see its README).

Every expected value below was worked out by hand from the fixture, not copied from the output.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import networkx as nx
import pytest

from kg import cli, views
from kg.namespaces import mint

FIXTURE = Path(__file__).parent / "data" / "views" / "franchise.trig"

A1, A2, A3 = "000_ballerina-cast.txt", "001_ballerina-spinoff.txt", "002_john-wick-origins.txt"


def iri(short: str) -> str:
    kind, key = short.split("/")
    return str(mint(kind, key))


ANA, KEANU, HUSTON = iri("person/ana-de-armas"), iri("person/keanu-reeves"), iri("person/anjelica-huston")
CHAD, LEN, SHAY = iri("person/chad-stahelski"), iri("person/len-wiseman"), iri("person/shay-hatten")
WICK_C, ROONEY = iri("character/john-wick"), iri("character/rooney")
DIRECTOR, WINSTON = iri("character/the-director"), iri("character/winston")
BALLERINA, JW3, JW = iri("work/ballerina"), iri("work/john-wick-chapter-3-parabellum"), iri("work/john-wick")
FRANCHISE = iri("franchise/john-wick")
RUSKA, LIONSGATE, CONTINENTAL = (iri("organization/ruska-roma"), iri("organization/lionsgate"),
                                 iri("organization/the-continental"))
NYC = iri("place/new-york-city")

ENTITIES = {ANA, KEANU, HUSTON, CHAD, LEN, SHAY, WICK_C, ROONEY, DIRECTOR, WINSTON, BALLERINA, JW3, JW,
            FRANCHISE, RUSKA, LIONSGATE, CONTINENTAL, NYC}

FACTS = {
    (BALLERINA, "directedBy", LEN), (BALLERINA, "writtenBy", SHAY), (BALLERINA, "producedBy", CHAD),
    (BALLERINA, "hasCastMember", ANA), (ANA, "portrays", ROONEY), (ROONEY, "appearsIn", BALLERINA),
    (BALLERINA, "hasCastMember", KEANU), (KEANU, "portrays", WICK_C), (WICK_C, "appearsIn", BALLERINA),
    (BALLERINA, "spinOffOf", FRANCHISE), (BALLERINA, "distributedBy", LIONSGATE),
    (JW3, "hasCastMember", ANA), (JW3, "hasCastMember", HUSTON), (HUSTON, "portrays", DIRECTOR),
    (DIRECTOR, "appearsIn", JW3), (JW3, "hasCastMember", KEANU), (JW3, "directedBy", CHAD),
    (JW3, "writtenBy", SHAY), (DIRECTOR, "leaderOf", RUSKA), (JW3, "partOfFranchise", FRANCHISE),
    (JW, "directedBy", CHAD), (JW, "hasCastMember", KEANU), (WICK_C, "appearsIn", JW),
    (WICK_C, "memberOf", RUSKA), (WINSTON, "ownerOf", CONTINENTAL), (WINSTON, "appearsIn", JW),
    (JW, "filmedIn", NYC), (JW, "partOfFranchise", FRANCHISE),
}


@pytest.fixture(scope="module")
def graph() -> nx.MultiDiGraph:
    return views.entity_graph(views.load_dataset(FIXTURE))


# ------------------------------------------------------------------------------ entity graph


def test_nodes_are_the_entities_without_performances(graph):
    assert set(graph.nodes) == ENTITIES
    assert not [n for n in graph if "/performance/" in n]


def test_edges_are_the_facts_between_entities(graph):
    assert isinstance(graph, nx.MultiDiGraph)
    assert {(u, k, v) for u, v, k in graph.edges(keys=True)} == FACTS
    assert all(d["relation"] == k for _, _, k, d in graph.edges(keys=True, data=True))


def test_a_dataset_in_rdflibs_memory_store_gives_the_same_graph():
    from kg.store import load_graph

    memory = views.entity_graph(load_graph(FIXTURE, engine="rdflib"))
    assert set(memory.nodes) == ENTITIES
    assert {(u, k, v) for u, v, k in memory.edges(keys=True)} == FACTS
    assert memory.nodes[RUSKA]["label"] == "Ruska Roma" and memory.graph["articles"] == [A1, A2, A3]


@pytest.mark.parametrize(
    "node, cls",
    [(ANA, "Actor"), (HUSTON, "Actor"), (CHAD, "Person"), (WICK_C, "Character"), (BALLERINA, "Film"),
     (JW3, "Film"), (FRANCHISE, "Franchise"), (RUSKA, "CriminalOrganization"), (LIONSGATE, "Company"),
     (CONTINENTAL, "Hotel"), (NYC, "Place")],
    ids=lambda x: x.rsplit("/", 1)[-1] if "/" in x else x,
)
def test_class_is_the_most_specific(graph, node, cls):
    assert graph.nodes[node]["cls"] == cls


def test_labels(graph):
    assert graph.nodes[JW3]["label"] == "John Wick: Chapter 3 – Parabellum"
    assert graph.nodes[JW3]["alt_labels"] == ["John Wick 3", "Parabellum"]
    assert graph.nodes[ANA]["kind"] == "person"


@pytest.mark.parametrize(
    "fact, sources",
    [((BALLERINA, "directedBy", LEN), [A1, A2]), ((KEANU, "portrays", WICK_C), [A1, A3]),
     ((DIRECTOR, "leaderOf", RUSKA), [A2]), ((JW, "filmedIn", NYC), [A3])],
    ids=["two-articles", "two-articles-performance", "one-article", "dated-article"],
)
def test_sources_are_the_articles_that_claim_the_fact(graph, fact, sources):
    s, relation, o = fact
    assert graph.edges[s, o, relation]["sources"] == sources


def test_literal_facts_are_node_attributes(graph):
    assert graph.nodes[BALLERINA]["releaseDate"] == ["2023-12-01", "2024-06-07"]  # the open conflict
    assert graph.nodes[JW]["releaseDate"] == ["2014-10-24"]
    assert "releaseDate" not in graph.nodes[JW3]
    assert graph.graph["articles"] == [A1, A2, A3]


# ------------------------------------------------------------------------------ cast network


def test_cast_network_weights_are_shared_works(graph):
    cast = views.cast_network(graph)
    assert set(cast.nodes) == {ANA, KEANU, HUSTON, CHAD, LEN, SHAY}
    weights = {frozenset((u, v)): d["weight"] for u, v, d in cast.edges(data=True)}
    expected = {
        frozenset((KEANU, CHAD)): 3,
        frozenset((ANA, KEANU)): 2, frozenset((ANA, SHAY)): 2, frozenset((ANA, CHAD)): 2,
        frozenset((KEANU, SHAY)): 2, frozenset((SHAY, CHAD)): 2,
        frozenset((LEN, ANA)): 1, frozenset((LEN, KEANU)): 1, frozenset((LEN, SHAY)): 1, frozenset((LEN, CHAD)): 1,
        frozenset((HUSTON, ANA)): 1, frozenset((HUSTON, KEANU)): 1, frozenset((HUSTON, SHAY)): 1,
        frozenset((HUSTON, CHAD)): 1,
    }
    assert weights == expected  # Len Wiseman and Anjelica Huston share no work
    assert cast.edges[KEANU, CHAD]["works"] == ["Ballerina", "John Wick", "John Wick: Chapter 3 – Parabellum"]
    assert cast.nodes[LEN]["works"] == ["Ballerina"]


# ------------------------------------------------------------------------------ neighbourhood


def test_neighbourhood_of_the_ruska_roma(graph):
    sub = views.neighbourhood(graph, "Ruska Roma")
    assert set(sub.nodes) == {RUSKA, DIRECTOR, WICK_C, HUSTON, JW3, KEANU, BALLERINA, JW}
    assert WINSTON not in sub  # three hops away
    assert sub.graph["center"] == RUSKA
    assert sub.has_edge(DIRECTOR, RUSKA, "leaderOf") and not sub.has_edge(RUSKA, DIRECTOR)


def test_neighbourhood_radius_one(graph):
    assert set(views.neighbourhood(graph, RUSKA, radius=1).nodes) == {RUSKA, DIRECTOR, WICK_C}


@pytest.mark.parametrize(
    "name, node",
    [("Ruska Roma", RUSKA), ("ruska  ROMA", RUSKA), ("the Ruska Roma", RUSKA), ("Parabellum", JW3),
     ("director", DIRECTOR), ("The Director", DIRECTOR), ("Lions Gate", LIONSGATE),
     ("fkr:work/john-wick", JW), ("character/john-wick", WICK_C), (FRANCHISE, FRANCHISE), ("wick", WICK_C)],
)
def test_find_entity(graph, name, node):
    assert views.find_entity(graph, name) == node


def test_find_entity_ambiguous_names_every_candidate(graph):
    with pytest.raises(views.AmbiguousEntity) as caught:
        views.find_entity(graph, "John Wick")
    message = str(caught.value)
    assert "character/john-wick" in message and "work/john-wick" in message and "franchise/john-wick" in message


def test_find_entity_not_found_suggests(graph):
    with pytest.raises(views.EntityNotFound, match="did you mean 'Ruska Roma'"):
        views.find_entity(graph, "Ruska Rona")
    with pytest.raises(views.EntityNotFound):
        views.neighbourhood(graph, "High Table")


# ------------------------------------------------------------------------------ core: a large graph cut down


def test_core_keeps_the_best_connected_entities_and_the_facts_between_them(graph):
    # Facts per entity, by hand from FACTS: Ballerina 9, Chapter 3 7, John Wick (film) 6, Keanu
    # Reeves 4, the character John Wick 4 (a tie, which the articles break: Keanu Reeves's facts
    # come from all three, the character's from 000 and 002).
    five = views.core(graph, 5)
    assert set(five.nodes) == {BALLERINA, JW3, JW, WICK_C, KEANU}
    assert {(u, k, v) for u, v, k in five.edges(keys=True)} == {
        (BALLERINA, "hasCastMember", KEANU), (KEANU, "portrays", WICK_C), (WICK_C, "appearsIn", BALLERINA),
        (JW3, "hasCastMember", KEANU), (JW, "hasCastMember", KEANU), (WICK_C, "appearsIn", JW)}
    assert five.graph["of"] == 18 and five.nodes[BALLERINA]["label"] == "Ballerina"
    assert set(views.core(graph, 4).nodes) == {BALLERINA, JW3, JW, KEANU}
    assert views.core(graph, 18) is graph and "of" not in graph.graph


def test_core_of_a_neighbourhood_keeps_its_center(graph):
    # Around the Ruska Roma (8 entities), facts inside the neighbourhood: Keanu Reeves 4, the
    # character John Wick 4, then Chapter 3 and The Director 3; the Ruska Roma itself has 2.
    three = views.core(views.neighbourhood(graph, "Ruska Roma"), 3)
    assert set(three.nodes) == {RUSKA, WICK_C, KEANU} and three.graph["center"] == RUSKA
    assert {(u, k, v) for u, v, k in three.edges(keys=True)} == {(KEANU, "portrays", WICK_C), (WICK_C, "memberOf", RUSKA)}
    assert three.graph["of"] == 8


def test_render_draws_the_core_of_a_graph_larger_than_its_limit_and_says_so(graph, tmp_path):
    views.render(graph, tmp_path, limit=5)
    svg = (tmp_path / "graph.svg").read_text(encoding="utf-8")
    assert "the 5 best-connected of 18 entities, 6 facts" in svg
    assert "Keanu Reeves" in svg and "Ruska Roma" not in svg


# ------------------------------------------------------------------------------ paths, centrality


def test_shortest_path_between_two_people(graph):
    path = views.shortest_path(graph, "Ana de Armas", "Chad Stahelski")
    assert len(path) == 3 and path[0] == ANA and path[-1] == CHAD
    assert path[1] in {BALLERINA, JW3}  # both films link them in two hops


def test_path_steps_read_in_the_graphs_direction(graph):
    path = views.shortest_path(graph, "Anjelica Huston", "Ruska Roma")
    assert path == [HUSTON, DIRECTOR, RUSKA]
    assert views.path_steps(graph, path) == [
        views.PathStep("Anjelica Huston", ("portrays",), "The Director", (A2,)),
        views.PathStep("The Director", ("leaderOf",), "Ruska Roma", (A2,)),
    ]
    steps = views.path_steps(graph, [ANA, BALLERINA])
    assert steps == [views.PathStep("Ballerina", ("hasCastMember",), "Ana de Armas", (A1,))]


def test_centrality(graph):
    rows = views.centrality(graph)
    assert len(rows) == len(ENTITIES)
    by_entity = {r["entity"]: r for r in rows}
    # Ballerina: Len, Shay, Chad, Ana, Rooney, Keanu, John Wick (character), franchise, Lionsgate.
    assert by_entity[BALLERINA]["degree"] == 9
    assert by_entity[CONTINENTAL]["betweenness"] == 0  # a leaf
    assert rows[0]["entity"] == BALLERINA
    cast_rows = views.centrality(views.cast_network(graph))
    assert {r["entity"]: r["strength"] for r in cast_rows}[KEANU] == 3 + 2 + 2 + 1 + 1


# ------------------------------------------------------------------------------ pictures


class _Resources(HTMLParser):
    """Collects what a page loads: script src and stylesheet href."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            if attrs.get("src"):
                self.loaded.append(attrs["src"])
            else:
                self.inline_scripts += 1
        if tag == "link" and attrs.get("href"):
            self.loaded.append(attrs["href"])


def _remote(url: str) -> bool:
    return url.lower().startswith(("http:", "https:", "//"))


def test_render_writes_png_svg_and_offline_html(graph, tmp_path):
    paths = views.render(graph, tmp_path)
    assert [p.name for p in paths] == ["graph.png", "graph.svg", "graph.html"]
    assert (tmp_path / "graph.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = ET.parse(tmp_path / "graph.svg").getroot()
    assert svg.tag.endswith("svg")
    assert "Ruska Roma" in (tmp_path / "graph.svg").read_text(encoding="utf-8")  # text kept as text

    page = (tmp_path / "graph.html").read_text(encoding="utf-8")
    parser = _Resources()
    parser.feed(page)
    assert not [url for url in parser.loaded if _remote(url)], "the page must load nothing from the network"
    assert "vis.Network" in page and parser.inline_scripts >= 2  # vis-network inlined
    assert "Ruska Roma" in page and "leaderOf" in page and A2 in page  # labels, relations, sources


def test_render_focus_names_files_after_the_entity(graph, tmp_path):
    paths = views.render(graph, tmp_path, focus="ruska roma")
    assert sorted(p.name for p in paths) == ["graph-ruska-roma.html", "graph-ruska-roma.png", "graph-ruska-roma.svg"]
    page = (tmp_path / "graph-ruska-roma.html").read_text(encoding="utf-8")
    assert "Winston" not in page and "The Director" in page


def test_focus_slug_keeps_the_kind_when_the_name_is_shared(graph, tmp_path):
    paths = views.render(graph, tmp_path, focus="character/john-wick")
    assert paths[0].name == "graph-character-john-wick.png"


def test_layout_is_deterministic(graph):
    first, second = views.layout(graph), views.layout(graph)
    assert first.keys() == second.keys() == set(graph.nodes)
    assert all((first[n] == second[n]).all() for n in first)


_DRAW_IN_A_CHILD = """
import hashlib, sys, tempfile
from pathlib import Path
from kg import views
graph = views.entity_graph(views.load_dataset(sys.argv[1]))
with tempfile.TemporaryDirectory() as out:
    for name, drawn in (("core", views.core(graph, 5)), ("around", views.neighbourhood(graph, "Ruska Roma", 1))):
        views.draw_static(drawn, Path(out) / name)
        print(name, list(drawn.nodes), hashlib.sha256((Path(out) / (name + ".svg")).read_bytes()).hexdigest())
"""


def test_pictures_are_the_same_whatever_the_hash_seed():
    # A cut or a neighbourhood used to list its entities, and a drawing its edges, in the order of
    # a Python set: two runs of kg viz on one graph wrote different pictures.
    def child(seed: str) -> subprocess.Popen:
        env = {**os.environ, "PYTHONHASHSEED": seed}
        return subprocess.Popen([sys.executable, "-c", _DRAW_IN_A_CHILD, str(FIXTURE)], env=env,
                                stdout=subprocess.PIPE, text=True)

    runs = [child(seed) for seed in ("1", "2", "3")]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert all(run.returncode == 0 for run in runs)
    assert outputs[0] == outputs[1] == outputs[2]
    # Both cuts list their entities in IRI order (characters, organizations, people, works).
    core_nodes = outputs[0].splitlines()[0]
    assert core_nodes.startswith(f"core {[WICK_C, KEANU, BALLERINA, JW, JW3]}")
    around = outputs[0].splitlines()[1]
    assert around.startswith(f"around {[WICK_C, DIRECTOR, RUSKA]}")


def test_palette_is_the_same_in_every_picture(graph):
    whole = views.class_palette(graph)
    part = views.class_palette(views.neighbourhood(graph, "Ruska Roma"))
    assert all(whole[c] == colour for c, colour in part.items())


def test_draw_cast_network(graph, tmp_path):
    png, svg = views.draw_static(views.cast_network(graph), tmp_path / "cast", title="Cast network")
    assert png.stat().st_size > 1000 and "Keanu Reeves" in svg.read_text(encoding="utf-8")


# ------------------------------------------------------------------------------ kg viz


def test_cli_viz(tmp_path, capsys):
    assert cli.main(["viz", "--graph", str(FIXTURE), "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.split()
    assert [Path(p).name for p in printed] == ["graph.png", "graph.svg", "graph.html"]
    assert cli.main(["viz", "--graph", str(FIXTURE), "--focus", "Ruska Roma", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "graph-ruska-roma.png").is_file()


def test_a_picture_that_cannot_be_written_leaves_the_previous_ones(graph, tmp_path, monkeypatch):
    """The PNG and the SVG are replaced together or not at all: a failure while the SVG is
    written (a full disk) leaves the previous PNG too, and no temporary file."""
    from matplotlib.figure import Figure

    stem = tmp_path / "graph"
    views.draw_static(graph, stem)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert sorted(before) == ["graph.png", "graph.svg"]
    real = Figure.savefig

    def full_disk_at_the_svg(self, out, **kwargs):
        if kwargs.get("format") == "svg" or str(out).endswith(".svg"):
            raise OSError(28, "No space left on device")
        return real(self, out, **kwargs)

    monkeypatch.setattr(Figure, "savefig", full_disk_at_the_svg)
    with pytest.raises(OSError):
        views.draw_static(graph.subgraph(list(graph)[:3]), stem)   # another picture
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


@pytest.mark.parametrize(
    "argv, message",
    [(["--focus", "High Table"], "no entity named 'High Table'"),
     (["--focus", "John Wick"], "names 3 entities")],
    ids=["unknown", "ambiguous"],
)
def test_cli_viz_focus_errors(tmp_path, capsys, argv, message):
    assert cli.main(["viz", "--graph", str(FIXTURE), "--out", str(tmp_path), *argv]) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_cli_viz_says_when_it_draws_only_the_best_connected(tmp_path, capsys):
    assert cli.main(["viz", "--graph", str(FIXTURE), "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().err == ""   # 18 entities: all drawn
    assert cli.main(["viz", "--graph", str(FIXTURE), "--out", str(tmp_path), "--max-entities", "5"]) == 0
    assert "drew the 5 best-connected of 18 entities (--max-entities N" in capsys.readouterr().err
    assert cli.main(["viz", "--graph", str(FIXTURE), "--out", str(tmp_path), "--max-entities", "3",
                     "--focus", "Ruska Roma"]) == 0
    assert "drew the 3 best-connected of 8 entities around the focus" in capsys.readouterr().err


def test_cli_viz_default_limit_is_the_package_s():
    # cli.py spells the default out, so that `kg --help` does not import networkx and matplotlib.
    assert cli.build_parser().parse_args(["viz"]).max_entities == views.MAX_DRAWN == 300


def test_cli_viz_missing_graph(tmp_path, capsys):
    assert cli.main(["viz", "--graph", str(tmp_path / "nope.trig"), "--out", str(tmp_path)]) == 2
    assert "kg build" in capsys.readouterr().err
