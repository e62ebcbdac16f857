"""Run the relation rules over an article's parsed blocks; yield typed Mention and Fact records.

The rules live in kg/data/relations.toml. Each names a predicate of the ontology and a pattern
with named nodes: ``subject`` and ``object`` (``person``, ``character`` and ``work`` for a
performance). Two kinds of pattern, one generic runner each:

- ``dep``: spaCy DependencyMatcher patterns over the parse, written as
  ``[left, operator, right, attributes]`` rows;
- ``seq``: spaCy Matcher token sequences in which some tokens are slots.

A slot token becomes one or more mentions through :func:`slot_mentions`: a name found by the
NER or the lexicon (and the names coordinated with it: "A, B and C"); a common noun holding a
name ("the Ruska Roma crime syndicate"); a relative pronoun (the noun its clause modifies); or a
short reference ("the film", "this spin-off", "it", "the hotel", "the actress") resolved to a
likely antecedent: the article's main work, the last-named person, the last-named hotel.

Everything here is per article, a pure function of the article and its Docs, so articles can be
processed in parallel and cached; canonicalisation across articles happens in kg/resolve.py.
"""

from __future__ import annotations

import re
import tomllib
import weakref
from collections import Counter
import datetime
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Iterable, Iterator, Sequence

import numpy
from spacy.attrs import ENT_IOB, ENT_TYPE, HEAD, IS_TITLE, LOWER, ORTH, POS, SENT_START
from spacy.language import Language
from spacy.matcher import DependencyMatcher, Matcher
from spacy.strings import get_string_id
from spacy.tokens import Doc, Span, Token
from spacy.vocab import Vocab

from kg.dates import parse_date
from kg.nlp import (LITERAL_ATTRS, Needs, Test, TokenTable, UnsupportedPattern, data_path, holds, load_lexicon,
                    load_toml, pattern_needs, token_tests)
from kg.ontology import coarse_class, entity_classes

__all__ = ["Mention", "Fact", "ArticleExtraction", "Rule", "load_rules", "extract_article", "PREDICATES"]

#: Predicates a rule may name, with the coarse classes of subject and object ("Date" for a literal).
PREDICATES: dict[str, tuple[str, str]] = {
    "performance": ("Person", "Character"),
    "portrays": ("Person", "Character"),
    "hasCastMember": ("Work", "Person"),
    "appearsIn": ("Character", "Work"),
    "directedBy": ("Work", "Person"),
    "writtenBy": ("Work", "Person"),
    "producedBy": ("Work", "Person"),
    "distributedBy": ("Work", "Organization"),
    "filmedIn": ("Work", "Place"),
    "spinOffOf": ("Work", "Work|Franchise"),
    "partOfFranchise": ("Work", "Franchise"),
    "sequelOf": ("Work", "Work"),
    "setAfter": ("Work", "Work"),
    "setBefore": ("Work", "Work"),
    "memberOf": ("Character", "Organization"),
    "leaderOf": ("Character", "Organization"),
    "trainedBy": ("Character", "Organization"),
    "worksFor": ("Character", "Organization"),
    "ownerOf": ("Character", "Organization"),
    "createdBy": ("Franchise|Work", "Person"),
    "releaseDate": ("Work", "Date"),
}

#: Every entity class of the ontology and the coarse class it belongs to (Hotel -> Organization).
COARSE = {name: coarse_class(name) for name in entity_classes()}

PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})
NAME_LABELS = frozenset(load_toml("text_repair.toml")["names"]["name_labels"]) | frozenset(COARSE) | {"NAME"}


@dataclass(frozen=True, slots=True)
class Mention:
    """A stretch of an article that names something: offsets into the article's text."""

    text: str
    start: int
    end: int
    label: str                 # the model's label (PERSON, ORG ...), NAME, or a lexicon class
    lexicon_id: str | None = None
    via: str | None = None     # how a short reference was resolved ("the film" -> main work)


@dataclass(frozen=True, slots=True)
class Fact:
    """One statement of a fact by one sentence of an article."""

    predicate: str
    subject: Mention
    object: Mention | str      # a Mention, or the lexical form of a date literal
    rule: str
    confidence: float
    sentence_start: int
    sentence_end: int
    sentence: str
    work: Mention | None = None   # the work of a performance


@dataclass(slots=True)
class ArticleExtraction:
    """What one article yields: its mentions and facts, and the work it is mainly about."""

    mentions: list[Mention] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    main_work: Mention | None = None


@dataclass(frozen=True)
class Rule:
    """A relation rule from relations.toml."""

    id: str
    predicate: str
    kind: str                  # "dep" or "seq"
    pattern: list
    confidence: float
    slots: tuple[str, ...]
    heads: frozenset[str] = frozenset()   # slots reached with "<": the head of an apposition, not a list
    conjuncts: bool = True                # "A, B and C" in a slot stand for three facts (off for "between A and B")
    own_subject: bool = True              # without a subject node, the verb's own subject, if any, is the subject


# --------------------------------------------------------------------------- rules


def _attrs(value, macros: dict) -> dict:
    if isinstance(value, str):
        if value not in macros:
            raise ValueError(f"unknown macro {value!r}")
        return dict(macros[value])
    out: dict = {}
    for key, item in value.items():
        if key == "use":
            for name in ([item] if isinstance(item, str) else item):
                out.update(macros[name])
        else:
            out[key] = item
    return out


