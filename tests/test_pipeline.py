"""Tests of kg/pipeline.py (and the `kg build` command): determinism, atomic output, the cache,
and the seeds end to end against the hand-made gold in tests/gold.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import time
from pathlib import Path

import pytest
from rdflib import Dataset

import kg.export
from kg.cli import main
from kg.evaluate import evaluate, load_gold
from kg.pipeline import build, summary, write_outputs

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
GOLD = Path(__file__).resolve().parent / "gold"
OUTPUTS = ("graph.trig", "graph.ttl", "graph.jsonld")


def contents(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in OUTPUTS}


def leftovers(folder: Path) -> list[str]:
    """Anything in `folder` besides the three outputs (and the cache): temp files of a failed write."""
    return sorted(p.name for p in folder.iterdir() if p.name not in OUTPUTS and p.name != "cache")


# --------------------------------------------------------------------------- determinism


def test_two_builds_of_the_seeds_write_identical_bytes(seeds_build, tmp_path):
    _, _, first = seeds_build
    result = build([SEEDS])  # no cache: every article extracted afresh
    write_outputs(result, tmp_path)
    assert contents(tmp_path) == contents(first)


# --------------------------------------------------------------------------- atomic output


def test_failed_serialisation_leaves_the_previous_files_intact(seeds_build, build_articles, tmp_path, monkeypatch):
    _, _, first = seeds_build
    out = tmp_path / "out"
    shutil.copytree(first, out)
    before = contents(out)
    other = build_articles({"a.txt": ("Ballerina was filmed in Prague.\n", "")}, folder="other")

    real = kg.export.export_merged

    def failing(merged, fmt, out, **options):
        if fmt == "json-ld":  # the last of the three: the others are already written aside
            raise RuntimeError("disk on fire")
        return real(merged, fmt, out, **options)

    monkeypatch.setattr(kg.export, "export_merged", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_outputs(other, out)
    assert contents(out) == before
    assert leftovers(out) == []


def test_failed_write_removes_its_temp_file_and_keeps_the_old_file(seeds_build, build_articles, tmp_path, monkeypatch):
    _, _, first = seeds_build
    out = tmp_path / "out"
    shutil.copytree(first, out)
    before = contents(out)
    other = build_articles({"a.txt": ("Ballerina was filmed in Prague.\n", "")}, folder="other")

    import kg.pipeline

    def failing_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(kg.pipeline.os, "fsync", failing_fsync)
    with pytest.raises(OSError):
        write_outputs(other, out)
    # the first file to be written failed: it, and every file after it, is untouched
    assert contents(out) == before
    assert leftovers(out) == []


# --------------------------------------------------------------------------- the cache


def test_second_build_reads_every_article_from_the_cache(seeds_build, quick_build, tmp_path):
    first, cache, out = seeds_build
    again = quick_build([SEEDS], cache_dir=cache)
    assert (again.cached, again.problems) == (5, [])
    write_outputs(again, tmp_path)
    assert contents(tmp_path) == contents(out)


def test_a_build_keeps_each_articles_metadata_but_lets_its_text_go(seeds_build, quick_build):
    # Extracted (the first build) or read from the cache (the second), an article is kept without
    # its text: at 10,000 articles the texts were some 70 MB of the build's peak.
    first, cache, _ = seeds_build
    again = quick_build([SEEDS], cache_dir=cache)
    for result in (first, again):
        assert [a.name for a in result.articles] == [
            "000_596400f4b883cf47.txt", "001_55590ab8c4ca542a.txt", "002_0be1828db89a9140.txt",
            "003_486e2a57a332a372.txt", "004_ece4c64aeaacedde.txt"]
        assert not any(hasattr(a, "text") for a in result.articles)
        second = result.articles[1]
        assert (second.title, second.published) == (
            "'Ballerina': Everything you need to know about John Wick's spin-off with Ana de Armas",
            datetime.date(2022, 11, 6))
        assert second.path == SEEDS / "001_55590ab8c4ca542a.txt"


@pytest.mark.parametrize(
    "corrupt",
    [
        pytest.param(lambda text: text[: len(text) // 2], id="truncated"),
        pytest.param(lambda text: "not json at all", id="garbage"),
        pytest.param(lambda text: text.replace("Ballerina", "Ballerino"), id="edited-body"),
    ],
)
def test_corrupted_cache_entry_is_reported_and_rebuilt(seeds_build, quick_build, tmp_path, corrupt):
    _, cache, out = seeds_build
    copy = tmp_path / "cache"
    shutil.copytree(cache, copy)
    entries = sorted(copy.glob("*/*.json"))   # the articles' extractions (Cache.put)
    assert len(entries) == 5
    victim = entries[2]
    victim.write_text(corrupt(victim.read_text(encoding="utf-8")), encoding="utf-8")

    result = quick_build([SEEDS], cache_dir=copy)
    assert result.cached == 4
    assert len(result.problems) == 1
    assert result.problems[0].path == victim
    assert "corrupt" in result.problems[0].reason
    write_outputs(result, tmp_path / "out")
    assert contents(tmp_path / "out") == contents(out)
    # the entry was written afresh: the next build trusts it again
    assert json.loads(victim.read_text(encoding="utf-8"))["body"]
    assert quick_build([SEEDS], cache_dir=copy).cached == 5


def test_a_build_leaves_in_the_cache_only_what_it_used_and_the_last_three_pipelines(seeds_build, quick_build, tmp_path):
    _, cache, _ = seeds_build
    copy = tmp_path / "cache"
    shutil.copytree(cache, copy)
    (current,) = list(copy.iterdir())   # the seeds' build: one pipeline
    before = {p.name for p in current.glob("*.json")}
    assert len(before) == 5
    # three pipelines used before this one (another model, older versions of kg), the oldest
    # first, and a folder that is not a pipeline's
    now = time.time()
    for days, name in ((30, "0000000000000000"), (20, "1111111111111111"), (10, "2222222222222222")):
        (copy / name).mkdir()
        (copy / name / "entry.json").write_text("{}", encoding="utf-8")
        os.utime(copy / name, (now - days * 86400, now - days * 86400))
    (copy / "my-notes").mkdir()
    # the corpus changes: one article edited, one no longer read
    corpus = tmp_path / "seeds"
    shutil.copytree(SEEDS, corpus)
    edited = corpus / "003_486e2a57a332a372.txt"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nTickets go on sale next week.\n", encoding="utf-8")
    (corpus / "004_ece4c64aeaacedde.txt").unlink()
    manifest = corpus / "sources.csv"
    manifest.write_text("".join(line for line in manifest.read_text(encoding="utf-8").splitlines(keepends=True)
                                if not line.startswith("004_")), encoding="utf-8")

    result = quick_build([corpus], cache_dir=copy)
    assert (result.cached, result.problems) == (3, [])
    assert before < {p.name for p in current.glob("*.json")}   # nothing removed before the outputs are written
    write_outputs(result, tmp_path / "out")
    after = {p.name for p in current.glob("*.json")}
    assert len(after) == 4                 # the four articles read
    assert len(after & before) == 3        # the three unchanged ones kept; the old 003 and 004 gone
    # this pipeline and the two most recently used others are kept; a folder kg did not make is left alone
    assert sorted(p.name for p in copy.iterdir()) == sorted(
        [current.name, "1111111111111111", "2222222222222222", "my-notes"])
    # and the next build finds everything it needs
    assert quick_build([corpus], cache_dir=copy).cached == 4


def _blocks(cache: Path) -> set[str]:
    """The articles' graphs kept in a build's cache (kg.pipeline.Cache.put_block)."""
    return {p.name for p in cache.rglob("*.trig")}


def test_a_rebuild_makes_only_the_graphs_of_what_changed(seeds_build, quick_build, tmp_path, monkeypatch):
    _, cache, _ = seeds_build
    kept = _blocks(cache)
    assert len(kept) == 5  # every seed article states facts: five article graphs
    copy, corpus = tmp_path / "cache", tmp_path / "seeds"
    shutil.copytree(cache, copy)
    older = next(copy.iterdir()) / "trig-0123456789abcdef"  # kept by an older version of kg
    older.mkdir()
    (older / "0123456789abcdef.trig").write_bytes(b"old")
    shutil.copytree(SEEDS, corpus)
    edited = corpus / "003_486e2a57a332a372.txt"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nTickets go on sale next week.\n", encoding="utf-8")

    made = []
    real = kg.export.trig_block
    monkeypatch.setattr(kg.export, "trig_block", lambda quads: made.append(quads) or real(quads))
    result = quick_build([corpus], cache_dir=copy)
    write_outputs(result, tmp_path / "out")
    # made afresh: the sources, the conflicts, the edited article's graph and the entities;
    # the four other articles' graphs come from the cache
    assert len(made) == 4
    assert result.problems == []
    after = _blocks(copy)
    assert len(after) == 5 and len(after - kept) == 1  # the edited article's graph replaced its old one
    assert not older.exists()
    monkeypatch.setattr(kg.export, "trig_block", real)
    clean = quick_build([corpus])
    write_outputs(clean, tmp_path / "clean")
    assert contents(tmp_path / "out") == contents(tmp_path / "clean")
    assert result.digest.quads == clean.digest.quads


def _count_jsonld_conversions(monkeypatch) -> list[str]:
    """The subjects whose JSON-LD nodes rdflib's from_rdf makes from here on."""
    import rdflib.plugins.serializers.jsonld as rdflib_jsonld

    converted: list[str] = []
    real = rdflib_jsonld.from_rdf
    monkeypatch.setattr(rdflib_jsonld, "from_rdf", lambda graph, *a, **k: converted.extend(map(str, set(graph.subjects()))) or real(graph, *a, **k))
    return converted


