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

import tomllib
from collections import Counter
import datetime
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Iterable, Iterator, Sequence

from spacy.language import Language
from spacy.matcher import DependencyMatcher, Matcher
from spacy.tokens import Doc, Span, Token

from kg.dates import parse_date
from kg.nlp import data_path, load_lexicon, load_toml
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


@dataclass(frozen=True)
class Mention:
    """A stretch of an article that names something: offsets into the article's text."""

    text: str
    start: int
    end: int
    label: str                 # the model's label (PERSON, ORG ...), NAME, or a lexicon class
    lexicon_id: str | None = None
    via: str | None = None     # how a short reference was resolved ("the film" -> main work)


@dataclass(frozen=True)
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


@dataclass
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
            slots = tuple(p["RIGHT_ID"] for p in pattern)
            heads = frozenset(p["RIGHT_ID"] for p in pattern if p.get("REL_OP") == "<")
            kind = "dep"
        elif "seq" in raw:
            pattern, names = [], []
            for element in raw["seq"]:
                element = dict(element)
                names.append(element.pop("slot", ""))
                pattern.append(_attrs(element, macros))
            slots = tuple(names)
            heads = frozenset()
            kind = "seq"
        else:
            raise ValueError(f"{where}: needs a dep or a seq pattern")
        needed = {"person", "character"} if predicate == "performance" else {"object"}
        if not needed <= set(slots):
            raise ValueError(f"{where}: pattern lacks node(s) {sorted(needed - set(slots))}")
        rules.append(Rule(rid, predicate, kind, pattern, float(raw.get("confidence", 0.8)), slots, heads,
                          bool(raw.get("conjuncts", True)), bool(raw.get("own_subject", True))))
    if not rules:
        raise ValueError(f"{data_path('relations.toml')}: no rules")
    return rules, data.get("references", {})


@lru_cache(maxsize=4)
def _matchers(vocab_id: int, vocab) -> tuple[DependencyMatcher, Matcher, dict[str, Rule]]:
    rules, _ = load_rules()
    dep, seq = DependencyMatcher(vocab, validate=True), Matcher(vocab, validate=True)
    by_id = {}
    for rule in rules:
        by_id[rule.id] = rule
        (dep if rule.kind == "dep" else seq).add(rule.id, [rule.pattern])
    return dep, seq, by_id


# --------------------------------------------------------------------------- documents


def _register() -> None:
    if not Token.has_extension("kg_name"):
        Token.set_extension("kg_name", default=False)


_NOT_NAMES = frozenset(w.casefold() for w in load_toml("text_repair.toml")["names"]["not_names"])
_PARTICLES = frozenset(load_toml("text_repair.toml")["names"]["particles"])


def _merge_names(doc: Doc) -> None:
    """Make each name one token, so patterns see "Lina de Vries" as one node.

    Runs of capitalised proper nouns the NER missed ("John Wick (Tom Hollis)") become names too.
    """
    _register()
    taken = {i for ent in doc.ents for i in range(ent.start, ent.end)}
    extra, run = [], []
    for token in list(doc) + [None]:
        if token is not None and token.pos_ == "PROPN" and token.is_title and token.i not in taken \
                and token.lower_ not in _NOT_NAMES:   # (only runs of two or more become names)
            if not run and token.i > 0 and doc[token.i - 1].text in _PARTICLES and token.i - 1 not in taken:
                run.append(token.i - 1)   # "de Vries"
            run.append(token.i)
            continue
        if len(run) >= 2:
            extra.append(Span(doc, run[0], run[-1] + 1, label="NAME"))
        run = []
    if extra:
        doc.ents = list(doc.ents) + extra
    with doc.retokenize() as retokenizer:
        for ent in doc.ents:
            if len(ent) > 1:
                retokenizer.merge(ent)
    for token in doc:
        if token.ent_type_ in NAME_LABELS:
            token._.kg_name = True
        elif token.pos_ == "PROPN" and token.is_title and token.ent_iob_ == "O" and not token.is_sent_start \
                and token.lower_ not in _NOT_NAMES:
            token._.kg_name = True


class _Context:
    """What short references resolve to, within one article."""

    def __init__(self, references: dict, main_work: Mention | None, main_franchise: Mention | None,
                 mentions: list[Mention], published: datetime.date | None = None):
        self.references = references
        self.published = published   # the article's date, which gives "in March" its year
        self.main_work = main_work
        self.main_franchise = main_franchise
        self.mentions = sorted(mentions, key=lambda m: m.start)

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
    for conj in token.conjuncts:
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
        senses.sort(key=lambda e: order.index(e.cls) if e.cls in order else len(order))
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
    for offset, doc in blocks:
        _merge_names(doc)
        dep, seq, by_id = _matchers(id(doc.vocab), doc.vocab)
        matches: list[tuple[Rule, dict[str, Token]]] = []
        for match_id, token_ids in dep(doc):
            rule = by_id[doc.vocab.strings[match_id]]
            matches.append((rule, {name: doc[i] for name, i in zip(rule.slots, token_ids)}))
        for match_id, start, end, alignment in seq(doc, with_alignments=True):
            rule = by_id[doc.vocab.strings[match_id]]
            nodes = {}
            for token, element in zip(doc[start:end], alignment):
                name = rule.slots[element]
                if name:
                    nodes.setdefault(name, token)
            matches.append((rule, nodes))
        matches.sort(key=lambda m: (min(t.i for t in m[1].values()), m[0].id))
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


