"""Canonicalisation: one node per real entity, across every article.

Mentions come from many articles, spelt many ways ("Lina de Vries", "de Vries", "Vries"; "Rob
Tanner" and "Rob Tannor"; "Lions Gate" and "Lionsgate"). This module decides which mentions
name the same thing and what that thing is:

1. a mention the lexicon recognised is the lexicon's entry (its sense chosen per mention in
   kg/nlp.py: "John Wick" the character, the film or the franchise);
2. other mentions are grouped by their spelling folded for case, spaces and punctuation;
3. a group's class is voted by the roles its mentions play in facts (the object of "directed by"
   is a Person, whatever the NER said), falling back on the NER's label;
4. shortened names join the one longer name of the same class they end or begin with ("Vries",
   "de Vries" -> "Lina de Vries"), and names one letter apart in one word join ("Tanner" ->
   "Tannor"); the label is the most frequent full form.
"""

from __future__ import annotations

import re
from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Iterator

import numpy as np

from kg.extract import COARSE, PREDICATES, ArticleExtraction, Mention
from kg.namespaces import slug
from kg.nlp import load_lexicon, load_toml, surface_key

__all__ = ["Entity", "Resolution", "resolve", "clean_surface"]

_NER_HINT = {"PERSON": "Person", "ORG": "Organization", "GPE": "Place", "LOC": "Place", "FAC": "Place",
             "WORK_OF_ART": "Work", "LAW": "Work", "PRODUCT": "Work", "EVENT": "Work", "NAME": "Person"}


@dataclass
class Entity:
    """One real thing of the graph."""

    key: str                   # "person/lina-de-vries": kind and slug, the IRI's path
    cls: str                   # the most specific ontology class
    label: str
    surfaces: Counter = field(default_factory=Counter)

    @property
    def kind(self) -> str:
        return self.key.split("/", 1)[0]

    @property
    def alt_labels(self) -> list[str]:
        return sorted(s for s in self.surfaces if s != self.label)


@dataclass
class Resolution:
    """Entities, and the entity each name (by its key, nlp.surface_key) is.

    Which entity a mention names is decided again, article by article (`entities_of`), from
    what the article says and these tables: no table by mention is kept (at 10,000 articles,
    some 300,000 mentions, a table of them was the largest part of the resolution).
    """

    entities: dict[str, Entity]
    of_name: dict[str, str]    # a name's key -> the key of its entity

    def entities_of(self, extraction: ArticleExtraction) -> dict[tuple[int, int, str], Entity]:
        """The entity each mention of the article's facts names, by the mention's offsets and text."""
        readings = list(_readings(extraction))
        found = {}
        for where, (kind, value) in _read_article(readings, _entries(readings)).items():
            entity = self.entities.get(value if kind == _ENTRY else self.of_name.get(value, ""))
            if entity is not None:   # None: an article that was not resolved with the others
                found[where] = entity
        return found


@lru_cache(maxsize=1 << 16)  # the same surfaces come back in article after article
def clean_surface(text: str) -> str:
    """A mention's text as a label: quotes, possessives, a leading article and line breaks dropped.

    >>> clean_surface("the Ruska Roma"), clean_surface("John Wick’s"), clean_surface("“Ballerina,”")
    ('Ruska Roma', 'John Wick', 'Ballerina')
    """
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"[’'`]s$", "", text)
    text = text.strip(" \"'“”‘’,.;:()[]")
    text = re.sub(r"^(the|a|an) ", "", text)
    return text


def _roles(extraction: ArticleExtraction) -> Iterable[tuple[Mention, str]]:
    """Each mention of the article's facts with the class its slot asks for, in the facts' order."""
    for fact in extraction.facts:
        subject_class, object_class = PREDICATES[fact.predicate]
        yield fact.subject, subject_class
        if isinstance(fact.object, Mention):
            yield fact.object, object_class
        if fact.work is not None:
            yield fact.work, "Work"


#: The facts whose person plays a part: that person is an Actor.
_PERFORMING = {"performance": "subject", "portrays": "subject", "hasCastMember": "object"}