@lru_cache(maxsize=None)
def load_rules() -> tuple[list[Rule], dict]:
    """Read relations.toml: the macros, the reference words and every rule, validated."""
    with open(data_path("relations.toml"), "rb") as handle:
        data = tomllib.load(handle)
    macros = data.get("macros", {})
    rules: list[Rule] = []
    seen: set[str] = set()
    for raw in data.get("rule", []):
        rid = raw.get("id")
        where = f"{data_path('relations.toml')}: rule {rid!r}"
        if not rid or rid in seen:
            raise ValueError(f"{where}: missing or repeated id")
        seen.add(rid)
        predicate = raw.get("predicate")
        if predicate not in PREDICATES:
            raise ValueError(f"{where}: unknown predicate {predicate!r}")
        if "dep" in raw:
            rows = raw["dep"]
            pattern = []
            for index, row in enumerate(rows):
                if index == 0:
                    name, attrs = row
                    pattern.append({"RIGHT_ID": name, "RIGHT_ATTRS": _attrs(attrs, macros)})
                else:
                    left, op, name, attrs = row
                    pattern.append({"LEFT_ID": left, "REL_OP": op, "RIGHT_ID": name, "RIGHT_ATTRS": _attrs(attrs, macros)})
            variants = [(rid, pattern), *((f"{rid}+{suffix}", variant) for suffix, variant
                                          in _controlled(pattern, data.get("control", {}), macros))]
            kind = "dep"
        elif "seq" in raw:
            pattern, names = [], []
            for element in raw["seq"]:
                element = dict(element)
                names.append(element.pop("slot", ""))
                pattern.append(_attrs(element, macros))
            variants = [(rid, pattern)]
            kind = "seq"
        else:
            raise ValueError(f"{where}: needs a dep or a seq pattern")
        for variant_id, variant in variants:
            if kind == "dep":
                slots = tuple(p["RIGHT_ID"] for p in variant)
                heads = frozenset(p["RIGHT_ID"] for p in variant if p.get("REL_OP") == "<")
            else:
                slots, heads = tuple(names), frozenset()
            needed = {"person", "character"} if predicate == "performance" else {"object"}
            if not needed <= set(slots):
                raise ValueError(f"{where}: pattern lacks node(s) {sorted(needed - set(slots))}")
            rules.append(Rule(variant_id, predicate, kind, variant, float(raw.get("confidence", 0.8)), slots, heads,
                              bool(raw.get("conjuncts", True)), bool(raw.get("own_subject", True))))
    if not rules:
        raise ValueError(f"{data_path('relations.toml')}: no rules")
    return rules, data.get("references", {})


#: The nodes a controlled variant of a rule adds (_controlled): the control verb, its infinitive's "to".
_CONTROL, _TO = "control", "control-to"


def _controlled(pattern: list[dict], control: dict, macros: dict) -> Iterator[tuple[str, list[dict]]]:
    """(id suffix, pattern) for each variant of a dep pattern whose slot is its verb's subject
    (a node with the SUBJ macro's DEP) in which that verb is the xcomp of a control verb, the
    slot then that verb's subject ("X is set to direct") or object ("Lionsgate tapped X to
    direct", "X was tapped to direct"): the [control] table of relations.toml. None for a verb
    whose pattern already constrains its DEP."""
    subject_dep = macros.get("SUBJ", {}).get("DEP")
    for index, row in enumerate(pattern[1:], 1):
        attrs = row["RIGHT_ATTRS"]
        if row["REL_OP"] != ">" or subject_dep is None or attrs.get("DEP") != subject_dep:
            continue
        at = next(j for j, r in enumerate(pattern) if r["RIGHT_ID"] == row["LEFT_ID"])
        verb = pattern[at]
        if "DEP" in verb["RIGHT_ATTRS"] or any(r["RIGHT_ID"] in (_CONTROL, _TO) for r in pattern):
            return
        for kind, deps in (("subject-control", ["nsubj", "nsubjpass"]), ("object-control", ["dobj", "nsubjpass"])):
            words = control.get(kind.split("-")[0])
            if not words:
                continue
            variant = list(pattern)
            # (the small model parses some such infinitives as adverbial clauses: "X was tapped to direct")
            variant[at] = {**verb, "RIGHT_ATTRS": {**verb["RIGHT_ATTRS"], "DEP": {"IN": ["xcomp", "advcl"]}}}
            variant[index:index + 1] = [
                # an infinitive ("to direct"), not a clause of its own ("returns as a writer while X directs")
                {"LEFT_ID": row["LEFT_ID"], "REL_OP": ">", "RIGHT_ID": _TO, "RIGHT_ATTRS": {"LOWER": "to", "DEP": "aux"}},
                {"LEFT_ID": row["LEFT_ID"], "REL_OP": "<", "RIGHT_ID": _CONTROL, "RIGHT_ATTRS": {"LEMMA": {"IN": list(words)}}},
                {"LEFT_ID": _CONTROL, "REL_OP": ">", "RIGHT_ID": row["RIGHT_ID"], "RIGHT_ATTRS": {**attrs, "DEP": {"IN": deps}}},
            ]
            yield kind, variant
        return


# --------------------------------------------------------------------------- matching
#
# One spaCy DependencyMatcher over all the rules would match every node of every rule against
# every token of every line, and most lines hold none of the words most rules ask for
# ("directed", "spin-off", "by"). So each rule is run on its own, and only on the lines that can
# match it: a trigger index first (the literal words its pattern requires, looked up in the sets
# of the line's words), then the tokens each of its nodes can stand on. Dep patterns are then
# matched here over the parse read once per line (Doc.to_array); seq patterns, and any dep
# pattern using an attribute form not implemented here, by spaCy's own matchers. The matches,
# and their order for each rule, are those of spaCy's DependencyMatcher and Matcher
# (tests/test_matching.py checks it rule by rule).

#: The pseudo-column of a _ParseTable for the token extension rules use (the NAME macro).
_NAME_COLUMN = -2
_EXTENSIONS = {"kg_name": _NAME_COLUMN}
#: Dependency operators implemented here (spaCy's DependencyMatcher runs patterns using others).
_REL_OPS = frozenset({">", "<", ">>", "<<", ".", ".*", ";", ";*"})


def _nodes(rule: Rule) -> list[dict]:
    """The token patterns of a rule: the nodes of a dep pattern, the elements of a seq pattern."""
    return [row["RIGHT_ATTRS"] for row in rule.pattern] if rule.kind == "dep" else rule.pattern


