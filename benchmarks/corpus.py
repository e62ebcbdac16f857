"""Synthetic corpora for the benchmark: the seeds' sentences recombined, with people renamed.

Every generated article is a new text (a random draw of the seeds' headings, paragraph sentences
and list items), so no cache keyed by a text's hash can shortcut a build of it, and the words
that name people are replaced, article by article, by invented names drawn from a cast: the
graph grows new nodes as the corpus grows, as it would on real news.

What is a person's name is not written here: the pretrained model's NER finds the PERSON spans
of the seeds once, and every capitalised word of those spans is a name word — except the words of
kg's franchise lexicon (titles, characters, organizations), which stay, so the franchise's
vocabulary and the rules that rest on it keep firing.

    python -m benchmarks.corpus --articles 1000 --out benchmarks/corpora/1000
"""

from __future__ import annotations

import argparse
import csv
import datetime
import random
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Material", "load_material", "make_corpus", "perturb"]

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

_SENTENCE_END = re.compile(r"(?<=[.!?”\"])\s+(?=[“\"A-Z])")
_SYLLABLES = ("ba", "ren", "to", "mi", "sal", "vek", "or", "lin", "da", "quo", "tes", "ar", "nu", "fel",
              "ki", "mor", "ela", "zan", "pi", "rud", "ho", "gan", "sev", "ly", "cor", "dim", "ea", "wil")


@dataclass(frozen=True)
class Material:
    """What articles are made of: the seeds' short lines, their paragraph sentences, their name words."""

    short_lines: tuple[str, ...]     # headings and list items (one line, few words)
    sentences: tuple[str, ...]       # sentences of the paragraphs
    name_words: frozenset[str]       # capitalised words of PERSON spans, lexicon words excluded
    word_counts: tuple[int, ...]     # the seeds' lengths in words, to draw article lengths from


def load_material(seeds: Path = SEEDS, model: str | None = None) -> Material:
    """Cut the seeds into lines and sentences and find their people's name words with the model's NER."""
    import spacy

    from kg.nlp import DEFAULT_MODELS, load_lexicon

    nlp = None
    for name in ([model] if model else list(DEFAULT_MODELS)):
        try:
            nlp = spacy.load(name, disable=["lemmatizer"])
            break
        except OSError:
            continue
    if nlp is None:
        raise SystemExit("no spaCy model installed")
    keep = load_lexicon().words
    short, sentences, names, counts, lower = [], [], set(), [], set()
    for path in sorted(seeds.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        counts.append(len(text.split()))
        lower.update(re.findall(r"\b[a-z]+\b", text))
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        for doc in nlp.pipe(lines):
            for ent in doc.ents:
                if ent.label_ == "PERSON":
                    names.update(t.text for t in ent if re.fullmatch(r"[A-Z][a-z]+", t.text) and t.text not in keep)
        for line in lines:
            if len(line.split()) <= 12:
                short.append(line)
            else:
                sentences.extend(s.strip() for s in _SENTENCE_END.split(line) if s.strip())
    # A capitalised word the seeds also use in lower case ("Cast", "Spin-Off") is not a name.
    names = {n for n in names if n.lower() not in lower}
    return Material(tuple(short), tuple(sentences), frozenset(names), tuple(counts))


def _invented_words(rng: random.Random, count: int) -> list[str]:
    """`count` distinct invented capitalised words ("Renvek", "Salora") for names."""
    words: set[str] = set()
    while len(words) < count:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize())
    return sorted(words)


class Namer:
    """Renames people, article by article, with names drawn from a cast of invented names.

    Within one article a name word always becomes the same invented word, so "Lina de Vries",
    "de Vries" and "Vries" stay one person; across articles the mapping is drawn afresh from a
    cast of `cast` first-name words and `cast` surname words.
    """

    def __init__(self, material: Material, rng: random.Random, cast: int):
        self.rng = rng
        self.pool = _invented_words(rng, cast)
        self.pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, material.name_words), key=len, reverse=True)) + r")\b") \
            if material.name_words else None

    def rename(self, text: str, mapping: dict[str, str]) -> str:
        if self.pattern is None:
            return text

        def swap(match: re.Match) -> str:
            word = match.group()
            if word not in mapping:
                mapping[word] = self.rng.choice(self.pool)
            return mapping[word]

        return self.pattern.sub(swap, text)


def _article(material: Material, rng: random.Random, namer: Namer) -> str:
    target = max(120, int(rng.choice(material.word_counts) * rng.uniform(0.7, 1.3)))
    mapping: dict[str, str] = {}
    lines = [rng.choice(material.short_lines)]
    words = len(lines[0].split())
    while words < target:
        roll = rng.random()
        if roll < 0.12:
            block = [rng.choice(material.short_lines)]                                 # a heading
        elif roll < 0.22:
            block = ["  • " + rng.choice(material.short_lines).lstrip("•● ").strip() for _ in range(rng.randint(3, 6))]
        else:
            block = [" ".join(rng.choice(material.sentences) for _ in range(rng.randint(1, 4)))]
        words += sum(len(b.split()) for b in block)
        lines.extend(block)
    return namer.rename("\n\n".join(lines) + "\n", mapping)


def make_corpus(out: Path, articles: int, *, seed: int = 6, cast: int | None = None,
                material: Material | None = None) -> list[Path]:
    """Write `articles` articles and a sources.csv manifest into `out`; the same seed, the same corpus.

    The cast (how many invented name words there are) grows with the corpus, as the people of real
    news do: by default 200 + articles // 4.
    """
    material = material or load_material()
    rng = random.Random(seed)
    namer = Namer(material, rng, cast if cast is not None else 200 + articles // 4)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    start = datetime.date(2019, 1, 1)
    with open(out / "sources.csv", "w", newline="", encoding="utf-8") as handle:
        manifest = csv.writer(handle)
        manifest.writerow(["file", "title", "published"])
        for index in range(articles):
            text = _article(material, rng, namer)
            path = out / f"{index:06d}.txt"
            path.write_text(text, encoding="utf-8")
            # Two articles in three carry a publication date, as the seeds' kind of sources do.
            published = (start + datetime.timedelta(days=rng.randrange(2000))).isoformat() if rng.random() < 0.67 else ""
            manifest.writerow([path.name, text.split("\n", 1)[0][:120], published])
            paths.append(path)
    return paths


def perturb(paths: list[Path], share: float, *, seed: int = 7, material: Material | None = None) -> list[Path]:
    """Change `share` of the articles (a new sentence at the end of each): what a 1% rebuild re-reads."""
    material = material or load_material()
    rng = random.Random(seed)
    chosen = sorted(rng.sample(paths, max(1, round(len(paths) * share))))
    for path in chosen:
        text = path.read_text(encoding="utf-8")
        path.write_text(text + "\n" + rng.choice(material.sentences) + "\n", encoding="utf-8")
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--cast", type=int, help="invented name words (default: 200 + articles // 4)")
    args = parser.parse_args()
    paths = make_corpus(args.out, args.articles, seed=args.seed, cast=args.cast)
    print(f"wrote {len(paths)} articles, {sum(len(p.read_text(encoding='utf-8').split()) for p in paths)} words, to {args.out}")


if __name__ == "__main__":
    main()
