"""The queries' answers on the graph built from seeds/, against rows written by hand from the articles.

The expectations come from reading the five articles in seeds/, never from the program's output.
A fact is expected when a sentence of an article states it with both ends named (a name, an
alias, a title with its year in brackets); "this new film" in an article about Ballerina is
Ballerina, but a pronoun for a person ("she had a secondary role") and a section heading standing
for a film ("The first movie ...") are not followed. Each expectation cites its articles by number.

The graph is the session's one build of the seeds (the `seeds_build` fixture of conftest.py, in a
temporary folder), and every query runs on rdflib's engine, on Oxigraph in memory and on disk,
and on rdflib over Oxigraph (see test_queries.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.query import read_query
from kg.store import REPO_ROOT, load_graph
from test_queries import ENGINES, answer, project

SEEDS = REPO_ROOT / "seeds"
A0, A1, A2, A3, A4 = (
    "000_596400f4b883cf47.txt",
    "001_55590ab8c4ca542a.txt",
    "002_0be1828db89a9140.txt",
    "003_486e2a57a332a372.txt",
    "004_ece4c64aeaacedde.txt",
)
PARABELLUM = "John Wick: Chapter 3 – Parabellum"


@pytest.fixture(scope="session")
def seeds_graph(seeds_build) -> Path:
    """build/graph.trig of the seeds, from the session's one build (tests/conftest.py)."""
    _, _, out = seeds_build
    return out / "graph.trig"


@pytest.fixture(scope="session")
def seeds(seeds_graph, tmp_path_factory):
    copy = tmp_path_factory.mktemp("seeds-disk") / seeds_graph.name   # the build's folder stays as the build left it
    copy.write_bytes(seeds_graph.read_bytes())
    return {"rdflib": load_graph(seeds_graph, engine="rdflib"), "oxigraph": load_graph(seeds_graph),
            "oxigraph-disk": load_graph(copy, engine="oxigraph-disk")}