class _ParseTable(TokenTable):
    """A TokenTable of a parsed line, with its names, its trees and what matching patterns needs of them."""

    __slots__ = ("_heads", "_roots")

    def __init__(self, doc: Doc, columns: Iterable[int], names: list[int] | None = None):
        super().__init__(doc, columns)
        self._heads: list[int] | None = None
        self._roots: list[int] | None = None
        if names is not None:
            self.set_names(names)

    def set_names(self, names: list[int]) -> None:
        """Say which tokens are names (``_.kg_name``): 1 or 0, token by token."""
        self._columns[_NAME_COLUMN] = names

    def window(self, shape: _SeqShape) -> tuple[int, int] | None:
        """The stretch of tokens holding every match of a seq pattern of this shape; None if it cannot match.

        Tokens passing the tests of each required element are looked for one after another, as
        far apart as the elements between them allow.
        """
        reached: list[list[int]] = []   # for each required element, where it can be after the ones before
        for k, tests in enumerate(shape.required):
            found = self.candidates(tests)
            if k:
                low, high = shape.gaps[k - 1]
                found = [i for i in found if any(low <= i - j <= high for j in reached[-1])]
            if not found:
                return None
            reached.append(found)
        for k in range(len(reached) - 1, 0, -1):   # where the first can be, with all the others after it
            low, high = shape.gaps[k - 1]
            reached[k - 1] = [j for j in reached[k - 1] if any(low <= i - j <= high for i in reached[k])]
        first = reached[0]
        start = 0 if shape.lead == _UNBOUNDED else max(0, first[0] - shape.lead)
        end = self.size if shape.tail == _UNBOUNDED else min(self.size, reached[-1][-1] + shape.tail)
        return start, end

    def tree(self) -> tuple[list[int], list[int]]:
        """Each token's head, and the root of its tree (the token that is its own head)."""
        if self._heads is None:
            heads = numpy.arange(self.size) + self._array[:, self._index[HEAD]].astype(numpy.int64)
            roots = heads
            while True:
                up = heads[roots]
                if (up == roots).all():
                    break
                roots = up
            self._heads, self._roots = heads.tolist(), roots.tolist()
        return self._heads, self._roots   # type: ignore[return-value]


def _related(op: str, left: int, right: int, heads: list[int]) -> bool:
    """Whether token `right` stands in relation `op` to token `left`, two tokens of one tree.

    spaCy's REL_OP semantics: ">" right is a child of left, "<" its head, ">>" a descendant,
    "<<" an ancestor, "." the next token, ".*" a later one, ";" the token before, ";*" an earlier one.
    """
    if op == ">":
        return heads[right] == left and right != left
    if op == "<":
        return heads[left] == right and right != left
    if op == ".":
        return right == left + 1
    if op == ".*":
        return right > left
    if op == ";":
        return right == left - 1
    if op == ";*":
        return right < left
    below, above = (left, right) if op == "<<" else (right, left)
    while heads[below] != below:
        below = heads[below]
        if below == above:
            return True
    return False


class _DepPattern:
    """A DependencyMatcher pattern, matched over a _ParseTable with the results of spaCy's.

    spaCy's DependencyMatcher takes, for each tree of the Doc, every combination of tokens that
    match the nodes (in pattern order, each node's tokens ascending) and keeps those whose
    relations hold: the same combinations, in the same order within a tree, as this depth-first
    search through the nodes in pattern order.
    """

    def __init__(self, pattern: list[dict]):
        if any("OP" in row["RIGHT_ATTRS"] for row in pattern):
            raise UnsupportedPattern("a node with a quantifier")
        self.nodes = tuple(token_tests(row["RIGHT_ATTRS"], _EXTENSIONS) for row in pattern)
        position = {row["RIGHT_ID"]: j for j, row in enumerate(pattern)}
        self.edges: tuple[tuple[int, str], ...] = ((-1, ""),) + tuple(
            (position[row["LEFT_ID"]], row["REL_OP"]) for row in pattern[1:])
        unknown = {op for _, op in self.edges[1:]} - _REL_OPS
        if unknown or any(left >= j for j, (left, _) in enumerate(self.edges[1:], 1)):
            raise UnsupportedPattern(f"operators {sorted(unknown)}" if unknown else "a node related to a later one")
        # The nodes asking for words first: where a Doc lacks one, nothing else need be looked for.
        literal = set(LITERAL_ATTRS.values())
        self.order = sorted(range(len(self.nodes)), key=lambda j: not (
            self.nodes[j] and self.nodes[j][0][0] in literal and self.nodes[j][0][1] != "not in"))

    def __call__(self, table: _ParseTable) -> list[list[int]]:
        """Each match: the token indices of the nodes, in pattern order."""
        candidates: list[list[int]] = [[] for _ in self.nodes]
        for node in self.order:
            candidates[node] = table.candidates(self.nodes[node])
            if not candidates[node]:
                return []
        heads, roots = table.tree()
        size, edges = len(candidates), self.edges
        chosen = [0] * size
        matches: list[list[int]] = []

        def extend(node: int, root: int) -> None:
            if node == size:
                matches.append(list(chosen))
                return
            left, op = edges[node]
            anchor = chosen[left]
            for i in candidates[node]:
                if roots[i] == root and _related(op, anchor, i, heads):
                    chosen[node] = i
                    extend(node + 1, root)

        for first in candidates[0]:
            chosen[0] = first
            extend(1, roots[first])
        return matches


_UNBOUNDED = 1 << 30   # a width with no upper bound ("*", "+", "{2,}")


