"""Guide replies as Teams messages: one Adaptive Card 1.5 per reply, always with a text fallback.

This is where the guide's wording around the content lives (plain Swedish, "du"). Every card
button is an `Action.Submit` with `{"cmd": "guide", "action": ..., "guide": <id>, "step": <n>}`,
so the engine can tell a press on the current card from one on an older card. In a personal
chat every text fallback says what to type instead, for clients and people that do not use the
buttons; in a channel thread or group chat, where typed words need an @mention, a turn's replies
say one thing only, once, at the end: `THREAD_HINT`. A turn's replies are sent as one message
(`cards.message.merge_messages`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel

from cards.actions import guide_payload, handoff_payload
from cards.message import (
    OutgoingMessage,
    adaptive_card,
    button,
    open_url_action,
    text_block,
)
from dialogs.replies import GuideReply, ReplyKind, StepNote
from knowledge.models import Guide, KnowledgeBase, Link
from knowledge.text import normalise

__all__ = [
    "HANDOFF_BUTTON",
    "THREAD_HINT",
    "PersonHelp",
    "guide_action",
    "start_guide_action",
    "other_platform_links",
    "render_guide_reply",
    "render_guide_replies",
]

HANDOFF_BUTTON = "Fråga experterna"
"""The button that hands a question to people (`{"cmd": "handoff"}`)."""
THREAD_HINT = "Tryck på knapparna, eller nämn mig: @Kanalvakten nästa"
"""How to go on in a channel thread or group chat: the one instruction there."""


class PersonHelp(BaseModel):
    """Who can help when the guide does not: the experts (a button) or a contact to name."""

    handoff: bool = False
    """The experts can be reached from here: offer the hand-off button."""
    contact: str = "din förvaltnings eller ditt bolags IT-support och kommunikationsavdelning"
    """Whom to contact otherwise (the configured support contact)."""


_NOTHING = "\x00"
"""A text line that is left out (`_Context.typed` in a thread)."""
_LINK_TITLE = 26
"""Link titles, before the link mark (`cards.message.MAX_BUTTON_TITLE`)."""

MAX_PROGRESS_SEGMENTS = 20
"""Longer guides get no segmented bar (it would be too thin to read); the text still says N av T."""

_NOTES: dict[StepNote, str] = {
    StepNote.FIRST_STEP: "Det här är första steget, det finns inget steg före. Här är det igen:",
    StepNote.STALE_BUTTON: "Den knappen satt på ett äldre kort, så jag har inte flyttat dig. Du är här:",
    StepNote.RESTARTED: "Vi börjar om från början.",
    StepNote.RESUMED: "Vi fortsätter där du var.",
    StepNote.REPEATED: "Här är steget igen.",
}


def guide_action(
    title: str, action: str, guide_id: str, step: int | None = None, *, style: str | None = None
) -> dict[str, Any]:
    """A guide button; `step` marks which card it sits on."""
    action_button = button(title, guide_payload(action, guide_id, step))
    if style:
        action_button["style"] = style
    return action_button


def start_guide_action(guide: Guide, title: str = "Starta guiden") -> dict[str, Any]:
    """The "Starta guiden" button for other cards (e.g. the answer on how to turn on 2FA)."""
    return guide_action(title, "start", guide.id, style="positive")


def other_platform_links(kb: KnowledgeBase, platform_id: str | None) -> list[Link]:
    """The other platforms' 2FA help, for the summary's "and the rest of your channels"."""
    return [
        Link(label=p.name[:_LINK_TITLE], url=p.help_url, platform=p.id) for p in kb.platforms if p.id != platform_id
    ]


def render_guide_replies(
    replies: Iterable[GuideReply],
    kb: KnowledgeBase | None = None,
    person: PersonHelp | None = None,
    *,
    in_thread: bool = False,
) -> list[OutgoingMessage]:
    """All replies of one turn, in order; `kb` supplies the platform's name and the summary's links
    to other platforms, `person` who can help someone who is stuck again. `in_thread`: a channel
    thread or group chat, where the last reply says `THREAD_HINT` and none says "skriv …"."""
    messages = []
    for reply in replies:
        links = other_platform_links(kb, reply.platform) if kb is not None else []
        name = _platform_name(kb, reply.platform)
        messages.append(render_guide_reply(reply, links, platform_name=name, person=person, in_thread=in_thread))
    if in_thread and messages:
        messages[-1] = with_thread_hint(messages[-1])
    return messages


def render_guide_reply(
    reply: GuideReply,
    links: Sequence[Link] = (),
    *,
    platform_name: str | None = None,
    person: PersonHelp | None = None,
    in_thread: bool = False,
) -> OutgoingMessage:
    """One reply as a card plus its text fallback (in a thread without what to type:
    `render_guide_replies` adds `THREAD_HINT` once per turn)."""
    context = _Context(links=links, platform_name=platform_name, person=person or PersonHelp(), in_thread=in_thread)
    body, actions, text = _RENDERERS[reply.kind](reply, context)
    text = "\n".join(line for line in text.split("\n") if line != _NOTHING).strip()
    return OutgoingMessage(text=text, card=adaptive_card(body, actions, fallback_text=text))


def with_thread_hint(message: OutgoingMessage) -> OutgoingMessage:
    """`THREAD_HINT` under the card and the text: in a thread, typed words need an @mention."""
    card = None
    if message.card is not None:
        card = {**message.card, "body": [*message.card.get("body", []), text_block(THREAD_HINT, subtle=True)]}
    return message.model_copy(update={"text": f"{message.text}\n\n{THREAD_HINT}", "card": card})


def _platform_name(kb: KnowledgeBase | None, platform_id: str | None) -> str | None:
    if kb is None or platform_id is None:
        return None
    return next((p.name for p in kb.platforms if p.id == platform_id), None)


class _Context(BaseModel):
    """What a renderer needs besides the reply."""

    model_config = {"arbitrary_types_allowed": True}

    links: Sequence[Link] = ()
    """The summary's links to the other platforms."""
    platform_name: str | None = None
    """The guide's platform ("Facebook"), for "Facebooks egen hjälp"."""
    person: PersonHelp = PersonHelp()
    """Who can help when the guide does not."""
    in_thread: bool = False
    """A channel thread or group chat: no "skriv …" lines (`THREAD_HINT` says it once)."""

    def typed(self, personal: str) -> str:
        """What to type, in a personal chat; nothing in a thread."""
        return _NOTHING if self.in_thread else personal

    @property
    def help_title(self) -> str:
        """The link button to the platform's own help ("Facebooks egen hjälp")."""
        name = self.platform_help[0].upper() + self.platform_help[1:]
        return name if len(name) <= _LINK_TITLE else "Plattformens hjälp"

    @property
    def platform_help(self) -> str:
        """ "Facebooks egen hjälp", or "plattformens egen hjälp" without a name."""
        name = self.platform_name
        if not name:
            return "plattformens egen hjälp"
        return (
            f"{name}s egen hjälp" if name[-1].isalpha() and name[-1] not in "sxzSXZ" else f"den egna hjälpen för {name}"
        )


