"""Kanalvakten's entry point.

- `python bot.py` serves `POST /api/messages` and `GET /healthz` on HOST:PORT.
- `python bot.py announce preview|send --yes|status|schedule --at ...` runs the announcement.
- `python bot.py report [--since DATE] [--format csv]` / `report --purge`: statistics, retention.

The configuration and the knowledge base are read once here and handed to what needs them.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from config import Settings


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # msrest logs whole request bodies at DEBUG/INFO; keep them out of our logs (personal data).
    logging.getLogger("msrest").setLevel(logging.WARNING)


def freeze_startup_objects() -> None:
    """Move what start-up built (knowledge base, matcher index, SDK modules: ~100 000 objects) out
    of the garbage collector's way. Otherwise every full collection walks all of it, stopping the
    event loop for tens of milliseconds (`make bench` saw 75 ms once every ~1 500 turns)."""
    gc.collect()
    gc.freeze()


def _broken_knowledge_base(exc: Exception) -> int:
    print("The knowledge base is broken:", file=sys.stderr)
    for problem in getattr(exc, "problems", []):
        print(f"  {problem}", file=sys.stderr)
    return 1


async def run_announce(
    argv: list[str], settings: Settings, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """`announce ...` on the configured storage, knowledge base and Bot Connector."""
    from announcements.cli import main as announce_main
    from knowledge.loader import KnowledgeBaseError
    from teams.compose import announcement_service, load_kb, open_storage

    try:
        kb = load_kb(settings)
    except KnowledgeBaseError as exc:
        return _broken_knowledge_base(exc)
    storage = open_storage(settings)
    service = announcement_service(settings, storage, kb)
    try:
        return await announce_main(argv, service, out=out, err=err)
    finally:
        await service.close()
        await storage.close()


async def run_report(argv: list[str], settings: Settings) -> int:
    """`report ...` on the configured storage."""
    from helpdesk.report import main as report_main
    from teams.compose import open_storage

    storage = open_storage(settings)
    try:
        return await report_main(argv, storage, retention_days=settings.retention_days)
    finally:
        await storage.close()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from config import ConfigurationError, load_settings

    try:
        settings = load_settings()
    except ConfigurationError as exc:
        print(exc, file=sys.stderr)
        return 2
    _configure_logging(settings.log_level)
    from teams import msrest_fix

    msrest_fix.apply()  # the announcement sender's clients too

    if argv and argv[0] == "announce":
        return asyncio.run(run_announce(argv[1:], settings))
    if argv and argv[0] == "report":
        return asyncio.run(run_report(argv[1:], settings))
    if argv and argv[0] not in ("serve",):
        print(f"unknown command {argv[0]!r}; use: python bot.py [serve] | announce ... | report ...", file=sys.stderr)
        return 2

    from aiohttp import web

    from knowledge.loader import KnowledgeBaseError
    from teams.app import create_app

    try:
        app = create_app(settings)
    except KnowledgeBaseError as exc:
        return _broken_knowledge_base(exc)
    freeze_startup_objects()
    logging.getLogger("kanalvakten").info(
        "Kanalvakten listening on http://%s:%s/api/messages (storage %s, auth %s)",
        settings.host,
        settings.port,
        settings.storage_url,
        "on" if settings.auth_enabled else "off",
    )
    web.run_app(app, host=settings.host, port=settings.port, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