def _widths(op: str | None) -> tuple[int, int] | None:
    """The least and the most tokens a seq element with quantifier `op` matches; None if unknown ("!")."""
    if op is None or op == "1":
        return 1, 1
    fixed = {"?": (0, 1), "*": (0, _UNBOUNDED), "+": (1, _UNBOUNDED)}
    if op in fixed:
        return fixed[op]
    bounds = re.fullmatch(r"\{(\d*)(,?)(\d*)\}", op)
    if bounds is None or not (bounds.group(1) or bounds.group(3)):
        return None
    low = int(bounds.group(1) or 0)
    high = int(bounds.group(3)) if bounds.group(3) else (_UNBOUNDED if bounds.group(2) else low)
    return low, high


@dataclass(frozen=True)
class _SeqShape:
    """What a seq pattern asks of a Doc, as far as can be checked without spaCy's Matcher.

    Every match has a token passing the tests of each required element, in order; the starts of
    two consecutive required elements are `gaps` apart (least, most); a match begins at most
    `lead` tokens before its first required element, and ends at most `tail` tokens after the
    start of its last one.
    """

    required: tuple[tuple[Test, ...], ...]
    gaps: tuple[tuple[int, int], ...]
    lead: int
    tail: int

    @classmethod
    def of(cls, pattern: list[dict]) -> _SeqShape | None:
        """The shape of a seq pattern; None if it has no required element or an element of unknown width."""
        widths = [_widths(element.get("OP")) for element in pattern]
        if any(width is None for width in widths):
            return None
        places = [k for k, (low, _) in enumerate(widths) if low > 0]   # type: ignore[misc]
        if not places:
            return None

        def most(elements: Sequence[tuple[int, int] | None]) -> int:
            total = sum(high for _, high in elements)   # type: ignore[misc]
            return min(total, _UNBOUNDED)

        gaps = tuple((sum(low for low, _ in widths[a:b]), most(widths[a:b]))   # type: ignore[misc]
                     for a, b in zip(places, places[1:]))
        return cls(tuple(token_tests(pattern[k], _EXTENSIONS, strict=False) for k in places), gaps,
                   most(widths[:places[0]]), most(widths[places[-1]:]))


@dataclass(frozen=True)
class _CompiledRule:
    """A rule ready to run: its trigger, and what matches it."""

    rule: Rule
    needs: Needs                                      # the literal words a Doc must hold
    shape: _SeqShape | None                           # where a seq pattern can match
    pattern: _DepPattern | None                       # dep patterns matched here
    matcher: DependencyMatcher | Matcher | None       # the others, by spaCy


class _RuleMatcher:
    """Runs every rule of relations.toml over a Doc, each only where it can match."""

    def __init__(self, vocab: Vocab, rules: Sequence[Rule]):
        self.rules: list[_CompiledRule] = []
        columns = {HEAD}
        for rule in rules:
            pattern = matcher = None
            shape = None
            if rule.kind == "dep":
                try:
                    pattern = _DepPattern(rule.pattern)
                except UnsupportedPattern:
                    matcher = DependencyMatcher(vocab, validate=True)
            else:
                matcher = Matcher(vocab, validate=True)
                shape = _SeqShape.of(rule.pattern)
            if matcher is not None:
                matcher.add(rule.id, [rule.pattern])
            else:
                DependencyMatcher(vocab, validate=True).add(rule.id, [rule.pattern])   # validated as spaCy would
            compiled = _CompiledRule(rule, pattern_needs(_nodes(rule)), shape, pattern, matcher)
            columns.update(column for tests in (*(pattern.nodes if pattern else ()), *(shape.required if shape else ()))
                           for column, _, _ in tests)
            self.rules.append(compiled)
        # The trigger index: each word of the fewest-worded need of a rule -> the rules it may fire.
        self.always = frozenset(place for place, compiled in enumerate(self.rules) if not compiled.needs)
        self.index: dict[int, dict[int, list[int]]] = {}
        for place, compiled in enumerate(self.rules):
            if compiled.needs:
                attr, words = min(compiled.needs, key=lambda need: len(need[1]))
                for word in words:
                    self.index.setdefault(attr, {}).setdefault(word, []).append(place)
        self.word_attrs = frozenset(attr for compiled in self.rules for attr, _ in compiled.needs)
        self.columns = tuple(sorted(columns | self.word_attrs))

    def triggered(self, table: TokenTable) -> list[_CompiledRule]:
        """The rules that may match the Doc of `table`, in order: those whose words it holds."""
        words = table.words(self.word_attrs)
        places = set(self.always)
        for attr, index in self.index.items():
            for word in words[attr] & index.keys():
                places.update(index[word])
        return [self.rules[place] for place in sorted(places) if holds(self.rules[place].needs, words)]

    def __call__(self, table: _ParseTable) -> list[tuple[Rule, dict[str, Token]]]:
        """Each match of a rule in a line: the rule, and the tokens of its named nodes.

        `table` is the line's, with (at least) this matcher's `columns` and the names.
        """
        doc = table.doc
        matches: list[tuple[Rule, dict[str, Token]]] = []
        for compiled in self.triggered(table):
            rule = compiled.rule
            if compiled.pattern is not None:
                for token_ids in compiled.pattern(table):
                    matches.append((rule, {name: doc[i] for name, i in zip(rule.slots, token_ids)}))
            elif rule.kind == "dep":
                for _, token_ids in compiled.matcher(doc):   # type: ignore[misc]
                    matches.append((rule, {name: doc[i] for name, i in zip(rule.slots, token_ids)}))
            else:
                # Only the stretch where it can match (the Matcher reads a Span without copying it).
                window = table.window(compiled.shape) if compiled.shape else (0, len(doc))
                if window is None:
                    continue
                offset = window[0]
                for _, start, end, alignment in compiled.matcher(doc[slice(*window)], with_alignments=True):   # type: ignore[misc]
                    nodes: dict[str, Token] = {}
                    for token, element in zip(doc[offset + start:offset + end], alignment):
                        name = rule.slots[element]
                        if name:
                            nodes.setdefault(name, token)
                    matches.append((rule, nodes))
        return matches