# ---------------------------------------------------------------------------------------------
# Pieces


def _where(reply: GuideReply) -> str:
    return f"steg {reply.step} av {reply.total} i {reply.guide_title}"


def _progress(reply: GuideReply) -> list[dict[str, Any]]:
    """ "Steg N av T" with the guide's title, and a segmented bar that fills as you go."""
    heading = {
        "type": "ColumnSet",
        "columns": [
            {
                "type": "Column",
                "width": "auto",
                "verticalContentAlignment": "Center",
                "items": [text_block(f"Steg {reply.step} av {reply.total}", size="Large", weight="Bolder")],
            },
            {
                "type": "Column",
                "width": "stretch",
                "verticalContentAlignment": "Center",
                "items": [{**text_block(reply.guide_title, subtle=True), "horizontalAlignment": "Right"}],
            },
        ],
    }
    blocks = [heading]
    if reply.step and reply.total <= MAX_PROGRESS_SEGMENTS:
        # A line of dots, not a ColumnSet of coloured columns: styled columns have a minimum
        # width, and eleven of them ran off the edge of narrow cards (Teams mobile, the Playground).
        dots = "●" * reply.step + "○" * (reply.total - reply.step)
        blocks.append({**text_block(dots, color="Accent", size="Small"), "spacing": "Small"})
    return blocks