#: How a mention is read: as a lexicon entry (its id), or as a name (its key, nlp.surface_key).
_ENTRY, _NAME = "entry", "name"


@lru_cache(maxsize=1 << 16)
def _reading(text: str, role: str) -> tuple[str, str] | None:
    """How a mention of `text` that the lexicon did not tag is read in a slot of class `role`:
    the lexicon entry it is spelt like, if exactly one of a class the role allows, else its
    name; None for a name of no letter or digit."""
    surface = clean_surface(text)
    candidates = [e for e in load_lexicon().lookup(surface) if COARSE[e.cls] in role.split("|")]
    if len(candidates) == 1:
        return _ENTRY, candidates[0].id
    key = surface_key(surface)
    return (_NAME, key) if key else None


def _readings(extraction: ArticleExtraction) -> Iterator[tuple[Mention, str, tuple[str, str]]]:
    """(mention, role, reading) for each mention of the article's facts in each of its slots."""
    for mention, role in _roles(extraction):
        reading = (_ENTRY, mention.lexicon_id) if mention.lexicon_id else _reading(mention.text, role)
        if reading is not None:
            yield mention, role, reading


_Readings = list[tuple[Mention, str, tuple[str, str]]]


def _entries(readings: _Readings) -> dict[Mention, str]:
    """The article's mentions read as lexicon entries, each once, with the entry it was last read as."""
    return {mention: reading[1] for mention, _, reading in readings if reading[0] == _ENTRY}


def _read_article(readings: _Readings, entries: dict[Mention, str]) -> dict[tuple[int, int, str], tuple[str, str]]:
    """How each mention of an article's facts is read (`readings`: _readings's; `entries`:
    _entries's), by offsets and text: a mention read as a name in any slot is the name; else
    the entry it was last read as."""
    read = {(mention.start, mention.end, mention.text): (_ENTRY, value) for mention, value in entries.items()}
    read.update(((mention.start, mention.end, mention.text), reading)
                for mention, _, reading in readings if reading[0] == _NAME)
    return read


def _edit_distance_at_most_one(a: str, b: str) -> bool:
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) <= 1
    short, long_ = sorted((a, b), key=len)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


@lru_cache(maxsize=1 << 16)
def _one_deletion(word: str) -> frozenset[str]:
    """`word` and each form of it less one letter: two words at most one edit apart share one of these.

    >>> sorted(_one_deletion("abc"))
    ['ab', 'abc', 'ac', 'bc']
    """
    return frozenset({word, *(word[:i] + word[i + 1:] for i in range(len(word)))})


#: The shortest word whose one-letter misspelling joins a name to another ("Tanner", "Tannor"):
#: shorter words differ by a letter too often to be the same name ("Dan", "Don").
_MIN_MISSPELT = 5


def _misspellable(words: list[str]) -> list[int]:
    """The positions of `words` a misspelling may be at: words of _MIN_MISSPELT letters or more."""
    return [i for i, word in enumerate(words) if len(word) >= _MIN_MISSPELT]


def _gap(words: list[str], i: int, variant: str) -> int:
    """`words` with word `i` replaced by `variant`, marked, as the hash of one string: the key of
    the misspelling index, which holds every form of every name (900,000 at 10,000 articles).
    A hash takes less than half the memory of the string; two names whose keys collide without
    sharing a form are only a candidate pair, which `resolve` checks letter by letter.

    >>> _gap(["rob", "tanner"], 1, "tannr") == _gap(["rob", "tannor"], 1, "tannr")
    True
    """
    return hash(" ".join([*words[:i], "\x1f" + variant, *words[i + 1:]]))


