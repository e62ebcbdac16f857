"""The fast matching of kg/extract.py and kg/nlp.py gives spaCy's matches, rule by rule.

kg runs each relation rule only on the lines holding the words it needs, matches dep patterns
itself over Doc.to_array columns, runs seq patterns on the stretch of a line where they can
match, and finds lexicon aliases through a trie: all for speed. These tests compare the matches
with those of spaCy's own DependencyMatcher and Matcher over every rule and every line of the
seed articles, and over hand-made patterns using the operators and forms the rules do not
(yet) use; and check the helpers on hand-made inputs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from spacy.attrs import HEAD, LEMMA, LOWER
from spacy.matcher import DependencyMatcher, Matcher
from spacy.strings import get_string_id

from kg.extract import (_NAME_COLUMN, _DepPattern, _matcher, _merge_names, _ParseTable, _SeqShape, _widths,
                        load_rules)
from kg.nlp import (TokenTable, UnsupportedPattern, make_docs, one_reading_per_article, optional, pattern_needs,
                    token_tests)

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture(scope="module")
def seed_lines(nlp):
    """Every line of the seed articles, parsed and with its names merged, as in extract_article: (Doc, names)."""
    lines = []
    matcher = _matcher(nlp)
    for path in sorted(SEEDS.glob("*.txt")):
        docs = list(nlp.pipe([doc for _, doc in make_docs(nlp, path.read_text(encoding="utf-8"))]))
        one_reading_per_article(docs)
        lines.extend((doc, _merge_names(doc, matcher.columns).column(_NAME_COLUMN)) for doc in docs)
    return lines


def _by_rule(matches: list[tuple[str, list[int]]]) -> dict[str, list[list[int]]]:
    """Matches per rule, in the order extract_article puts them: by first token, ties as they came."""
    out: dict[str, list[list[int]]] = {}
    for rule, tokens in matches:
        out.setdefault(rule, []).append(tokens)
    return {rule: sorted(found, key=min) for rule, found in out.items()}


def _spacy_matches(nlp, rule, doc) -> list[list[int]]:
    if rule.kind == "dep":
        matcher = DependencyMatcher(nlp.vocab)
        matcher.add(rule.id, [rule.pattern])
        return [list(tokens) for _, tokens in matcher(doc)]
    matcher = Matcher(nlp.vocab)
    matcher.add(rule.id, [rule.pattern])
    out = []
    for _, start, end, alignment in matcher(doc, with_alignments=True):
        nodes: dict[str, int] = {}
        for i, element in zip(range(start, end), alignment):
            if rule.slots[element]:
                nodes.setdefault(rule.slots[element], i)
        out.append([nodes[name] for name in rule.slots if name in nodes])
    return out


def test_every_rule_matches_as_spacy_does_on_every_seed_line(nlp, seed_lines):
    rules, _ = load_rules()
    matcher = _matcher(nlp)
    total = 0
    for doc, names in seed_lines:
        ours = _by_rule([(rule.id, [nodes[name].i for name in rule.slots if name in nodes])
                         for rule, nodes in matcher(_ParseTable(doc, matcher.columns, names))])
        theirs = _by_rule([(rule.id, tokens) for rule in rules for tokens in _spacy_matches(nlp, rule, doc)])
        assert ours == theirs, doc.text
        total += sum(map(len, theirs.values()))
    assert total > 50   # the seeds do exercise the rules


def test_names_are_the_tokens_kg_name(seed_lines):
    for doc, names in seed_lines:
        assert names == [int(token._.kg_name) for token in doc]


HAND_MADE_DEP = [
    # every operator the fast matcher implements, with node forms the rules do not use
    [{"RIGHT_ID": "verb", "RIGHT_ATTRS": {"POS": "VERB"}},
     {"LEFT_ID": "verb", "REL_OP": ">>", "RIGHT_ID": "noun", "RIGHT_ATTRS": {"POS": {"IN": ["NOUN", "PROPN"]}}},
     {"LEFT_ID": "noun", "REL_OP": "<<", "RIGHT_ID": "top", "RIGHT_ATTRS": {}}],
    [{"RIGHT_ID": "a", "RIGHT_ATTRS": {"IS_ALPHA": True}},
     {"LEFT_ID": "a", "REL_OP": ".", "RIGHT_ID": "b", "RIGHT_ATTRS": {"IS_PUNCT": False}},
     {"LEFT_ID": "b", "REL_OP": ";", "RIGHT_ID": "c", "RIGHT_ATTRS": {"IS_TITLE": True}}],
    [{"RIGHT_ID": "a", "RIGHT_ATTRS": {"IS_SENT_START": True}},
     {"LEFT_ID": "a", "REL_OP": ".*", "RIGHT_ID": "b", "RIGHT_ATTRS": {"_": {"kg_name": True}}},
     {"LEFT_ID": "b", "REL_OP": ";*", "RIGHT_ID": "c", "RIGHT_ATTRS": {"LOWER": {"NOT_IN": ["the", ","]}}}],
    [{"RIGHT_ID": "head", "RIGHT_ATTRS": {"DEP": "ROOT"}},
     {"LEFT_ID": "head", "REL_OP": ">", "RIGHT_ID": "x", "RIGHT_ATTRS": {}},
     {"LEFT_ID": "head", "REL_OP": ">", "RIGHT_ID": "y", "RIGHT_ATTRS": {}},
     {"LEFT_ID": "y", "REL_OP": "<", "RIGHT_ID": "z", "RIGHT_ATTRS": {"TAG": {"NOT_IN": ["VBN"]}}}],
]


@pytest.mark.parametrize("pattern", HAND_MADE_DEP)
def test_hand_made_dep_patterns_match_as_spacy_does(nlp, seed_lines, pattern):
    fast = _DepPattern(pattern)
    spacy_matcher = DependencyMatcher(nlp.vocab)
    spacy_matcher.add("p", [pattern])
    columns = {HEAD} | {column for tests in fast.nodes for column, _, _ in tests}
    for doc, names in seed_lines[:40]:
        ours = sorted(fast(_ParseTable(doc, columns, names)), key=min)
        theirs = sorted((list(tokens) for _, tokens in spacy_matcher(doc)), key=min)
        assert ours == theirs, doc.text


def test_the_aliases_are_found_as_a_matcher_finds_them(nlp, seed_lines):
    entities = nlp.get_pipe("kg_entities")
    aliases = dict(zip(entities.__code__.co_freevars, (c.cell_contents for c in entities.__closure__)))["aliases"]
    assert not aliases.use_matcher   # no two surface forms are made of the same words
    found = 0
    with nlp.select_pipes(disable=["kg_entities"]):
        for path in sorted(SEEDS.glob("*.txt")):
            for doc in nlp.pipe([doc for _, doc in make_docs(nlp, path.read_text(encoding="utf-8"))]):
                ours = aliases(TokenTable(doc, aliases.columns))
                assert sorted(ours) == sorted(aliases.matcher(doc)) and len(ours) == len(set(ours)), doc.text
                found += len(ours)
    assert found > 20


def test_quantifiers():
    assert [optional(op) for op in (None, "1", "+", "?", "*", "!", "{0,3}", "{,2}", "{2}", "{1,}")] == \
        [False, False, False, True, True, True, True, True, False, False]
    assert [_widths(op) for op in (None, "?", "*", "+", "{2}", "{0,3}", "{,2}", "{2,}")] == \
        [(1, 1), (0, 1), (0, 1 << 30), (1, 1 << 30), (2, 2), (0, 3), (0, 2), (2, 1 << 30)]
    assert _widths("!") is None


def test_the_words_a_pattern_needs_come_from_its_required_tokens():
    needs = pattern_needs([{"LOWER": "by"}, {"LEMMA": {"IN": ["play", "star"]}, "POS": "VERB"},
                           {"LOWER": "the", "OP": "?"}, {"LOWER": {"NOT_IN": ["a"]}}, {"_": {"kg_name": True}}])
    assert needs == ((LOWER, frozenset({get_string_id("by")})),
                     (LEMMA, frozenset({get_string_id("play"), get_string_id("star")})))


def test_a_seq_window_holds_every_match(nlp, seed_lines):
    pattern = [{"_": {"kg_name": True}}, {"IS_PUNCT": False, "OP": "{0,6}"}, {"LOWER": "as"},
               {"LOWER": {"IN": ["the", "a"]}, "OP": "?"}, {"_": {"kg_name": True}}]
    shape = _SeqShape.of(pattern)
    assert shape is not None and shape.gaps == ((1, 7), (1, 2)) and (shape.lead, shape.tail) == (0, 1)
    matcher = Matcher(nlp.vocab)
    matcher.add("p", [pattern])
    for doc, names in seed_lines:
        table = _ParseTable(doc, {column for tests in shape.required for column, _, _ in tests}, names)
        window = table.window(shape)
        matches = matcher(doc)
        if window is None:
            assert not matches, doc.text
        else:
            assert all(window[0] <= start < end <= window[1] for _, start, end in matches), doc.text


def test_token_tests_leave_out_what_they_do_not_implement():
    with pytest.raises(UnsupportedPattern):
        token_tests({"SHAPE": "dddd"})
    assert token_tests({"SHAPE": "dddd", "ORTH": "("}, strict=False) == token_tests({"ORTH": "("})
