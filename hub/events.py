"""Typed events (ids, not objects) and the bus that carries them to subscribers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar, Literal, Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every event; `name` is the wire name used by remote buses and the agent socket."""

    name: ClassVar[str] = "event"

    def to_dict(self) -> dict[str, Any]:
        """The event as plain data, with its name."""
        return {"event": self.name, **asdict(self)}


@dataclass(frozen=True, slots=True)
class MessageReceived(Event):
    """A customer message was stored."""

    name: ClassVar[str] = "message.received"
    message_id: int
    conversation_id: int
    customer_id: int
    new_conversation: bool = False


@dataclass(frozen=True, slots=True)
class MessageQueued(Event):
    """A reply or note was stored; replies are now in the outbox."""

    name: ClassVar[str] = "message.queued"
    message_id: int
    conversation_id: int
    note: bool = False


@dataclass(frozen=True, slots=True)
class DeliveryChanged(Event):
    """An outbound message's delivery status changed."""

    name: ClassVar[str] = "message.delivery"
    message_id: int
    conversation_id: int
    status: str


@dataclass(frozen=True, slots=True)
class ConversationChanged(Event):
    """A conversation's status, assignee, queue or priority changed."""

    name: ClassVar[str] = "conversation.changed"
    conversation_id: int
    customer_id: int
    status: str
    assignee_id: int | None
    change: str


@dataclass(frozen=True, slots=True)
class Typing(Event):
    """Someone is typing in a conversation (never stored)."""

    name: ClassVar[str] = "typing"
    conversation_id: int
    who: str
    active: bool
    agent_id: int | None = None


@dataclass(frozen=True, slots=True)
class CustomerChanged(Event):
    """A customer record changed (fields, merge, opt-out)."""

    name: ClassVar[str] = "customer.changed"
    customer_id: int
    change: str


@dataclass(frozen=True, slots=True)
class KbArticlesChanged(Event):
    """Knowledge-base articles were saved; article_ids[i] is now at versions[i]."""

    name: ClassVar[str] = "kb.articles.changed"
    article_ids: tuple[int, ...]
    versions: tuple[int, ...]
    change: str


@dataclass(frozen=True, slots=True)
class BotVersionChanged(Event):
    """A bot version was created, made progress training, was trained or failed, activated or rolled back."""

    name: ClassVar[str] = "bot.version"
    version_id: int
    change: str


@dataclass(frozen=True, slots=True)
class OfferMade(Event):
    """A conversation rings at one agent until `expires_at` (ISO 8601 UTC); kind is queue or transfer."""

    name: ClassVar[str] = "routing.offer"
    conversation_id: int
    agent_id: int
    queue_id: int
    kind: str
    expires_at: str
    from_agent_id: int | None = None


@dataclass(frozen=True, slots=True)
class OfferEnded(Event):
    """An offer stopped ringing: accepted, declined, expired or withdrawn."""

    name: ClassVar[str] = "routing.offer_ended"
    conversation_id: int
    agent_id: int
    outcome: str
    from_agent_id: int | None = None


@dataclass(frozen=True, slots=True)
class PresenceChanged(Event):
    """An agent's presence changed; reason says why (manual, missed_offers, inactive, silent)."""

    name: ClassVar[str] = "agent.presence"
    agent_id: int
    presence: str
    reason: str


@dataclass(frozen=True, slots=True)
class SlaAlert(Event):
    """An SLA clock (first_response or resolution) of a conversation reached warning or breach."""

    name: ClassVar[str] = "routing.sla"
    conversation_id: int
    queue_id: int | None
    assignee_id: int | None
    target: str
    kind: str
    due_at: str


@dataclass(frozen=True, slots=True)
class ComplaintScored(Event):
    """An inbound message was scored as a complaint; case_id is the case it opened or joined."""

    name: ClassVar[str] = "complaint.scored"
    message_id: int
    conversation_id: int
    customer_id: int
    is_complaint: bool
    case_id: int | None = None


@dataclass(frozen=True, slots=True)
class ComplaintCaseChanged(Event):
    """A complaint case was opened, joined by a message, updated, resolved, reopened or dismissed."""

    name: ClassVar[str] = "complaint.case"
    case_id: int
    conversation_id: int
    customer_id: int
    status: str
    change: str


@dataclass(frozen=True, slots=True)
class ComplaintCorrected(Event):
    """An agent corrected a complaint label; detectors retrain on seed plus corrections."""

    name: ClassVar[str] = "complaint.corrected"
    correction_id: int
    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class CustomersImported(Event):
    """A batch of a customer CSV import committed: these records were created or changed; done of total rows."""

    name: ClassVar[str] = "customers.imported"
    job_id: str
    customer_ids: tuple[int, ...]
    done: int
    total: int


