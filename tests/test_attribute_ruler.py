"""kg.attribute_ruler: the model's attribute ruler answered by tables sets what spaCy's sets."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy
from spacy.pipeline import AttributeRuler
from spacy.tokens import Doc
from spacy.vocab import Vocab

from kg.attribute_ruler import IndexedAttributeRuler
from kg.nlp import DEFAULT_MODELS, blocks

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

#: Rules of each kind the tables and the leftover Matcher answer, in the order spaCy applies them
#: (a later rule wins): a plain tag, a word and a tag, a set of words (IN), a test that must fail
#: (NOT_IN), a regular expression alone (left to the Matcher), two tokens marking the second.
RULES = [
    {"patterns": [[{"TAG": "NN"}]], "attrs": {"POS": "NOUN"}},
    {"patterns": [[{"TAG": "VBZ"}]], "attrs": {"POS": "VERB"}},
    {"patterns": [[{"LOWER": "is", "TAG": "VBZ"}]], "attrs": {"POS": "AUX", "LEMMA": "be"}},
    {"patterns": [[{"TAG": "DT", "DEP": {"NOT_IN": ["det"]}}]], "attrs": {"POS": "PRON"}},
    {"patterns": [[{"LOWER": {"IN": ["table", "tables"]}, "TAG": "NN"}]], "attrs": {"LEMMA": "table"}},
    {"patterns": [[{"LOWER": {"REGEX": "^ex"}}]], "attrs": {"LEMMA": "excommunicado"}},
    {"patterns": [[{"LOWER": "high"}, {"TAG": "NN"}]], "attrs": {"MORPH": "Number=Sing"}, "index": 1},
]

WORDS = ["That", "is", "the", "High", "Table", "and", "this", "is", "Excommunicado"]
TAGS = ["DT", "VBZ", "DT", "JJ", "NN", "CC", "DT", "VBZ", "NN"]
DEPS = ["nsubj", "ROOT", "det", "amod", "attr", "cc", "det", "conj", "attr"]
HEADS = [1, 1, 4, 4, 1, 1, 7, 1, 7]


def _doc(vocab: Vocab) -> Doc:
    return Doc(vocab, words=WORDS, tags=TAGS, deps=DEPS, heads=HEADS)


def test_the_rules_apply_in_order_a_later_rule_winning():
    ruler = IndexedAttributeRuler(spacy.blank("en").vocab)
    ruler.add_patterns(RULES)
    doc = ruler(_doc(ruler.vocab))
    assert [t.pos_ for t in doc] == ["PRON", "AUX", "", "", "NOUN", "", "", "AUX", "NOUN"]
    assert [t.lemma_ for t in doc] == ["", "be", "", "", "table", "", "", "be", "excommunicado"]
    assert [str(t.morph) for t in doc] == ["", "", "", "", "Number=Sing", "", "", "", ""]


def test_a_rule_added_later_is_applied_too():
    ruler = IndexedAttributeRuler(spacy.blank("en").vocab)
    ruler.add_patterns(RULES[:2])
    assert ruler(_doc(ruler.vocab))[1].pos_ == "VERB"
    ruler.add_patterns(RULES[2:3])
    assert ruler(_doc(ruler.vocab))[1].pos_ == "AUX"


def test_the_tables_find_the_matches_spacys_matcher_finds():
    ours, theirs = IndexedAttributeRuler(spacy.blank("en").vocab), AttributeRuler(spacy.blank("en").vocab)
    ours.add_patterns(RULES)
    theirs.add_patterns(RULES)
    assert ours.match(_doc(ours.vocab)) == theirs.match(_doc(theirs.vocab))


def test_an_index_outside_the_pattern_is_refused_as_spacy_refuses_it():
    ruler = IndexedAttributeRuler(spacy.blank("en").vocab)
    ruler.add_patterns([{"patterns": [[{"TAG": "NN"}]], "attrs": {"POS": "NOUN"}, "index": 2}])
    with pytest.raises(ValueError, match="outside of matched span"):
        ruler(_doc(ruler.vocab))


def test_kg_pipeline_gives_every_seed_token_the_models_own_attributes(nlp):
    stock = spacy.load(next(name for name in DEFAULT_MODELS if spacy.util.is_package(name)))
    assert type(stock.get_pipe("attribute_ruler")) is AttributeRuler
    assert isinstance(nlp.get_pipe("attribute_ruler"), IndexedAttributeRuler)
    lines = [line for path in sorted(SEEDS.glob("*.txt")) for _, line in blocks(path.read_text(encoding="utf-8"))]
    assert len(lines) > 100
    names = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer"]
    with nlp.select_pipes(enable=names), stock.select_pipes(enable=names):
        ours = [(t.text, t.pos_, str(t.morph), t.lemma_) for doc in nlp.pipe(lines) for t in doc]
        theirs = [(t.text, t.pos_, str(t.morph), t.lemma_) for doc in stock.pipe(lines) for t in doc]
    assert ours == theirs


def test_the_models_rules_for_a_negation_and_a_copula(nlp):
    doc = nlp("Winston isn't a member of the High Table.")
    words = {t.text: t for t in doc}
    assert (words["n't"].pos_, words["n't"].lemma_, str(words["n't"].morph)) == ("PART", "not", "Polarity=Neg")
    assert (words["is"].pos_, words["is"].lemma_) == ("AUX", "be")
