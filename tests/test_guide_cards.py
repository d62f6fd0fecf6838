"""Guide replies as Teams messages: valid Adaptive Card 1.5, buttons the engine understands, and a
text fallback that says everything the card says."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest

from cards.guide import (
    HANDOFF_BUTTON,
    PersonHelp,
    other_platform_links,
    render_guide_replies,
    render_guide_reply,
    start_guide_action,
)
from cards.message import OutgoingMessage, card_actions
from dialogs import (
    GuideCommand,
    GuideReply,
    GuideState,
    GuideStatus,
    ReplyKind,
    parse_value,
    pending_resume,
    reminder,
    step,
)
from dialogs.commands import InvalidCommand
from knowledge.loader import load_knowledge_base
from knowledge.models import Guide, KnowledgeBase
from tests.cardschema import validate_card

T0 = dt.datetime(2026, 5, 20, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge_base()


@pytest.fixture(scope="module")
def facebook(kb: KnowledgeBase) -> Guide:
    return kb.guide("facebook_2fa")


def _at(number: int, status: GuideStatus = GuideStatus.ACTIVE) -> GuideState:
    return GuideState(guide_id="facebook_2fa", step=number, status=status, started_at=T0, updated_at=T0)


def _stuck_at(number: int) -> GuideState:
    """On step `number`, having been given its help already."""
    return _at(number).model_copy(update={"stuck_at": number})


def _one(state: GuideState | None, command: GuideCommand | InvalidCommand, guide: Guide) -> GuideReply:
    _, replies = step(state, command, guide, T0)
    return replies[-1]


def _texts(node: Any) -> Iterator[str]:
    """Every TextBlock text in a card, in order."""
    if isinstance(node, dict):
        if node.get("type") == "TextBlock":
            yield node["text"]
        for value in node.values():
            yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


def _card_text(message: OutgoingMessage) -> str:
    return "\n".join(_texts(message.card))


def _buttons(message: OutgoingMessage) -> dict[str, dict[str, Any]]:
    return {a["title"]: a for a in card_actions(message.card)}


def _every_reply(facebook: Guide) -> Iterator[Any]:
    fresh = step(None, GuideCommand(action="start"), facebook, T0)[1]
    yield pytest.param(fresh[0], id="intro")
    for n in range(1, 12):
        yield pytest.param(_one(_at(n), GuideCommand(action="repeat"), facebook), id=f"step-{n}")
        yield pytest.param(_one(_at(n), GuideCommand(action="stuck"), facebook), id=f"help-{n}")
    yield pytest.param(_one(_stuck_at(6), GuideCommand(action="stuck"), facebook), id="stuck-again")
    yield pytest.param(_one(_at(1), GuideCommand(action="back"), facebook), id="first-step-note")
    yield pytest.param(_one(_at(5), GuideCommand(action="next", step=2), facebook), id="stale")
    yield pytest.param(_one(_at(11), GuideCommand(action="next"), facebook), id="summary")
    yield pytest.param(_one(_at(4), GuideCommand(action="start"), facebook), id="confirm-restart")
    other = GuideState(guide_id="linkedin_2fa", step=2, started_at=T0, updated_at=T0)
    yield pytest.param(_one(other, GuideCommand(action="start"), facebook), id="confirm-switch")
    yield pytest.param(_one(_at(4), GuideCommand(action="cancel"), facebook), id="cancelled")
    yield pytest.param(_one(None, GuideCommand(action="cancel"), facebook), id="cancelled-nothing")
    yield pytest.param(_one(_at(4), GuideCommand(action="pause"), facebook), id="paused")
    yield pytest.param(pending_resume(_at(4, GuideStatus.PAUSED), facebook, T0), id="resume-offer")
    yield pytest.param(reminder(_at(4), facebook), id="reminder")
    yield pytest.param(_one(None, GuideCommand(action="next"), facebook), id="not-in-guide")
    yield pytest.param(_one(_at(4), InvalidCommand(reason="x"), facebook), id="invalid-in-guide")
    yield pytest.param(_one(None, InvalidCommand(reason="x"), facebook), id="invalid-no-guide")


@pytest.fixture(scope="module")
def every_reply(facebook: Guide) -> list[GuideReply]:
    return [p.values[0] for p in _every_reply(facebook)]


def test_every_kind_of_reply_is_covered_by_these_tests(every_reply: list[GuideReply]) -> None:
    assert {r.kind for r in every_reply} == set(ReplyKind)


@pytest.mark.parametrize("reply", list(_every_reply(load_knowledge_base().guide("facebook_2fa"))))
def test_every_reply_is_a_valid_adaptive_card_1_5_with_a_text_fallback(kb: KnowledgeBase, reply: GuideReply) -> None:
    message = render_guide_replies([reply], kb)[0]
    validate_card(message.card)
    assert message.card["version"] == "1.5"
    assert message.text.strip() and message.card["fallbackText"] == message.text
    for action in card_actions(message.card):
        assert action["type"] in ("Action.Submit", "Action.OpenUrl")
        if action["type"] == "Action.Submit":
            assert isinstance(parse_value(action["data"]), GuideCommand), action


@pytest.mark.parametrize("number", range(1, 12))
def test_each_step_card_shows_progress_instruction_and_how_to_go_on(facebook: Guide, number: int) -> None:
    message = render_guide_reply(_one(_at(number), GuideCommand(action="repeat"), facebook))
    shown = _card_text(message)
    data = facebook.steps[number - 1]
    assert f"Steg {number} av 11" in shown and data.instruction in shown
    assert f"Steg {number} av 11" in message.text and data.instruction in message.text
    if data.click and data.click.casefold() not in data.instruction.casefold():
        assert f"Klicka: {data.click}" in shown and f"Klicka: {data.click}" in message.text
    elif data.click:  # the instruction already says what to click: not twice
        assert "Klicka:" not in shown and "Klicka:" not in message.text
    assert "Skriv nästa" in message.text
    if number < 11:
        assert "avbryt" in message.text
    if 1 < number < 11:
        assert "Skriv nästa, tillbaka eller avbryt" in message.text
    bar = [b for b in message.card["body"] if b["type"] == "TextBlock" and set(b["text"]) <= {"●", "○"}]
    assert len(bar) == 1
    assert bar[0]["text"] == "●" * number + "○" * (11 - number)


@pytest.mark.parametrize("number", range(1, 12))
def test_step_buttons_carry_the_guide_and_the_step_they_sit_on(facebook: Guide, number: int) -> None:
    buttons = _buttons(render_guide_reply(_one(_at(number), GuideCommand(action="repeat"), facebook)))
    if number < 11:
        expected = {"Nästa": "next", "Jag har fastnat": "stuck", "Avbryt": "cancel"}
    else:  # the last step: nothing left to get stuck on or to cancel
        expected = {"Klar, avsluta": "next"}
    if number > 1:
        expected["Tillbaka"] = "back"
    assert {title: b["data"]["action"] for title, b in buttons.items()} == expected
    for button in buttons.values():
        assert button["type"] == "Action.Submit"
        assert button["data"] == {
            "cmd": "guide",
            "action": button["data"]["action"],
            "guide": "facebook_2fa",
            "step": number,
        }


def test_step_1_has_no_back_button(facebook: Guide) -> None:
    assert "Tillbaka" not in _buttons(render_guide_reply(_one(_at(1), GuideCommand(action="repeat"), facebook)))


@pytest.mark.parametrize("number", [8, 9, 10])
def test_recovery_code_steps_explain_why_in_a_highlighted_block(facebook: Guide, number: int) -> None:
    message = render_guide_reply(_one(_at(number), GuideCommand(action="repeat"), facebook))
    why = facebook.steps[number - 1].why
    assert why
    blocks = [b for b in message.card["body"] if b["type"] == "Container" and b.get("style") == "warning"]
    assert len(blocks) == 1 and list(_texts(blocks[0])) == ["Varför?", why]
    assert f"Varför? {why}" in message.text


def test_recovery_code_steps_say_the_codes_are_kept_safely_within_the_organisation(facebook: Guide) -> None:
    said = " ".join(render_guide_reply(_one(_at(n), GuideCommand(action="repeat"), facebook)).text for n in (8, 9, 10))
    assert re.search(r"säkert[^.]*ställe[^.]*inom (förvaltningen|bolaget)", said)
    assert "stadsdel" not in said  # the city replaced its stadsdelsnämnder in 2021
    assert "telefonen" in said  # why they matter: losing the phone


def test_steps_without_why_have_no_why_block(facebook: Guide) -> None:
    message = render_guide_reply(_one(_at(3), GuideCommand(action="repeat"), facebook))
    assert "Varför?" not in _card_text(message) and "Varför?" not in message.text


def test_the_help_card_gives_the_steps_help_and_links_to_the_platforms_help(facebook: Guide) -> None:
    message = render_guide_reply(_one(_at(6), GuideCommand(action="stuck"), facebook))
    assert facebook.steps[5].help in _card_text(message) and facebook.steps[5].help in message.text
    links = [a for a in card_actions(message.card) if a["type"] == "Action.OpenUrl"]
    assert [a["url"] for a in links] == [str(facebook.help_url)]
    assert str(facebook.help_url) in message.text
    assert {b["data"]["action"] for b in card_actions(message.card) if b["type"] == "Action.Submit"} == {
        "next",
        "repeat",
        "stuck",
        "cancel",
    }


@pytest.mark.parametrize("handoff", [pytest.param(True, id="experts"), pytest.param(False, id="contact")])
def test_stuck_again_offers_a_person_and_the_platforms_help_instead_of_the_same_help(
    kb: KnowledgeBase, facebook: Guide, handoff: bool
) -> None:
    person = PersonHelp(handoff=handoff, contact="Servicedesk, 031-123 45 67")
    message = render_guide_replies([_one(_stuck_at(6), GuideCommand(action="stuck"), facebook)], kb, person)[0]
    validate_card(message.card)
    assert facebook.steps[5].help not in message.text  # not the same help a second time
    assert "Facebooks egen hjälp" in message.text and str(facebook.help_url) in message.text
    urls = [a["url"] for a in card_actions(message.card) if a["type"] == "Action.OpenUrl"]
    assert urls == [str(facebook.help_url)]
    handoff_buttons = [a for a in card_actions(message.card) if a.get("data") == {"cmd": "handoff"}]
    if handoff:
        assert [b["title"] for b in handoff_buttons] == [HANDOFF_BUTTON] and HANDOFF_BUTTON in message.text
    else:
        assert handoff_buttons == [] and "Servicedesk, 031-123 45 67" in message.text


def test_the_summary_links_to_the_other_platforms_help(kb: KnowledgeBase, facebook: Guide) -> None:
    message = render_guide_replies([_one(_at(11), GuideCommand(action="next"), facebook)], kb)[0]
    assert facebook.summary in _card_text(message) and facebook.summary in message.text
    urls = {a["url"] for a in card_actions(message.card) if a["type"] == "Action.OpenUrl"}
    others = {str(kb.platform(p).help_url) for p in ("instagram", "linkedin", "twitter")}
    assert urls == others
    assert all(url in message.text for url in others)


def test_other_platform_links_leave_out_the_guides_own_platform(kb: KnowledgeBase) -> None:
    labels = [link.label for link in other_platform_links(kb, "facebook")]
    assert labels == [kb.platform(p).name for p in ("instagram", "linkedin", "twitter")]


def test_the_reminder_says_where_you_are_and_what_to_type(facebook: Guide) -> None:
    message = render_guide_reply(reminder(_at(4), facebook))
    assert message.text == (
        f"Du är på steg 4 av 11 i {facebook.title}. Skriv nästa för att fortsätta eller avbryt för att sluta."
    )


def test_the_confirm_card_offers_to_continue_or_start_over(facebook: Guide) -> None:
    message = render_guide_reply(_one(_at(4), GuideCommand(action="start"), facebook))
    actions = {b["data"]["action"]: b["data"] for b in card_actions(message.card)}
    assert set(actions) == {"resume", "restart"} and actions["resume"]["guide"] == "facebook_2fa"
    assert "steg 4 av 11" in message.text and "fortsätt" in message.text and "börja om" in message.text


def test_the_resume_offer_names_the_saved_step(facebook: Guide) -> None:
    message = render_guide_reply(pending_resume(_at(7, GuideStatus.PAUSED), facebook, T0))
    assert "Fortsätt på steg 7" in _buttons(message) and "steg 7 av 11" in message.text


def test_the_start_button_for_other_cards_starts_this_guide(facebook: Guide) -> None:
    button = start_guide_action(facebook)
    assert parse_value(button["data"]) == GuideCommand(action="start", guide="facebook_2fa")


def test_a_long_guide_gets_no_unreadable_progress_bar(facebook: Guide) -> None:
    steps = [s.model_copy(update={"number": n}) for n, s in enumerate(facebook.steps * 3, start=1)]
    long = facebook.model_copy(update={"steps": steps})
    message = render_guide_reply(_one(_at(30), GuideCommand(action="repeat"), long))
    validate_card(message.card)
    assert "Steg 30 av 33" in message.text
    assert not [b for b in message.card["body"] if b["type"] == "TextBlock" and set(b["text"]) <= {"●", "○"}]