#: Each pipeline's rule matcher, made on first use and dropped with the pipeline (with it, the
#: pipeline's vocabulary, which a cache keyed by the vocabulary kept alive after a build).
_MATCHERS: weakref.WeakKeyDictionary[Language, _RuleMatcher] = weakref.WeakKeyDictionary()


def _matcher(nlp: Language) -> _RuleMatcher:
    """The rule matcher of `nlp`'s vocabulary, made once for each pipeline."""
    matcher = _MATCHERS.get(nlp)
    if matcher is None:
        matcher = _MATCHERS[nlp] = _RuleMatcher(nlp.vocab, load_rules()[0])
    return matcher


# --------------------------------------------------------------------------- documents


def _register() -> None:
    if not Token.has_extension("kg_name"):
        Token.set_extension("kg_name", default=False)


_NOT_NAMES = frozenset(w.casefold() for w in load_toml("text_repair.toml")["names"]["not_names"])
_PARTICLES = frozenset(load_toml("text_repair.toml")["names"]["particles"])
# The same words as string hashes, to test the columns of Doc.to_array.
_NOT_NAME_IDS = frozenset(get_string_id(w) for w in _NOT_NAMES)
_PARTICLE_IDS = frozenset(get_string_id(w) for w in _PARTICLES)
_NAME_LABEL_IDS = frozenset(get_string_id(label) for label in NAME_LABELS)
_PROPN = get_string_id("PROPN")
_NAME_ATTRS = (ENT_TYPE, POS, IS_TITLE, ENT_IOB, SENT_START, LOWER)   # what tells a name
_OUTSIDE = 2   # ENT_IOB of a token outside any entity ("O")


def _merge_names(doc: Doc, columns: Iterable[int] = ()) -> _ParseTable:
    """Make each name one token, so patterns see "Lina de Vries" as one node; mark names ``_.kg_name``.

    Runs of capitalised proper nouns the NER missed ("John Wick (Tom Hollis)") become names too.
    Returns the merged line's table, with `columns` and the names (1 for a name, 0 otherwise).
    """
    _register()
    ents = doc.ents
    taken = {i for ent in ents for i in range(ent.start, ent.end)}
    pos, title, lower, orth = doc.to_array([POS, IS_TITLE, LOWER, ORTH]).reshape(len(doc), 4).T.tolist()
    runs: list[list[int]] = []   # runs of capitalised proper nouns outside the entities
    for i, (tag, is_title, word) in enumerate(zip(pos, title, lower)):
        if tag == _PROPN and is_title and i not in taken and word not in _NOT_NAME_IDS:
            if runs and runs[-1][-1] == i - 1:
                runs[-1].append(i)
            else:
                runs.append([i])
    extra = []
    for run in runs:
        if run[0] > 0 and orth[run[0] - 1] in _PARTICLE_IDS and run[0] - 1 not in taken:
            run.insert(0, run[0] - 1)   # "de Vries"
        if len(run) >= 2:   # (only runs of two or more become names)
            extra.append(Span(doc, run[0], run[-1] + 1, label="NAME"))
    if extra:
        doc.ents = list(ents) + extra
        ents = doc.ents
    long = [ent for ent in ents if len(ent) > 1]
    if long:
        with doc.retokenize() as retokenizer:
            for ent in long:
                retokenizer.merge(ent)
    table = _ParseTable(doc, {*columns, *_NAME_ATTRS})
    names = [int(ent_type in _NAME_LABEL_IDS or (
                 pos == _PROPN and title and iob == _OUTSIDE and start != 1 and lower not in _NOT_NAME_IDS))
             for ent_type, pos, title, iob, start, lower in zip(*map(table.column, _NAME_ATTRS))]
    table.set_names(names)
    for i, name in enumerate(names):
        if name:
            doc[i]._.kg_name = True
    return table


class _Context:
    """What short references resolve to, within one article."""

    def __init__(self, references: dict, main_work: Mention | None, main_franchise: Mention | None,
                 mentions: list[Mention], published: datetime.date | None = None):
        self.references = references
        self.published = published   # the article's date, which gives "in March" its year
        self.main_work = main_work
        self.main_franchise = main_franchise
        self.mentions = sorted(mentions, key=lambda m: m.start)
        self._sentences: dict[tuple[int, int], tuple[Span, tuple[int, int, str]]] = {}

    def sentence(self, token: Token, offset: int) -> tuple[Span, tuple[int, int, str]]:
        """The sentence of `token`, of the block at `offset`, and its evidence: start, end and text.

        The evidence is exactly the article's text between the two offsets, without the bullets
        and spaces around the sentence.
        """
        sentence = _sentence(token)
        key = (offset, sentence.start)
        if key not in self._sentences:
            text = sentence.text
            lead = len(text) - len(text.lstrip(" \t•●▪-–—*"))
            trail = len(text) - len(text.rstrip())
            self._sentences[key] = sentence, (offset + sentence.start_char + lead, offset + sentence.end_char - trail,
                                              text[lead:len(text) - trail])
        return self._sentences[key]

    def last_before(self, kind: str, position: int) -> Mention | None:
        """The last mention of `kind` (a coarse class, or Hotel) that starts before `position`."""
        found = None
        for mention in self.mentions:
            if mention.start >= position:
                break
            coarse = COARSE.get(mention.label) or {"PERSON": "Person", "ORG": "Organization"}.get(mention.label)
            if coarse == kind or mention.label == kind:
                found = mention
        return found


def _mention(token: Token, offset: int, **extra) -> Mention:
    return Mention(token.text, offset + token.idx, offset + token.idx + len(token.text), token.ent_type_ or "NAME",
                   token.ent_kb_id_ or None, **extra)


def _as_reference(target: Mention, token: Token, offset: int, via: str) -> Mention:
    return Mention(target.text, offset + token.idx, offset + token.idx + len(token.text), target.label,
                   target.lexicon_id, via=via)


