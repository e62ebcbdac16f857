"""Articles and their manifest in, clean text + metadata out: the first step of the pipeline.

`iter_sources` takes what the user points `kg build` at (folders of ``*.txt`` articles, single
``.txt`` files) and yields, one file at a time, either an `Article` (decoded, cleaned text and
what is known about it) or a `Problem` (one readable line saying why the file was skipped). A bad
file never raises and never stops the others; only a run that yields no article at all ends with
`NoArticles`, so "nothing usable" cannot pass for an empty success.

Texts are streamed: one article is in memory at a time, and duplicates are found by keeping the
SHA-256 of each text already yielded, never the texts.

Every character offset in the graph refers to `Article.text`, so cleaning is minimal: the bytes
are decoded (UTF-8, UTF-8/16/32 with a byte-order mark, else cp1252 / Latin-1), the byte-order
mark is dropped, line endings become ``\\n``, and an HTML page saved as ``.txt`` is reduced to its
text. Nothing else is touched: words glued together by a careless scraper stay glued.

A folder may hold a manifest, ``sources.csv``, with the columns ``file,title,published``
(``published`` as ``YYYY-MM-DD``, left empty where not known). Its titles and dates win over what
is sniffed from the text; where it says nothing, the title is the text's headline (its first line,
if that looks like one) and the date is one the text states at its start (a leading
``date YYYY-MM-DD`` or a ``Published: <date>`` line). A date is never guessed.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import hashlib
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from html.parser import HTMLParser
from pathlib import Path

__all__ = [
    "Article",
    "ArticleMetadata",
    "Problem",
    "NoArticles",
    "MANIFEST_NAME",
    "MANIFEST_COLUMNS",
    "MAX_BYTES",
    "iter_sources",
    "find_manifest",
]

#: The file name of a folder's manifest.
MANIFEST_NAME = "sources.csv"
#: The columns a manifest must have (others are ignored).
MANIFEST_COLUMNS = ("file", "title", "published")
#: Files larger than this are skipped with a Problem rather than read into memory.
MAX_BYTES = 64 * 1024 * 1024

# Where the headline and a stated date are looked for: the start of the text only.
_HEAD_CHARS = 4096
# How many leading non-blank lines may hold a "Published: <date>" line.
_DATE_LINES = 3
# A decoded text is "mostly non-text" when more than this share of a sample is control characters.
_MAX_CONTROL_SHARE = 0.05
_SAMPLE_CHARS = 65536


@dataclass(frozen=True, slots=True)
class ArticleMetadata:
    """An article less its text: where it was read from and what the graph says of it (its
    entry in the sources graph); all that a build keeps of it once it is extracted."""

    path: Path
    """Where it was read from."""
    name: str
    """The file name, e.g. ``001_55590ab8c4ca542a.txt``."""
    sha256: str
    """Hex SHA-256 of the text encoded as UTF-8."""
    title: str | None
    """From the manifest, else the headline sniffed from the text, else None."""
    published: datetime.date | None
    """From the manifest, else a date the text states at its start, else None (never guessed)."""


@dataclass(frozen=True, slots=True)
class Article(ArticleMetadata):
    """One article, decoded and cleaned; `text` is what every offset in the graph refers to."""

    text: str = field(repr=False)
    """The decoded, cleaned text."""

    def metadata(self) -> ArticleMetadata:
        """This article without its text (which `iter_sources` reads again from `path`)."""
        return ArticleMetadata(**{f.name: getattr(self, f.name) for f in fields(ArticleMetadata)})


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a file (or a manifest, or a folder) was skipped, in one line."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class NoArticles(Exception):
    """Raised by `iter_sources`, after everything else was yielded, when no article was found.

    `problems` holds the Problems already yielded, so a caller that did ``list(iter_sources(...))``
    can still report them.
    """

    def __init__(self, sources: Sequence[Path], problems: list[Problem]) -> None:
        self.sources = list(sources)
        self.problems = problems
        where = ", ".join(str(s) for s in self.sources) or "(no sources given)"
        super().__init__(f"no articles in {where} ({len(problems)} problem(s))")


def find_manifest(folder: Path) -> Path | None:
    """The manifest (``sources.csv``) of `folder`, or None if it has none."""
    candidate = Path(folder) / MANIFEST_NAME
    return candidate if candidate.is_file() else None


def iter_sources(
    sources: Sequence[Path | str] | Path | str,
    *,
    allow_empty: bool = False,
    max_bytes: int = MAX_BYTES,
) -> Iterator[Article | Problem]:
    """Yield each article (or the problem with it) from files and folders, in a deterministic order.

    Arguments are taken in the order given. A folder yields the problems of its manifest first,
    then its ``*.txt`` files (not recursive) sorted by path; a ``.txt`` file is taken as given,
    and the manifest of its folder still supplies its title and date. The same text under a second
    name is yielded once; the second file becomes a Problem ``duplicate of <first name>``.

    Raises `NoArticles` at the end if no article was yielded at all, unless `allow_empty`.
    Files larger than `max_bytes` are skipped with a Problem.
    """
    if isinstance(sources, (str, Path)):
        sources = [sources]
    paths = [Path(s) for s in sources]
    run = _Run(max_bytes=max_bytes)
    for source in paths:
        if source.is_dir():
            yield from run.folder(source)
        elif source.exists():
            yield from run.file(source)
        else:
            yield run.problem(source, "no such file or folder")
    if run.articles == 0 and not allow_empty:
        raise NoArticles(paths, run.problems)


# --------------------------------------------------------------------------------------------
# One run over the sources: what has been seen so far (hashes and paths, never texts).


@dataclass
class _Row:
    line: int
    title: str | None
    published: datetime.date | None


@dataclass
class _Manifest:
    path: Path
    rows: dict[str, _Row]  # file name -> row
    problems: list[Problem]


class _Run:
    def __init__(self, *, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.seen_hashes: dict[str, Path] = {}
        self.seen_paths: set[Path] = set()
        self.manifests: dict[Path, _Manifest | None] = {}
        self.articles = 0
        self.problems: list[Problem] = []  # yielded so far, while no article has been

    def problem(self, path: Path, reason: str) -> Problem:
        found = Problem(path, reason)
        self._keep([found])
        return found

    def _keep(self, problems: list[Problem]) -> None:
        # Only needed for NoArticles, so kept only until the first article.
        if self.articles == 0:
            self.problems.extend(problems)

    def manifest(self, folder: Path) -> tuple[_Manifest | None, list[Problem]]:
        """The folder's manifest, read once per run; its problems are returned the first time only."""
        key = _resolved(folder)
        if key in self.manifests:
            return self.manifests[key], []
        path = find_manifest(folder)
        manifest = _read_manifest(path) if path else None
        self.manifests[key] = manifest
        if manifest is None:
            return None, []
        self._keep(manifest.problems)
        return manifest, manifest.problems

    def folder(self, folder: Path) -> Iterator[Article | Problem]:
        try:
            entries = sorted(
                (p for p in folder.iterdir() if p.suffix.lower() == ".txt" and not p.is_dir()),
                key=lambda p: p.name,
            )
        except OSError as error:
            yield self.problem(folder, f"cannot list folder: {_os_reason(error)}")
            return
        manifest, problems = self.manifest(folder)
        yield from problems
        if manifest is not None:
            names = {p.name for p in entries}
            for name, row in manifest.rows.items():
                if name in names:
                    continue
                listed = folder / name
                where = f"listed in {MANIFEST_NAME} (line {row.line})"
                if listed.exists():
                    yield self.problem(listed, f"{where} but not a .txt file")
                else:
                    yield self.problem(listed, f"{where} but missing")
        if not entries:
            yield self.problem(folder, "no .txt articles in folder")
            return
        for path in entries:
            yield from self.file(path, checked=True)

    def file(self, path: Path, *, checked: bool = False) -> Iterator[Article | Problem]:
        if not checked and path.suffix.lower() != ".txt":
            yield self.problem(path, "not a .txt file (only .txt articles are read)")
            return
        key = _resolved(path)
        if key in self.seen_paths:
            yield self.problem(path, "given more than once; read once")
            return
        self.seen_paths.add(key)
        manifest, problems = self.manifest(path.parent)
        yield from problems

        text, trouble, html_title = _read_text(path, self.max_bytes)
        if trouble is not None:
            yield self.problem(path, trouble)
            return
        assert text is not None
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        first = self.seen_hashes.get(digest)
        if first is not None:
            shown = first.name if first.parent == path.parent else str(first)
            yield self.problem(path, f"duplicate of {shown}")
            return
        self.seen_hashes[digest] = path

        row = manifest.rows.get(path.name) if manifest else None
        title = row.title if row and row.title else (html_title or _headline(text))
        published = row.published if row and row.published else _stated_date(text)
        self.articles += 1
        yield Article(path=path, name=path.name, text=text, sha256=digest, title=title, published=published)


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def _os_reason(error: OSError) -> str:
    if isinstance(error, PermissionError):
        return "permission denied"
    return (error.strerror or type(error).__name__).lower()


