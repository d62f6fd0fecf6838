"""An Adaptive Card as simple HTML that looks like a Teams card, for the content review page.

It renders the card JSON the bot sends (the same dicts `cards.*` build), not a re-telling of
it: the elements and properties this bot uses (TextBlock with size, weight, colour and subtle;
Container styles; ColumnSet; FactSet; ActionSet; Input.Text; Action.OpenUrl and Action.Submit)
in Teams' light theme. Link buttons carry their mark (↗) in their title, as in Teams.
No scripts and no external assets: the styles are in `CARD_CSS`, to be put in the page once.
TextBlock text gets the little Markdown Teams understands (**bold**, [text](url), bare links).
"""

from __future__ import annotations

import html
import re
from typing import Any

__all__ = ["CARD_CSS", "card_html", "message_html", "markdown_html"]

CARD_CSS = """
.tm-msg{display:flex;gap:10px;align-items:flex-start;margin:8px 0 18px}
.tm-avatar{flex:none;width:32px;height:32px;border-radius:50%;background:#5b5fc7;color:#fff;
  font-weight:600;display:flex;align-items:center;justify-content:center;font-size:14px}
.tm-bubble{flex:1;max-width:640px}
.tm-who{font-size:12px;color:#616161;margin:0 0 4px}
.tm-card{background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:12px 16px;
  box-shadow:0 1px 2px rgba(0,0,0,.12);color:#242424;font-size:14px;line-height:1.45}
.tm-text{margin:6px 0;white-space:normal;overflow-wrap:anywhere}
.tm-text:first-child{margin-top:0}
.tm-small{font-size:12px}.tm-medium{font-size:16px}.tm-large{font-size:19px}.tm-xlarge{font-size:23px}
.tm-bold{font-weight:600}.tm-subtle{color:#616161}
.tm-accent{color:#4f52b2}.tm-good{color:#0e700e}.tm-attention{color:#c4314b}.tm-warning{color:#835c00}
.tm-right{text-align:right}.tm-center{text-align:center}
.tm-container{padding:8px 12px;margin:8px -4px;border-radius:4px}
.tm-style-emphasis{background:#f5f5f5}.tm-style-warning{background:#fbf6d9}
.tm-style-good{background:#e7f2da}.tm-style-attention{background:#fdf3f4}.tm-style-accent{background:#ebebf5}
.tm-columns{display:flex;gap:8px;align-items:center}.tm-col-auto{flex:none}.tm-col-stretch{flex:1}
.tm-facts{border-collapse:collapse;margin:6px 0}.tm-facts td{padding:2px 12px 2px 0;vertical-align:top}
.tm-facts td:first-child{font-weight:600}
.tm-actions{display:flex;flex-wrap:wrap;gap:8px;margin-top:12px}
.tm-btn{display:inline-block;border:1px solid #d1d1d1;border-radius:4px;padding:5px 12px;background:#fff;
  color:#242424;font-weight:600;font-size:14px;text-decoration:none}
.tm-btn-positive{background:#5b5fc7;border-color:#5b5fc7;color:#fff}
.tm-input{border:1px solid #d1d1d1;border-radius:4px;padding:6px 8px;color:#8a8a8a;min-height:2.5em}
.tm-fallback{font-size:12px;color:#616161;margin-top:6px}
.tm-fallback pre{white-space:pre-wrap;background:#fafafa;border:1px solid #eee;padding:8px;border-radius:4px}
"""

_SIZES = {"small": "tm-small", "medium": "tm-medium", "large": "tm-large", "extralarge": "tm-xlarge"}
_COLOURS = {"accent": "tm-accent", "good": "tm-good", "attention": "tm-attention", "warning": "tm-warning"}
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_BARE_URL = re.compile(r"(?<![\"'=>])\bhttps?://[^\s<\"”]*[^\s<\"”.,;:!?)]")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def markdown_html(text: str) -> str:
    """Escaped text with **bold**, [text](url), bare links and line breaks, as Teams shows them."""
    out = html.escape(text, quote=False)  # & < > escaped; the addresses below are already escaped
    out = _LINK.sub(lambda m: f'<a href="{m[2].replace(chr(34), "&quot;")}">{m[1]}</a>', out)
    out = _BARE_URL.sub(lambda m: f'<a href="{m[0].replace(chr(34), "&quot;")}">{m[0]}</a>', out)
    out = _BOLD.sub(r"<b>\1</b>", out)
    return out.replace("\n", "<br>")