@pytest.mark.parametrize("damage", [None, "truncated", "edited"])
def test_a_rebuild_reads_graph_jsonlds_nodes_back_from_the_cache(seeds_build, quick_build, tmp_path, monkeypatch, damage):
    _, cache, out = seeds_build
    copy = tmp_path / "cache"
    shutil.copytree(cache, copy)
    monkeypatch.setattr(kg.export, "JSONLD_SUBJECTS_AT_ONCE", 10)   # the seeds' view, written a node at a time
    write_outputs(quick_build([SEEDS], cache_dir=copy), tmp_path / "first")
    assert contents(tmp_path / "first") == contents(out)
    [table] = copy.rglob("graph.jsonld-nodes")
    nodes = len(table.read_text(encoding="utf-8").splitlines()) - 1   # a line a node, then the checksum
    assert nodes == len(json.loads((out / "graph.jsonld").read_text(encoding="utf-8"))["@graph"])
    if damage == "truncated":
        table.write_bytes(table.read_bytes()[: table.stat().st_size // 2])
    elif damage == "edited":
        table.write_text(table.read_text(encoding="utf-8").replace("Ballerina", "Ballerino"), encoding="utf-8")

    converted = _count_jsonld_conversions(monkeypatch)
    result = quick_build([SEEDS], cache_dir=copy)
    write_outputs(result, tmp_path / "again")
    assert contents(tmp_path / "again") == contents(out)
    if damage is None:
        assert converted == [] and result.problems == []   # nothing changed: every node copied
    else:
        assert len(converted) == nodes                      # a damaged table is not trusted: every node made again
        assert [(p.path, p.reason.split(" (")[0]) for p in result.problems] == [(table, "corrupted cache entry")]
        converted.clear()
        write_outputs(quick_build([SEEDS], cache_dir=copy), tmp_path / "third")
        assert converted == []                              # and kept afresh for the next build


# --------------------------------------------------------------------------- the seeds against the gold


@pytest.fixture(scope="module")
def scores(seeds_build):
    _, _, out = seeds_build
    ds = Dataset()
    ds.parse(out / "graph.trig", format="trig")  # what `kg eval` reads: the written file
    return evaluate(load_gold(GOLD), ds)


def test_seeds_fact_precision(scores):
    by_fact, _, _ = scores
    precision, _, _ = by_fact.prf()
    assert precision >= 0.90, sorted(by_fact.spurious)


def test_seeds_fact_recall(scores):
    by_fact, _, _ = scores
    _, recall, _ = by_fact.prf()
    assert recall >= 0.85, sorted(by_fact.missed)


def test_seeds_no_gold_entity_is_split(scores):
    _, _, splits = scores
    assert splits == []


# --------------------------------------------------------------------------- `kg build`


def test_cli_build_of_the_seeds_exits_0(quick_build, tmp_path, capsys):
    assert main(["build", str(SEEDS), "--out", str(tmp_path), "--quiet"]) == 0
    assert sorted(p.name for p in tmp_path.glob("graph.*")) == sorted(OUTPUTS)
    assert capsys.readouterr().err == ""


def test_cli_build_with_an_empty_article_exits_1(quick_build, tmp_path, capsys):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "good.txt").write_text("Ballerina was filmed in Prague.\n", encoding="utf-8")
    (folder / "empty.txt").write_text("", encoding="utf-8")
    assert main(["build", str(folder), "--out", str(tmp_path / "out"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "empty.txt" in err and "good.txt" not in err
    assert (tmp_path / "out" / "graph.trig").exists()


@pytest.mark.parametrize("make", [pytest.param(lambda p: p.mkdir(), id="empty-folder"),
                                  pytest.param(lambda p: None, id="missing-folder")])
def test_cli_build_with_nothing_usable_exits_2(quick_build, tmp_path, capsys, make):
    folder = tmp_path / "nothing-here"
    make(folder)
    assert main(["build", str(folder), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    captured = capsys.readouterr()
    assert str(folder) in captured.err
    assert "Traceback" not in captured.err + captured.out
    assert not (tmp_path / "out" / "graph.trig").exists()


def test_byte_identical_across_processes_with_different_hash_seeds(tmp_path):
    # Sets and dicts iterate in an order that follows Python's hash seed: two processes with
    # different seeds must still write the same bytes.
    import os
    import subprocess
    import sys

    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"out-{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-m", "kg.cli", "build", str(SEEDS), "--out", str(out),
                               "--no-cache", "--quiet"], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        outputs.append({name: (out / name).read_bytes() for name in ("graph.trig", "graph.ttl", "graph.jsonld")})
    assert outputs[0] == outputs[1]


def test_a_record_read_back_from_the_cache_is_equal_and_shares_its_repeated_values():
    """Two facts of one sentence naming one mention: read back, one object and one string each."""
    from kg.extract import ArticleExtraction, Fact, Mention
    from kg.pipeline import _from_json, _to_json

    sentence = "Mara Vell directed Ballerina and wrote it."
    person = Mention("Mara Vell", 0, 9, "PERSON")
    work = Mention("Ballerina", 19, 28, "Work", lexicon_id="work/ballerina")
    record = ArticleExtraction(
        [person, work],
        [Fact("directedBy", work, person, "directed-by", 0.9, 0, 42, sentence),
         Fact("writtenBy", work, person, "wrote", 0.8, 0, 42, sentence)],
        work)
    back = _from_json(json.loads(json.dumps(_to_json(record))))
    assert back == record
    directed, wrote = back.facts
    assert directed.object is wrote.object is back.mentions[0]
    assert directed.subject is wrote.subject is back.mentions[1] is back.main_work
    assert directed.sentence is wrote.sentence


def test_records_kept_on_file_read_back_equal_in_any_order():
    """The build keeps its records on file (ExtractionFile); each read makes an equal record."""
    from kg.extract import ArticleExtraction, Fact, Mention
    from kg.pipeline import ExtractionFile, _record_json

    sentence = "Mara Vell directed Ballerina."
    person = Mention("Mara Vell", 0, 9, "PERSON")
    work = Mention("Ballerina", 19, 28, "Work", lexicon_id="work/ballerina")
    first = ArticleExtraction([person, work], [Fact("directedBy", work, person, "directed-by", 0.9, 0, 29, sentence)], work)
    second = ArticleExtraction([Mention("Eve", 0, 3, "Character", via="alias")], [], None)
    kept = ExtractionFile()
    kept.append(_record_json(first))
    kept.append(_record_json(second))
    assert len(kept) == 2
    assert list(kept) == [first, second]
    assert kept[1] == second and kept[-1] == second
    assert list(kept[:1]) == [first]
    assert list(kept.reordered([1, 0])) == [second, first]
    assert kept[0] is not kept[0]   # made again on each read, not held


def test_a_date_and_a_performances_work_read_back_from_the_cache_are_equal():
    from kg.extract import ArticleExtraction, Fact, Mention
    from kg.pipeline import _from_json, _to_json

    work = Mention("Ballerina", 0, 9, "Film", lexicon_id="work/ballerina")
    actor, role = Mention("Ana Marsh", 28, 37, "PERSON"), Mention("Eve", 41, 44, "Character", via="alias")
    record = ArticleExtraction(
        [work, actor, role],
        [Fact("releaseDate", work, "2025-06-06", "release/opens", 0.9, 0, 26, "Ballerina opens 2025-06-06."),
         Fact("performance", actor, role, "cast/as", 0.85, 28, 45, "Ana Marsh as Eve.", work)],
        None)
    back = _from_json(json.loads(json.dumps(_to_json(record))))
    assert back == record
    assert back.facts[0].object == "2025-06-06" and back.facts[1].work is back.mentions[0]
    assert back.main_work is None


def test_the_build_does_not_import_the_query_engine_bridge():
    # oxrdflib brings rdflib's SPARQL parser, a tenth of a build's start-up, which a rebuild of a
    # few articles feels; only loading a graph for a query needs it.
    import subprocess
    import sys

    code = "import sys, kg.cli, kg.pipeline; print(sorted(m for m in ('oxrdflib', 'rdflib.plugins.sparql') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_articles_extracted_in_spacys_memory_zones_give_the_same_records_and_leave_no_words_behind():
    """spaCy keeps the strings of every new word for good; extract_stream drops those of each run
    of articles after a pipeline's first, in a memory zone, and the records keep their own."""
    from kg.nlp import load_pipeline
    from kg.pipeline import extract_stream
    from kg.sources import Article, iter_sources

    texts = [(a.text, a.published) for a in iter_sources([SEEDS]) if isinstance(a, Article)]
    invented = ("Ballerina stars Vostrikh Quelmarra as Eve.\n", None)
    nlp = load_pipeline()
    plain = list(extract_stream(nlp, texts, zone=len(texts)))   # a fresh pipeline's first run: no zone
    strings = len(nlp.vocab.strings)
    zoned = list(extract_stream(nlp, [*texts, invented], zone=1))   # each article in a zone of its own
    assert zoned[:-1] == plain
    assert "Vostrikh Quelmarra" in {m.text for m in zoned[-1].mentions}
    assert "Vostrikh" not in nlp.vocab.strings
    assert len(nlp.vocab.strings) == strings


@pytest.mark.parametrize("text, said", [
    ("Ballerina was directed by Dana Kroll.\n",
     ["entities: 1 Film, 1 Person", "facts: 1 distinct, 1 claim; directedBy 1"]),
    ("Nothing about a film here, said Marisol Ventura.\n",
     ["entities: none in a fact", "facts: 0 distinct, 0 claims"]),
], ids=["one-fact", "no-fact"])
def test_the_summary_of_a_build_with_one_fact_or_none_reads_as_english(build_articles, text, said):
    lines = summary(build_articles({"a.txt": (text, "")})).splitlines()
    assert lines == ["articles: 1 read", *said, "conflicts: 0"]