def _note(text: str, color: str = "Accent") -> dict[str, Any]:
    return text_block(text, weight="Bolder", color=color)


def _click_adds_something(reply: GuideReply) -> bool:
    """ "Klicka: Kom igång" under "Klicka på ”Kom igång”." says it twice; show it only when new."""
    if not reply.click:
        return False
    return normalise(reply.click) not in normalise(reply.instruction or "")


def _step_body(reply: GuideReply) -> list[dict[str, Any]]:
    body = _progress(reply)
    body.append({**text_block(reply.instruction or "", size="Medium"), "spacing": "Medium"})
    if _click_adds_something(reply):
        body.append({**text_block(f"Klicka: {reply.click}", subtle=True), "spacing": "Small"})
    if reply.why:
        body.append(
            {
                "type": "Container",
                "style": "warning",
                "spacing": "Medium",
                "items": [text_block("Varför?", weight="Bolder"), text_block(reply.why)],
            }
        )
    return body


def _step_text(reply: GuideReply, ctx: _Context) -> str:
    lines = [f"Steg {reply.step} av {reply.total} – {reply.guide_title}", "", reply.instruction or ""]
    if reply.click:
        if _click_adds_something(reply):
            lines.append(f"Klicka: {reply.click}")
    if reply.why:
        lines.append(f"Varför? {reply.why}")
    lines += ["", ctx.typed(_how_to_go_on(reply))]
    return "\n".join(lines)


def _how_to_go_on(reply: GuideReply) -> str:
    if reply.step == 1:
        return "Skriv nästa när du är klar, eller avbryt för att sluta. Fastnat? Skriv fastnat."
    if reply.step == reply.total:
        return "Skriv nästa för att avsluta guiden, eller tillbaka för att backa."
    return "Skriv nästa, tillbaka eller avbryt. Fastnat? Skriv fastnat."


def _step_actions(reply: GuideReply) -> list[dict[str, Any]]:
    """Nästa, Tillbaka, Jag har fastnat, Avbryt; the last step only "Klar, avsluta" and
    Tillbaka (nothing is left to get stuck on or to cancel)."""
    gid, n = reply.guide_id, reply.step
    last = n == reply.total
    actions = [guide_action("Klar, avsluta" if last else "Nästa", "next", gid, n, style="positive")]
    if n and n > 1:
        actions.append(guide_action("Tillbaka", "back", gid, n))
    if not last:
        actions.append(guide_action("Jag har fastnat", "stuck", gid, n))
        actions.append(guide_action("Avbryt", "cancel", gid, n))
    return actions


Rendered = tuple[list[dict[str, Any]], list[dict[str, Any]], str]


# ---------------------------------------------------------------------------------------------
# One renderer per kind


def _render_step(reply: GuideReply, ctx: _Context) -> Rendered:
    body = _step_body(reply)
    text = _step_text(reply, ctx)
    if reply.note is not None:
        body.insert(0, _note(_NOTES[reply.note]))
        text = f"{_NOTES[reply.note]}\n\n{text}"
    return body, _step_actions(reply), text


def _render_intro(reply: GuideReply, ctx: _Context) -> Rendered:
    """What the guide is and how to leave it, with the platform's own help one click away."""
    body = [text_block(reply.guide_title, size="Large", weight="Bolder"), text_block(reply.text or "")]
    text = f"{reply.guide_title}\n\n{reply.text}"
    if not reply.help_url:
        return body, [], text
    help_name = ctx.platform_help
    text += f"\n\n{help_name[0].upper()}{help_name[1:]}: {reply.help_url}"
    return body, [open_url_action(ctx.help_title, reply.help_url)], text


