"""The README's examples are what kg prints on the seeds: the build's summary and `kg query`'s answers.

The README gives them as the real output on the five seed articles, and a stranger reads them to
learn what kg finds; each row was checked against the articles when it was written there (the
crew of Ballerina, the films' release order). These tests keep the examples true as the rules
change: a new fact found in the seeds must show in the README too.
"""

from __future__ import annotations

import re
import shlex
from itertools import takewhile

import pytest

from kg.cli import main
from kg.pipeline import summary

from conftest import ROOT

README = ROOT / "README.md"


def _text_blocks() -> list[list[str]]:
    """The lines of each ```text block of the README."""
    text = README.read_text(encoding="utf-8")
    return [block.splitlines() for block in re.findall(r"^```text\n(.*?)^```", text, re.S | re.M)]


def _examples(command: str) -> list[tuple[str, list[str]]]:
    """(command line, the lines shown after it) for each `$ COMMAND ...` line of a text block."""
    found = []
    for lines in _text_blocks():
        for index, line in enumerate(lines):
            if line.startswith(f"$ {command} "):
                shown = list(takewhile(lambda after: not after.startswith("$ "), lines[index + 1:]))
                while shown and not shown[-1]:   # the blank line before the next example
                    shown.pop()
                found.append((line[2:], shown))
    return found


QUERY_EXAMPLES = _examples("kg query")


def test_the_readme_shows_two_query_examples():
    # The parametrized test below runs nothing if the README's examples cannot be found.
    assert [command for command, _ in QUERY_EXAMPLES] == ["kg query crew --bind workLabel=Ballerina",
                                                           "kg query release-order"]


@pytest.mark.parametrize("command, shown", QUERY_EXAMPLES, ids=[c for c, _ in QUERY_EXAMPLES])
def test_a_query_example_of_the_readme_is_what_kg_prints(seeds_build, capsys, command, shown):
    _, _, out = seeds_build
    assert main([*shlex.split(command)[1:], "--graph", str(out / "graph.trig")]) == 0
    printed, said = capsys.readouterr()
    *table, count = shown
    assert printed.splitlines() == table
    assert said.splitlines() == [count]   # "(N rows)" goes to stderr, the table alone to stdout


def test_the_summary_in_the_readme_is_the_seeds_build(seeds_build):
    result, _, _ = seeds_build
    shown = next(lines for lines in _text_blocks() if lines and lines[0].startswith("articles: "))
    assert shown[-1] == "wrote build/graph.trig, build/graph.ttl, build/graph.jsonld"
    assert summary(result).splitlines() == shown[:-1]
