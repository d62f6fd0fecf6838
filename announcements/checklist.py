"""The announcement's checklist as concrete items: the knowledge base's definition expanded for
the configured platforms.

`announcement.yaml` defines the items as data (`knowledge.models.ChecklistItem`); an item with
`per_platform: true` becomes one item per platform in `platforms.yaml`, so a platform added there
appears on the next card by itself. Each item knows its "Visa hur" button: the bot's answer for its
topic (with the platform), or the platform's guide when there is one. Plain Python, no SDK.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from cards.actions import ask_payload, start_guide_payload
from knowledge.models import KnowledgeBase

__all__ = ["CheckItem", "checklist_items", "ChecklistError"]


class ChecklistError(ValueError):
    """The knowledge base's checklist names a topic the bot cannot answer."""


class CheckItem(BaseModel):
    """One line of a conversation's checklist."""

    model_config = ConfigDict(frozen=True)

    id: str
    """Stable id in the readiness record (`tvafaktor-facebook`, `bevakning`)."""
    label: str
    """What is confirmed, with the platform's name filled in."""
    platform: str | None = None
    """The platform a per-platform item is about; such an item may be marked "används inte"."""
    platform_name: str | None = None
    """The platform's display name."""
    show_how: dict[str, Any]
    """The "Visa hur" button's payload (`cards.actions`): an answer, or a guide to start."""


def checklist_items(kb: KnowledgeBase) -> list[CheckItem]:
    """The checklist of the knowledge base's announcement, in order; [] when it has none.

    Raises `ChecklistError` when an item's topic is not in the knowledge base."""
    topics = {t.id for t in kb.topics}
    items: list[CheckItem] = []
    for item in kb.announcement.checklist:
        if item.topic not in topics:
            raise ChecklistError(f"checklist item {item.id!r} names unknown topic {item.topic!r}")
        if not item.per_platform:
            items.append(CheckItem(id=item.id, label=item.label, show_how=ask_payload(item.topic)))
            continue
        for platform in kb.platforms:
            guide = kb.guide_for(platform.id) if item.topic == "enable_2fa" else None
            show_how = start_guide_payload(guide.id) if guide else ask_payload(item.topic, platform.id)
            items.append(
                CheckItem(
                    id=f"{item.id}-{platform.id}",
                    label=item.label.replace("{platform}", platform.name),
                    platform=platform.id,
                    platform_name=platform.name,
                    show_how=show_how,
                )
            )
    return items
