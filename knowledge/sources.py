"""Where each piece of the knowledge base stands in its YAML files, and every link it holds.

The loader validates the files into models, which forget their lines; the review page and the
link check need them back ("this link is in topics.yaml:184"). This module reads the same files
with the loader's line-tracking YAML reader and records, for every key, the file and line it
stands on, and for every http(s) address (a `url:`/`help_url:` value or one written inside a
text) the place it was written.

Keys of `SourceMap.places` read like paths, with list items named by their `id` (or a guide
step's `number`): `topics/account_hijacked`, `topics/account_hijacked/answer`,
`platforms/facebook/help_url`, `guides/facebook_2fa/steps/6/help`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.loader import DATA_DIR, _read_yaml

__all__ = ["Place", "LinkRef", "SourceMap", "read_sources", "URL_IN_TEXT"]

URL_IN_TEXT = re.compile(r"https?://[^\s<>\"'”)\]]+")
"""An http(s) address inside a text; trailing punctuation is trimmed separately."""

_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Place:
    """A line in a knowledge-base file."""

    file: Path
    line: int

    def __str__(self) -> str:
        try:
            shown = self.file.resolve().relative_to(_ROOT)
        except ValueError:
            shown = self.file
        return f"{shown}:{self.line}"


@dataclass(frozen=True)
class LinkRef:
    """One link as written in the knowledge base."""

    url: str
    """The address as written (trailing punctuation of a sentence removed)."""
    place: Place
    """Where it is written."""
    where: str
    """What holds it, as a `SourceMap.places` key (e.g. `topics/close_comments/links/0/url`)."""
    label: str | None = None
    """The button text, for a `links:` entry."""


@dataclass
class SourceMap:
    """Lines of every key, and every link, of one knowledge-base folder."""

    data_dir: Path
    places: dict[str, Place] = field(default_factory=dict)
    links: list[LinkRef] = field(default_factory=list)

    def place(self, *parts: object) -> Place | None:
        """The place of a key path, e.g. `place("topics", "greeting", "answer")`; None if unknown."""
        return self.places.get("/".join(str(p) for p in parts))

    def links_to(self, url: str) -> list[LinkRef]:
        """Where an address is written (pydantic may add a trailing slash: both forms match)."""
        wanted = url.rstrip("/")
        return [ref for ref in self.links if ref.url.rstrip("/") == wanted]

    def urls(self) -> list[str]:
        """Every distinct address, in the order first written."""
        return list(dict.fromkeys(ref.url for ref in self.links))


def read_sources(data_dir: Path | None = None) -> SourceMap:
    """Read every YAML file of the knowledge base (raises the loader's KnowledgeBaseError)."""
    data_dir = Path(data_dir or DATA_DIR)
    sources = SourceMap(data_dir=data_dir)
    for path in sorted(data_dir.glob("*.yaml")):
        _walk(sources, _File(path), _read_yaml(path), [], 1)
    for path in sorted((data_dir / "guides").glob("*.yaml")):
        data = _read_yaml(path)
        prefix = ["guides", str(data.get("id") or path.stem)]
        sources.places["/".join(prefix)] = Place(path, 1)
        _walk(sources, _File(path), data, prefix, 1)
    return sources


class _File:
    """A file being walked, with its lines, to find the line of an address inside a long text."""

    def __init__(self, path: Path):
        self.path = path
        self.lines = path.read_text(encoding="utf-8").splitlines()

    def line_of(self, url: str, from_line: int) -> int:
        """The first line at or after `from_line` (the text's key) that holds `url`."""
        for number in range(from_line, len(self.lines) + 1):
            if url in self.lines[number - 1]:
                return number
        return from_line


def _name(item: Any, index: int) -> str:
    """A list item's name in a key path: its id, a guide step's number, else its index."""
    if isinstance(item, dict):
        for key in ("id", "number"):
            if isinstance(item.get(key), (str, int)) and not isinstance(item.get(key), bool):
                return str(item[key])
    return str(index)


def _walk(sources: SourceMap, file: _File, node: Any, at: list[str], line: int, label: str | None = None) -> None:
    if isinstance(node, dict):
        lines = getattr(node, "lines", {})
        beside = node.get("label") if isinstance(node.get("label"), str) else None  # a links: entry
        for key, value in node.items():
            here = [*at, str(key)]
            key_line = lines.get(key, line)
            sources.places["/".join(here)] = Place(file.path, key_line)
            _walk(sources, file, value, here, key_line, beside if key == "url" else None)
        return
    if isinstance(node, list):
        lines = getattr(node, "lines", [])
        for index, item in enumerate(node):
            here = [*at, _name(item, index)]
            item_line = lines[index] if index < len(lines) else line
            sources.places["/".join(here)] = Place(file.path, item_line)
            _walk(sources, file, item, here, item_line)
        return
    if isinstance(node, str):
        for found in URL_IN_TEXT.findall(node):
            url = found.rstrip(".,;:!?")
            sources.links.append(
                LinkRef(url=url, place=Place(file.path, file.line_of(url, line)), where="/".join(at), label=label)
            )