def _render_help(reply: GuideReply, ctx: _Context) -> Rendered:
    gid, n = reply.guide_id, reply.step
    body = [
        text_block(f"Hjälp med steg {n} av {reply.total}", size="Large", weight="Bolder"),
        text_block(reply.help or ""),
        {
            "type": "Container",
            "style": "emphasis",
            "spacing": "Medium",
            "items": [text_block("Steget", weight="Bolder"), text_block(reply.instruction or "")]
            + ([text_block(f"Klicka: {reply.click}", subtle=True)] if _click_adds_something(reply) else []),
        },
    ]
    actions = [
        guide_action("Nästa", "next", gid, n, style="positive"),
        guide_action("Visa steget igen", "repeat", gid, n),
    ]
    text = [f"Hjälp med steg {n} av {reply.total}", "", reply.help or "", "", f"Steget: {reply.instruction}"]
    if reply.help_url:
        help_name = ctx.platform_help
        actions.append(open_url_action(ctx.help_title, reply.help_url))
        body.append(
            text_block(
                f"Kommer du ändå inte vidare? {help_name[0].upper()}{help_name[1:]}: {reply.help_url}", subtle=True
            )
        )
        text.append(f"{help_name[0].upper()}{help_name[1:]}: {reply.help_url}")
    actions.append(guide_action("Fortfarande fastnat", "stuck", gid, n))
    actions.append(guide_action("Avbryt", "cancel", gid, n))
    text += [
        "",
        ctx.typed(
            "Skriv nästa när du är klar, upprepa för att se steget igen, fastnat om det ändå inte går, eller avbryt."
        ),
    ]
    return body, actions, "\n".join(text)


def _render_stuck_again(reply: GuideReply, ctx: _Context) -> Rendered:
    """Stuck again on the same step: no third copy of the help, but a person and the platform's help."""
    gid, n = reply.guide_id, reply.step
    help_name = ctx.platform_help
    heading = f"Fortfarande fastnat på steg {n} av {reply.total}?"
    lead = (
        "Då ska du inte behöva gissa. Skärmen ser kanske inte ut som i guiden längre, eftersom "
        "plattformarna ändrar sina menyer ibland."
    )
    own = f"{help_name[0].upper()}{help_name[1:]} visar hur det ser ut i dag."
    if ctx.person.handoff:
        person = (
            f"Du kan också få hjälp av en person: tryck på ”{HANDOFF_BUTTON}”, så ber jag "
            "stadens experter att höra av sig."
        )
    else:
        person = f"Du kan också få hjälp av en person: kontakta {ctx.person.contact}."
    body = [
        text_block(heading, size="Large", weight="Bolder"),
        text_block(lead),
        text_block(own),
        text_block(person),
        {
            "type": "Container",
            "style": "emphasis",
            "spacing": "Medium",
            "items": [text_block("Steget", weight="Bolder"), text_block(reply.instruction or "")],
        },
    ]
    actions: list[dict[str, Any]] = []
    text = [heading, "", lead, "", own]
    if reply.help_url:
        actions.append(open_url_action(ctx.help_title, reply.help_url))
        text.append(reply.help_url)
    if ctx.person.handoff:
        actions.append(button(HANDOFF_BUTTON, handoff_payload()))
    text += ["", person, "", f"Steget: {reply.instruction}"]
    actions.append(guide_action("Nästa", "next", gid, n, style="positive"))
    actions.append(guide_action("Visa steget igen", "repeat", gid, n))
    actions.append(guide_action("Avbryt", "cancel", gid, n))
    text += ["", ctx.typed("Skriv nästa när du är klar, upprepa för att se steget igen eller avbryt.")]
    return body, actions, "\n".join(text)


def _render_summary(reply: GuideReply, ctx: _Context) -> Rendered:
    body = [
        text_block(f"Alla {reply.total} steg är klara", size="Large", weight="Bolder", color="Good"),
        text_block(reply.guide_title, subtle=True),
        text_block(reply.text or ""),
    ]
    text = [f"Alla {reply.total} steg är klara – {reply.guide_title}", "", reply.text or ""]
    actions = [open_url_action(link.label, str(link.url)) for link in ctx.links][:5]
    if actions:
        body.append(text_block("Hjälp för de andra kanalerna:", weight="Bolder"))
        text += ["", "Hjälp för de andra kanalerna:"] + [f"- {link.label}: {link.url}" for link in ctx.links]
    return body, actions, "\n".join(text)


