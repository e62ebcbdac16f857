"""Tests of kg/resolve.py: canonicalisation across articles.

Each test builds its inputs the way the pipeline does (kg.pipeline.extract_text on tiny hand-made
articles) and resolves them together; the expected entities are written by hand.
"""

from __future__ import annotations

import pytest

from kg.pipeline import extract_text
from kg.extract import ArticleExtraction, Fact, Mention
from kg.resolve import Entity, Resolution, clean_surface, resolve


def resolve_texts(nlp, *texts: str):
    extractions = [extract_text(nlp, text) for text in texts]
    return extractions, resolve(extractions)


def entity_of(resolution: Resolution, extraction: ArticleExtraction, mention: Mention) -> Entity | None:
    """The entity one mention of an article's facts resolves to."""
    return resolution.entities_of(extraction).get((mention.start, mention.end, mention.text))


def entities_of(extractions, resolution: Resolution, surface: str) -> dict[str, Entity]:
    """The entities that the fact mentions spelt `surface` resolve to, by key."""
    found = {}
    for index, extraction in enumerate(extractions):
        for fact in extraction.facts:
            for mention in (fact.subject, fact.object, fact.work):
                if mention is None or isinstance(mention, str) or mention.text != surface:
                    continue
                entity = entity_of(resolution, extraction, mention)
                assert entity is not None, f"{surface!r} in article {index} resolves to nothing"
                found[entity.key] = entity
    assert found, f"no fact mentions {surface!r}"
    return found


def the_entity(extractions, resolution, *surfaces: str) -> Entity:
    """The one entity that every mention spelt like one of `surfaces` resolves to."""
    keys = {key for s in surfaces for key in entities_of(extractions, resolution, s)}
    assert len(keys) == 1, f"{surfaces} resolve to {sorted(keys)}"
    return resolution.entities[keys.pop()]


# --------------------------------------------------------------------------- shortened names


def test_particle_name_and_its_short_forms_are_one_person(nlp):
    extractions, resolution = resolve_texts(
        nlp,
        "Ana de Armas plays Eve Macarro in Ballerina.",
        "Armas plays Eve Macarro in Ballerina.",
        "Ballerina, starring de Armas, opens in June.",
    )
    # "de Armas" (the particle belongs to the surname) joins the full name.
    entity = the_entity(extractions, resolution, "Ana de Armas", "de Armas")
    assert entity.label == "Ana de Armas"
    assert entity.kind == "person"
    assert entity.cls == "Actor"  # she plays a part


def _cast_article(person: str) -> ArticleExtraction:
    """One article saying that `person` is in Ballerina's cast, as extract_article would record it."""
    text = f"Ballerina stars {person}."
    work = Mention("Ballerina", 0, 9, "Film", "work/ballerina")
    actor = Mention(person, 16, 16 + len(person), "PERSON")
    fact = Fact("hasCastMember", work, actor, "hasCastMember/test", 0.8, 0, len(text), text)
    return ArticleExtraction([work, actor], [fact], work)


def test_particle_forms_join_the_full_name_whatever_the_model_found():
    # The model does not always give "de Armas" its particle; resolve must join every form.
    extractions = [_cast_article(name) for name in ("Armas", "Ana de Armas", "de Armas")]
    resolution = resolve(extractions)
    keys = {entity_of(resolution, e, e.facts[0].object).key for e in extractions}
    assert keys == {"person/ana-de-armas"}
    assert resolution.entities["person/ana-de-armas"].label == "Ana de Armas"
    assert resolution.entities["person/ana-de-armas"].alt_labels == ["Armas", "de Armas"]


def test_surname_joins_the_one_full_name(nlp):
    extractions, resolution = resolve_texts(
        nlp,
        "John Wick: Chapter 5 will be directed by Lena Whitford.",
        "Ballerina will be directed by Whitford.",
    )
    entity = the_entity(extractions, resolution, "Lena Whitford", "Whitford")
    assert (entity.key, entity.label) == ("person/lena-whitford", "Lena Whitford")


