"""Fit rich replies to what a channel can show: buttons become numbered text, and back."""
from __future__ import annotations

import re
from dataclasses import replace

from channels.base import Button, Capabilities, OutboundMessage

_NUMBER_REPLY = re.compile(r"^\s*[#(（]?\s*(\d{1,2})\s*[)）.、]?\s*$")


def numbered_options(buttons: tuple[Button, ...]) -> str:
    """The text shown instead of buttons: one numbered line per choice."""
    return "\n".join(f"{i}. {b.title}" for i, b in enumerate(buttons, start=1))


def render_for(capabilities: Capabilities, message: OutboundMessage) -> OutboundMessage:
    """Downgrade a message for a channel: buttons to numbered text, drop html where unsupported."""
    text = message.text
    buttons = message.buttons
    if buttons and not capabilities.buttons:
        text = f"{text}\n{numbered_options(buttons)}" if text else numbered_options(buttons)
        buttons = ()
    html = message.html if capabilities.html else None
    return replace(message, text=text, buttons=buttons, html=html)


def resolve_numbered_reply(text: str, offered: tuple[Button, ...]) -> str | None:
    """The payload a reply like "2" or "(2)" picks from the buttons offered, else None."""
    match = _NUMBER_REPLY.match(text)
    if not match or not offered:
        return None
    index = int(match.group(1))
    if 1 <= index <= len(offered):
        return offered[index - 1].payload
    return None