# --------------------------------------------------------------------------------------------
# Bytes to clean text.

# Longer marks first: the UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
# C0 and C1 control characters other than tab, line feed, vertical tab, form feed, carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_HTML_START = re.compile(r"\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S)
_HTML_ANYWHERE = re.compile(r"<(?:html|body)\b[^>]*>", re.I)


def _read_text(path: Path, max_bytes: int) -> tuple[str | None, str | None, str | None]:
    """(text, None, html title) for a usable file, else (None, reason, None)."""
    try:
        if not path.is_file():  # a fifo or a device would block or never end
            if path.exists():
                reason = "not a regular file"
            else:
                reason = "broken link" if path.is_symlink() else "no such file"
            return None, f"cannot read: {reason}", None
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as error:
        return None, f"cannot read: {_os_reason(error)}", None
    if len(data) > max_bytes:
        limit = f"{max_bytes / 2**20:g} MB" if max_bytes >= 2**20 else f"{max_bytes} bytes"
        return None, f"too large (over {limit})", None
    if not data:
        return None, "empty file", None

    text, trouble = _decode(data)
    if trouble is not None:
        return None, trouble, None
    assert text is not None
    text = text.removeprefix("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return None, "empty file (whitespace only)", None
    sample = text[:_SAMPLE_CHARS]
    if len(_CONTROL.findall(sample)) > _MAX_CONTROL_SHARE * len(sample):
        return None, "binary file (not text)", None

    html_title = None
    if _looks_like_html(text):
        text, html_title = _html_to_text(text)
        if not text.strip():
            return None, "HTML page with no text", None
    return text, None, html_title


def _decode(data: bytes) -> tuple[str | None, str | None]:
    """Decode bytes as the text they most plausibly are; (text, None) or (None, reason)."""
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), None
            except UnicodeDecodeError:
                return None, f"starts with a {label} byte-order mark but is not valid {label}"
    if b"\x00" in data:
        return None, "binary file (not text)"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    # Not UTF-8: Windows-1252, a superset of Latin-1's printable characters; the five bytes it
    # leaves undefined only occur in true Latin-1 (as C1 controls).
    try:
        return data.decode("cp1252"), None
    except UnicodeDecodeError:
        return data.decode("latin-1"), None


