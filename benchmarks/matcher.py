"""Matcher benchmark: accuracy and cost per question, beside a naive rapidfuzz baseline, in one run.

The baseline is what one would write first: `rapidfuzz.process.extractOne` of the question over
all example questions of the knowledge base (WRatio), taking that example's topic, with a cutoff
for out of scope. Both run over the same questions in the same process, so their ratio is
meaningful on a noisy shared machine even when absolute microseconds are not.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from rapidfuzz import fuzz, process

from knowledge.evaluation import Example, is_right, read_examples
from knowledge.loader import load_knowledge_base
from knowledge.matcher import Match, Matcher

__all__ = ["run"]

ROOT = Path(__file__).resolve().parents[1]
DEV_SET = next(
    (d / "shared" / "eval" / "dev.jsonl" for d in ROOT.parents if (d / "shared" / "eval" / "dev.jsonl").exists()),
    ROOT.parent / "shared" / "eval" / "dev.jsonl",
)
HELD_OUT = ROOT / "tests" / "data" / "heldout.jsonl"
BLIND = ROOT / "tests" / "data" / "blind.jsonl"
BLIND2 = ROOT / "tests" / "data" / "blind2.jsonl"
BLIND3 = ROOT / "tests" / "data" / "blind3.jsonl"
BLIND4 = ROOT / "tests" / "data" / "blind4" / "blind4.jsonl"
BLIND5 = ROOT / "tests" / "data" / "blind5" / "blind5.jsonl"
BLIND6 = ROOT / "tests" / "data" / "blind6" / "blind6.jsonl"
BLIND7 = ROOT / "tests" / "data" / "blind7" / "blind7.jsonl"
BLIND8 = ROOT / "tests" / "data" / "blind8" / "blind8.jsonl"
BLIND9 = ROOT / "tests" / "data" / "blind9" / "blind9.jsonl"
BLIND10 = ROOT / "tests" / "data" / "blind10" / "blind10.jsonl"
BLIND11 = ROOT / "tests" / "data" / "blind11" / "blind11.jsonl"
BLIND12 = ROOT / "tests" / "data" / "blind12" / "blind12.jsonl"
BLIND13 = ROOT / "tests" / "data" / "blind13" / "blind13.jsonl"
BLIND14 = ROOT / "tests" / "data" / "blind14" / "blind14.jsonl"
BLIND15 = ROOT / "tests" / "data" / "blind15" / "blind15.jsonl"
BLIND16 = ROOT / "tests" / "data" / "blind16" / "blind16.jsonl"
BLIND17 = ROOT / "tests" / "data" / "blind17" / "blind17.jsonl"
BLIND18 = ROOT / "tests" / "data" / "blind18" / "blind18.jsonl"
BLIND19 = ROOT / "tests" / "data" / "blind19" / "blind19.jsonl"
BLIND20 = ROOT / "tests" / "data" / "blind20" / "blind20.jsonl"
BLIND21 = ROOT / "tests" / "data" / "blind21" / "blind21.jsonl"
BLIND22 = ROOT / "tests" / "data" / "blind22" / "blind22.jsonl"
BLIND23 = ROOT / "tests" / "data" / "blind23" / "blind23.jsonl"
BLIND24 = ROOT / "tests" / "data" / "blind24" / "blind24.jsonl"
BLIND25 = ROOT / "tests" / "data" / "blind25" / "blind25.jsonl"


class NaiveBaseline:
    """extractOne over the example questions; platform = first platform alias seen as a word."""

    def __init__(self, kb, cutoff: float = 60.0):
        self.choices: list[str] = []
        self.topics: list[str] = []
        for topic in kb.topics:
            for example in topic.examples:
                self.choices.append(example.lower())
                self.topics.append(topic.id)
        self.aliases = {alias.lower(): p.id for p in kb.platforms for alias in p.aliases}
        self.cutoff = cutoff

    def match(self, question: str) -> Match:
        hit = process.extractOne(question.lower(), self.choices, scorer=fuzz.WRatio, score_cutoff=self.cutoff)
        platform = next((self.aliases[w] for w in question.lower().split() if w in self.aliases), None)
        if hit is None:
            return Match(topic=None, platform=platform, score=0.0)
        return Match(topic=self.topics[hit[2]], platform=platform, score=hit[1] / 100)


def _timings(match, questions: list[str], rounds: int) -> list[float]:
    for q in questions:  # warm-up (caches, lazy imports)
        match(q)
    samples = []
    for _ in range(rounds):
        for q in questions:
            start = time.perf_counter_ns()
            match(q)
            samples.append((time.perf_counter_ns() - start) / 1000)
    return samples


def _accuracy(match, examples: list[Example]) -> float:
    return sum(is_right(e, match(e.q)) for e in examples) / len(examples)


def _p(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct))]


def run(rounds: int = 50) -> dict[str, dict[str, float]]:
    kb = load_knowledge_base()
    ours, naive = Matcher(kb), NaiveBaseline(kb)
    dev, held = (
        read_examples(DEV_SET),
        read_examples(HELD_OUT)
        + read_examples(BLIND)
        + read_examples(BLIND2)
        + read_examples(BLIND3)
        + read_examples(BLIND4)
        + read_examples(BLIND5)
        + read_examples(BLIND6)
        + read_examples(BLIND7)
        + read_examples(BLIND8)
        + read_examples(BLIND9)
        + read_examples(BLIND10)
        + read_examples(BLIND11)
        + read_examples(BLIND12)
        + read_examples(BLIND13)
        + read_examples(BLIND14)
        + read_examples(BLIND15)
        + read_examples(BLIND16)
        + read_examples(BLIND17)
        + read_examples(BLIND18)
        + read_examples(BLIND19)
        + read_examples(BLIND20)
        + read_examples(BLIND21)
        + read_examples(BLIND22)
        + read_examples(BLIND23)
        + read_examples(BLIND24)
        + read_examples(BLIND25),
    )
    questions = [e.q for e in dev]
    result = {}
    for name, impl in (("kanalvakten", ours), ("naive extractOne", naive)):
        samples = _timings(impl.match, questions, rounds)
        result[name] = {
            "dev accuracy": _accuracy(impl.match, dev),
            "held-out accuracy": _accuracy(impl.match, held),
            "median us": statistics.median(samples),
            "p99 us": _p(samples, 0.99),
        }
    return result


def report(result: dict[str, dict[str, float]]) -> str:
    lines = [f"{'matcher':<18} {'dev acc':>8} {'held-out':>9} {'median µs':>10} {'p99 µs':>8}"]
    for name, row in result.items():
        lines.append(
            f"{name:<18} {row['dev accuracy']:>8.3f} {row['held-out accuracy']:>9.3f} "
            f"{row['median us']:>10.1f} {row['p99 us']:>8.1f}"
        )
    ours, naive = result["kanalvakten"], result["naive extractOne"]
    lines.append(f"cost ratio (ours / naive, median): {ours['median us'] / naive['median us']:.2f}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