def _classes(*names: str | None) -> str:
    return " ".join(n for n in names if n)


def _element(node: dict[str, Any]) -> str:
    kind = node.get("type")
    if kind == "TextBlock":
        cls = _classes(
            "tm-text",
            _SIZES.get(str(node.get("size", "")).lower()),
            "tm-bold" if str(node.get("weight", "")).lower() == "bolder" else None,
            "tm-subtle" if node.get("isSubtle") else None,
            _COLOURS.get(str(node.get("color", "")).lower()),
            {"right": "tm-right", "center": "tm-center"}.get(str(node.get("horizontalAlignment", "")).lower()),
        )
        return f'<div class="{cls}">{markdown_html(str(node.get("text", "")))}</div>'
    if kind == "Container":
        style = str(node.get("style", "")).lower()
        inner = "".join(_element(item) for item in node.get("items", []))
        return f'<div class="tm-container {"tm-style-" + style if style else ""}">{inner}</div>'
    if kind == "ColumnSet":
        columns = []
        for column in node.get("columns", []):
            width = "tm-col-auto" if column.get("width") == "auto" else "tm-col-stretch"
            columns.append(f'<div class="{width}">{"".join(_element(i) for i in column.get("items", []))}</div>')
        return f'<div class="tm-columns">{"".join(columns)}</div>'
    if kind == "ActionSet":
        return f'<div class="tm-actions">{"".join(_action(a) for a in node.get("actions", []))}</div>'
    if kind == "Input.Text":
        label = html.escape(str(node.get("label", "")))
        hint = html.escape(str(node.get("placeholder", "")))
        return f'<div class="tm-text"><div class="tm-subtle">{label}</div><div class="tm-input">{hint}</div></div>'
    if kind == "FactSet":
        rows = "".join(
            f"<tr><td>{html.escape(str(f.get('title', '')))}</td><td>{markdown_html(str(f.get('value', '')))}</td></tr>"
            for f in node.get("facts", [])
        )
        return f'<table class="tm-facts">{rows}</table>'
    return f'<div class="tm-text tm-subtle">[{html.escape(str(kind))}]</div>'


def _action(action: dict[str, Any]) -> str:
    title = html.escape(str(action.get("title", "")))
    positive = "tm-btn-positive" if action.get("style") == "positive" else None
    if action.get("type") == "Action.OpenUrl":
        url = html.escape(str(action.get("url", "")))
        return f'<a class="{_classes("tm-btn", "tm-btn-url", positive)}" href="{url}" title="{url}">{title}</a>'
    data = html.escape(str(action.get("data", "")))
    return f'<span class="{_classes("tm-btn", positive)}" title="skickar {data}">{title}</span>'


def card_html(card: dict[str, Any]) -> str:
    """The card's body and buttons as a Teams-like card."""
    body = "".join(_element(node) for node in card.get("body", []))
    actions = card.get("actions") or []
    buttons = f'<div class="tm-actions">{"".join(_action(a) for a in actions)}</div>' if actions else ""
    return f'<div class="tm-card">{body}{buttons}</div>'


def message_html(
    text: str, card: dict[str, Any] | None, *, sender: str = "Kanalvakten", show_fallback: bool = True
) -> str:
    """One bot message as in a Teams chat: avatar, sender, the card (or the text), and the text
    fallback (what notifications and screen readers get) folded away under it."""
    inner = card_html(card) if card is not None else f'<div class="tm-card">{markdown_html(text)}</div>'
    fallback = ""
    if card is not None and show_fallback:
        fallback = (
            f'<details class="tm-fallback"><summary>Textversion (avisering, skärmläsare)</summary>'
            f"<pre>{html.escape(text)}</pre></details>"
        )
    return (
        f'<div class="tm-msg"><div class="tm-avatar">{html.escape(sender[:1])}</div>'
        f'<div class="tm-bubble"><div class="tm-who">{html.escape(sender)}</div>{inner}{fallback}</div></div>'
    )
