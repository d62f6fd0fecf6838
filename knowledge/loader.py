"""Read the knowledge base's YAML files into a validated `KnowledgeBase`.

Every problem is reported as `file:line: reason`, so a communicator who broke a file can find the
spot: YAML syntax errors carry PyYAML's position, validation errors are mapped back to the line
of the offending key or list item.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from knowledge.models import OUT_OF_SCOPE, KnowledgeBase

__all__ = ["DATA_DIR", "KnowledgeBaseError", "Problem", "load_knowledge_base", "example_lines", "asked_lines"]

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"

# Which file holds which top-level key of the knowledge base.
_SECTIONS = {
    "platforms": "platforms.yaml",
    "concepts": "vocabulary.yaml",
    "topics": "topics.yaml",
    "election": "organisation.yaml",
    "organisation": "organisation.yaml",
    "announcement": "announcement.yaml",
    "asked": "asked.yaml",
}
_OPTIONAL = {"asked.yaml"}
"""Files a knowledge base may leave out."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file."""

    file: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


class KnowledgeBaseError(Exception):
    """The knowledge base cannot be used; `problems` says where and why."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class _LineDict(dict[Any, Any]):
    """A mapping that remembers the line of each key (1-based)."""

    lines: dict[Any, int]
    line: int


class _LineList(list[Any]):
    """A sequence that remembers the line of each item (1-based)."""

    lines: list[int]
    line: int


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader (libyaml's, when PyYAML has it: ten times faster on asked.yaml's thousands of
    lines) that records where each key and item stands."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> _LineDict:
        result = _LineDict()
        result.line = node.start_mark.line + 1
        result.lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in result:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            result[key] = self.construct_object(value_node, deep=True)
            result.lines[key] = key_node.start_mark.line + 1
        return result

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> _LineList:
        result = _LineList(self.construct_object(child, deep=True) for child in node.value)
        result.line = node.start_mark.line + 1
        result.lines = [child.start_mark.line + 1 for child in node.value]
        return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineLoader.construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _LineLoader.construct_sequence)


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KnowledgeBaseError([Problem(path, 0, "file is missing")]) from None
    except UnicodeDecodeError as exc:
        raise KnowledgeBaseError([Problem(path, 1, f"not UTF-8 text ({exc.reason})")]) from None
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        reason = " ".join(filter(None, [exc.context, exc.problem])) or "invalid YAML"
        raise KnowledgeBaseError([Problem(path, line, f"invalid YAML: {reason}")]) from None
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError([Problem(path, 1, f"invalid YAML: {exc}")]) from None
    if not isinstance(data, dict):
        raise KnowledgeBaseError([Problem(path, 1, "expected a mapping at the top of the file")])
    return data


def _line_of(data: Any, loc: tuple[Any, ...]) -> int:
    """Follow a pydantic error location through the line-annotated data; deepest known line."""
    line = getattr(data, "line", 1)
    node = data
    for part in loc:
        if isinstance(node, _LineDict) and part in node:
            line = node.lines.get(part, line)
            node = node[part]
        elif isinstance(node, _LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.lines[part]
            node = node[part]
        else:
            break
    return line


def load_knowledge_base(data_dir: Path | None = None) -> KnowledgeBase:
    """Load and validate every file; raise KnowledgeBaseError listing every problem found."""
    data_dir = Path(data_dir or DATA_DIR)
    merged: dict[str, Any] = {}
    origin: dict[str, tuple[Path, Any]] = {}
    problems: list[Problem] = []

    files = sorted(set(_SECTIONS.values()))
    for name in files:
        path = data_dir / name
        if name in _OPTIONAL and not path.exists():
            continue
        try:
            data = _read_yaml(path)
        except KnowledgeBaseError as exc:
            problems.extend(exc.problems)
            continue
        for key, value in data.items():
            if key not in _SECTIONS or _SECTIONS[key] != name:
                problems.append(Problem(path, data.lines.get(key, 1), f"unexpected top-level key {key!r}"))
                continue
            merged[key] = value
            origin[key] = (path, data)

    guides = _LineList()
    guides.lines = []
    guide_origin: list[tuple[Path, Any]] = []
    for path in sorted((data_dir / "guides").glob("*.yaml")):
        try:
            data = _read_yaml(path)
        except KnowledgeBaseError as exc:
            problems.extend(exc.problems)
            continue
        guides.append(data)
        guides.lines.append(1)
        guide_origin.append((path, data))
    merged["guides"] = guides

    if problems:
        raise KnowledgeBaseError(problems)

    # asked.yaml files questions under topic ids: it is checked once the topics are known to be sound.
    asked = merged.pop("asked", None)
    kb = _validated(merged, origin, data_dir, guide_origin)
    if asked is not None:
        merged["asked"] = asked
        if problems := _asked_problems(merged, origin):
            raise KnowledgeBaseError(problems)
        kb = _validated(merged, origin, data_dir, guide_origin)
    log.debug("knowledge base loaded from %s: %d topics", data_dir, len(kb.topics))
    return kb


def _validated(
    merged: dict[str, Any],
    origin: dict[str, tuple[Path, Any]],
    data_dir: Path,
    guide_origin: Sequence[tuple[Path, Any]],
) -> KnowledgeBase:
    """The knowledge base, or KnowledgeBaseError with each problem's file and line."""
    try:
        return KnowledgeBase.model_validate(merged)
    except ValidationError as exc:
        problems: list[Problem] = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            if len(loc) <= 1:
                problems.append(_whole_base_problem(err, loc, origin, data_dir, guide_origin))
                continue
            section = loc[0]
            if section == "guides" and len(loc) > 1 and isinstance(loc[1], int) and loc[1] < len(guide_origin):
                path, data = guide_origin[loc[1]]
                rest = loc[2:]
            elif section in origin:
                path, data = origin[section]
                rest = loc
            else:
                path = data_dir / _SECTIONS.get(str(section), "guides")
                data, rest = None, ()
            where = ".".join(str(p) for p in loc)
            line = _line_of(data, rest) if data is not None else 1
            problems.append(Problem(path, line, f"{where}: {_message(err)}"))
        raise KnowledgeBaseError(problems) from None


