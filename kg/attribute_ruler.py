"""The model's attribute ruler, its patterns looked up in tables instead of tried one by one.

A pretrained English pipeline maps each tagger tag to a part of speech and morphology, and fixes
a few words' lemmas, with spaCy's AttributeRuler: 179 Matcher patterns in en_core_web_sm, almost
all of one token ({"TAG": "NN"}, {"LOWER": "n't", "TAG": "RB"}). spaCy's Matcher tries every
pattern at every token, which made the attribute ruler 15% of the model's time on kg's lines,
more than the parser. IndexedAttributeRuler finds the same matches through tables. A pattern
without operators has a token that tests plain values or sets of them ({"TAG": "VB", "LOWER":
{"IN": ["be", "do"]}}); the patterns are grouped by the attributes that token tests, each group is
a dict keyed by their values, so a position of a Doc costs one lookup per group, and only what
the lookup leaves (the pattern's other tokens, NOT_IN, REGEX) is checked where it answers. The
few patterns without such a token, or with operators, stay with a Matcher of their own. The
matches are applied by spaCy's own AttributeRuler.set_annotations, in the same order (by rule,
later rules winning), so a Doc comes out with the same attributes.

kg.nlp.load_pipeline puts it in place of the model's ruler, with the model's own patterns
(replace_attribute_ruler).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import product
from typing import Any, Callable, Optional

from spacy.attrs import (DEP, IS_ALPHA, IS_DIGIT, IS_LOWER, IS_PUNCT, IS_SPACE, IS_TITLE, IS_UPPER, LEMMA,
                         LOWER, NORM, ORTH, TAG)
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.pipeline import AttributeRuler
from spacy.pipeline.attributeruler import attribute_ruler_score
from spacy.strings import StringStore, get_string_id
from spacy.tokens import Doc
from spacy.vocab import Vocab

__all__ = ["IndexedAttributeRuler", "replace_attribute_ruler"]

#: What a pattern's token may test to be answered here: attributes whose value Doc.to_array gives
#: as spaCy's Matcher compares it (a string's hash, or a flag's 0 or 1).
_STRING_ATTRS = {"ORTH": ORTH, "TEXT": ORTH, "LOWER": LOWER, "NORM": NORM, "TAG": TAG, "DEP": DEP, "LEMMA": LEMMA}
_FLAG_ATTRS = {"IS_SPACE": IS_SPACE, "IS_PUNCT": IS_PUNCT, "IS_ALPHA": IS_ALPHA, "IS_DIGIT": IS_DIGIT,
               "IS_LOWER": IS_LOWER, "IS_UPPER": IS_UPPER, "IS_TITLE": IS_TITLE}


@dataclass
class _Token:
    """What one token of a pattern tests, as spaCy's Matcher tests it."""
    equal: dict[int, frozenset[int]] = field(default_factory=dict)     # attr: one of these values (a plain value, IN)
    exclude: dict[int, frozenset[int]] = field(default_factory=dict)   # attr: none of these (NOT_IN)
    search: dict[int, re.Pattern] = field(default_factory=dict)        # attr: its string has a match (REGEX)

    def attrs(self) -> set[int]:
        return {*self.equal, *self.exclude, *self.search}

    def fits(self, columns: dict[int, list[int]], position: int, strings: StringStore) -> bool:
        """Whether the Doc's token at `position` (its attributes in `columns`) passes every test."""
        return (all(columns[a][position] in values for a, values in self.equal.items())
                and all(columns[a][position] not in values for a, values in self.exclude.items())
                and all(regex.search(strings[columns[a][position]]) for a, regex in self.search.items()))


def _token_test(spec: dict[str, Any]) -> _Token | None:
    """A pattern's token as a _Token, or None if it tests anything else (an operator, an extension, ...)."""
    test = _Token()
    for name, value in spec.items():
        name = name.upper()
        if name in _FLAG_ATTRS and isinstance(value, bool):
            test.equal[_FLAG_ATTRS[name]] = frozenset({int(value)})
        elif name not in _STRING_ATTRS:
            return None
        elif isinstance(value, str):
            test.equal[_STRING_ATTRS[name]] = frozenset({get_string_id(value)})
        elif isinstance(value, dict) and value:
            for predicate, argument in value.items():
                attr = _STRING_ATTRS[name]
                if predicate in ("IN", "NOT_IN") and isinstance(argument, list) and all(isinstance(v, str) for v in argument):
                    tests = test.equal if predicate == "IN" else test.exclude
                    if attr in tests:
                        return None   # two tests of one kind on one attribute: left to the Matcher
                    tests[attr] = frozenset(map(get_string_id, argument))
                elif predicate == "REGEX" and isinstance(argument, str) and attr not in test.search:
                    test.search[attr] = re.compile(argument)
                else:
                    return None
        else:
            return None
    return test


@dataclass
class _Pattern:
    """One pattern of a rule, as the tables hold it."""
    rule: int
    tokens: list[_Token]
    anchor: int          # the token looked up in a table; the others, and its own other tests, are checked
    checked: bool        # whether anything is left to check once the table has answered


