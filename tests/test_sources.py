"""Tests of kg/sources.py: articles and their manifest in, clean text + metadata out.

Every bad input is a small file made in tmp_path; the expected values are written by hand.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import time
from pathlib import Path

import pytest

from kg.sources import Article, ArticleMetadata, NoArticles, Problem, find_manifest, iter_sources

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

BODY = "The spin-off follows a young assassin.\n\nShooting starts this month in a European capital.\n"


def read(*sources: Path, **options) -> list[Article | Problem]:
    return list(iter_sources(list(sources), allow_empty=True, **options))


def articles(items: list[Article | Problem]) -> list[Article]:
    return [item for item in items if isinstance(item, Article)]


def problems(items: list[Article | Problem]) -> list[str]:
    return [str(item) for item in items if isinstance(item, Problem)]


def write(folder: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


# --- the seeds ------------------------------------------------------------------------------


def test_seeds_load_as_five_articles_with_their_titles_and_dates():
    items = read(SEEDS)
    assert problems(items) == []
    got = {a.name: (a.title, a.published) for a in articles(items)}
    assert got == {
        "000_596400f4b883cf47.txt": ("The John Wick spin-off Ballerina gets a release date", None),
        "001_55590ab8c4ca542a.txt": (
            "'Ballerina': Everything you need to know about John Wick's spin-off with Ana de Armas",
            datetime.date(2022, 11, 6),
        ),
        "002_0be1828db89a9140.txt": ('John Wick Spin-Off "Ballerina": Everything We Know So Far', None),
        "003_486e2a57a332a372.txt": ("Ballerina Release Date, Cast And More [Cinemas] – June 7", None),
        "004_ece4c64aeaacedde.txt": ("Ballerina, a spin-off that expands the John Wick universe", None),
    }
    assert [a.name for a in articles(items)] == sorted(got)  # sorted by path


def test_seed_text_is_the_file_text_and_its_hash():
    path = SEEDS / "001_55590ab8c4ca542a.txt"
    text = path.read_text(encoding="utf-8")
    (article,) = articles(read(path))
    assert article.text == text
    assert article.text.startswith(" date 2022-11-06 ")  # kept as it is: offsets refer to it
    assert article.sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert article.path == path


def test_an_articles_metadata_is_the_article_less_its_text():
    path = SEEDS / "001_55590ab8c4ca542a.txt"
    (article,) = articles(read(path))
    meta = article.metadata()
    assert type(meta) is ArticleMetadata and not hasattr(meta, "text")
    assert (meta.path, meta.name, meta.sha256, meta.published) == (
        path, "001_55590ab8c4ca542a.txt", hashlib.sha256(path.read_text(encoding="utf-8").encode("utf-8")).hexdigest(),
        datetime.date(2022, 11, 6))


def test_seed_manifest_is_found():
    assert find_manifest(SEEDS) == SEEDS / "sources.csv"


def test_without_a_manifest_titles_and_dates_come_from_the_text(tmp_path):
    for name in ("001_55590ab8c4ca542a.txt", "002_0be1828db89a9140.txt", "004_ece4c64aeaacedde.txt"):
        (tmp_path / name).write_bytes((SEEDS / name).read_bytes())
    assert find_manifest(tmp_path) is None
    got = {a.name[:3]: (a.title, a.published) for a in articles(read(tmp_path))}
    assert got == {
        "001": (None, datetime.date(2022, 11, 6)),  # first line is a sentence, not a headline
        "002": ('John Wick Spin-Off "Ballerina": Everything We Know So Far', None),
        "004": (None, None),
    }


# --- arguments ------------------------------------------------------------------------------


def test_missing_argument_is_a_problem(tmp_path):
    assert problems(read(tmp_path / "nowhere")) == [f"{tmp_path / 'nowhere'}: no such file or folder"]


def test_folder_without_articles_is_a_problem_and_raises_no_articles(tmp_path):
    write(tmp_path, "notes.md", "not an article")
    assert problems(read(tmp_path)) == [f"{tmp_path}: no .txt articles in folder"]
    with pytest.raises(NoArticles) as raised:
        list(iter_sources([tmp_path]))
    assert [str(p) for p in raised.value.problems] == [f"{tmp_path}: no .txt articles in folder"]


def test_folder_is_not_read_recursively(tmp_path):
    write(tmp_path, "a.txt", BODY)
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "b.txt", "Another article.\n")
    assert [a.name for a in articles(read(tmp_path))] == ["a.txt"]


def test_explicit_file_uses_the_manifest_of_its_folder(tmp_path):
    path = write(tmp_path, "a.txt", BODY)
    write(tmp_path, "b.txt", "Another article.\n")
    write(tmp_path, "sources.csv", "file,title,published\na.txt,A title,2023-05-01\nb.txt,B title,\n")
    (article,) = articles(read(path))
    assert (article.title, article.published) == ("A title", datetime.date(2023, 5, 1))


def test_explicit_file_that_is_not_txt_is_a_problem(tmp_path):
    path = write(tmp_path, "a.md", BODY)
    assert problems(read(path)) == [f"{path}: not a .txt file (only .txt articles are read)"]


def test_file_given_twice_is_read_once(tmp_path):
    path = write(tmp_path, "a.txt", BODY)
    items = read(tmp_path, path)
    assert len(articles(items)) == 1
    assert problems(items) == [f"{path}: given more than once; read once"]


def test_sources_are_streamed(tmp_path):
    write(tmp_path, "a.txt", BODY)
    second = write(tmp_path, "b.txt", "Another article.\n")
    stream = iter_sources([tmp_path])
    assert next(stream).name == "a.txt"
    second.unlink()  # b.txt has not been read yet
    assert str(next(stream)) == f"{second}: cannot read: no such file"


# --- bad files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"  \n\t\r\n  \n", "empty file (whitespace only)"),
        (b"\xef\xbb\xbf\r\n", "empty file (whitespace only)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", "binary file (not text)"),
        (bytes(range(1, 32)) * 20 + b"a few words", "binary file (not text)"),  # no NUL, mostly control
        (b"\xff\xfeA\x00\x00\xd8", "starts with a UTF-16 byte-order mark but is not valid UTF-16"),
        (b"<html><body><script>var x = 1;</script></body></html>", "HTML page with no text"),
    ],
    ids=["empty", "whitespace", "bom-only", "binary", "control-characters", "bad-utf16", "html-no-text"],
)
def test_unusable_file_is_a_problem_and_the_others_go_on(tmp_path, content, reason):
    bad = write(tmp_path, "a.txt", content)
    write(tmp_path, "b.txt", BODY)
    items = read(tmp_path)
    assert problems(items) == [f"{bad}: {reason}"]
    assert [a.name for a in articles(items)] == ["b.txt"]


def test_unreadable_file_is_a_problem(tmp_path, monkeypatch):
    bad = write(tmp_path, "a.txt", BODY)
    write(tmp_path, "b.txt", "Another article.\n")
    bad.chmod(0)
    if os.access(bad, os.R_OK):  # running as root: permissions do not stop us, so pretend
        real_open = Path.open

        def denying_open(self, *args, **kwargs):
            if self == bad:
                raise PermissionError(13, "Permission denied", str(self))
            return real_open(self, *args, **kwargs)

        monkeypatch.setattr(Path, "open", denying_open)
    try:
        items = read(tmp_path)
    finally:
        bad.chmod(0o644)
    assert problems(items) == [f"{bad}: cannot read: permission denied"]
    assert [a.name for a in articles(items)] == ["b.txt"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_broken_link_and_fifo_are_problems(tmp_path):
    (tmp_path / "a.txt").symlink_to(tmp_path / "nowhere.txt")
    os.mkfifo(tmp_path / "b.txt")  # reading it would block forever
    assert problems(read(tmp_path)) == [
        f"{tmp_path / 'a.txt'}: cannot read: broken link",
        f"{tmp_path / 'b.txt'}: cannot read: not a regular file",
    ]


def test_file_over_the_size_limit_is_a_problem(tmp_path):
    bad = write(tmp_path, "a.txt", "x" * 2_000_000)
    assert problems(read(bad, max_bytes=1024 * 1024)) == [f"{bad}: too large (over 1 MB)"]


def test_duplicate_under_another_name_is_yielded_once(tmp_path):
    write(tmp_path, "a.txt", BODY)
    copy = write(tmp_path, "b.txt", BODY.replace("\n", "\r\n"))  # same text once cleaned
    items = read(tmp_path)
    assert [a.name for a in articles(items)] == ["a.txt"]
    assert problems(items) == [f"{copy}: duplicate of a.txt"]


def test_duplicate_in_another_folder_names_its_path(tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first = write(tmp_path / "one", "a.txt", BODY)
    copy = write(tmp_path / "two", "c.txt", BODY)
    assert problems(read(tmp_path / "one", tmp_path / "two")) == [f"{copy}: duplicate of {first}"]


def test_very_large_article_is_accepted(tmp_path):
    paragraph = "The assassin trains at the ballet school. " * 24 + "\n\n"  # about 1 KB
    text = "A Very Long Article\n\n" + paragraph * 5 * 1024  # about 5 MB
    write(tmp_path, "big.txt", text)
    start = time.perf_counter()
    (article,) = articles(read(tmp_path))
    assert time.perf_counter() - start < 10
    assert len(article.text) == len(text) > 5_000_000
    assert article.title == "A Very Long Article"
    assert "text=" not in repr(article)  # a 5 MB repr helps nobody


# --- encodings and cleaning -----------------------------------------------------------------

CAFE = "Café owner’s “Ballerina” review – naïve\n\nThe second paragraph.\n"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("Café crème, naïve façade\n\nMore.\n".encode("latin-1"), "Café crème, naïve façade\n\nMore.\n"),
        (CAFE.encode("cp1252"), CAFE),
        (CAFE.encode("utf-16"), CAFE),  # with its byte-order mark, in the machine's order
        (b"\xfe\xff" + CAFE.encode("utf-16-be"), CAFE),
        (b"\xef\xbb\xbf" + CAFE.encode("utf-8"), CAFE),
        (b"\xff\xfe\x00\x00" + CAFE.encode("utf-32-le"), CAFE),
        (b"Line one\r\nLine two\rLine three\n", "Line one\nLine two\nLine three\n"),
        (b"Ballerinathe spin-off  stays   as it is \n", "Ballerinathe spin-off  stays   as it is \n"),
    ],
    ids=["latin-1", "cp1252", "utf-16", "utf-16-be", "utf-8-bom", "utf-32", "line-endings", "untouched"],
)
def test_text_is_decoded_and_line_endings_normalised(tmp_path, content, expected):
    write(tmp_path, "a.txt", content)
    (article,) = articles(read(tmp_path))
    assert article.text == expected
    assert article.sha256 == hashlib.sha256(expected.encode("utf-8")).hexdigest()


HTML_PAGE = """<!DOCTYPE html>
<html><head><title>Spin-off news | Some Site</title>
<style>p { color: red; }</style>
<script>document.write("<p>tracking</p>");</script></head>
<body>
  <h1>The   spin-off &amp; its cast</h1>
  <p>The film follows a young
     assassin&nbsp;&mdash; trained at a ballet school.</p>
  <ul><li>First point</li><li>Second&#33;</li></ul>
  <p>Line one<br>Line two</p>
  <!-- a comment -->