def _asked_problems(merged: dict[str, Any], origin: dict[str, tuple[Path, Any]]) -> list[Problem]:
    """asked.yaml files questions under topic ids: point at a key that names no topic."""
    if "asked" not in merged or not isinstance(merged["asked"], _LineDict):
        return []
    topics = merged.get("topics")
    ids = {t.get("id") for t in topics if isinstance(t, dict)} if isinstance(topics, list) else set()
    path, _ = origin["asked"]
    return [
        Problem(
            path,
            merged["asked"].lines.get(key, 1),
            f"asked.{key}: no topic has this id; file each question under a topic id from topics.yaml"
            f" or under {OUT_OF_SCOPE}",
        )
        for key in merged["asked"]
        if key != OUT_OF_SCOPE and key not in ids
    ]


def asked_lines(data_dir: Path | None = None) -> dict[str, Problem]:
    """Where each question of asked.yaml stands: question -> file and line (reason empty)."""
    path = Path(data_dir or DATA_DIR) / _SECTIONS["asked"]
    if not path.exists():
        return {}
    data = _read_yaml(path)
    asked = data.get("asked") if isinstance(data, dict) else None
    where: dict[str, Problem] = {}
    for key, questions in asked.items() if isinstance(asked, dict) else ():
        if isinstance(questions, list):
            for index, question in enumerate(questions):
                where.setdefault(str(question), Problem(path, _line_of(data, ("asked", key, index)), ""))
    return where


def example_lines(data_dir: Path | None = None) -> dict[tuple[str, int], Problem]:
    """Where each topic example stands: (topic id, example index) -> file and line (reason empty)."""
    path = Path(data_dir or DATA_DIR) / _SECTIONS["topics"]
    data = _read_yaml(path)
    where: dict[tuple[str, int], Problem] = {}
    topics = data.get("topics") if isinstance(data, dict) else None
    for t, topic in enumerate(topics if isinstance(topics, list) else []):
        if not isinstance(topic, dict) or not isinstance(topic.get("examples"), list):
            continue
        for e in range(len(topic["examples"])):
            where[(str(topic.get("id")), e)] = Problem(path, _line_of(data, ("topics", t, "examples", e)), "")
    return where


_SECTION_OF_KIND = {"topic": "topics", "concept": "concepts", "platform": "platforms", "guide": "guides"}
_NAMED_ITEM = re.compile(r"\b(topic|concept|platform|guide)(?: id)? '([^']+)'")


def _whole_base_problem(
    err: ErrorDetails,
    loc: tuple[Any, ...],
    origin: dict[str, tuple[Path, Any]],
    data_dir: Path,
    guide_origin: Sequence[tuple[Path, Any]] = (),
) -> Problem:
    """Cross-reference errors (duplicates, unknown concepts) name an item: point at its entry."""
    message = _message(err)
    named = _NAMED_ITEM.search(message)
    if named and named.group(1) == "guide":  # a guide is a file of its own
        for path, data in guide_origin:
            if isinstance(data, _LineDict) and data.get("id") == named.group(2):
                return Problem(path, data.lines.get("platform", 1), message)
    section = _SECTION_OF_KIND.get(named.group(1)) if named else (str(loc[0]) if loc else None)
    if section in origin:
        path, data = origin[section]
        items = data.get(section) if isinstance(data, dict) else None
        line = data.lines.get(section, 1) if isinstance(data, _LineDict) else 1
        if named and isinstance(items, _LineList):
            hits = [
                items.lines[i]
                for i, item in enumerate(items)
                if isinstance(item, dict) and item.get("id") == named.group(2)
            ]
            line = hits[-1] if hits else line
        where = ".".join(str(p) for p in loc) or section
        return Problem(path, line, f"{where}: {message}")
    return Problem(data_dir, 1, message)


def _message(err: ErrorDetails) -> str:
    msg = str(err["msg"])
    if err.get("type") == "missing":
        return "required field is missing"
    if err.get("type") == "literal_error":
        return f"unknown value {err.get('input')!r}: {msg}"
    return msg.removeprefix("Value error, ")
