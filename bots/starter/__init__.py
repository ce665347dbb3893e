"""The starter bot Kefu trains at first start: common shop questions in Chinese and English."""
from __future__ import annotations

from pathlib import Path

from bots.content import BotContent, loads_content

STARTER_PATH = Path(__file__).with_name("bot.json")


def load_starter() -> BotContent:
    """The shipped starter bot's content."""
    return loads_content(STARTER_PATH.read_text(encoding="utf-8"))