class _GapIndex:
    """The misspelling index: each name, by its rank, filed under _gap's keys; held as two
    arrays sorted by key, looked up by bisection. As a dict of Python ints it took some 64 MB at
    resolve's peak at 10,000 articles (700,000 keys); as arrays, 8 MB, freed in one piece."""

    def __init__(self) -> None:
        self._filed_keys, self._filed_ranks = array("q"), array("q")   # as filed, until sort()
        self._keys = self._ranks = np.empty(0, dtype=np.int64)         # sorted by key, after it

    def add(self, key: int, rank: int) -> None:
        self._filed_keys.append(key)
        self._filed_ranks.append(rank)

    def sort(self) -> None:
        """Ready the index for `ranks_under`, once every name is filed."""
        keys = np.frombuffer(self._filed_keys, dtype=np.int64)
        order = np.argsort(keys, kind="stable")
        self._keys, self._ranks = keys[order], np.frombuffer(self._filed_ranks, dtype=np.int64)[order]
        self._filed_keys, self._filed_ranks = array("q"), array("q")

    def ranks_under(self, keys: list[int]) -> set[int]:
        """The ranks of the names filed under any of `keys` (none before `sort`)."""
        wanted = np.array(keys, dtype=np.int64)
        starts, ends = self._keys.searchsorted(wanted, "left"), self._keys.searchsorted(wanted, "right")
        return {rank for start, end in zip(starts.tolist(), ends.tolist()) if end > start
                for rank in self._ranks[start:end].tolist()}


