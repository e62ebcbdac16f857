"""Property-based tests (issue 7): any file is an article or a one-line problem; arbitrary text
never crashes the extractor; and whatever it produces always writes out, parses back and passes
the SHACL and provenance checks of `kg check`.

The texts mix random unicode with fragments of franchise-like sentences (names, "as", "directed
by", dates, parentheses, glued words, bullets, line breaks, HTML-ish tags), so that the rules fire
on odd input rather than only on noise. Hypothesis runs derandomized and without its example
database, so every run (and CI) tries the same examples.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Dataset, Graph, Literal
from rdflib.compare import isomorphic
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

import kg.pipeline
from kg import check
from kg.namespaces import FKG, PROV, RDF
from kg.sources import Article, iter_sources
from kg.export import merged_view

SETTINGS = dict(deadline=None, derandomize=True, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# --------------------------------------------------------------------------- strategies

NAMES = [
    "Zoë Bellweather", "Tom Ashgrove", "Viktor Hale", "Ms. Perkins", "Lena Hartwig", "Jean-Luc O'Brien",
    "Lina de Vries", "de Vries", "Vries", "Łukasz Wróbel", "Иван Петров", "東京", "Ballerina", "John Wick",
    "John Wick: Chapter 4", "John Wick: Chapter 3 – Parabellum", "the Ruska Roma", "the Continental",
    "the High Table", "Lionsgate", "Lions Gate", "Prague", "Budapest", "the film", "it", "the hotel's",
    "Winston", "Marcus Vale", "Dr. Ada Kern", "X Æ A-12", "Mr. Nobody Jr.",
]
LINKS = [
    " as ", " stars as ", " plays ", " was directed by ", " directed by ", " written by ", " is written by ",
    " produced by ", " was filmed in ", " shooting in ", " is set after ", " is set before ", " takes place between ",
    " will be released on ", " opens on ", " is a spin-off of ", " trained by ", " is a member of ",
    " leads ", " owns ", " works for ", " distributed by ", " and ", ", ", " with ", " in ", "'s ", " of ",
    " (", ") ", ". ", "; ", ": ", " – ", " — ", " & ",
]
DATES = [
    "June 7, 2024", "7 June 2024", "2025-06-06", "2014", "(2019)", "March", "next year", "this month",
    "June 31, 2024", "31 February 2024", "2024-13-45", "0000-00-00", "9999-12-31", "May 2025", "1 B.C.",
    "the 1990s", "Q3 2026", "Nov. 6, 2022",
]
GLUED = [
    "Tom Ashgroveas producers", "Bellweatheras", "asMs. Perkins", "filmedin Prague", "Ballerina(2025)",
    "WickChapter", "directedby", "Dana Holt", "Dana Hott", "Hott", "Lions Gateand",
]
MARKS = [
    "\n", "\n\n", "\r\n", "\r", "\t", "• ", "- ", "* ", "1. ", "> ", "  ", "\u00a0", "\u200b", "\ufeff",
    "“", "”", "\"", "'", "‘", "’", "(", ")", "[", "]", "…", "!", "?", "#", "@", "/", "\\", "|", "…",
    "<p>", "</p>", "<br>", "<br/>", "<b>", "</b>", "<h1>", "</h1>", "<html>", "<body>", "</body>",
    "<script>", "</script>", "<!--", "-->", "&amp;", "&nbsp;", "&#233;", "&lt;", "<a href=\"x\">", "</a>",
    "date ", "Published: ", "Cast: ", "Director: ",
]

fragment = st.one_of(
    st.sampled_from(NAMES),
    st.sampled_from(LINKS),
    st.sampled_from(DATES),
    st.sampled_from(GLUED),
    st.sampled_from(MARKS),
    st.text(max_size=12),  # any unicode at all, control characters included
    st.text(alphabet=st.characters(categories=["Lu", "Ll", "Zs"]), min_size=1, max_size=12),
)

#: Several sentence-like fragments, glued: mostly readable, sometimes not at all.
texts = st.lists(fragment, max_size=40).map("".join)

#: Texts shaped like a line of an article: NAME LINK NAME (LINK DATE|NAME)... with marks between.
sentence = st.tuples(
    st.sampled_from(NAMES), st.sampled_from(LINKS), st.sampled_from(NAMES + DATES),
    st.sampled_from(["", ".", " in " + "Ballerina.", " (2025).", "\n"]),
).map("".join)
articles = st.lists(st.one_of(sentence, fragment), min_size=1, max_size=25).map("".join)


# --------------------------------------------------------------------------- any file is an article or one line of problem

BOMS = [b"", b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"]

#: File contents: random bytes, or texts in some encoding, behind a byte-order mark or none.
contents = st.one_of(
    st.binary(max_size=300),
    st.tuples(st.sampled_from(BOMS), st.binary(max_size=200)).map(b"".join),
    st.tuples(st.sampled_from(BOMS), texts, st.sampled_from(["utf-8", "utf-16-le", "utf-16-be", "latin-1", "cp1252"]))
    .map(lambda t: t[0] + t[1].encode(t[2], "replace")),
)


@pytest.fixture(scope="module")
def folder():
    with tempfile.TemporaryDirectory(prefix="kg-properties-sources-") as base:
        yield Path(base)


@settings(max_examples=300, **SETTINGS)
@given(data=contents)
def test_any_file_is_an_article_or_a_one_line_problem(folder, data):
    path = folder / "article.txt"
    path.write_bytes(data)
    items = list(iter_sources([path], allow_empty=True))
    assert len(items) == 1
    item = items[0]
    if isinstance(item, Article):
        assert item.text.strip() and "\r" not in item.text and not item.text.startswith("\ufeff")
        assert item.sha256 == hashlib.sha256(item.text.encode("utf-8")).hexdigest()
    else:
        assert item.path == path and item.reason and "\n" not in str(item)


# --------------------------------------------------------------------------- the extractor never crashes


@pytest.fixture(scope="module")
def cache():
    with tempfile.TemporaryDirectory(prefix="kg-properties-cache-") as folder:
        yield kg.pipeline.Cache(Path(folder), "properties")


@settings(max_examples=600, **SETTINGS)
@given(text=st.one_of(texts, articles, st.text(max_size=200)))
def test_extractor_never_crashes_on_any_text(nlp, cache, text):
    extraction = kg.pipeline.extract_text(nlp, text)
    # what it yields points into the text it was given
    for mention in extraction.mentions:
        assert 0 <= mention.start <= mention.end <= len(text)
    for fact in extraction.facts:
        assert 0 <= fact.sentence_start <= fact.sentence_end <= len(text)
        assert text[fact.sentence_start:fact.sentence_end] == fact.sentence
    # and comes back from the cache as it went in
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    article = Article(path=Path("article.txt"), name="article.txt", text=text, sha256=digest, title=None, published=None)
    cache.put(article, kg.pipeline._record_json(extraction))
    assert kg.pipeline._record(cache.get(article)) == extraction
    assert cache.notes == []


# --------------------------------------------------------------------------- whatever it builds writes out and checks


def build_article(text: str, folder: Path) -> tuple[Article, Dataset, Path] | None:
    """Build `text` as a user's article: (the Article, the Dataset, the output folder), or None
    when kg.sources finds no usable article in it (empty, whitespace, binary).

    The text is saved as a .txt file (UTF-8) in `folder`, read by kg.sources, extracted, resolved,
    turned into a graph and written out by kg.pipeline.
    """
    (folder / "in").mkdir(parents=True)
    (folder / "in" / "article.txt").write_bytes(text.encode("utf-8", "surrogatepass"))
    read = [item for item in iter_sources([folder / "in"], allow_empty=True) if isinstance(item, Article)]
    result = kg.pipeline.build([folder / "in"])
    if not read:
        assert result.dataset is None and len(result.problems) == 1
        return None
    assert result.problems == [] and result.dataset is not None
    kg.pipeline.write_outputs(result, folder / "out")
    return read[0], result.dataset, folder / "out"


def _quads(ds: Dataset) -> set:
    return {(s, p, o, None if getattr(g, "identifier", g) == DATASET_DEFAULT_GRAPH_ID else getattr(g, "identifier", g))
            for s, p, o, g in ds.quads((None, None, None, None))}


def check_built(article: Article, dataset: Dataset, out: Path) -> None:
    """What must hold of any build: its files parse back to it and pass `kg check`'s SHACL and provenance checks."""
    trig = Dataset(default_union=True)
    trig.parse(out / "graph.trig", format="trig")
    assert _quads(trig) == _quads(dataset)
    merged = merged_view(dataset)
    assert isomorphic(Graph().parse(out / "graph.ttl", format="turtle"), merged)
    assert isomorphic(Graph().parse(out / "graph.jsonld", format="json-ld"), merged)

    _, _, findings = check.validate(trig)
    assert findings == [], [f"{f.rule}: {f.node} {f.path} {f.value}: {f.message}" for f in findings]
    assert check.check_provenance(trig) == []

    # every claim's evidence is the stretch of the article its offsets say
    for claim in set(trig.subjects(RDF.type, FKG.Claim)):
        start, end = (int(trig.value(claim, term)) for term in (FKG.startOffset, FKG.endOffset))
        assert article.text[start:end] == str(trig.value(claim, FKG.evidence))
        assert trig.value(claim, PROV.wasDerivedFrom) is not None
    assert (None, FKG.sha256, Literal(article.sha256)) in trig


@pytest.fixture(scope="module")
def scratch(nlp):
    """A fresh folder per call, with kg.pipeline using the session's spaCy pipeline."""
    with tempfile.TemporaryDirectory(prefix="kg-properties-") as base, pytest.MonkeyPatch.context() as patch:
        patch.setattr(kg.pipeline, "load_pipeline", lambda model=None: nlp)
        counter = iter(range(10**9))
        yield lambda: Path(base) / str(next(counter))


@settings(max_examples=150, **SETTINGS)
@given(text=st.one_of(articles, texts))
def test_whatever_is_built_parses_back_and_passes_the_checks(scratch, text):
    made = build_article(text, scratch())
    if made is not None:  # else kg.sources said why (tests/test_sources.py)
        check_built(*made)
