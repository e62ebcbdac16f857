"""A SELECT query's bound parameters written into its text, so that Oxigraph plans with them.

Oxigraph takes parameters as substitutions (SEP-0007) and orders a query's patterns before it
substitutes them: a bound term narrows the patterns it lands in, but they are joined in the
order of the unbound query. Written into the text, the same terms steer that order. At 10,000
articles, every claim about one performance (queries/fact-sources.rq with ?subject bound) took
923 ms substituted and takes 85 ms written in; the claims with one person as object 1,054 ms and
79 ms.

`inline` reads the query as SPARQL's tokens (comments, strings, IRIs and variables told apart)
and writes each bound variable as its term:

- in the top-level SELECT, ``?v`` becomes ``(term AS ?v)``, so the answer keeps its column;
- in a sub-select's projection ``?v`` is dropped, every pattern holding the term now, and a
  sub-select left with nothing to project projects ``*``;
- in ORDER BY a bare ``?v`` is dropped (an order by one value orders nothing), and ORDER BY
  with it when nothing is left;
- in GROUP BY a bare ``?v`` is dropped too, when another key is left (every solution has the
  same value: a key that splits nothing);
- anywhere else ``?v`` becomes the term.

Where the text so written would not mean what substitution means, `inline` declines (None) and
the query is run with substitutions: the query is not a SELECT, or its SELECT projects ``*`` or
not the variable; the variable is assigned (``AS ?v``), listed by VALUES, grouped by inside an
expression, or the only key of a GROUP BY (without one, an empty answer would become one row of
empty aggregates); a sub-select mentions it without projecting it (there it is another variable
of the same name); or the term is a blank node, which a pattern reads as a variable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Mapping, TypeVar

__all__ = ["inline", "run_inlined"]

#: SPARQL's tokens, as far as telling variables from everything else needs: comments, strings
#: (long ones first), IRIs, variables, names (keywords and prefixed names), and single
#: characters. An IRI is the longest run between < and > without spaces, as in the grammar, so
#: ``?a<?b&&?c>?d`` holds an IRI there too.
_TOKEN = re.compile(
    r'''
      (?P<space>\s+)
    | (?P<comment>\#[^\n]*)
    | (?P<string>"{3}(?:[^"\\]|\\.|"(?!""))*"{3}|'{3}(?:[^'\\]|\\.|'(?!''))*'{3}
                 |"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*')
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<var>[?$][A-Za-z0-9_\u00B7\u00C0-\uFFFF]+)
    | (?P<name>(?:[A-Za-z_][\w.-]*)?:(?:[\w\-:%]|\\.|\.(?=[\w\-:%]))*|[A-Za-z_][\w-]*)
    | (?P<char>.)
    ''',
    re.VERBOSE | re.DOTALL,
)

#: Keywords that end a sub-select's or the query's projection, or a solution modifier's clause.
_FORMS = {"SELECT", "CONSTRUCT", "ASK", "DESCRIBE"}
_CLAUSE_ENDS = {"HAVING", "ORDER", "LIMIT", "OFFSET", "VALUES", "GROUP"}


@dataclass
class _Token:
    kind: str
    text: str
    depth: int = 0  # braces open before it
    parens: int = 0  # parentheses open before it

    @property
    def keyword(self) -> str:
        return self.text.upper() if self.kind == "name" else ""

    @property
    def variable(self) -> str | None:
        return self.text[1:] if self.kind == "var" else None


@dataclass
class _Select:
    """One SELECT: where its projection's tokens are, what it projects, and its extent."""

    at: int  # index of the SELECT token in the significant tokens
    projection: range  # indices of its projection's tokens
    projected: set[str]  # variables it returns (plain or assigned with AS)
    star: bool
    top: bool
    extent: range  # indices of the tokens that belong to it


def _tokens(query: str) -> list[_Token]:
    tokens, depth, parens = [], 0, 0
    for match in _TOKEN.finditer(query):
        token = _Token(match.lastgroup or "char", match.group(), depth, parens)
        tokens.append(token)
        if token.kind == "char":
            depth += {"{": 1, "}": -1}.get(token.text, 0)
            parens += {"(": 1, ")": -1}.get(token.text, 0)
    return tokens


def _selects(sig: list[_Token]) -> list[_Select]:
    selects = []
    for at, token in enumerate(sig):
        if token.keyword != "SELECT":
            continue
        end = at + 1
        while end < len(sig) and not (sig[end].keyword == "WHERE" or (sig[end].text == "{" and sig[end].kind == "char")):
            end += 1
        projection = range(at + 1, end)
        projected = {sig[i].variable for i in projection if sig[i].variable and sig[i].parens == token.parens}
        projected |= {sig[i + 1].variable for i in projection if sig[i].keyword == "AS" and i + 1 < len(sig) and sig[i + 1].variable}
        star = any(sig[i].text == "*" and sig[i].parens == token.parens for i in projection)
        close = end
        while close < len(sig) and not (sig[close].text == "}" and sig[close].depth == token.depth):
            close += 1
        selects.append(_Select(at, projection, projected, star, token.depth == 0, range(at, close)))
    return selects


