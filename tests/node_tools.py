"""The Node programs of the real-component tests: tools/<name>, each pinned by its package-lock.json.

`make node-deps` is the one place that installs them (`make test` and `.ci/run` call it); `installed`
runs it when a bare `pytest` finds a program missing. Where Node.js, npm or Chromium is missing the
tests that need them skip, except under CI (`CI` set), where every test must run and they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest

__all__ = ["ROOT", "in_ci", "unavailable", "installed"]

ROOT = Path(__file__).resolve().parents[1]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str) -> NoReturn:
    """Skip a test that needs something this machine lacks; under CI, fail instead."""
    if in_ci():
        pytest.fail(f"{reason}; CI runs every test (.ci/run installs what is missing)")
    pytest.skip(reason)


def installed(tool: str, relative: str) -> Path:
    """tools/<tool>/<relative> (e.g. node_modules/.bin/agentsplayground), installing it if needed."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        unavailable("Node.js and npm are not installed")
    path = ROOT / "tools" / tool / relative
    if not path.exists():
        done = subprocess.run(
            ["make", "--no-print-directory", "node-deps"], cwd=ROOT, capture_output=True, text=True, timeout=900
        )
        if done.returncode != 0 or not path.exists():
            pytest.fail(f"`make node-deps` did not install {path}:\n{done.stdout}\n{done.stderr}")
    return path
