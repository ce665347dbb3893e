"""A subscriber that names the events it acts on is never woken by the others (every wake-up costs CPU
on every message), while one that names none still sees everything."""

from __future__ import annotations

import ast
import asyncio
import inspect
import textwrap

from agents_ui.push import PUSHED_EVENTS, AgentPush
from hub.events import Batched, ConversationChanged, Event, InProcessBus, MessageReceived, Typing
from hub.redis_bus import RedisBus

RECEIVED = MessageReceived(message_id=1, conversation_id=2, customer_id=3)
CHANGED = ConversationChanged(conversation_id=2, customer_id=3, status="queued", assignee_id=None, change="opened")
TYPING = Typing(conversation_id=2, who="customer", active=True)


async def test_subscribers_get_only_the_events_they_named() -> None:
    bus = InProcessBus()
    seen: dict[str, list[str]] = {"bot": [], "push": [], "typing": []}

    def recorder(name: str):  # type: ignore[no-untyped-def]
        async def handle(event: Event) -> None:
            seen[name].append(event.name)

        return handle

    bus.subscribe(recorder("bot"), name="bot", events=(MessageReceived,))
    bus.subscribe(recorder("push"), name="push")
    await bus.start()
    for event in (RECEIVED, CHANGED, TYPING):
        await bus.publish(event)
    # subscribing later resets what was worked out per type
    bus.subscribe(recorder("typing"), name="typing", events=(Typing,))
    await bus.publish(TYPING)
    await bus.drain()
    await bus.stop()
    assert seen == {
        "bot": ["message.received"],
        "push": ["message.received", "conversation.changed", "typing", "typing"],
        "typing": ["typing"],
    }


async def test_the_redis_bus_filters_its_local_subscribers_the_same_way() -> None:
    bus = RedisBus("redis://127.0.0.1:1/0")  # never started: local delivery needs no Redis
    bus.subscribe(_ignore, name="bot", events=(MessageReceived,))
    bus.subscribe(_ignore, name="push", origin="any")
    for event in (RECEIVED, CHANGED, TYPING):
        await bus.publish(event)
    bot, push = bus._subscribers
    assert bot.queue.qsize() == 1 and push.queue.qsize() == 3


async def _ignore(event: Event) -> None:
    await asyncio.sleep(0)


async def test_a_batched_subscriber_gets_a_burst_at_once_and_drain_waits_for_it() -> None:
    bus = InProcessBus()
    calls: list[list[int]] = []

    async def handle(events: list[Event]) -> None:
        await asyncio.sleep(0.01)  # the work is done before drain returns
        calls.append([e.message_id for e in events if isinstance(e, MessageReceived)])

    bus.subscribe(Batched(handle), name="scoring", events=(MessageReceived,))
    await bus.start()
    for i in range(1, 6):  # published in one go: the subscriber wakes once for all five
        await bus.publish(MessageReceived(message_id=i, conversation_id=2, customer_id=3))
    await bus.drain()
    assert calls == [[1, 2, 3, 4, 5]]
    await bus.publish(MessageReceived(message_id=6, conversation_id=2, customer_id=3))
    await bus.drain()
    await bus.stop()
    assert calls == [[1, 2, 3, 4, 5], [6]]


async def test_a_gathering_subscriber_waits_a_moment_so_a_trickle_shares_one_call() -> None:
    bus = InProcessBus()
    calls: list[int] = []

    async def handle(events: list[Event]) -> None:
        calls.append(len(events))

    bus.subscribe(Batched(handle, gather_s=0.2), name="scoring")
    await bus.start()
    for i in range(4):  # a trickle: one event every 20 ms, well inside the 200 ms window
        await bus.publish(MessageReceived(message_id=i, conversation_id=2, customer_id=3))
        await asyncio.sleep(0.02)
    await bus.drain()
    await bus.stop()
    assert calls == [4]


def test_the_agent_push_subscribes_to_every_event_it_handles() -> None:
    source = textwrap.dedent(inspect.getsource(AgentPush.on_event))
    handled: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance":
            kinds = node.args[1]
            for name in kinds.elts if isinstance(kinds, ast.Tuple) else [kinds]:
                handled.add(name.id)  # type: ignore[attr-defined]
    assert handled == {kind.__name__ for kind in PUSHED_EVENTS}