def resolve(extractions: Iterable[ArticleExtraction]) -> Resolution:
    """Group every mention that takes part in a fact into entities, reading `extractions` once
    (they may be a stream: kg build reads them back from a file)."""
    lexicon = load_lexicon()
    particles = set(load_toml("text_repair.toml")["names"]["particles"])
    votes: dict[str, Counter] = defaultdict(Counter)
    hints: dict[str, Counter] = defaultdict(Counter)
    surfaces: dict[str, Counter] = defaultdict(Counter)
    lexicon_surfaces: dict[str, Counter] = defaultdict(Counter)   # the forms of each entry's mentions
    # How many articles use each form (for the labels, below), and the entries and names of
    # persons who play a part (Actors, below).
    articles_using: Counter = Counter()
    performers: set[tuple[str, str]] = set()
    # One pass over the records (a build keeps them on file: each read is a decoding), which
    # keeps none of their mentions.
    for extraction in extractions:
        readings = list(_readings(extraction))
        for mention, role, (kind, value) in readings:
            if kind == _ENTRY:
                continue
            votes[value].update(role.split("|")[:1] if "|" in role else [role])
            hints[value][_NER_HINT.get(mention.label, "Person")] += 1
            surfaces[value][clean_surface(mention.text)] += 1
        entries = _entries(readings)
        for mention, lexicon_id in entries.items():
            forms = lexicon_surfaces[lexicon_id]   # an entry only referred to ("the film") is an entity too
            if not mention.via:
                forms[clean_surface(mention.text)] += 1
        articles_using.update({clean_surface(mention.text) for mention in extraction.mentions})
        read = _read_article(readings, entries)
        for fact in extraction.facts:
            if fact.predicate in _PERFORMING:
                person = getattr(fact, _PERFORMING[fact.predicate])
                reading = read.get((person.start, person.end, person.text))
                if reading is not None:
                    performers.add(reading)

    def coarse_of(key: str) -> str:
        if votes[key]:
            ranked = sorted(votes[key].items(), key=lambda kv: (-kv[1], kv[0]))
            top = ranked[0][0]
            if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
                hinted = hints[key].most_common(1)[0][0]
                if hinted in {r[0] for r in ranked[:2]}:
                    return hinted
            return top
        return hints[key].most_common(1)[0][0]

    # Merge shortened and misspelt names into the longer name of the same class.
    by_class: dict[str, list[str]] = defaultdict(list)
    for key in surfaces:
        by_class[coarse_of(key)].append(key)
    parent: dict[str, str] = {}

    def words(key: str) -> list[str]:
        # Compared without case: "De Vries" at the start of a sentence is "de Vries".
        return surfaces[key].most_common(1)[0][0].lower().split()

    for cls, keys in by_class.items():
        if cls not in {"Person", "Character"}:  # the only classes whose names are merged
            continue
        word_of = {key: words(key) for key in keys}
        full = sorted(keys, key=lambda k: (-len(word_of[k]), k))
        rank = {key: i for i, key in enumerate(full)}
        # Indexes instead of comparing every pair of names (quadratic in the names of a class):
        # each name under its proper word suffixes, its first word, and itself with one word
        # replaced by a one-deletion form of it (two words one edit apart share such a form;
        # "Tanner" and "Tannor" share "Tannr"), so that "Rob Tanner" meets "Rob Tannor" but
        # not every other Rob. Only what a misspelling can match goes under a one-deletion
        # form: names of two words or more, words of _MIN_MISSPELT letters or more.
        by_suffix: dict[tuple[str, ...], list[str]] = defaultdict(list)
        by_first: dict[str, list[str]] = defaultdict(list)
        by_gap = _GapIndex()
        for key in full:
            ow = word_of[key]
            for i in range(1, len(ow)):
                by_suffix[tuple(ow[i:])].append(key)
            if len(ow) > 1:
                by_first[ow[0]].append(key)
                for i in _misspellable(ow):
                    for variant in _one_deletion(ow[i]):
                        by_gap.add(_gap(ow, i, variant), rank[key])
        by_gap.sort()
        for key in full:
            w = word_of[key]
            longer: list[str] = []
            if not all(x.lower() in particles for x in w):
                # Longer names of the class that end with this one, or (one word) begin with it.
                found = set(by_suffix.get(tuple(w), ()))
                if len(w) == 1:
                    found.update(by_first.get(w[0], ()))
                longer = sorted(found, key=rank.__getitem__)
            if len(longer) == 1:
                parent[key] = longer[0]
                continue
            if len(longer) > 1:
                roots = {parent.get(o, o) for o in longer}
                if len(roots) == 1:
                    parent[key] = roots.pop()
                continue
            if len(w) >= 2:
                # Names of as many words differing in exactly one word, in the order of `full`.
                gaps = [_gap(w, i, variant) for i in _misspellable(w) for variant in _one_deletion(w[i])]
                near = sorted(by_gap.ranks_under(gaps) - {rank[key]}) if gaps else []
                for other in map(full.__getitem__, near):
                    if other in parent:
                        continue
                    ow = word_of[other]
                    diffs = [(a, b) for a, b in zip(w, ow) if a != b]
                    if len(diffs) == 1 and min(len(diffs[0][0]), len(diffs[0][1])) >= _MIN_MISSPELT \
                            and _edit_distance_at_most_one(*diffs[0]) and diffs[0][0][0] == diffs[0][1][0]:
                        # The more frequent spelling wins; ties go to the later in sort order.
                        mine, theirs = sum(surfaces[key].values()), sum(surfaces[other].values())
                        if (mine, key) < (theirs, other):
                            parent[key] = other
                            break

    def root(key: str) -> str:
        seen = set()
        while key in parent and key not in seen:
            seen.add(key)
            key = parent[key]
        return key

    entities: dict[str, Entity] = {}
    group_surfaces: dict[str, Counter] = defaultdict(Counter)
    for key in surfaces:
        group_surfaces[root(key)].update(surfaces[key])
    key_of_group: dict[str, str] = {}
    for group in sorted(group_surfaces):
        counter = group_surfaces[group]
        cls = coarse_of(group)
        # The label: the fullest form, then the one the most articles use (not the most facts:
        # one sentence can state several), then the most mentions.
        label = max(counter, key=lambda s: (len(s.split()), articles_using[s], counter[s], s))
        entity_key = f"{cls.lower()}/{slug(label)}"
        while entity_key in entities and entities[entity_key].cls != cls:
            entity_key += "-2"
        entity = entities.setdefault(entity_key, Entity(entity_key, cls, label))
        entity.surfaces.update(counter)
        key_of_group[group] = entity_key

    for lexicon_id in sorted(lexicon_surfaces):
        entry = lexicon.entries[lexicon_id]
        entities.setdefault(lexicon_id, Entity(lexicon_id, entry.cls, entry.label))
    for lexicon_id, forms in lexicon_surfaces.items():
        entities[lexicon_id].surfaces.update(forms)
    of_name = {key: key_of_group[root(key)] for key in surfaces}

    # Refine classes from roles: a person who plays a part is an Actor.
    for kind, value in performers:
        entity = entities[value if kind == _ENTRY else of_name[value]]
        if entity.cls == "Person":
            entity.cls = "Actor"
    return Resolution(entities, of_name)
