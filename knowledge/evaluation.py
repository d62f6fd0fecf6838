"""Accuracy of the matcher on a labelled set (DESIGN.md's eval format), the way `rasa test nlu` reports.

A prediction is right when the topic matches and, for `enable_2fa`, the answer covers the platform
(the bot answers for every platform a question names).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.matcher import Match, Matcher

__all__ = ["Example", "Report", "read_examples", "evaluate", "same_question"]


def same_question(question: str) -> str:
    """A question as compared across sets and asked.yaml: whitespace and case do not count."""
    return " ".join(question.split()).casefold()


@dataclass(frozen=True)
class Example:
    q: str
    topic: str | None
    platform: str | None


@dataclass
class Report:
    total: int = 0
    correct: int = 0
    per_topic: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    confusions: list[tuple[str, str, str]] = field(default_factory=list)
    out_of_scope: list[int] = field(default_factory=lambda: [0, 0])
    calibration: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def rejection_rate(self) -> float:
        right, total = self.out_of_scope
        return right / total if total else 1.0

    def lines(self) -> list[str]:
        out = [f"{'topic':<22} {'right':>5} {'total':>5} {'acc':>6}"]
        for topic in sorted(self.per_topic, key=str):
            right, total = self.per_topic[topic]
            out.append(f"{topic:<22} {right:>5} {total:>5} {right / total:>6.2f}")
        out.append("")
        out.append("score bin   right total  acc   (calibration: accuracy by the matcher's score)")
        for bin_ in sorted(self.calibration):
            right, total = self.calibration[bin_]
            out.append(f"{bin_:<10} {right:>5} {total:>5} {right / total:>5.2f}")
        if self.confusions:
            out.append("")
            out.append("confusions (expected -> got: question):")
            for expected, got, q in self.confusions:
                out.append(f"  {expected} -> {got}: {q}")
        out.append("")
        out.append(f"out-of-scope rejection: {self.out_of_scope[0]}/{self.out_of_scope[1]} = {self.rejection_rate:.3f}")
        out.append(f"accuracy: {self.correct}/{self.total} = {self.accuracy:.3f}")
        return out


def read_examples(path: Path) -> list[Example]:
    examples = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                examples.append(Example(q=row["q"], topic=row.get("topic"), platform=row.get("platform")))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not an eval row ({exc})") from None
    return examples


def _label(topic: str | None, platform: str | None) -> str:
    if topic == "enable_2fa":
        return f"enable_2fa/{platform}"
    return str(topic)


def is_right(example: Example, match: Match) -> bool:
    """The topic, and for `enable_2fa` the platform the answer covers: the bot answers for every
    platform a question names ("vi har fb, insta och linkedin"), so a labelled platform among them is
    answered, and a question labelled with none is answered when it names none or several."""
    if match.topic != example.topic:
        return False
    if example.topic != "enable_2fa":
        return True
    if example.platform is None:
        return len(match.platforms) != 1
    return example.platform in match.platforms


def evaluate(matcher: Matcher, examples: list[Example]) -> Report:
    report = Report()
    for example in examples:
        match = matcher.match(example.q)
        ok = is_right(example, match)
        report.total += 1
        report.correct += ok
        stats = report.per_topic[str(example.topic)]
        stats[0] += ok
        stats[1] += 1
        if example.topic is None:
            report.out_of_scope[0] += match.topic is None
            report.out_of_scope[1] += 1
        if match.topic is not None:
            low = min(int(match.score * 10), 9) / 10
            bucket = report.calibration[f"{low:.1f}-{low + 0.1:.1f}"]
            bucket[0] += ok
            bucket[1] += 1
        if not ok:
            report.confusions.append(
                (_label(example.topic, example.platform), _label(match.topic, match.platform), example.q)
            )
    return report
