"""`kefu serve` picks its event loop from KEFU_EVENT_LOOP: uvloop by default where installed."""

from __future__ import annotations

import asyncio

import pytest
import uvloop

from hub.cli import new_event_loop
from hub.config import Settings


@pytest.mark.parametrize(("choice", "kind"), [("auto", uvloop.Loop), ("uvloop", uvloop.Loop)])
def test_uvloop_is_the_default_where_installed(choice: str, kind: type) -> None:
    loop = new_event_loop(choice)
    try:
        assert isinstance(loop, kind)
    finally:
        loop.close()


def test_the_plain_asyncio_loop_can_be_chosen() -> None:
    loop = new_event_loop("asyncio")
    try:
        assert not isinstance(loop, uvloop.Loop) and isinstance(loop, asyncio.AbstractEventLoop)
    finally:
        loop.close()


def test_an_unknown_loop_is_refused_with_a_clear_message() -> None:
    with pytest.raises(SystemExit, match="KEFU_EVENT_LOOP must be auto, uvloop or asyncio"):
        new_event_loop("trio")


def test_the_setting_comes_from_the_environment() -> None:
    assert Settings.from_env({"KEFU_EVENT_LOOP": "asyncio"}).event_loop == "asyncio"
    assert Settings.from_env({}).event_loop == "auto"