EVENT_TYPES: dict[str, type[Event]] = {
    cls.name: cls
    for cls in (
        MessageReceived,
        MessageQueued,
        DeliveryChanged,
        ConversationChanged,
        Typing,
        CustomerChanged,
        KbArticlesChanged,
        BotVersionChanged,
        OfferMade,
        OfferEnded,
        PresenceChanged,
        SlaAlert,
        ComplaintScored,
        ComplaintCaseChanged,
        ComplaintCorrected,
        CustomersImported,
    )
}


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from `to_dict` output (for buses that cross processes)."""
    cls = EVENT_TYPES[data["event"]]
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


Handler = Callable[[Event], Awaitable[None]]

# Which events a subscriber sees when several processes share a bus (hub/redis_bus.py): "local" ones
# published in its own process (work that must happen once: outbox, bot, scoring), "any" (views and
# caches: sockets, search index), or "remote" ones only (mirrors of what the publishing process did itself).
Origin = Literal["local", "any", "remote"]
EventTypes = tuple[type["Event"], ...]


class Bus(Protocol):
    """Publish events after commit; subscribers get them in order, each on its own pace."""

    def subscribe(
        self, handler: Handler, *, name: str, origin: Origin = "local", events: EventTypes | None = None
    ) -> None:
        """Register a handler; it sees every event of that origin (of those types, if given) published after this."""
        ...

    async def publish(self, event: Event) -> None:
        """Hand an event to every subscriber without waiting for them."""
        ...

    async def start(self) -> None:
        """Begin delivering."""
        ...

    async def stop(self) -> None:
        """Deliver what is queued, then stop."""
        ...


class Batched:
    """A handler of event lists: its subscriber hands it every event queued so far (up to `limit`) at once,
    so work per event (a read, a thread hop, a commit) can be shared by a burst of them."""

    def __init__(
        self, handle: Callable[[list[Event]], Awaitable[None]], limit: int = 256, gather_s: float = 0.0
    ) -> None:
        self.handle = handle
        self.limit = limit
        # For work no one waits on (scoring): after the first event, wait this long for more to share it.
        self.gather_s = gather_s

    async def __call__(self, event: Event) -> None:
        await self.handle([event])


class _Subscriber:
    def __init__(self, name: str, handler: Handler, events: EventTypes | None = None) -> None:
        self.name = name
        self.handler = handler
        self.events = tuple(events) if events else None
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    def wants(self, kind: type[Event]) -> bool:
        """Whether events of this type are for this subscriber (all are, unless it named some)."""
        return self.events is None or issubclass(kind, self.events)

    async def run(self) -> None:
        if isinstance(self.handler, Batched):
            await self._run_batches(self.handler)
            return
        while True:
            event = await self.queue.get()
            if event is None:
                self.queue.task_done()
                return
            try:
                await self.handler(event)
            except Exception:
                # A failing subscriber must not stop the others or lose later events.
                log.exception("subscriber %s failed on %s", self.name, event.name)
            finally:
                self.queue.task_done()

    async def _run_batches(self, handler: Batched) -> None:
        while True:
            batch: list[Event | None] = [await self.queue.get()]
            if handler.gather_s > 0 and batch[0] is not None and self.queue.qsize() < handler.limit:
                await asyncio.sleep(handler.gather_s)
            while batch[-1] is not None and len(batch) < handler.limit and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            events = [e for e in batch if e is not None]
            try:
                if events:
                    await handler.handle(events)
            except Exception:
                log.exception("subscriber %s failed on %d events", self.name, len(events))
            finally:
                for _ in batch:
                    self.queue.task_done()
            if batch[-1] is None:
                return


def audience(
    subscribers: list[_Subscriber], kind: type[Event], cache: dict[type[Event], list[_Subscriber]]
) -> list[_Subscriber]:
    """The subscribers that want events of `kind`, worked out once per type (a publish is on the hot path)."""
    found = cache.get(kind)
    if found is None:
        found = cache[kind] = [sub for sub in subscribers if sub.wants(kind)]
    return found


class InProcessBus:
    """The single-process bus: one queue and one worker task per subscriber."""

    def __init__(self) -> None:
        self._subscribers: list[_Subscriber] = []
        self._audiences: dict[type[Event], list[_Subscriber]] = {}
        self._running = False

    def subscribe(
        self, handler: Handler, *, name: str, origin: Origin = "local", events: EventTypes | None = None
    ) -> None:
        """Register a handler under a name used in logs; in one process nothing is remote.

        `events` names the types the handler acts on; others never wake it (each wake-up costs CPU on
        every message)."""
        if origin == "remote":
            return
        sub = _Subscriber(name, handler, events)
        self._subscribers.append(sub)
        self._audiences.clear()
        if self._running:
            sub.task = asyncio.create_task(sub.run(), name=f"bus:{name}")

    async def publish(self, event: Event) -> None:
        """Queue the event for each subscriber that wants its type."""
        for sub in audience(self._subscribers, type(event), self._audiences):
            sub.queue.put_nowait(event)

    async def start(self) -> None:
        """Start one worker per subscriber."""
        self._running = True
        for sub in self._subscribers:
            if sub.task is None:
                sub.task = asyncio.create_task(sub.run(), name=f"bus:{sub.name}")

    async def stop(self, timeout: float = 5.0) -> None:
        """Let each worker finish its queue, then end it; a subscriber stuck past `timeout` is cancelled."""
        self._running = False
        for sub in self._subscribers:
            sub.queue.put_nowait(None)
        running = {sub.task: sub for sub in self._subscribers if sub.task is not None}
        if running:
            _, stuck = await asyncio.wait(running, timeout=timeout)
            for task in stuck:
                # Shutdown must not hang on one subscriber waiting for something that will never come.
                log.warning("subscriber %s did not finish within %.0f s; cancelled", running[task].name, timeout)
                task.cancel()
            await asyncio.gather(*stuck, return_exceptions=True)
        for sub in self._subscribers:
            sub.task = None

    async def drain(self) -> None:
        """Wait until every queued event has been handled (tests and shutdown)."""
        await asyncio.gather(*(s.queue.join() for s in self._subscribers if s.task is not None))