def _clause(sig: list[_Token], start: int) -> range:
    """The tokens of a GROUP BY or ORDER BY clause whose BY is at `start`."""
    end = start + 1
    while end < len(sig) and not (sig[end].keyword in _CLAUSE_ENDS | _FORMS or (sig[end].text == "}" and sig[end].kind == "char")):
        end += 1
    return range(start + 1, end)


def inline(query: str, terms: Mapping[str, str]) -> str | None:
    """`query` with each variable of `terms` (name -> its term in SPARQL syntax, such as
    ``<https://…>`` or ``"2024-06-07"^^<…#date>``) written in as that term; None when that would
    not mean what binding it does (see the module's docstring)."""
    if not terms or any(term.startswith("_:") for term in terms.values()):
        return None
    pieces = _template(query, frozenset(terms))
    if pieces is None:
        return None
    return "".join(piece if isinstance(piece, str) else f"{piece[0]}{terms[piece[1]]}{piece[2]}" for piece in pieces)


_T = TypeVar("_T")


def run_inlined(query: str, terms: Mapping[str, str], written: Callable[[str], _T],
                substituted: Callable[[], _T]) -> _T:
    """`written(text)`, `text` being `query` with `terms` written in (`inline`); else, when
    `inline` declines or Oxigraph rejects the text it wrote, `substituted()`: the query as given,
    its terms substituted, has the last word on its syntax."""
    text = inline(query, terms)
    if text is not None:
        try:
            return written(text)
        except SyntaxError:
            pass
    return substituted()


#: A query as `inline` writes it: text, and (before, variable, after) where a term goes.
_Pieces = tuple[str | tuple[str, str, str], ...]


@lru_cache(maxsize=256)
def _template(query: str, names: frozenset[str]) -> _Pieces | None:
    """Where in `query` the terms of the variables `names` go, or None if they cannot be written in.

    What `inline` writes depends on which variables are bound, never on their terms: the work is
    done once per query and set of names (pySHACL runs each shape's query once per focus node:
    25,000 times on the 1,000-article graph)."""
    tokens = _tokens(query)
    sig = [t for t in tokens if t.kind not in ("space", "comment")]
    form = next((t.keyword for t in sig if t.keyword in _FORMS), None)
    if form != "SELECT":
        return None
    selects = _selects(sig)
    top = next(s for s in selects if s.top)
    if top.star or not names <= top.projected:
        return None
    for i, token in enumerate(sig):
        if token.variable in names and i and sig[i - 1].keyword == "AS":
            return None  # assigned
        if token.keyword == "VALUES":
            j = i + 1
            while j < len(sig) and sig[j].text != "{":
                if sig[j].variable in names:
                    return None
                j += 1
        if token.keyword == "BY" and i and sig[i - 1].keyword == "GROUP":
            clause = _clause(sig, i)
            bare = {j for j in clause if sig[j].variable in names and sig[j].parens == token.parens}
            if any(sig[j].variable in names for j in clause if j not in bare) or len(bare) == len(clause):
                return None  # grouped by inside an expression, or by nothing else
    for select in selects:
        if select.top or select.star:
            continue
        mentioned = {sig[i].variable for i in select.extent if sig[i].variable}
        if (mentioned & names) - select.projected:
            return None  # another variable of the same name, in a scope of its own

    replace: dict[int, str | tuple[str, str, str]] = {}  # id of a significant token -> what it becomes
    for select in selects:
        bound = [i for i in select.projection if sig[i].variable in names and sig[i].parens == sig[select.at].parens]
        for i in bound:
            replace[id(sig[i])] = ("(", sig[i].variable, f" AS {sig[i].text})") if select.top else ""
        rest = [i for i in select.projection if sig[i].variable and i not in bound]
        if bound and not select.top and not rest and not select.star:
            replace[id(sig[bound[0]])] = "*"
    for i, token in enumerate(sig):
        if token.keyword == "BY" and i and sig[i - 1].keyword in ("ORDER", "GROUP"):
            clause = _clause(sig, i)
            for j in clause:
                if sig[j].variable in names and sig[j].parens == token.parens:
                    replace[id(sig[j])] = ""
            if all(replace.get(id(sig[j])) == "" for j in clause):  # (never a GROUP BY: declined above)
                replace[id(sig[i - 1])] = replace[id(token)] = ""
    pieces: list[str | tuple[str, str, str]] = []
    for token in tokens:
        piece = replace.get(id(token), ("", token.variable, "") if token.variable in names else token.text)
        if isinstance(piece, str) and pieces and isinstance(pieces[-1], str):
            pieces[-1] += piece
        else:
            pieces.append(piece)
    return tuple(pieces)