def _name_children(token: Token) -> list[Token]:
    """Names held by a common noun: 'the Ruska Roma crime syndicate', 'actors such as A, B'."""
    names = [c for c in token.children if c._.kg_name and c.dep_ in {"compound", "nmod", "appos", "amod"}]
    if not names:
        names = [g for c in token.children if c.dep_ in {"compound", "nmod", "amod"} and c.i < token.i
                 for g in c.children if g._.kg_name and g.dep_ in {"compound", "nmod", "amod"}]
    for child in token.children:
        if child.dep_ == "prep" and child.lower_ in {"as", "of", "including"}:
            names.extend(g for g in child.children if g.dep_ == "pobj" and g._.kg_name)
    return names


def _with_conjuncts(token: Token, expand: bool = True) -> list[Token]:
    out = [token]
    if not expand:
        return out
    # "A, B and C", which the small model can read as A with the apposition "B and C"
    listed = [c for c in token.children if c.dep_ == "appos" and c._.kg_name and any(g.dep_ == "cc" for g in c.children)]
    for conj in [*token.conjuncts, *(t for c in listed for t in (c, *c.conjuncts))]:
        if conj._.kg_name and conj not in out:
            out.append(conj)
    return out


def slot_mentions(token: Token, expected: str, offset: int, ctx: _Context, expand: bool = True) -> list[Mention]:
    """The mentions a pattern's slot token stands for (several for "A, B and C"; none if it names nothing)."""
    refs = ctx.references
    if token._.kg_name:
        return [_mention(t, offset) for t in _with_conjuncts(token, expand)]
    lower = token.lower_
    here = offset + token.idx
    if token.pos_ == "PRON" or token.tag_ in {"WDT", "WP"}:
        if lower in {"which", "that", "who", "whom"}:
            clause = next((a for a in token.ancestors if a.dep_ in {"relcl", "acl"}), None)
            return _climb(clause.head, expected, offset, ctx) if clause is not None else []
        if lower in {"it", "its"} and "Work" in expected and ctx.main_work:
            return [_as_reference(ctx.main_work, token, offset, f"pronoun '{token.text}'")]
        person = ctx.last_before("Person", here)
        if lower in {"he", "she", "him", "her"} and "Person" in expected and person:
            return [_as_reference(person, token, offset, f"pronoun '{token.text}'")]
        return []
    names = _name_children(token)
    if names:
        return [_mention(t, offset) for n in names for t in _with_conjuncts(n)]
    if token.pos_ not in {"NOUN", "PROPN"} or token.tag_ in {"NNS", "NNPS"}:
        return []
    # A description of something named in the same clause: "Eve, an assassin trained by ...",
    # "Ballerina is a spin-off starring ...".
    if token.dep_ == "appos" and token.head._.kg_name:
        return [_mention(token.head, offset)]
    if token.dep_ == "attr" and token.head.lemma_ == "be":
        subject = next((c for c in token.head.children if c.dep_ == "nsubj"), None)
        if subject is not None and (subject._.kg_name or subject.pos_ == "PRON"):
            return slot_mentions(subject, expected, offset, ctx, expand)
    modifiers = {c.lower_ for c in token.children if c.dep_ in {"amod", "nummod", "det", "poss"}}
    if modifiers & set(refs.get("not_anaphoric", [])):
        return []
    if lower in refs.get("work", []) and "Work" in expected and ctx.main_work:
        return [_as_reference(ctx.main_work, token, offset, f"'{lower}' -> the article's main work")]
    if lower in refs.get("franchise", []) and "Franchise" in expected and ctx.main_franchise:
        return [_as_reference(ctx.main_franchise, token, offset, f"'{lower}' -> the article's franchise")]
    for kind, words, coarse in (("Hotel", "hotel", "Organization"), ("Person", "person", "Person"),
                                ("Organization", "organization", "Organization")):
        if lower in refs.get(words, []) and coarse in expected:
            antecedent = ctx.last_before(kind, here)
            if antecedent is not None:
                return [_as_reference(antecedent, token, offset, f"'{lower}' -> the last-named {words}")]
    return []


def _climb(token: Token, expected: str, offset: int, ctx: _Context, steps: int = 4) -> list[Mention]:
    """From the noun a relative clause modifies, up through 'of' and appositions to a name."""
    for _ in range(steps):
        found = slot_mentions(token, expected, offset, ctx) if token.pos_ != "PRON" else []
        if found:
            return found
        if token.dep_ in {"pobj", "prep", "appos", "attr"} and token.head is not token:
            if token.dep_ == "attr":
                subjects = [c for c in token.head.children if c.dep_ == "nsubj"]
                if subjects:
                    token = subjects[0]
                    continue
            token = token.head
        else:
            break
    return []


# --------------------------------------------------------------------------- the runner


def _sentence(token: Token) -> Span:
    return token.sent


def _main(mentions: Iterable[Mention], coarse: str) -> Mention | None:
    counts = Counter()
    first: dict[str, Mention] = {}
    for mention in mentions:
        if COARSE.get(mention.label) == coarse or (coarse == "Work" and mention.label in {"WORK_OF_ART"}):
            key = mention.lexicon_id or mention.text
            counts[key] += 1
            first.setdefault(key, mention)
    if not counts:
        return None
    best = max(counts, key=lambda k: (counts[k], -first[k].start))
    return first[best]


def _fit(mention: Mention | None, expected: str) -> Mention | None:
    """`mention` if it can fill a slot of class `expected`; another sense of the same title if that one can.

    "The Continental" defaults to the hotel, but as the subject of "premiered on" it is the TV
    series; "John Wick" defaults to the character, but as what a prequel precedes it is a work.
    """
    if mention is None or _compatible(mention, expected):
        return mention
    if mention.lexicon_id:
        order = load_toml("senses.toml")["default_order"]
        senses = [e for e in load_lexicon().lookup(mention.text) if _compatible_class(e.cls, expected)]
        # The slot's own preference first ("Franchise|Work": "John Wick creator" made the franchise)
        wanted = expected.split("|")
        senses.sort(key=lambda e: (wanted.index(COARSE[e.cls]), order.index(e.cls) if e.cls in order else len(order)))
        if senses:
            return replace(mention, label=senses[0].cls, lexicon_id=senses[0].id)
    return None


