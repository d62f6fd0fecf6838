"""Building the Teams app package `dist/kanalvakten.zip`: check, fill, validate, then zip.

Everything is checked before anything is written, and the zip is written to a temporary name and
renamed, so a refused or interrupted build never leaves a package an administrator could upload
by mistake. Every reason for refusing is collected, not only the first, so one run tells the
operator everything to fix.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from config import Settings
from manifest import __version__
from manifest.icon_check import check_color_icon, check_outline_icon
from manifest.render import TEMPLATE_DIR, render_localizations, render_manifest
from manifest.validation import Problem, localization_validator, manifest_validator, schema_problems

__all__ = ["PACKAGE_NAME", "DIST_DIR", "ICONS_DIR", "PackageError", "settings_problems", "build_package"]

log = logging.getLogger(__name__)

PACKAGE_NAME = "kanalvakten.zip"
DIST_DIR = Path(__file__).resolve().parents[1] / "dist"
ICONS_DIR = Path(__file__).resolve().parent / "icons"
MAX_COMMANDS_PER_SCOPE = 10
"""Microsoft's bot documentation allows 10 commands per scope (the v1.30 schema itself allows 12)."""

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_HOST = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_ZIP_TIME = (2024, 1, 1, 0, 0, 0)
"""Fixed timestamps: the same inputs give a byte-identical package."""


class PackageError(Exception):
    """The package was not built; `problems` says which fields are wrong and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"Cannot build the Teams app package; nothing was written:\n{lines}")


def settings_problems(settings: Settings) -> list[Problem]:
    """What in the configuration would make a broken package."""
    problems = []
    app_id = (settings.app_id or "").strip()
    if not app_id:
        problems.append(Problem("MicrosoftAppId", "missing: set it to the Azure Bot's Microsoft App ID (a GUID)"))
    elif not _GUID.match(app_id):
        problems.append(Problem("MicrosoftAppId", f"{app_id!r} is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"))
    domain = (settings.bot_domain or "").strip()
    if not domain:
        problems.append(
            Problem(
                "BOT_DOMAIN", "missing: set it to the host name of the messaging endpoint, e.g. kanalvakten.example.se"
            )
        )
    elif "://" in domain or "/" in domain:
        problems.append(
            Problem("BOT_DOMAIN", f"{domain!r} is a URL; give the host name only, e.g. kanalvakten.example.se")
        )
    elif not _HOST.match(domain):
        problems.append(Problem("BOT_DOMAIN", f"{domain!r} is not a valid host name"))
    for env_name, url in (("PRIVACY_URL", settings.privacy_url), ("TERMS_URL", settings.terms_url)):
        if not (url or "").lower().startswith("https://"):
            problems.append(Problem(env_name, f"{url!r} must be an https:// address"))
    return problems


def _semantic_problems(manifest: dict[str, Any], icons_dir: Path) -> list[Problem]:
    """What the schema cannot say: command counts per scope, scopes the bot lacks, the icon files."""
    problems: list[Problem] = []
    for b, bot in enumerate(manifest.get("bots", [])):
        bot_scopes = set(bot.get("scopes", []))
        for c, command_list in enumerate(bot.get("commandLists", [])):
            where = f"manifest.json bots[{b}].commandLists[{c}]"
            count = len(command_list.get("commands", []))
            if count > MAX_COMMANDS_PER_SCOPE:
                problems.append(
                    Problem(where, f"{count} commands, Teams shows at most {MAX_COMMANDS_PER_SCOPE} per scope")
                )
            missing = set(command_list.get("scopes", [])) - bot_scopes
            if missing:
                problems.append(Problem(where, f"scopes {sorted(missing)} are not among the bot's scopes"))
    icons = manifest.get("icons", {})
    if "color" in icons:
        problems += check_color_icon(icons_dir / icons["color"])
    if "outline" in icons:
        problems += check_outline_icon(icons_dir / icons["outline"])
    return problems


def _write_zip(target: Path, files: dict[str, bytes]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".kanalvakten-", suffix=".zip.tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in files.items():
                info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _json_bytes(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def build_package(
    settings: Settings, out_dir: Path = DIST_DIR, icons_dir: Path = ICONS_DIR, template_dir: Path = TEMPLATE_DIR
) -> Path:
    """Write `out_dir/kanalvakten.zip` and return its path, or raise PackageError writing nothing.

    The zip holds `manifest.json`, the localization files and both icons, all at its root, as
    Teams requires.
    """
    problems = settings_problems(settings)
    if problems:
        raise PackageError(problems)
    values = {
        "APP_ID": settings.app_id.strip(),
        "BOT_DOMAIN": settings.bot_domain.strip(),
        "VERSION": __version__,
        "PRIVACY_URL": settings.privacy_url,
        "TERMS_URL": settings.terms_url,
    }
    manifest = render_manifest(values, template_dir, problems)
    if manifest is None:
        raise PackageError(problems)
    localizations = render_localizations(manifest, values, template_dir, problems)
    problems += schema_problems(manifest, manifest_validator(), prefix="manifest.json ")
    for name, document in localizations.items():
        problems += schema_problems(document, localization_validator(), prefix=f"{name} ")
    problems += _semantic_problems(manifest, icons_dir)
    if problems:
        raise PackageError(problems)

    files = {"manifest.json": _json_bytes(manifest)}
    files.update({name: _json_bytes(doc) for name, doc in localizations.items()})
    for icon in manifest["icons"].values():
        files[icon] = (icons_dir / icon).read_bytes()
    target = Path(out_dir) / PACKAGE_NAME
    _write_zip(target, files)
    log.info("wrote %s (app id %s, version %s, domain %s)", target, values["APP_ID"], __version__, values["BOT_DOMAIN"])
    return target
