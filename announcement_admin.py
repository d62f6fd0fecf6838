"""Announcements from inside Teams and on a schedule: the bot-side glue of `announcements/`.

Filled in once the announcement engine lands; until then admins use the command line.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["AnnouncementAdmin"]

log = logging.getLogger(__name__)


class AnnouncementAdmin:
    """Admin chat commands ("utskick förhandsvisa", "utskick skicka") and the scheduler task."""

    def __init__(self, *, settings: Any, storage: Any, knowledge: Any, registry: Any):
        self.settings = settings
        self.storage = storage
        self.knowledge = knowledge
        self.registry = registry

    async def handle(self, turn_context: Any, text: str, value: Any) -> bool:
        return False

    async def start_background(self) -> Any:
        return None

    async def stop_background(self, background: Any) -> None:
        return None