def _compatible_class(cls: str, expected: str) -> bool:
    return COARSE.get(cls) in set(expected.split("|"))


def _compatible(mention: Mention, expected: str) -> bool:
    allowed = set(expected.split("|"))
    if mention.label in COARSE:
        return COARSE[mention.label] in allowed
    if "Place" in allowed:
        return mention.label in PLACE_LABELS
    if mention.label in PLACE_LABELS | {"NORP"}:
        # The small model calls many unknown full names GPE ("Marta Kovac"); a one-word place
        # ("America") is never a person or a character.
        return bool(allowed & {"Organization", "Work"}) or (
            bool(allowed & {"Person", "Character"}) and mention.label != "NORP" and len(mention.text.split()) >= 2)
    if mention.label == "PERSON":
        # The NER mislabels people as ORG (so ORG stays open), but a PERSON is never a work or a company.
        return bool(allowed & {"Person", "Character"})
    return True


def _identity(thing: Mention | str | None) -> str | None:
    if isinstance(thing, Mention):
        return thing.lexicon_id or thing.text
    return thing


def extract_article(nlp: Language, blocks: Sequence[tuple[int, Doc]], *,
                    published: datetime.date | None = None) -> ArticleExtraction:
    """Mentions and facts of one article, from its parsed blocks (offset, Doc) in order.

    `published`, the article's date where known, gives a year to dates that lack one.
    """
    rules, references = load_rules()
    result = ArticleExtraction()
    for offset, doc in blocks:
        for ent in doc.ents:
            result.mentions.append(Mention(ent.text, offset + ent.start_char, offset + ent.end_char, ent.label_, ent.kb_id_ or None))
    names = [m for m in result.mentions if m.label != "DATE"]
    result.main_work = _main(names, "Work")
    ctx = _Context(references, result.main_work, _main(names, "Franchise"), names, published)
    seen: set[tuple] = set()
    matcher = _matcher(nlp)
    for offset, doc in blocks:
        matches = matcher(_merge_names(doc, matcher.columns))
        # (A controlled variant's control verb and "to" come before its base rule's nodes: not counted.)
        matches.sort(key=lambda m: (min(t.i for name, t in m[1].items() if name not in (_CONTROL, _TO)), m[0].id))
        for rule, nodes in matches:
            for fact in _facts(rule, nodes, offset, ctx, result.main_work):
                # One statement of a fact per sentence, whichever rules and mentions found it.
                key = (fact.predicate, _identity(fact.subject), _identity(fact.object), _identity(fact.work),
                       fact.sentence_start)
                if key not in seen:
                    seen.add(key)
                    result.facts.append(fact)
    return result


def _frame_work(sentence: Span, offset: int) -> Mention | None:
    """The work a sentence opens with: "In John Wick: Chapter 3, the Director ..." """
    first = next((t for t in sentence if not t.is_space and not t.is_punct), None)
    if first is None or first.lower_ != "in":
        return None
    for child in first.children:
        if child.dep_ == "pobj" and COARSE.get(child.ent_type_) == "Work":
            return _mention(child, offset)
    return None


def _work_of_role(character: Token, offset: int) -> Mention | None:
    """The work named with a role: "reprises his role as the Bowery King in John Wick: Chapter 4"."""
    for holder in (character, character.head, character.head.head):
        for child in holder.children:
            if child.dep_ == "prep" and child.lower_ == "in" and child.i > character.i:
                for work in child.children:
                    if work.dep_ == "pobj" and COARSE.get(work.ent_type_) == "Work":
                        return _mention(work, offset)
    return None


def _work_of_title(job: Token, offset: int, taken: Iterable[Token] = ()) -> Mention | None:
    """The work a job title names: "John Wick: Chapter 4 director", "Chapter 4's director", "the
    director of Chapter 4" (a name tagged as a work, or a work of the lexicon, on the title), but
    none of the `taken` tokens (a pattern's own slots: "the John Wick spin-off" is no spin-off's work)."""
    taken = set(taken)

    def work(token: Token) -> Mention | None:
        # A work by its label, or a name of the lexicon that may be one ("John Wick": _fit decides)
        known = token._.kg_name and token not in taken and (
            COARSE.get(token.ent_type_) == "Work" or token.ent_type_ == "WORK_OF_ART" or bool(token.ent_kb_id_))
        return _mention(token, offset) if known else None

    for child in job.children:
        if child.dep_ in {"compound", "poss", "nmod"} and child.i < job.i and (found := work(child)):
            return found
        if child.dep_ == "prep" and child.lower_ in {"of", "on", "behind", "for"}:
            for target in child.children:
                if target.dep_ == "pobj" and (found := work(target)):
                    return found
    return None


def _past_tense(token: Token) -> bool:
    """Whether the clause of a date speaks of the past ("was released in March")."""
    verb = next((a for a in [token, *token.ancestors] if a.pos_ in {"VERB", "AUX"}), None)
    if verb is None:
        return False
    return verb.tag_ == "VBD" or any(c.tag_ == "VBD" and c.dep_ in {"aux", "auxpass"} for c in verb.children)


def _pairs(people: list[Token], characters: list[Token], sentence: str) -> list[tuple[Token, Token]]:
    """Who plays whom: "A and B ... as X and Y, respectively" pairs in order; otherwise the slots as matched."""
    if "respectively" in sentence.lower():
        group_p = sorted({people[0], *[c for c in people[0].conjuncts if c._.kg_name]}, key=lambda t: t.i)
        group_c = sorted({characters[0], *[c for c in characters[0].conjuncts if c._.kg_name]}, key=lambda t: t.i)
        if len(group_p) == len(group_c) > 1:
            return list(zip(group_p, group_c))
        return []
    return [(people[0], characters[0])]