# (query, bindings, columns, expected rows, whether the order is part of the answer)
CASES = [
    # 2: "Keanu Reeves as the iconic John Wick, Ian McShane reprising his role as Winston, ... Anjelica
    #    Huston returning as the enigmatic Director ... Lance Reddick ... as Charon"; "Abraham Popoola
    #    ... will portray a character named Frank"; "Marc Cram will add his unique flair as the
    #    Concierge"; "Catalina Sandino Moreno, Anne Parillaud, Caleb Spillyards, and Gabriel Byrne,
    #    join the ensemble in yet-to-be-revealed roles"; Norman Reedus "will bring his expertise".
    # 3: "Ana de Armas as Rooney" (and Keanu Reeves, Norman Reedus as TBA, Ian McShane, Lance Reddick).
    # 4: "Ana de Armas plays Eve Macarro"; "Ian McShane also stars as Winston Scott".
    # 1: "Anjelica Huston will reprise her role as The Director".
    ("cast", {"workLabel": "Ballerina"}, ("actorLabel", "characterLabel"),
     [("Abraham Popoola", "Frank"),
      ("Ana de Armas", "Eve Macarro"),
      ("Ana de Armas", "Rooney"),
      ("Anjelica Huston", "The Director"),
      ("Anne Parillaud", None),
      ("Caleb Spillyards", None),
      ("Catalina Sandino Moreno", None),
      ("Gabriel Byrne", None),
      ("Ian McShane", "Winston Scott"),
      ("Keanu Reeves", "John Wick"),
      ("Lance Reddick", "Charon"),
      ("Marc Cram", "Concierge"),
      ("Norman Reedus", None)],
     True),
    # 2: "In John Wick: Chapter 3 - Parabellum, audiences caught a glimpse of the Director, played by Anjelica Huston"
    ("cast", {"workLabel": PARABELLUM}, ("actorLabel", "characterLabel"),
     [("Anjelica Huston", "The Director")], True),
    # 0: "Len Wiseman He will occupy the director's chair"; 1: "it will be directed by Len Wiseman";
    # 0: "Shay Hattonfrom John Wick: Parabellum ... returns as a writer"; 1: "The script was in charge
    #    of Shay Hatten"; 1: "De Armas also recruited Emerald Fennell ... to give the final touches to
    #    the script"; 0: "Production is already underway by Basil Iwanyk, Erica Lee and Chad
    #    Stahelski, as well as Keanu Reevesas producers."
    ("crew", {"workLabel": "Ballerina"}, ("role", "personLabel"),
     [("fkg:directedBy", "Len Wiseman"),
      ("fkg:producedBy", "Basil Iwanyk"),
      ("fkg:producedBy", "Chad Stahelski"),
      ("fkg:producedBy", "Erica Lee"),
      ("fkg:producedBy", "Keanu Reeves"),
      ("fkg:writtenBy", "Emerald Fennell"),
      ("fkg:writtenBy", "Shay Hatten")],
     True),
    # 1: "Shay Hatten, who was also behind John Wick: Chapter 3 – Parabellum"; 0: "from John Wick: Parabellum"
    ("crew", {"workLabel": PARABELLUM}, ("role", "personLabel"), [("fkg:writtenBy", "Shay Hatten")], True),
    # 0: "the premiere of this new film for June 7, 2024"; 2: "it releases on June 7, 2024",
    # "Scheduled for release on June 7, 2024"; 3: "Set to release on June 7, 2024" (and more);
    # 4: "We can see Ballerina movie on theaters this June 6, 2025". 1 gives no date ("no official release date").
    ("release-dates", {"workLabel": "Ballerina"}, ("releaseDate", "fileName"),
     [("2024-06-07", A0), ("2024-06-07", A2), ("2024-06-07", A3), ("2025-06-06", A4)], True),
    # 3: "John Wick (2014)", "John Wick: Chapter 2 (2017)", "John Wick: Chapter 3 – Parabellum (2019)";
    # 1 (dated 2022-11-06): "Chapter 4, which is set to release in March" (2023).
    ("release-order", {}, ("releaseDate", "workLabel", "conflictStatus"),
     [("2014", "John Wick", None),
      ("2017", "John Wick: Chapter 2", None),
      ("2019", PARABELLUM, None),
      ("2023-03", "John Wick: Chapter 4", None),
      ("2024-06-07", "Ballerina", "open"),
      ("2025-06-06", "Ballerina", "open")],
     True),
    # 4: "The story of Ballerina is set chronologically between the events of John Wick: Chapter 3:
    #    Parabellum and John Wick: Chapter 4."
    ("story-order", {}, ("storyPosition", "work"),
     [("0", "fkr:work/john-wick-chapter-3-parabellum"), ("1", "fkr:work/ballerina"), ("2", "fkr:work/john-wick-chapter-4")],
     True),
    # The two disagreements; no source of either is dated, so both stay open.
    ("conflicts", {}, ("subject", "property", "value", "status", "fileName"),
     [("fkr:performance/ana-de-armas--ballerina", "fkg:character", "fkr:character/eve-macarro", "open", A4),
      ("fkr:performance/ana-de-armas--ballerina", "fkg:character", "fkr:character/rooney", "open", A3),
      ("fkr:work/ballerina", "fkg:releaseDate", "2024-06-07", "open", A0),
      ("fkr:work/ballerina", "fkg:releaseDate", "2024-06-07", "open", A2),
      ("fkr:work/ballerina", "fkg:releaseDate", "2024-06-07", "open", A3),
      ("fkr:work/ballerina", "fkg:releaseDate", "2025-06-06", "open", A4)],
     False),
    # 1: "The Director, who is the head of the Ruska Roma crime syndicate"; 4: "“The Director,” leader
    # of the Ruska Roma organization"; 0: "the Ruska Roma (a society of assassins to which Wick
    # belonged)"; 4: "the same criminal organization that trained John Wick"; 4: "Eve Macarro ... is an
    # assassin trained by Ruska Roma".
    ("organization-characters", {"organizationLabel": "Ruska Roma"}, ("tie", "characterLabel"),
     [("fkg:leaderOf", "The Director"),
      ("fkg:memberOf", "John Wick"),
      ("fkg:trainedBy", "Eve Macarro"),
      ("fkg:trainedBy", "John Wick")],
     True),
    # 4: "Winston Scott, the iconic owner of the Continental Hotel, and ... Charon, the hotel's concierge"
    # 2: "Winston, the owner of the Continental"
    ("organization-characters", {"organizationLabel": "The Continental"}, ("tie", "characterLabel"),
     [("fkg:ownerOf", "Winston Scott"), ("fkg:worksFor", "Charon")], True),
    # Keanu Reeves: in the cast of Ballerina (2, 3, 4) and one of its producers (0).
    ("people-with-several-roles", {"personLabel": "Keanu Reeves"}, ("role", "work"),
     [("actor", "fkr:work/ballerina"), ("producer", "fkr:work/ballerina")], True),
    # Chad Stahelski: producer of Ballerina (0), creator of the universe (4: "the mythology of the
    # universe created by Chad Stahelski and Derek Kolstad").
    ("people-with-several-roles", {"personLabel": "Chad Stahelski"}, ("role", "work"),
     [("creator", "fkr:franchise/john-wick"), ("producer", "fkr:work/ballerina")], True),
    ("people-with-several-roles", {}, ("person",),
     [("fkr:person/chad-stahelski",), ("fkr:person/keanu-reeves",)], False),
    # Anjelica Huston: Ballerina (1, 2, 4) and Parabellum (2); nobody else is named in two works.
    ("recurring-actors", {}, ("actor", "work"),
     [("fkr:person/anjelica-huston", "fkr:work/ballerina"),
      ("fkr:person/anjelica-huston", "fkr:work/john-wick-chapter-3-parabellum")],
     False),
    # 3: "Shooting on location in Prague"; 4: "Production took place in Prague and other locations in Europe."
    ("filming-locations", {"workLabel": "Ballerina"}, ("placeLabel",), [("Europe",), ("Prague",)], True),
    # 3: "Lionsgate won the rights to globally distribute the movie"
    ("distributors", {"workLabel": "Ballerina"}, ("distributorLabel",), [("Lionsgate",)], True),
    # Who says Len Wiseman directs Ballerina: 0 ("Len Wiseman He will occupy the director's chair"),
    # 1 ("it will be directed by Len Wiseman"), 3 ("Len Wiseman directing").
    ("fact-sources", {"subject": "fkr:work/ballerina", "predicate": "fkg:directedBy"},
     ("objectLabel", "fileName"), [("Len Wiseman", A0), ("Len Wiseman", A1), ("Len Wiseman", A3)], False),
    # docs/model.md: "John Wick" is three nodes.
    ("entities", {"label": "John Wick"}, ("class", "entity"),
     [("fkg:Character", "fkr:character/john-wick"), ("fkg:Film", "fkr:work/john-wick"),
      ("fkg:Franchise", "fkr:franchise/john-wick")],
     True),
    # Only 1 states when it was published ("date 2022-11-06").
    ("articles", {}, ("fileName", "issued"),
     [(A0, None), (A1, "2022-11-06"), (A2, None), (A3, None), (A4, None)], True),
]