def _render_confirm_restart(reply: GuideReply, ctx: _Context) -> Rendered:
    other = reply.other_guide_id or reply.guide_id
    if other == reply.guide_id:
        question = f"Du är redan på {_where(reply)}. Vill du fortsätta där du var eller börja om från steg 1?"
        restart_title = "Börja om"
    else:
        question = (
            f"Du har redan en annan guide igång (steg {reply.other_step}). Vill du fortsätta "
            f"den, eller börja med {reply.guide_title} i stället?"
        )
        restart_title = "Starta den nya guiden"
    actions = [
        guide_action(f"Fortsätt på steg {reply.other_step}", "resume", other, style="positive"),
        guide_action(restart_title, "restart", reply.guide_id),
    ]
    text = f"{question}\n\n{ctx.typed('Skriv fortsätt eller börja om.')}"
    return [text_block(question)], actions, text


def _render_cancelled(reply: GuideReply, ctx: _Context) -> Rendered:
    first = "Okej, jag har avbrutit guiden." if reply.step else "Okej, ingen guide är igång just nu."
    message = f"{first} Du kan starta guiden igen när du vill."
    actions = [guide_action("Starta guiden igen", "start", reply.guide_id)]
    return [text_block(message)], actions, f"{message}\n\n{ctx.typed('Skriv starta guiden för att börja.')}"


def _render_paused(reply: GuideReply, ctx: _Context) -> Rendered:
    message = f"Okej, jag sparar var du är: {_where(reply)}."
    actions = [guide_action(f"Fortsätt på steg {reply.step}", "resume", reply.guide_id, style="positive")]
    return [text_block(message)], actions, f"{message}\n\n{ctx.typed('Skriv fortsätt när du vill gå vidare.')}"


def _render_resume_offer(reply: GuideReply, ctx: _Context) -> Rendered:
    message = f"Välkommen tillbaka! Du var på {_where(reply)}. Vill du fortsätta där?"
    actions = [
        guide_action(f"Fortsätt på steg {reply.step}", "resume", reply.guide_id, style="positive"),
        guide_action("Börja om", "restart", reply.guide_id),
        guide_action("Avbryt guiden", "cancel", reply.guide_id, reply.step),
    ]
    return [text_block(message)], actions, f"{message}\n\n{ctx.typed('Skriv fortsätt, börja om eller avbryt.')}"


def _render_reminder(reply: GuideReply, ctx: _Context) -> Rendered:
    """The small footer under an answer given mid-guide: where you are, one button back."""
    where = f"Du är på {_where(reply)}."
    typed = ctx.typed("Skriv nästa för att fortsätta eller avbryt för att sluta.")
    message = where if typed is _NOTHING else f"{where} {typed}"
    actions = [guide_action(f"Fortsätt på steg {reply.step}", "repeat", reply.guide_id, reply.step)]
    return [text_block(message, subtle=True, size="Small")], actions, message


def _render_not_in_guide(reply: GuideReply, ctx: _Context) -> Rendered:
    message = (
        f"Du är inte i någon guide just nu. Vill du att jag guidar dig genom {reply.guide_title}, ett steg i taget?"
    )
    actions = [guide_action("Starta guiden", "start", reply.guide_id, style="positive")]
    return [text_block(message)], actions, f"{message}\n\n{ctx.typed('Skriv starta guiden för att börja.')}"


def _render_invalid(reply: GuideReply, ctx: _Context) -> Rendered:
    if reply.step is None:
        message = "Jag kunde inte använda den knappen."
        body, actions, text = _render_not_in_guide(reply, ctx)
        return [_note(message, "Attention"), *body], actions, f"{message} {text}"
    message = "Jag kunde inte använda den knappen, men inget har ändrats."
    body = [_note(message, "Attention"), *_step_body(reply)]
    return body, _step_actions(reply), f"{message}\n\n{_step_text(reply, ctx)}"


_RENDERERS = {
    ReplyKind.STEP: _render_step,
    ReplyKind.INTRO: _render_intro,
    ReplyKind.HELP: _render_help,
    ReplyKind.STUCK_AGAIN: _render_stuck_again,
    ReplyKind.SUMMARY: _render_summary,
    ReplyKind.CONFIRM_RESTART: _render_confirm_restart,
    ReplyKind.CANCELLED: _render_cancelled,
    ReplyKind.PAUSED: _render_paused,
    ReplyKind.RESUME_OFFER: _render_resume_offer,
    ReplyKind.REMINDER: _render_reminder,
    ReplyKind.NOT_IN_GUIDE: _render_not_in_guide,
    ReplyKind.INVALID: _render_invalid,
}