@dataclass
class _Tables:
    attrs: list[int]                                                  # the columns Doc.to_array reads
    groups: list[tuple[tuple[int, ...], dict[Any, list[_Pattern]]]]   # attrs tested -> value(s) -> patterns
    rest: Matcher | None                                              # the patterns no table answers
    match_ids: list[int]                                              # rule -> the match id spaCy gives it


class IndexedAttributeRuler(AttributeRuler):
    """spaCy's AttributeRuler with the same patterns and results, found through tables."""

    def __init__(self, vocab: Vocab, name: str = "attribute_ruler", *, validate: bool = False,
                 scorer: Optional[Callable] = attribute_ruler_score) -> None:
        super().__init__(vocab, name, validate=validate, scorer=scorer)
        self._tables: _Tables | None = None

    def clear(self) -> None:
        super().clear()
        self._tables = None

    def add(self, patterns, attrs: dict, index: int = 0) -> None:
        super().add(patterns, attrs, index)
        self._tables = None   # made again, with the new rule, at the next Doc

    def _make_tables(self) -> _Tables:
        attrs: set[int] = set()
        groups: dict[tuple[int, ...], dict[Any, list[_Pattern]]] = {}
        rest = Matcher(self.vocab, validate=self.validate)
        for rule, entry in enumerate(self.patterns):
            leftover = []
            for spec in entry["patterns"]:
                tokens = [_token_test(token) for token in spec]
                anchor = next((i for i, token in enumerate(tokens) if token is not None and token.equal), None)
                if anchor is None or None in tokens or not -len(tokens) <= entry["index"] < len(tokens):
                    leftover.append(spec)   # (an index out of the span: the Matcher's match makes spaCy say so)
                    continue
                key = tokens[anchor]
                tested = tuple(sorted(key.equal))
                checked = len(tokens) > 1 or bool(key.exclude or key.search)
                pattern = _Pattern(rule, tokens, anchor, checked)
                table = groups.setdefault(tested, {})
                for values in product(*(sorted(key.equal[a]) for a in tested)):
                    table.setdefault(values[0] if len(values) == 1 else values, []).append(pattern)
                attrs.update(*(token.attrs() for token in tokens))
            if leftover:
                rest.add(self.vocab.strings.add(str(rule), allow_transient=False), leftover)
        return _Tables(attrs=sorted(attrs), groups=list(groups.items()), rest=rest if len(rest) else None,
                       match_ids=[self.vocab.strings[str(rule)] for rule in range(len(self.attrs))])

    def match(self, doc: Doc) -> list[tuple[int, int, int, int]]:
        """The matches AttributeRuler.match finds, sorted: (rule, match id, start, end).

        Each match is given once, where spaCy's Matcher may give a match twice (two patterns of one
        rule matching the same tokens); setting a rule's attributes twice changes nothing.
        """
        tables = self._tables or self._make_tables()
        self._tables = tables
        found: set[tuple[int, int, int]] = set()
        n = len(doc)
        if tables.attrs and n:
            rows = doc.to_array(tables.attrs).reshape(n, -1).T.tolist()
            columns = dict(zip(tables.attrs, rows))
            strings = self.vocab.strings
            for tested, table in tables.groups:
                values = columns[tested[0]] if len(tested) == 1 else zip(*(columns[a] for a in tested))
                for position, value in enumerate(values):
                    for pattern in table.get(value, ()):
                        start = position - pattern.anchor
                        end = start + len(pattern.tokens)
                        if pattern.checked and (start < 0 or end > n or not all(
                                token.fits(columns, start + i, strings) for i, token in enumerate(pattern.tokens))):
                            continue
                        found.add((pattern.rule, start, end))
        matches = [(rule, tables.match_ids[rule], start, end) for rule, start, end in found]
        if tables.rest is not None:
            for match_id, start, end in tables.rest(doc, allow_missing=True, as_spans=False):
                rule = int(self.vocab.strings[match_id])
                if (rule, start, end) not in found:
                    found.add((rule, start, end))
                    matches.append((rule, match_id, start, end))
        matches.sort()
        return matches


@Language.factory("kg_attribute_ruler", default_config={"validate": False})
def make_indexed_attribute_ruler(nlp: Language, name: str, validate: bool) -> IndexedAttributeRuler:
    """spaCy's factory for the component, empty: replace_attribute_ruler gives it the model's patterns."""
    return IndexedAttributeRuler(nlp.vocab, name, validate=validate)


def replace_attribute_ruler(nlp: Language, name: str = "attribute_ruler") -> bool:
    """Put an IndexedAttributeRuler with the same patterns in place of `nlp`'s AttributeRuler `name`.

    Returns False, changing nothing, if `nlp` has no such component or it is not spaCy's own class.
    """
    if name not in nlp.pipe_names or type(nlp.get_pipe(name)) is not AttributeRuler:
        return False
    patterns = nlp.get_pipe(name).patterns
    ruler = nlp.replace_pipe(name, "kg_attribute_ruler")
    ruler.add_patterns(patterns)
    return True
