"""`kg eval`: precision, recall and F1 of a built graph against hand-made gold facts.

Gold lives in a folder (tests/gold/): ``entities.csv`` (key, class, label, aliases separated by
``|``) and ``facts.csv`` (subject, relation, object, source, evidence), made by reading the
articles. A graph node stands for a gold entity when their classes agree (Actor counts as
Person, Film as Work, Hotel as Organization ...) and one of the node's labels is one of the
entity's names. Two scores are given:

- facts: (subject, relation, object), whichever article states it;
- sourced facts: (subject, relation, object, article): the fact and where it was read.

It also checks that no gold entity is split over several nodes.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Dataset, Literal, URIRef
from rdflib.namespace import RDF, SKOS

from kg.namespaces import FKG, PROV
from kg.nlp import surface_key
from kg.ontology import coarse_class
from kg.store import load_graph

__all__ = ["Gold", "Scores", "load_gold", "evaluate", "cli_eval"]

STRUCTURE = {"performer", "character", "work"}


@dataclass
class Gold:
    """Hand-made gold: entities by key, and facts as (subject, relation, object, source) tuples."""

    classes: dict[str, str]
    names: dict[str, set[str]]
    facts: set[tuple[str, str, str, str]]


def load_gold(folder: Path) -> Gold:
    """Read entities.csv and facts.csv of a gold folder; a fact naming an unknown entity is an error."""
    classes, names = {}, {}
    with open(folder / "entities.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            classes[row["key"]] = row["class"]
            names[row["key"]] = {surface_key(n) for n in [row["label"], *row["aliases"].split("|")] if n.strip()}
    facts = set()
    with open(folder / "facts.csv", newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.DictReader(handle), 2):
            for key in (row["subject"], row["object"]):
                if row["relation"] != "releaseDate" or key == row["subject"]:
                    if key not in classes:
                        raise ValueError(f"{folder / 'facts.csv'}:{number}: unknown entity {key!r}")
            facts.add((row["subject"], row["relation"], row["object"], row["source"]))
    return Gold(classes, names, facts)


@dataclass
class Scores:
    """Per-relation counts and the lists behind them."""

    true_positive: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    gold: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    predicted: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    missed: list[tuple] = field(default_factory=list)
    spurious: list[tuple] = field(default_factory=list)

    def prf(self, relation: str | None = None) -> tuple[float, float, float]:
        keys = [relation] if relation else list(self.gold.keys() | self.predicted.keys())
        tp = sum(self.true_positive[k] for k in keys)
        p = tp / max(1, sum(self.predicted[k] for k in keys))
        r = tp / max(1, sum(self.gold[k] for k in keys))
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _graph_facts(ds: Dataset) -> tuple[set[tuple], dict[URIRef, set[str]], dict[URIRef, str]]:
    labels: dict[URIRef, set[str]] = defaultdict(set)
    classes: dict[URIRef, str] = {}
    for s, p, o, _ in ds.quads((None, None, None, None)):
        if p in (SKOS.prefLabel, SKOS.altLabel):
            labels[s].add(surface_key(str(o)))
        elif p == RDF.type and str(o).startswith(str(FKG)):
            local = str(o)[len(str(FKG)):]
            if coarse_class(local):
                classes[s] = local
    files = {s: str(o) for s, _, o, _ in ds.quads((None, FKG.fileName, None, None))}
    facts = set()
    for claim, _, _, _ in ds.quads((None, RDF.type, FKG.Claim, None)):
        s = _one(ds, claim, RDF.subject)
        p = _one(ds, claim, RDF.predicate)
        o = _one(ds, claim, RDF.object)
        article = _one(ds, claim, PROV.wasDerivedFrom)
        relation = str(p)[len(str(FKG)):]
        if relation in STRUCTURE:
            continue
        facts.add((s, relation, o, files.get(article, str(article))))
    return facts, labels, classes


def _one(ds: Dataset, s, p):
    for _, _, o, _ in ds.quads((s, p, None, None)):
        return o
    return None


def evaluate(gold: Gold, ds: Dataset) -> tuple[Scores, Scores, list[str]]:
    """Scores on facts, on sourced facts, and the gold entities split over (or missing from) the graph."""
    facts, labels, classes = _graph_facts(ds)
    node_keys: dict[URIRef, set[str]] = defaultdict(set)
    nodes_of: dict[str, set[URIRef]] = defaultdict(set)
    for node, names in labels.items():
        cls = coarse_class(classes.get(node, "")) or ""
        for key, gold_names in gold.names.items():
            if coarse_class(gold.classes[key]) == cls and names & gold_names:
                node_keys[node].add(key)
                nodes_of[key].add(node)
    splits = [f"{key}: {len(nodes)} nodes ({', '.join(sorted(str(n).rsplit('/id/', 1)[-1] for n in nodes))})"
              for key, nodes in sorted(nodes_of.items()) if len(nodes) > 1]

    def name(term) -> set[str]:
        if isinstance(term, Literal):
            return {str(term)}
        return node_keys.get(term) or {"?" + str(term).rsplit("/id/", 1)[-1]}

    predicted_sourced = set()
    for s, relation, o, source in facts:
        for sk in name(s):
            for ok in name(o):
                predicted_sourced.add((sk, relation, ok, source))
    by_fact = Scores()
    by_source = Scores()
    for scores, gold_set, predicted in (
        (by_fact, {g[:3] for g in gold.facts}, {p[:3] for p in predicted_sourced}),
        (by_source, gold.facts, predicted_sourced),
    ):
        for item in gold_set:
            scores.gold[item[1]] += 1
            if item in predicted:
                scores.true_positive[item[1]] += 1
            else:
                scores.missed.append(item)
        for item in predicted:
            scores.predicted[item[1]] += 1
            if item not in gold_set:
                scores.spurious.append(item)
    return by_fact, by_source, splits


def report(by_fact: Scores, by_source: Scores, splits: list[str]) -> str:
    """A plain-text report: the table per relation, the totals, the misses, the spurious facts."""
    lines = [f"{'relation':18} {'gold':>5} {'pred':>5} {'P':>6} {'R':>6} {'F1':>6}   (sourced: P R F1)"]
    for relation in sorted(by_fact.gold.keys() | by_fact.predicted.keys()):
        p, r, f = by_fact.prf(relation)
        sp, sr, sf = by_source.prf(relation)
        lines.append(f"{relation:18} {by_fact.gold[relation]:5} {by_fact.predicted[relation]:5} {p:6.2f} {r:6.2f} {f:6.2f}"
                     f"   ({sp:.2f} {sr:.2f} {sf:.2f})")
    p, r, f = by_fact.prf()
    sp, sr, sf = by_source.prf()
    lines.append(f"{'OVERALL facts':18} {sum(by_fact.gold.values()):5} {sum(by_fact.predicted.values()):5} {p:6.2f} {r:6.2f} {f:6.2f}")
    lines.append(f"{'OVERALL sourced':18} {sum(by_source.gold.values()):5} {sum(by_source.predicted.values()):5} {sp:6.2f} {sr:6.2f} {sf:6.2f}")
    lines.append(f"entities split over several nodes: {len(splits)}")
    lines.extend(f"  split: {s}" for s in splits)
    lines.append(f"missed facts ({len(by_fact.missed)}):")
    lines.extend(f"  - {s} {r} {o}" for s, r, o in sorted(by_fact.missed))
    lines.append(f"spurious facts ({len(by_fact.spurious)}):")
    lines.extend(f"  + {s} {r} {o}" for s, r, o in sorted(by_fact.spurious))
    lines.append(f"missed sourced facts ({len(by_source.missed)}):")
    lines.extend(f"  - {s} {r} {o} [{src}]" for s, r, o, src in sorted(by_source.missed))
    lines.append(f"spurious sourced facts ({len(by_source.spurious)}):")
    lines.extend(f"  + {s} {r} {o} [{src}]" for s, r, o, src in sorted(by_source.spurious))
    return "\n".join(lines)


def cli_eval(args: argparse.Namespace) -> int:
    """`kg eval GOLD [--graph PATH]`."""
    try:
        gold = load_gold(args.gold)
    except (OSError, ValueError, KeyError) as error:
        print(f"kg eval: cannot read gold in {args.gold}: {error}", file=sys.stderr)
        return 2
    try:
        ds = load_graph(args.graph, engine="rdflib")
    except Exception as error:  # rdflib raises many parser-specific types
        print(f"kg eval: cannot read graph {args.graph}: {error}", file=sys.stderr)
        return 2
    print(report(*evaluate(gold, ds)))
    return 0
