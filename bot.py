"""Kanalvakten's entry point.

- `python bot.py` serves `POST /api/messages` and `GET /healthz` on HOST:PORT.
- `python bot.py announce preview|send --yes|status|schedule --at ...` runs the announcement.
- `python bot.py report [--since DATE] [--format csv]` / `report --purge`: statistics, retention.
"""

from __future__ import annotations

import asyncio
import logging
import sys


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # msrest logs whole request bodies at DEBUG/INFO; keep them out of our logs (personal data).
    logging.getLogger("msrest").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from config import ConfigurationError, load_settings
    from knowledge.loader import KnowledgeBaseError

    try:
        settings = load_settings()
    except ConfigurationError as exc:
        print(exc, file=sys.stderr)
        return 2
    _configure_logging(settings.log_level)
    import msrest_speedup

    msrest_speedup.apply()  # the announcement sender's clients too

    if argv and argv[0] == "announce":
        from announcements.cli import main as announce_main

        return asyncio.run(announce_main(argv[1:], settings))
    if argv and argv[0] == "report":
        from report_cli import main as report_main

        return asyncio.run(report_main(argv[1:], settings))
    if argv and argv[0] not in ("serve",):
        print(f"unknown command {argv[0]!r}; use: python bot.py [serve] | announce ... | report ...", file=sys.stderr)
        return 2

    from aiohttp import web

    from server import create_app

    try:
        app = create_app(settings)
    except KnowledgeBaseError as exc:
        print("The knowledge base is broken:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    logging.getLogger("kanalvakten").info(
        "Kanalvakten listening on http://%s:%s/api/messages (storage %s, auth %s)",
        settings.host, settings.port, settings.storage_url, "on" if settings.auth_enabled else "off",
    )
    web.run_app(app, host=settings.host, port=settings.port, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