def _past_tense(token: Token) -> bool:
    """Whether the clause of a date speaks of the past ("was released in March")."""
    verb = next((a for a in [token, *token.ancestors] if a.pos_ in {"VERB", "AUX"}), None)
    if verb is None:
        return False
    return verb.tag_ == "VBD" or any(c.tag_ == "VBD" and c.dep_ in {"aux", "auxpass"} for c in verb.children)


def _pairs(people: list[Token], characters: list[Token], sentence: Span) -> list[tuple[Token, Token]]:
    """Who plays whom: "A and B ... as X and Y, respectively" pairs in order; otherwise the slots as matched."""
    if "respectively" in sentence.text.lower():
        group_p = sorted({people[0], *[c for c in people[0].conjuncts if c._.kg_name]}, key=lambda t: t.i)
        group_c = sorted({characters[0], *[c for c in characters[0].conjuncts if c._.kg_name]}, key=lambda t: t.i)
        if len(group_p) == len(group_c) > 1:
            return list(zip(group_p, group_c))
        return []
    return [(people[0], characters[0])]


def _facts(rule: Rule, nodes: dict[str, Token], offset: int, ctx: _Context, main_work: Mention | None) -> Iterator[Fact]:
    subject_class, object_class = PREDICATES[rule.predicate]
    first = next(iter(nodes.values()))
    sentence = _sentence(first)
    text = sentence.text
    lead = len(text) - len(text.lstrip(" \t•●▪-–—*"))
    trail = len(text) - len(text.rstrip())
    # The evidence is exactly the article's text between the two offsets.
    where = (offset + sentence.start_char + lead, offset + sentence.end_char - trail, text[lead:len(text) - trail])
    if rule.predicate == "performance":
        if "work" in nodes:
            works = slot_mentions(nodes["work"], "Work", offset, ctx)
        else:
            frame = _frame_work(sentence, offset)
            works = [frame] if frame else ([main_work] if main_work else [])
        explicit = _work_of_role(nodes["character"], offset)
        works = [w for w in ([explicit] if explicit else works) if _fit(w, "Work")]
        works = [_fit(w, "Work") for w in works]
        for person_token, character_token in _pairs([nodes["person"]], [nodes["character"]], sentence):
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
        # A rule without a subject speaks of the article's main work, unless its verb has a subject
        # of its own ("the first film debuted in 2014" is not about the main work).
        anchor = nodes.get(rule.slots[0]) if rule.kind == "dep" and rule.own_subject else None
        own = [c for c in (anchor.children if anchor is not None else []) if c.dep_ in {"nsubj", "nsubjpass"}
               and c not in nodes.values() and c.lower_ not in {"we", "you", "i", "they", "fans", "audiences", "viewers"}]
        controller = anchor
        while not own and controller is not None and controller.dep_ == "xcomp" and controller.head is not controller:
            # "Chapter 4, which is set to release in March": the subject of "set" releases.
            controller = controller.head
            own = [c for c in controller.children if c.dep_ in {"nsubj", "nsubjpass"} and c not in nodes.values()]
        if not own and anchor is not None and anchor.dep_ in {"acl", "relcl"} and (
                anchor.head._.kg_name or anchor.head.lower_ in ctx.references.get("work", [])):
            own = [anchor.head]    # "the first film debuted in 2014": the film is the subject
        subjects = slot_mentions(own[0], subject_class, offset, ctx) if own else []
        # An own subject that names nothing blocks the main work only when it is a name or a work
        # ("the first film debuted in 2014"), not a part of one ("the script was written by X").
        blocking = bool(own) and (own[0]._.kg_name or own[0].pos_ == "PRON"
                                  or own[0].lower_ in ctx.references.get("work", []))
        if subjects or blocking:
            pass
        elif "Work" in subject_class and main_work:
            subjects = [Mention(main_work.text, where[0], where[0], main_work.label, main_work.lexicon_id,
                                via="the article's main work")]
        elif "Franchise" in subject_class and ctx.main_franchise:
            subjects = [Mention(ctx.main_franchise.text, where[0], where[0], ctx.main_franchise.label,
                                ctx.main_franchise.lexicon_id, via="the article's franchise")]
        else:
            subjects = []
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
