"""Kanalvakten's entry point.

- `python bot.py` serves `POST /api/messages` and `GET /healthz` on HOST:PORT.
- `python bot.py announce preview|send --yes|status|schedule --at ...` runs the announcement.
- `python bot.py report [--since DATE] [--format csv]` / `report --purge`: statistics, retention.
- `python bot.py readiness [--format csv] [--chart FILE.png]`: every conversation's checklist.

The configuration and the knowledge base are read once here and handed to what needs them.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from config import Settings


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


async def _with_service(settings: Settings, use: Callable[[Any, Any], Awaitable[int]]) -> int:
    """Load the knowledge base once, open the storage and the announcement service, run `use`
    (storage, service) and close both: what `announce` and `readiness` share."""
    from knowledge.loader import KnowledgeBaseError
    from teams.compose import announcement_service, load_kb, open_storage

    try:
        kb = load_kb(settings)
    except KnowledgeBaseError as exc:
        return _broken_knowledge_base(exc)
    storage = open_storage(settings)
    service = announcement_service(settings, storage, kb)
    try:
        return await use(storage, service)
    finally:
        await service.close()
        await storage.close()


async def run_announce(
    argv: list[str], settings: Settings, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """`announce ...` on the configured storage, knowledge base and Bot Connector."""
    from announcements.cli import main as announce_main

    return await _with_service(settings, lambda _storage, service: announce_main(argv, service, out=out, err=err))


async def run_report(argv: list[str], settings: Settings) -> int:
    """`report ...` on the configured storage (the knowledge base names the closest topics)."""
    from helpdesk.report import main as report_main
    from knowledge.loader import KnowledgeBaseError
    from teams.compose import load_kb, open_storage

    try:
        kb = load_kb(settings)
    except KnowledgeBaseError as exc:
        return _broken_knowledge_base(exc)
    storage = open_storage(settings)
    try:
        return await report_main(argv, storage, retention_days=settings.retention_days, kb=kb)
    finally:
        await storage.close()


async def run_readiness(argv: list[str], settings: Settings, *, out: TextIO | None = None) -> int:
    """`readiness ...` on the configured storage and knowledge base."""
    from announcements.readiness_report import main as readiness_main

    return await _with_service(
        settings, lambda storage, service: readiness_main(argv, storage, service.content(), out=out)
    )


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from config import ConfigurationError, check_registration, check_serving, is_loopback_host, load_settings

    try:
        settings = load_settings()
        if not argv or argv[0] == "serve":
            check_serving(settings)
        elif argv[0] == "announce":
            check_registration(settings)
    except ConfigurationError as exc:
        print(exc, file=sys.stderr)  # one line naming the variable, no traceback
        return 2
    from observability.logs import configure_logging

    configure_logging(settings.log_level, settings.log_format)  # once, for every command
    from teams import msrest_fix

    msrest_fix.apply()  # the announcement sender's clients too

    if argv and argv[0] == "announce":
        return asyncio.run(run_announce(argv[1:], settings))
    if argv and argv[0] == "report":
        return asyncio.run(run_report(argv[1:], settings))
    if argv and argv[0] == "readiness":
        return asyncio.run(run_readiness(argv[1:], settings))
    if argv and argv[0] not in ("serve",):
        print(
            f"unknown command {argv[0]!r}; use: python bot.py [serve] | announce ... | report ... | readiness ...",
            file=sys.stderr,
        )
        return 2

    from aiohttp import web

    from knowledge.loader import KnowledgeBaseError
    from teams.app import create_app

    log = logging.getLogger("kanalvakten")
    if not settings.auth_enabled and not is_loopback_host(settings.host):
        log.warning(
            "ALLOW_UNAUTHENTICATED=true: serving on %s without authentication; anyone who reaches the port "
            "is answered (set MicrosoftAppId for Teams)",
            settings.host,
        )
    try:
        app = create_app(settings)
    except KnowledgeBaseError as exc:
        return _broken_knowledge_base(exc)
    freeze_startup_objects()
    log.info(
        "Kanalvakten serves /api/messages and /healthz (storage %s, auth %s)",
        settings.storage_url,
        "on" if settings.auth_enabled else "off",
    )

    def announce_address(text: str) -> None:
        # aiohttp's "======== Running on http://host:port ========" names the bound port (PORT=0 too)
        log.info("%s", text.splitlines()[0].strip("= "))

    web.run_app(app, host=settings.host, port=settings.port, print=announce_address)
    return 0


if __name__ == "__main__":
    sys.exit(main())