</body></html>
"""


def test_html_page_is_reduced_to_its_text(tmp_path):
    write(tmp_path, "page.txt", HTML_PAGE)
    (article,) = articles(read(tmp_path))
    assert article.text == (
        "The spin-off & its cast\n\n"
        "The film follows a young assassin — trained at a ballet school.\n\n"
        "First point\nSecond!\n\n"
        "Line one\nLine two"
    )
    assert article.title == "The spin-off & its cast"


def test_text_that_mentions_a_tag_is_not_html(tmp_path):
    write(tmp_path, "a.txt", "Tags such as <b> are used for bold.\n")
    (article,) = articles(read(tmp_path))
    assert article.text == "Tags such as <b> are used for bold.\n"


# --- titles and dates stated in the text ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "title", "published"),
    [
        ("date 2022-11-06 The film starts shooting.\n\nMore.", None, datetime.date(2022, 11, 6)),
        ("A Headline\nPublished: 7 June 2024\n\nThe body.", "A Headline", datetime.date(2024, 6, 7)),
        ("Published: Nov. 6, 2022 10:30 GMT\nA Headline\n\nThe body.", "A Headline", datetime.date(2022, 11, 6)),
        ("Published on 2023-05-01\n\nThe body.", None, datetime.date(2023, 5, 1)),
        ("A Headline\n\nThe film opens on June 7, 2024.", "A Headline", None),  # a date in the body is not a publication date
        ("A Headline\nPublished: 06/11/2022\n\nThe body.", "A Headline", None),  # day and month could be swapped
        ("date 2022-13-45 The body.\n\nMore.", None, None),  # no such day
        ("Photos:\n\nThe body.", None, None),  # a label, not a headline
        ("Only one line without a stop", None, None),  # nothing follows it
    ],
    ids=["date-prefix", "published-after-title", "published-first", "published-on", "date-in-body",
         "ambiguous", "impossible", "label", "single-line"],
)
def test_title_and_date_stated_in_the_text(tmp_path, text, title, published):
    write(tmp_path, "a.txt", text)
    (article,) = articles(read(tmp_path))
    assert (article.title, article.published) == (title, published)


# --- the manifest ---------------------------------------------------------------------------


def test_manifest_title_and_date_win_over_the_text(tmp_path):
    write(tmp_path, "a.txt", "A Headline\nPublished: 7 June 2024\n\nThe body.")
    write(tmp_path, "sources.csv", "file,title,published\na.txt,The manifest title,2024-06-08\n")
    (article,) = articles(read(tmp_path))
    assert (article.title, article.published) == ("The manifest title", datetime.date(2024, 6, 8))


def test_manifest_row_naming_a_missing_file_is_a_problem(tmp_path):
    write(tmp_path, "a.txt", BODY)
    write(tmp_path, "sources.csv", "file,title,published\na.txt,A,\ngone.txt,Gone,\n")
    items = read(tmp_path)
    assert problems(items) == [f"{tmp_path / 'gone.txt'}: listed in sources.csv (line 3) but missing"]
    assert [a.title for a in articles(items)] == ["A"]


def test_manifest_with_missing_columns_is_ignored(tmp_path):
    write(tmp_path, "a.txt", BODY)
    manifest = write(tmp_path, "sources.csv", "file,title\na.txt,A\n")
    items = read(tmp_path)
    assert problems(items) == [
        f"{manifest}: line 1: missing column(s) published (expected file,title,published); manifest ignored"
    ]
    assert [a.title for a in articles(items)] == [None]


def test_manifest_row_with_a_bad_date_is_ignored_and_the_others_kept(tmp_path):
    write(tmp_path, "a.txt", BODY)
    write(tmp_path, "b.txt", "Another article.\n")
    manifest = write(tmp_path, "sources.csv", "file,title,published\na.txt,A,2022-13-01\nb.txt,B,2022-12-01\n")
    items = read(tmp_path)
    assert problems(items) == [
        f"{manifest}: line 2: bad published date '2022-13-01' (expected YYYY-MM-DD); row ignored"
    ]
    assert [(a.title, a.published) for a in articles(items)] == [(None, None), ("B", datetime.date(2022, 12, 1))]


def test_manifest_that_is_not_utf8_is_ignored(tmp_path):
    write(tmp_path, "a.txt", BODY)
    manifest = write(tmp_path, "sources.csv", b"file,title,published\na.txt,Caf\xe9,\n")
    items = read(tmp_path)
    assert problems(items) == [
        f"{manifest}: line 2: not valid text in UTF-8 (save it as UTF-8); manifest ignored"
    ]
    assert [a.title for a in articles(items)] == [None]


def test_manifest_row_with_too_many_fields_is_ignored(tmp_path):
    write(tmp_path, "a.txt", BODY)
    manifest = write(tmp_path, "sources.csv", "file,title,published\na.txt,Hello, world,\n")
    assert problems(read(tmp_path)) == [
        f"{manifest}: line 2: 4 fields, expected 3 (quote a title that holds a comma); row ignored"
    ]


def test_manifest_problems_are_reported_once(tmp_path):
    a = write(tmp_path, "a.txt", BODY)
    b = write(tmp_path, "b.txt", "Another article.\n")
    manifest = write(tmp_path, "sources.csv", "file\n")
    assert len([p for p in problems(read(a, b)) if p.startswith(str(manifest))]) == 1


def test_empty_manifest_is_ignored(tmp_path):
    write(tmp_path, "a.txt", BODY)
    manifest = write(tmp_path, "sources.csv", "")
    assert problems(read(tmp_path)) == [f"{manifest}: empty manifest; ignored"]


def test_problem_reads_as_path_and_reason():
    assert str(Problem(Path("seeds/x.txt"), "empty file")) == "seeds/x.txt: empty file"


def test_an_unclosed_quote_in_the_manifest_is_reported_not_swallowed(tmp_path):
    (tmp_path / "a.txt").write_text("Ballerina was filmed in Prague.\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("The Continental is a series.\n", encoding="utf-8")
    (tmp_path / "sources.csv").write_text(
        'file,title,published\na.txt,"Good news,2024-01-01\nb.txt,Other,2024-02-02\n', encoding="utf-8")
    items = list(iter_sources([tmp_path]))
    problems = [i for i in items if isinstance(i, Problem)]
    articles = {i.name: i for i in items if not isinstance(i, Problem)}
    assert [p.reason for p in problems] == ["line 3: malformed CSV (unexpected end of data); manifest ignored"]
    assert set(articles) == {"a.txt", "b.txt"}
    assert articles["a.txt"].title is None or "\n" not in articles["a.txt"].title