# --------------------------------------------------------------------------- misspellings


@pytest.mark.parametrize(
    "minority, majority",
    [
        pytest.param("Shay Hatton", "Shay Hatten", id="hatton-hatten"),
        pytest.param("Tobias Harlen", "Tobias Harlan", id="harlen-harlan"),
    ],
)
def test_one_letter_misspelling_joins_the_majority_spelling(nlp, minority, majority):
    extractions, resolution = resolve_texts(
        nlp,
        f"Ballerina was written by {minority}.",
        f"John Wick: Chapter 4 was written by {majority}.",
        f"John Wick: Chapter 5 was written by {majority}.",
    )
    entity = the_entity(extractions, resolution, minority, majority)
    assert entity.label == majority
    assert entity.kind == "person"
    assert minority in entity.alt_labels


def test_resolve_reads_each_record_once_from_a_stream():
    # A build keeps its records on file and decodes them on each read: resolve takes them as a
    # stream, in one pass, and the mentions still resolve afterwards, article by article.
    extractions = [_cast_article(name) for name in ("Ana de Armas", "de Armas")]
    read = []

    def stream():
        for extraction in extractions:
            read.append(extraction)
            yield extraction

    resolution = resolve(stream())
    assert read == extractions
    assert {entity_of(resolution, e, e.facts[0].object).key for e in extractions} == {"person/ana-de-armas"}
    assert resolution.entities["person/ana-de-armas"].cls == "Actor"   # in a cast: plays a part


def test_colliding_misspelling_keys_join_only_names_a_letter_apart(monkeypatch):
    # The misspelling index files names under hashes; two names under one hash are only
    # candidates. With every key made to collide, each name is every other's candidate, and
    # the letter-by-letter check alone must join only the names one letter from "Rob Tanner".
    import kg.resolve

    monkeypatch.setattr(kg.resolve, "_gap", lambda words, i, variant: 0)
    names = ["Rob Tanner", "Rob Tanner", "Rob Tannor", "Rob Turner", "Bob Tannor", "Rob Tanners"]
    extractions = [_cast_article(name) for name in names]
    resolution = resolve(extractions)
    keys = [entity_of(resolution, e, e.facts[0].object).key for e in extractions]
    assert keys == ["person/rob-tanner", "person/rob-tanner", "person/rob-tanner",
                    "person/rob-turner", "person/bob-tannor", "person/rob-tanner"]


# --------------------------------------------------------------------------- spelling variants


def test_lions_gate_and_lionsgate_are_one_company(nlp):
    extractions, resolution = resolve_texts(
        nlp,
        "John Wick: Chapter 4 will be distributed by Lions Gate.",
        "Ballerina will be distributed by Lionsgate.",
    )
    entity = the_entity(extractions, resolution, "Lions Gate", "Lionsgate")
    assert (entity.key, entity.cls, entity.label) == ("organization/lionsgate", "Company", "Lionsgate")


def test_spacing_variants_of_an_unknown_company_are_one(nlp):
    extractions, resolution = resolve_texts(
        nlp,
        "John Wick: Chapter 5 will be distributed by Blue Harbor Pictures.",
        "Ballerina will be distributed by Blueharbor Pictures.",
    )
    the_entity(extractions, resolution, "Blue Harbor Pictures", "Blueharbor Pictures")


# --------------------------------------------------------------------------- characters


def test_first_name_and_full_name_of_a_lexicon_character_are_one(nlp):
    extractions, resolution = resolve_texts(
        nlp,
        "Winston, the owner of the Continental, is back.",
        "Winston Scott, the owner of the Osaka Continental, is new.",
    )
    entity = the_entity(extractions, resolution, "Winston", "Winston Scott")
    assert (entity.key, entity.cls, entity.label) == ("character/winston-scott", "Character", "Winston Scott")