def _looks_like_html(text: str) -> bool:
    return bool(_HTML_START.match(text) or _HTML_ANYWHERE.search(text, 0, _HEAD_CHARS))


_SKIP = frozenset({"script", "style", "noscript", "template", "svg", "iframe", "object", "canvas"})
_PARAGRAPH = frozenset(
    {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table", "section",
     "article", "header", "footer", "main", "nav", "aside", "blockquote", "pre", "figure",
     "figcaption", "address", "form", "fieldset", "hr", "body", "details", "summary"}
)
_LINE = frozenset({"li", "tr", "dt", "dd", "caption", "option"})
_CELL = frozenset({"td", "th"})


class _TextOfHTML(HTMLParser):
    """Collects the visible text of a page; block elements become line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)  # entities are unescaped in handle_data
        self.parts: list[str] = []
        self.breaks = 0  # line breaks owed before the next text
        self.skipping = 0
        self.pre = 0
        self.in_title = False
        self.in_h1 = False
        self.title_parts: list[str] = []
        self.h1_parts: list[str] = []
        self.h1_done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag == "title":
            self.in_title = True
        elif tag == "pre":
            self.pre += 1
        if tag == "h1" and not self.h1_done:
            self.in_h1 = True
        self._block(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._block(tag)  # <br/>, <hr/>: no content, no matching end tag

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag == "title":
            self.in_title = False
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
        if tag == "h1" and self.in_h1:
            self.in_h1 = False
            self.h1_done = bool("".join(self.h1_parts).strip())
        if tag != "br":
            self._block(tag)

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        if self.in_title:
            self.title_parts.append(data)
            return
        if self.in_h1:
            self.h1_parts.append(data)
        if not self.pre:
            data = re.sub(r"\s+", " ", data)
            if self.breaks and data == " ":
                return  # layout between blocks
            if data.startswith(" ") and self.parts and self.parts[-1].endswith(" "):
                data = data[1:]
        if self.breaks:
            if self.parts:
                self.parts.append("\n" * self.breaks)
            self.breaks = 0
        self.parts.append(data)

    def _block(self, tag: str) -> None:
        # Breaks wait until the next text, so nested or adjacent blocks give one break, not many;
        # only <br> adds up (<br><br> is a blank line).
        if tag == "br":
            self.breaks = min(self.breaks + 1, 2)
        elif tag in _PARAGRAPH:
            self.breaks = 2
        elif tag in _LINE:
            self.breaks = max(self.breaks, 1)
        elif tag in _CELL and not self.breaks and self.parts and not self.parts[-1].endswith(" "):
            self.parts.append(" ")


def _html_to_text(page: str) -> tuple[str, str | None]:
    """The visible text of an HTML page, and its headline (its first <h1>, else its <title>)."""
    parser = _TextOfHTML()
    parser.feed(page)
    parser.close()
    text = "".join(parser.parts)
    text = re.sub(r"[ \t]*\n[ \t]*", "\n", text)  # spaces around line breaks
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    title = _one_line("".join(parser.h1_parts)) or _one_line("".join(parser.title_parts))
    return text, title


def _one_line(text: str) -> str | None:
    return " ".join(text.split()) or None


# --------------------------------------------------------------------------------------------
# What the text says about itself: its headline and the date it states.

_LEADING_DATE = re.compile(r"\A\s*date:?[ \t]+(\d{4}-\d{2}-\d{2})(?![\d])", re.I)
_PUBLISHED = re.compile(r"\s*published(?:[ \t]+on)?[ \t]*[:\-–—]?[ \t]*(?P<date>.+)", re.I)
_MONTHS = {
    name: number
    for number, names in enumerate(
        (("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
         ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
         ("october", "oct"), ("november", "nov"), ("december", "dec")),
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>[a-z]+)\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
_DATE_FORMS = (
    re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})(?![\d])"),
    re.compile(rf"{_MONTH}\s+{_DAY},?\s+{_YEAR}(?![\d])", re.I),  # November 6, 2022
    re.compile(rf"{_DAY}\s+{_MONTH},?\s+{_YEAR}(?![\d])", re.I),  # 6 November 2022
)


def _date_at_start(text: str) -> datetime.date | None:
    """The date `text` starts with, in an unambiguous form, else None.

    >>> _date_at_start("Nov. 6, 2022 10:30 GMT")
    datetime.date(2022, 11, 6)
    >>> _date_at_start("06/11/2022") is None  # day and month could be swapped: not a date here
    True
    """
    for form in _DATE_FORMS:
        found = form.match(text.strip())
        if not found:
            continue
        month = found["month"]
        number = int(month) if month.isdigit() else _MONTHS.get(month.lower())
        if number is None:
            continue
        try:
            return datetime.date(int(found["year"]), number, int(found["day"]))
        except ValueError:
            return None
    return None


def _leading_lines(text: str, count: int) -> list[str]:
    lines: list[str] = []
    for line in text[:_HEAD_CHARS].split("\n"):
        if line.strip():
            lines.append(line)
            if len(lines) == count:
                break
    return lines


def _stated_date(text: str) -> datetime.date | None:
    """The date the text states at its start: a leading ``date YYYY-MM-DD``, or a ``Published:``
    line among its first lines. Never a date found elsewhere, never a guess.

    >>> _stated_date(" date 2022-11-06 The film starts shooting this month.")
    datetime.date(2022, 11, 6)
    >>> _stated_date("A headline\\nPublished: 7 June 2024\\n\\nThe text.")
    datetime.date(2024, 6, 7)
    >>> _stated_date("The film opens on June 7, 2024.") is None
    True
    """
    found = _LEADING_DATE.match(text)
    if found:
        return _date_at_start(found[1])
    for line in _leading_lines(text, _DATE_LINES):
        date = _published_line(line)
        if date is not None:
            return date
    return None


def _published_line(line: str) -> datetime.date | None:
    """The date of a ``Published: <date>`` line, else None."""
    found = _PUBLISHED.fullmatch(line)
    return _date_at_start(found["date"]) if found else None


def _headline(text: str) -> str | None:
    """The text's first line, if it looks like a headline: short, not ending like a sentence or a
    label, and followed by more text.

    >>> _headline("Spin-Off News: Everything We Know So Far\\n\\nThe film follows an assassin.")
    'Spin-Off News: Everything We Know So Far'
    >>> _headline("The film follows an assassin. It opens next June.\\n\\nMore text.") is None
    True
    """
    head = text[:_HEAD_CHARS]
    found = _LEADING_DATE.match(head)
    if found:
        head = head[found.end():]
    lines = [line for line in _leading_lines(head, _DATE_LINES + 1) if _published_line(line) is None]
    if len(lines) < 2:
        return None
    first = " ".join(lines[0].split())
    if len(first) > 200 or len(first.split()) > 25:
        return None
    if first[-1] in ".,;:" or not any(ch.isalpha() for ch in first):
        return None
    return first


# --------------------------------------------------------------------------------------------
# The manifest.


def _read_manifest(path: Path) -> _Manifest:
    """Read a manifest; a broken one yields problems and no rows, a bad row is skipped alone."""
    manifest = _Manifest(path=path, rows={}, problems=[])

    def problem(line: int, reason: str) -> None:
        manifest.problems.append(Problem(path, f"line {line}: {reason}"))

    try:
        data = path.read_bytes()
    except OSError as error:
        manifest.problems.append(Problem(path, f"cannot read: {_os_reason(error)}; manifest ignored"))
        return manifest
    # Titles read with a guessed codec would be silently wrong, so the manifest must be UTF-8
    # (or carry a byte-order mark saying what it is).
    codec = next((c for bom, c, _ in _BOMS if data.startswith(bom)), "utf-8")
    try:
        content = data.decode(codec)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        problem(line, "not valid text in UTF-8 (save it as UTF-8); manifest ignored")
        return manifest
    content = content.removeprefix("\ufeff")
    if not content.strip():
        manifest.problems.append(Problem(path, "empty manifest; ignored"))
        return manifest

    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    try:
        header = [cell.strip().lower() for cell in next(reader)]
        missing = [column for column in MANIFEST_COLUMNS if column not in header]
        if missing:
            problem(
                reader.line_num,
                f"missing column(s) {', '.join(missing)} (expected {','.join(MANIFEST_COLUMNS)}); "
                "manifest ignored",
            )
            return manifest
        where = {column: header.index(column) for column in MANIFEST_COLUMNS}
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(header):
                problem(line, f"{len(cells)} fields, expected {len(header)} "
                              "(quote a title that holds a comma); row ignored")
                continue
            cells += [""] * (len(header) - len(cells))
            name, title, published = (cells[where[c]].strip() for c in MANIFEST_COLUMNS)
            if not name:
                problem(line, "no file name; row ignored")
                continue
            if name in manifest.rows:
                problem(line, f"{name} already listed on line {manifest.rows[name].line}; row ignored")
                continue
            date = None
            if published:
                date = _iso_date(published)
                if date is None:
                    problem(line, f"bad published date {published!r} (expected YYYY-MM-DD); row ignored")
                    continue
            manifest.rows[name] = _Row(line=line, title=title or None, published=date)
    except csv.Error as error:
        problem(reader.line_num, f"malformed CSV ({error}); manifest ignored")
        manifest.rows.clear()
    return manifest


def _iso_date(text: str) -> datetime.date | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None
