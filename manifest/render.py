"""Filling the manifest template and its English localization from configuration.

The template is real JSON (`manifest/template/manifest.json`) with `${NAME}` placeholders in
string values. Substituting inside parsed strings, not in the raw text, means a value with quotes
or backslashes can never break the JSON.

The English file keys command descriptions by command title (`commandDescriptions`), and is
expanded here into the indexed keys Teams wants (`bots[0].commandLists[0].commands[2].description`),
so that reordering commands in the template cannot silently attach a translation to the wrong
command. Titles stay Swedish in every language: they are what the bot understands.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from manifest.validation import Problem

__all__ = ["TEMPLATE_DIR", "MANIFEST_TEMPLATE", "fill_placeholders", "render_manifest", "render_localizations"]

TEMPLATE_DIR = Path(__file__).resolve().parent / "template"
MANIFEST_TEMPLATE = "manifest.json"
_PLACEHOLDER = re.compile(r"\$\{([A-Z_]+)\}")


def fill_placeholders(node: Any, values: dict[str, str], problems: list[Problem], path: str = "") -> Any:
    """A copy of `node` with `${NAME}` replaced in every string; unknown names become Problems."""
    if isinstance(node, dict):
        return {k: fill_placeholders(v, values, problems, f"{path}.{k}" if path else k) for k, v in node.items()}
    if isinstance(node, list):
        return [fill_placeholders(v, values, problems, f"{path}[{i}]") for i, v in enumerate(node)]
    if isinstance(node, str):

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values:
                problems.append(Problem(path or "(template)", f"unknown placeholder ${{{name}}} in the template"))
                return match.group(0)
            return values[name]

        return _PLACEHOLDER.sub(substitute, node)
    return node


def _read_json(path: Path, problems: list[Problem]) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(Problem(path.name, f"template file {path} does not exist"))
    except json.JSONDecodeError as exc:
        problems.append(Problem(path.name, f"not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"))
    return None


def render_manifest(values: dict[str, str], template_dir: Path, problems: list[Problem]) -> dict[str, Any] | None:
    """The filled manifest, or None when the template cannot be read (see `problems`)."""
    template = _read_json(template_dir / MANIFEST_TEMPLATE, problems)
    if template is None:
        return None
    return fill_placeholders(template, values, problems)


def _expand_commands(
    manifest: dict[str, Any], descriptions: dict[str, str], file: str, problems: list[Problem]
) -> dict[str, str]:
    keys: dict[str, str] = {}
    for b, bot in enumerate(manifest.get("bots", [])):
        for c, command_list in enumerate(bot.get("commandLists", [])):
            for i, command in enumerate(command_list.get("commands", [])):
                title = command.get("title", "")
                if title not in descriptions:
                    problems.append(Problem(f"{file} commandDescriptions", f"no description for the command {title!r}"))
                    continue
                keys[f"bots[{b}].commandLists[{c}].commands[{i}].description"] = descriptions[title]
    return keys


def render_localizations(
    manifest: dict[str, Any], values: dict[str, str], template_dir: Path, problems: list[Problem]
) -> dict[str, dict[str, Any]]:
    """Every file named in `localizationInfo.additionalLanguages`, filled and expanded, by file name."""
    files: dict[str, dict[str, Any]] = {}
    for language in manifest.get("localizationInfo", {}).get("additionalLanguages", []):
        name = language.get("file", "")
        source = _read_json(template_dir / name, problems)
        if source is None:
            continue
        source = fill_placeholders(source, values, problems, name)
        descriptions = source.pop("commandDescriptions", {})
        source.update(_expand_commands(manifest, descriptions, name, problems))
        files[name] = source
    return files