def _implied_subjects(rule: Rule, nodes: dict[str, Token], offset: int, ctx: _Context, main_work: Mention | None,
                      subject_class: str, where: tuple[int, int, str]) -> list[Mention]:
    """The subjects of a fact whose rule has no subject node: the work its verb acts on or a job
    title of the pattern names, else the verb's own subject (or its controller's), else the
    article's main work (or franchise): "the first film debuted in 2014" is not about the main work."""
    anchor = nodes.get(rule.slots[0]) if rule.kind == "dep" and rule.own_subject else None
    # A work the verb acts on is the work it speaks of: "Dana Kroll directed Chapter 4" in an
    # article about Ballerina, "Lionsgate will release Ballerina on June 6".
    acted_on = [m for c in (anchor.children if anchor is not None and "Work" in subject_class else [])
                if c.dep_ == "dobj" and c not in nodes.values()
                for m in slot_mentions(c, subject_class, offset, ctx) if _fit(m, subject_class)]
    # So is a work a job title of the pattern names: "the director of Chapter 4" in an article
    # about Ballerina, "John Wick creator Colin Ashby".
    acted_on = acted_on or [m for name, token in nodes.items() if name != "object" and token.pos_ == "NOUN"
                            for m in [_work_of_title(token, offset, nodes.values())]
                            if m is not None and _fit(m, subject_class)]
    own = [] if acted_on else [
        c for c in (anchor.children if anchor is not None else []) if c.dep_ in {"nsubj", "nsubjpass"}
        and c not in nodes.values() and c.lower_ not in {"we", "you", "i", "they", "fans", "audiences", "viewers"}]
    controller = None if acted_on else anchor
    while not own and controller is not None and controller.dep_ == "xcomp" and controller.head is not controller:
        # "Chapter 4, which is set to release in March": the subject of "set" releases.
        controller = controller.head
        if controller is nodes.get(_CONTROL):   # "Lionsgate hired X to direct": not the work
            break
        own = [c for c in controller.children if c.dep_ in {"nsubj", "nsubjpass"} and c not in nodes.values()]
    if not own and not acted_on and anchor is not None and anchor.dep_ in {"acl", "relcl"} and (
            anchor.head._.kg_name or anchor.head.lower_ in ctx.references.get("work", [])):
        own = [anchor.head]    # "the first film debuted in 2014": the film is the subject
    subjects = acted_on or (slot_mentions(own[0], subject_class, offset, ctx) if own else [])
    # An own subject that names nothing blocks the main work only when it is a name or a work
    # ("the first film debuted in 2014"), not a part of one ("the script was written by X").
    blocking = bool(own) and (own[0]._.kg_name or own[0].pos_ == "PRON"
                              or own[0].lower_ in ctx.references.get("work", []))
    if subjects or blocking:
        return subjects
    if "Work" in subject_class and main_work:
        return [Mention(main_work.text, where[0], where[0], main_work.label, main_work.lexicon_id,
                        via="the article's main work")]
    if "Franchise" in subject_class and ctx.main_franchise:
        return [Mention(ctx.main_franchise.text, where[0], where[0], ctx.main_franchise.label,
                        ctx.main_franchise.lexicon_id, via="the article's franchise")]
    return []


def _facts(rule: Rule, nodes: dict[str, Token], offset: int, ctx: _Context, main_work: Mention | None) -> Iterator[Fact]:
    subject_class, object_class = PREDICATES[rule.predicate]
    sentence, where = ctx.sentence(next(iter(nodes.values())), offset)
    if rule.predicate == "performance":
        if "work" in nodes:
            works = slot_mentions(nodes["work"], "Work", offset, ctx)
        else:
            frame = _frame_work(sentence, offset)
            works = [frame] if frame else ([main_work] if main_work else [])
        explicit = _work_of_role(nodes["character"], offset)
        works = [w for w in ([explicit] if explicit else works) if _fit(w, "Work")]
        works = [_fit(w, "Work") for w in works]
        for person_token, character_token in _pairs([nodes["person"]], [nodes["character"]], where[2]):
            for person in slot_mentions(person_token, "Person", offset, ctx, expand=False):
                for character in slot_mentions(character_token, "Character", offset, ctx, expand=False):
                    person, character = _fit(person, "Person"), _fit(character, "Character")
                    if person is None or character is None or person.text == character.text:
                        continue
                    for work in works or [None]:
                        yield Fact("performance", person, character, rule.id, rule.confidence, *where, work=work)
        return
    if "subject" in nodes:
        subjects = slot_mentions(nodes["subject"], subject_class, offset, ctx,
                                 expand=rule.conjuncts and "subject" not in rule.heads)
    else:
        subjects = _implied_subjects(rule, nodes, offset, ctx, main_work, subject_class, where)
    if object_class == "Date":
        token = nodes["object"]
        ent = next((e for e in token.doc.ents if e.start <= token.i < e.end), None)
        value = parse_date(ent.text if ent is not None else token.text, reference=ctx.published,
                           past=_past_tense(token))
        objects: list = [value] if value else []
    else:
        objects = slot_mentions(nodes["object"], object_class, offset, ctx,
                                expand=rule.conjuncts and "object" not in rule.heads)
    for subject in subjects:
        subject = _fit(subject, subject_class)
        if subject is None:
            continue
        for obj in objects:
            if isinstance(obj, Mention):
                obj = _fit(obj, object_class)
                if obj is None or (obj.text == subject.text and obj.label == subject.label):
                    continue
            yield Fact(rule.predicate, subject, obj, rule.id, rule.confidence, *where)
