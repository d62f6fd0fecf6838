"""The layering the README promises: the Bot Framework SDK is imported in `teams/` only.

Every Python file outside `teams/` and `tests/` is parsed (AST, so a lazy import inside a
function counts too) and may not import botbuilder, botframework or msrest. A port to the
Microsoft 365 Agents SDK then replaces `teams/` and nothing else. Tests may use the SDK (the
fake connector's own checks do).
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SDK = ("botbuilder", "botframework", "msrest")
SDK_ALLOWED_IN = {"teams", "tests"}
SKIPPED_DIRS = {".venv", "venv", "node_modules", "__pycache__", "dist", "build"}


def _python_files() -> list[Path]:
    found = []
    for directory, dirs, files in os.walk(ROOT):
        here = Path(directory)
        dirs[:] = [
            d
            for d in dirs
            if d not in SKIPPED_DIRS and not d.startswith(".") and not (here == ROOT and d in SDK_ALLOWED_IN)
        ]
        found += [here / name for name in files if name.endswith(".py")]
    return sorted(found)


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    modules = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.append((node.lineno, node.module))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            modules.append((node.lineno, str(node.args[0].value)))
    return modules


def _sdk_imports(path: Path) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line}: imports {name}"
        for line, name in _imported_modules(path)
        if name.split(".")[0] in SDK
    ]


def test_the_scan_sees_the_domain_packages():
    seen = {p.relative_to(ROOT).parts[0] for p in _python_files()}
    assert {
        "bot.py",
        "config.py",
        "assistant",
        "announcements",
        "cards",
        "dialogs",
        "helpdesk",
        "knowledge",
        "storage",
    } <= seen
    assert not seen & SDK_ALLOWED_IN


def test_nothing_outside_teams_imports_the_bot_framework_sdk():
    problems = [problem for path in _python_files() for problem in _sdk_imports(path)]
    assert problems == [], "the SDK belongs in teams/:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "source, caught",
    [
        pytest.param("from botbuilder.core import TurnContext\n", True, id="from-import"),
        pytest.param("def f():\n    import msrest.exceptions\n", True, id="lazy-import"),
        pytest.param("import importlib\nimportlib.import_module('botframework.connector')\n", True, id="import-module"),
        pytest.param("from teams.activity import to_activity\nimport botbuilder_like\n", False, id="lookalike"),
    ],
)
def test_the_scan_catches_every_form_of_import(tmp_path, source, caught):
    path = tmp_path / "module.py"
    path.write_text(source)
    modules = [name for _, name in _imported_modules(path)]
    assert any(name.split(".")[0] in SDK for name in modules) is caught


def test_the_top_level_holds_only_the_entry_point_and_the_configuration():
    modules = sorted(p.name for p in ROOT.glob("*.py"))
    assert modules == ["bot.py", "config.py"]