def test_first_name_and_full_name_of_a_new_character_are_one(nlp):
    extractions, resolution = resolve_texts(
        nlp,
        "In Ballerina, Marla Quinn, played by Nadia Ferreira, hunts Eve Macarro.",
        "In Ballerina, Marla, played by Nadia Ferreira, returns.",
    )
    entity = the_entity(extractions, resolution, "Marla Quinn", "Marla")
    assert (entity.kind, entity.cls, entity.label) == ("character", "Character", "Marla Quinn")


# --------------------------------------------------------------------------- what must stay apart


def test_names_a_letter_apart_in_a_short_word_stay_apart(nlp):
    # "Cole" and "Cale" are two surnames, not a misspelling: a short word is too often a different name.
    extractions, resolution = resolve_texts(
        nlp,
        "Ballerina was written by Mira Cole.",
        "John Wick: Chapter 4 was written by Mira Cale.",
        "John Wick: Chapter 5 was written by Mira Cale.",
    )
    cole = the_entity(extractions, resolution, "Mira Cole")
    cale = the_entity(extractions, resolution, "Mira Cale")
    assert (cole.label, cale.label) == ("Mira Cole", "Mira Cale")
    assert cole.key != cale.key


def test_people_sharing_a_surname_stay_apart_and_the_bare_surname_is_ambiguous(nlp):
    extractions, resolution = resolve_texts(
        nlp,
        "Ballerina will be directed by Jon Smithers.",
        "John Wick: Chapter 5 will be directed by Ann Smithers.",
        "John Wick: Chapter 4 was directed by Smithers.",
    )
    jon = the_entity(extractions, resolution, "Jon Smithers")
    ann = the_entity(extractions, resolution, "Ann Smithers")
    bare = the_entity(extractions, resolution, "Smithers")
    assert len({jon.key, ann.key, bare.key}) == 3
    assert (jon.label, ann.label) == ("Jon Smithers", "Ann Smithers")


def test_the_three_john_wicks_stay_apart(nlp):
    extractions, resolution = resolve_texts(
        nlp,
        "Ballerina is a spinoff of John Wick.",
        "John Wick (2014) was directed by Lena Whitford.",
        "John Wick: Chapter 5 is coming. Tobias Harlan returns as John Wick.",
    )
    keys = set(entities_of(extractions, resolution, "John Wick"))
    assert keys == {"franchise/john-wick", "work/john-wick", "character/john-wick"}


# --------------------------------------------------------------------------- lexicon


def test_supreme_table_is_the_high_table(nlp):
    extractions, resolution = resolve_texts(nlp, "Caine belongs to the Supreme Table.")
    entity = the_entity(extractions, resolution, "Supreme Table")
    assert (entity.key, entity.cls, entity.label) == ("organization/high-table", "CriminalOrganization", "High Table")


def test_class_of_an_unknown_name_comes_from_its_role(nlp):
    # the model may call a new name anything; directing makes it a person, distributing a company
    extractions, resolution = resolve_texts(
        nlp,
        "Ballerina will be directed by Orla Vance.",
        "Ballerina will be distributed by Northgate Pictures.",
    )
    assert the_entity(extractions, resolution, "Orla Vance").kind == "person"
    assert the_entity(extractions, resolution, "Northgate Pictures").kind == "organization"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("the Ruska Roma", "Ruska Roma"),
        ("John Wick’s", "John Wick"),
        ("“Ballerina,”", "Ballerina"),
        ("Ana de\nArmas", "Ana de Armas"),
        ("'Ballerina'", "Ballerina"),
    ],
)
def test_clean_surface(text, expected):
    assert clean_surface(text) == expected


def test_a_capitalised_particle_is_the_same_name(nlp):
    # Title case or a sentence start writes "De Vries" for "de Vries": one person, not two.
    extractions, resolution = resolve_texts(
        nlp,
        "Lina de Vries plays Eve Macarro in Ballerina.",
        "In Ballerina, Eve Macarro, played by De Vries, seeks revenge.",
    )
    entity = the_entity(extractions, resolution, "Lina de Vries", "De Vries")
    assert entity.label == "Lina de Vries"
