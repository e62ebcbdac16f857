"""Fixtures shared by the test modules: one spaCy pipeline and one build of the seeds per session.

Loading the model and building the seeds are the slow steps, so they are done once and shared;
tests that need a build of their own (conflicts, the cache, atomic writes) make one in tmp_path.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def alive() -> Callable[[str | int], bool]:
    """Whether the process of a pid exists and is not a zombie (ended, its parent not yet told),
    read from /proc: for the tests that kill kg and watch what it leaves running."""

    def alive(pid: str | int) -> bool:
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except FileNotFoundError:
            return False

    return alive


@pytest.fixture(scope="session")
def nlp():
    """The spaCy pipeline with kg's components (the pinned model)."""
    from kg.nlp import load_pipeline

    return load_pipeline()


@pytest.fixture(scope="session")
def seeds_build(tmp_path_factory):
    """The seeds built once, with a cache in a session tmp folder, written out to `out`.

    Returns (BuildResult, cache folder, output folder).
    """
    from kg.pipeline import build, write_outputs

    base = tmp_path_factory.mktemp("seeds-build")
    result = build([SEEDS], cache_dir=base / "cache")
    write_outputs(result, base / "out")
    return result, base / "cache", base / "out"


def _write_articles(folder: Path, articles: dict[str, tuple[str, str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "sources.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "title", "published"])
        for name, (text, published) in articles.items():
            (folder / name).write_text(text, encoding="utf-8")
            writer.writerow([name, f"Article {name}", published])
    return folder


@pytest.fixture
def quick_build(monkeypatch, nlp):
    """kg.pipeline.build, reusing the session's pipeline instead of loading the model again."""
    import kg.pipeline

    monkeypatch.setattr(kg.pipeline, "load_pipeline", lambda model=None: nlp)
    return kg.pipeline.build


@pytest.fixture
def build_articles(quick_build, tmp_path):
    """build_articles({file name: (text, published YYYY-MM-DD or "")}) -> BuildResult.

    The articles are written, with their sources.csv manifest, into a folder of tmp_path.
    """

    def run(articles: dict[str, tuple[str, str]], folder: str = "articles"):
        return quick_build([_write_articles(tmp_path / folder, articles)])

    return run