def _case_id(case) -> str:
    name, bindings = case[0], case[1]
    return name + ("[" + ",".join(f"{k}={v}" for k, v in bindings.items()) + "]" if bindings else "[unbound]")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_answer_on_the_seeds(case, engine, seeds):
    name, bindings, columns, expected, ordered = case
    variables, rows = answer(seeds, engine, read_query(name), bindings)
    got = project(variables, rows, columns)
    if ordered:
        # DISTINCT over the chosen columns, keeping the query's order
        assert list(dict.fromkeys(got)) == expected
    else:
        assert sorted(set(got), key=repr) == sorted(set(expected), key=repr)


def test_claim_sentences_sit_at_their_offsets(seeds):
    """docs/model.md: fkg:startOffset/endOffset are the sentence's character offsets in the article text."""
    variables, rows = answer(seeds, "oxigraph", read_query("fact-sources"))
    misplaced = []
    for row in rows:
        values = dict(zip(variables, row))
        text = (SEEDS / str(values["fileName"])).read_text(encoding="utf-8")
        start, end = int(values["startOffset"]), int(values["endOffset"])
        if text[start:end] != str(values["sentence"]):
            misplaced.append((str(values["fileName"]), start, end, str(values["sentence"])[:50]))
    assert rows and not misplaced, misplaced[:5]


def test_a_date_binds_as_the_typed_literal_the_graph_holds(seeds_graph, capsys):
    # 4 alone: "We can see Ballerina movie on theaters this June 6, 2025." A date as the table
    # shows it (2025-06-06) is a plain literal and matches no xsd:date; quoted and typed, it does.
    import csv

    from kg.cli import main

    assert main(["query", "release-dates", "--graph", str(seeds_graph), "--format", "csv",
                 "--bind", 'releaseDate="2025-06-06"^^xsd:date']) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert [(row["workLabel"], row["fileName"]) for row in rows] == [("Ballerina", A4)]
