"""Tests of kg/nlp.py: model choice, the lexicon's validation, glue splitting, line blocks, senses.

Expected values are written by hand from the hand-made inputs.
"""

from __future__ import annotations

import pytest

from kg.nlp import (
    ModelNotFound,
    blocks,
    deglue,
    load_lexicon,
    load_pipeline,
    make_docs,
    surface_key,
)


def test_a_model_that_is_not_there_is_named_in_a_clear_error():
    with pytest.raises(ModelNotFound, match="no_such_model"):
        load_pipeline("no_such_model")


def test_kg_build_with_a_missing_model_exits_2_with_one_line(capsys, tmp_path):
    from kg.cli import main

    (tmp_path / "a.txt").write_text("Ballerina was filmed in Prague.\n", encoding="utf-8")
    assert main(["build", str(tmp_path), "--out", str(tmp_path / "out"), "--model", "no_such_model"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no_such_model" in err[0] and "Traceback" not in err[0]
    assert not (tmp_path / "out" / "graph.trig").exists()


def test_lexicon_lines_are_validated(tmp_path):
    bad = tmp_path / "lexicon.jsonl"
    bad.write_text('{"id": "x/y", "class": "Spaceship", "label": "Y", "aliases": ["Y"]}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="unknown class 'Spaceship'"):
        load_lexicon(str(bad))
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(ValueError, match="loads empty"):
        load_lexicon(str(empty))


def test_surface_key_folds_spacing_case_and_possessives():
    assert surface_key("Lions Gate") == surface_key("Lionsgate") == surface_key("LIONSGATE’s")
    assert surface_key("Ruska Roma") != surface_key("Ruska")


@pytest.mark.parametrize(
    "text, words",
    [
        # a known stem glued to a function word
        ("Tom Hollis plays him. Tom Hollisas producers", ["Hollis", "as", "producers"]),
        # "from" never ends a name: split even when the stem is unknown
        ("Rob Tannerfrom the studio", ["Tanner", "from", "the"]),
        # camel case and a year glued to a name
        ("BlondLina de Vries", ["Blond", "Lina", "de"]),
        ("June 7, 2024Lina de Vries", ["2024", "Lina", "de"]),
        # names that merely end like a function word stay whole
        ("Thomas Anderson and Douglas Reyes", ["Thomas", "Anderson", "and", "Douglas"]),
    ],
)
def test_glued_words_are_split_without_changing_the_text(nlp, text, words):
    doc = deglue(nlp.make_doc(text), frozenset({"Hollis", "Lina"}))
    assert doc.text == text
    tokens = [t.text for t in doc]
    assert any(tokens[i : i + len(words)] == words for i in range(len(tokens))), tokens


def test_each_line_is_a_block_with_its_offset():
    text = "Title line\n\n  • Lina de Vries as Eve Macarro\nLast"
    assert list(blocks(text)) == [(0, "Title line"), (12, "  • Lina de Vries as Eve Macarro"), (45, "Last")]


def test_no_entity_runs_over_a_line_break(nlp):
    text = "Cast and Characters\n• Lina de Vries as Rooney\n• Tom Hollis as John Wick\n"
    pairs = make_docs(nlp, text)
    docs = list(nlp.pipe([d for _, d in pairs]))
    for (offset, _), doc in zip(pairs, docs):
        for ent in doc.ents:
            assert "\n" not in text[offset + ent.start_char : offset + ent.end_char]


@pytest.mark.parametrize(
    "text, surface, lexicon_id",
    [
        ("The series The Continental follows a young Winston.", "The Continental", "work/the-continental"),
        ("Winston runs The Continental Hotel in New York.", "The Continental Hotel", "organization/the-continental"),
        ("Fans of the John Wick franchise will like it.", "John Wick", "franchise/john-wick"),
        ("John Wick (2014) was a surprise hit.", "John Wick", "work/john-wick"),
        ("Tom Hollis returns as John Wick.", "John Wick", "character/john-wick"),
    ],
)
def test_a_title_takes_its_sense_from_the_words_around_it(nlp, text, surface, lexicon_id):
    doc = nlp(text)
    found = [e for e in doc.ents if e.text == surface]
    assert [e.kb_id_ for e in found] == [lexicon_id]


def test_director_as_a_field_label_is_not_the_character(nlp):
    doc = nlp("Director: Dana Kroll")
    assert not [e for e in doc.ents if e.kb_id_ == "character/the-director"]
    assert [e.text for e in doc.ents if e.label_ == "PERSON"] == ["Dana Kroll"]
