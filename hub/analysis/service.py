"""Complaints in a running hub: score every inbound message, keep cases, retrain on corrections, serve reports."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any

from aiohttp import web
from sqlalchemy import Connection, select

from hub import heap
from hub.actions import SYSTEM, Actions
from hub.analysis import cases as writes
from hub.analysis import privacy, reports
from hub.analysis.complaints import ComplaintDetector, default_detector
from hub.analysis.config import AnalysisSettings
from hub.analysis.examples import CATEGORIES, Example, correction, load_seed
from hub.analysis.scoring_process import ScoringProcess
from hub.events import Batched, Bus, ComplaintCorrected, CustomerChanged, Event, MessageReceived
from hub.keys import ACTIONS, BUS, DATABASE
from hub.storage.database import Database

log = logging.getLogger(__name__)

# Scoring is not on anyone's critical path: waiting this long after a customer message lets the messages
# that follow share its read, its trip to the scorer and its commit.
SCORING_GATHER_S = 0.05

CATCH_UP_BATCH = 200


@dataclass(frozen=True, slots=True)
class ActiveModel:
    """The detector in use: trained on the seed plus corrections up to `version` (a correction id)."""

    detector: ComplaintDetector
    version: int
    corrections: int
    trained_at: datetime
    serial: int = 0  # this process's count of detectors trained: names this one to the scoring process


def train_detector(rows: list[Any]) -> tuple[ComplaintDetector, int]:
    """Seed plus corrections (oldest first, so the latest verdict on a text wins); returns (detector, used)."""
    fixes: list[Example] = []
    for r in rows:
        category = r.category if r.category in CATEGORIES else None
        if r.is_complaint and category is None:
            category = "other"
        fixes.append(correction(r.text, r.is_complaint, category, r.channel or ""))
    if not fixes:
        return default_detector(), 0
    return ComplaintDetector.train(load_seed() + fixes), len(fixes)


class ComplaintService:
    """Scores inbound messages in an executor, runs case writes, and swaps in retrained detectors."""

    def __init__(
        self,
        db: Database,
        bus: Bus,
        actions: Actions,
        settings: AnalysisSettings,
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.bus = bus
        self.actions = actions
        self.settings = settings
        self.clock = clock
        self.writes = writes.ComplaintWrites(db, bus, clock)
        self.model: ActiveModel | None = None
        self._ready = asyncio.Event()
        self._retrain_wanted = asyncio.Event()
        self._score_pool: ThreadPoolExecutor | None = None
        self._train_pool: ThreadPoolExecutor | None = None
        self._scorer: ScoringProcess | None = None
        self._serial = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._running = False
        self.training = False

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Train the first detector, then keep it current and score what arrived while we were away."""
        self._score_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kefu-complaint-score")
        self._train_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kefu-complaint-train")
        self._scorer = ScoringProcess() if self.settings.score_in_process else None
        self._running = True
        self._tasks = [
            asyncio.create_task(self._keep_current(), name="complaints:retrain"),
            asyncio.create_task(self._catch_up(), name="complaints:catch-up"),
        ]

    async def stop(self) -> None:
        """Stop retraining and catching up; pools finish what they hold."""
        self._running = False
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        self._tasks = []
        # Anyone still waiting for a first detector gives up; the catch-up at the next start scores it.
        self._ready.set()
        for pool in (self._score_pool, self._train_pool):
            if pool is not None:
                # Never block the loop on a retrain in flight; its result is simply dropped.
                pool.shutdown(wait=False)
        self._score_pool = self._train_pool = None
        if self._scorer is not None:
            await self._scorer.close()
            self._scorer = None

    async def ready(self) -> ActiveModel | None:
        """The active model, once the first one is trained (None if the service stopped before that)."""
        await self._ready.wait()
        return self.model

    # ---------------------------------------------------------------- the detector

    async def retrain(self) -> ActiveModel:
        """Train on the seed plus every stored correction (in the training executor) and swap it in.

        Only the `_keep_current` task calls this, one retrain at a time, so the newest read wins.
        """
        rows = await reports.training_corrections(self.db)
        version = rows[-1].id if rows else 0
        loop = asyncio.get_running_loop()
        self.training = True
        try:
            detector, used = await loop.run_in_executor(self._train_pool, train_detector, rows)
        finally:
            self.training = False
        self._serial += 1
        self.model = ActiveModel(detector, version, used, self.clock(), self._serial)
        heap.settle()
        log.info("complaint detector version %s active (%s corrections)", version, used)
        self._ready.set()
        return self.model

    async def _keep_current(self) -> None:
        """First training, then retrain when corrections arrive here or in another process."""
        while self._running:
            try:
                model = await self.retrain()
                if self._scorer is not None:
                    # Start the child and hand it the detector now, not when the first message waits for it.
                    await self._verdicts(model, [])
                break
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("training the complaint detector failed; retrying")
                await asyncio.sleep(5)
        while self._running:
            try:
                await asyncio.wait_for(self._retrain_wanted.wait(), timeout=self.settings.sync_every_s)
                # Corrections often come in a burst: wait a moment so one retrain covers them.
                await asyncio.sleep(self.settings.retrain_delay_s)
            except TimeoutError:
                pass
            self._retrain_wanted.clear()
            try:
                # An erasure can delete corrections without adding one: compare the count too.
                latest = await reports.corrections_state(self.db)
                if self.model is not None and latest != (self.model.version, self.model.corrections):
                    await self.retrain()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("retraining the complaint detector failed")

    def model_info(self) -> dict[str, Any]:
        """Which detector is active and whether a retrain is under way."""
        model = self.model
        return {
            "ready": model is not None,
            "version": model.version if model else None,
            "corrections": model.corrections if model else None,
            "trained_at": model.trained_at.isoformat() if model else None,
            "training": self.training,
        }

    # ---------------------------------------------------------------- scoring

    async def on_event(self, event: Event) -> None:
        """Bus subscriber: score new customer messages, retrain on corrections, follow customer merges."""
        if not self._running:
            # Shutting down: what is left unscored is scored by the next start's catch-up.
            return
        if isinstance(event, MessageReceived):
            await self.score(event.message_id)
        elif isinstance(event, ComplaintCorrected):
            self._retrain_wanted.set()
        elif isinstance(event, CustomerChanged) and event.change in ("merged", "unmerged"):
            customer_id = event.customer_id
            await self.writes.run(lambda conn, now: writes.follow_merges_tx(conn, [customer_id]))

    async def on_remote_event(self, event: Event) -> None:
        """Bus subscriber for other processes' events: their corrections retrain this model too, promptly."""
        if isinstance(event, ComplaintCorrected) and self._running:
            self._retrain_wanted.set()

    async def on_events(self, events: list[Event]) -> None:
        """Bus subscriber (batched): a burst of customer messages is scored together, other events in order."""
        burst: list[int] = []
        for event in events:
            if isinstance(event, MessageReceived):
                burst.append(event.message_id)
                continue
            if burst:
                await self.score_many(burst)
                burst = []
            await self.on_event(event)
        if burst:
            await self.score_many(burst)

    async def score(self, message_id: int) -> int | None:
        """Score one stored customer message and store the verdict; returns the case it opened or joined."""
        return (await self.score_many([message_id])).get(message_id)

    async def score_many(self, message_ids: list[int]) -> dict[int, int | None]:
        """Score stored customer messages with one read, one trip to the scorer and one write;
        returns, per message scored, the case it opened or joined (None: not a complaint)."""
        if len(message_ids) == 1:
            return await self._score_burst(message_ids)
        try:
            return await self._score_burst(message_ids)
        except asyncio.CancelledError:
            raise
        except Exception:
            # One bad message must not cost the others their score: go one by one, logging what fails.
            cases: dict[int, int | None] = {}
            for message_id in message_ids:
                try:
                    cases.update(await self._score_burst([message_id]))
                except Exception:
                    log.exception("could not score message %s", message_id)
            return cases

    async def _score_burst(self, message_ids: list[int]) -> dict[int, int | None]:
        model = await self.ready()
        if model is None or not self._running:
            return {}
        prior_days = timedelta(days=self.settings.prior_contact_days)
        convs = reports.conversations.c

        # The messages this process just stored are at hand; others (another process's, a catch-up) are read.
        recent, missing = self.actions.recent_inbound.take(message_ids)

        def read(conn: Connection) -> list[tuple[Any, int]]:
            msgs: list[Any] = list(recent)
            if missing:
                msgs.extend(conn.execute(writes.inbound_query_many(missing)).all())
                msgs.sort(key=attrgetter("id"))
            if not msgs:
                return []
            # Each customer's conversations in the burst's window, once; each message counts its own.
            earlier = conn.execute(
                select(convs.id, convs.customer_id, convs.created_at).where(
                    convs.customer_id.in_({m.customer_id for m in msgs}),
                    convs.created_at >= min(m.created_at for m in msgs) - prior_days,
                    convs.created_at <= max(m.created_at for m in msgs),
                )
            ).all()
            by_customer: dict[int, list[Any]] = {}
            for c in earlier:
                by_customer.setdefault(c.customer_id, []).append(c)
            return [
                (
                    m,
                    sum(
                        1
                        for c in by_customer.get(m.customer_id, ())
                        if c.id != m.conversation_id and m.created_at - prior_days <= c.created_at <= m.created_at
                    ),
                )
                for m in msgs
            ]

        found = await self.db.run_read(read)  # indexed lookups, on the loop (no thread hops) on SQLite
        if not found or not self._running:
            return {}

        verdicts = await self._verdicts(model, [(m.text or "", m.channel, prior) for m, prior in found])
        stored = [
            (m, writes.Verdict(v.is_complaint, v.probability, v.category, v.severity, tuple(v.cues)))
            for (m, _), v in zip(found, verdicts, strict=True)
        ]

        def record(conn: Connection, now: Any) -> list[Any]:
            return writes.record_scores_tx(conn, stored, model.version, now)

        # A score is a handful of indexed statements per message: the burst rides the light write path.
        outcomes = await self.writes.run(record, light=True)
        for outcome in outcomes:
            for event in outcome.events:
                await self.bus.publish(event)
        return {m.id: outcome.data.get("case_id") for (m, _), outcome in zip(stored, outcomes, strict=True)}

    async def _verdicts(self, model: ActiveModel, items: list[tuple[str, str, int]]) -> list[Any]:
        """The detector's verdicts: in the scoring process, or on the scoring thread if it is off or failing."""
        if self._scorer is not None:
            try:
                return await self._scorer.score(model.serial, model.detector, items)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the complaint scoring process failed; scoring this burst on a thread")
        detector = model.detector
        return await asyncio.get_running_loop().run_in_executor(
            self._score_pool,
            lambda: [detector.score(text, channel, prior_contacts=prior) for text, channel, prior in items],
        )

    async def _catch_up(self) -> None:
        """Score customer messages stored while no hub was scoring (a crash between commit and publish)."""
        await self._ready.wait()
        since = self.clock() - timedelta(hours=self.settings.catch_up_hours)
        msgs, sc = reports.messages, writes.scores
        after = 0
        while self._running:
            async with self.db.read() as conn:
                ids = (
                    (
                        await conn.execute(
                            select(msgs.c.id)
                            .outerjoin(sc, sc.c.message_id == msgs.c.id)
                            .where(
                                msgs.c.direction == "in",
                                msgs.c.automated.is_(False),
                                msgs.c.created_at >= since,
                                msgs.c.id > after,
                                sc.c.message_id.is_(None),
                            )
                            .order_by(msgs.c.id)
                            .limit(CATCH_UP_BATCH)
                        )
                    )
                    .scalars()
                    .all()
                )
            if not ids:
                return
            try:
                await self.score_many(list(ids))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("could not score messages %s..%s", ids[0], ids[-1])
            after = ids[-1]

    # ---------------------------------------------------------------- what agents do

    async def update_case(self, case_id: int, actor: str, data: dict[str, Any]) -> str | None:
        """Change status, owner or note; on resolution the customer is told the outcome on their channel."""
        changes = writes.check_case_changes(data)
        notify = self.settings.notify_customer
        outcome = await self.writes.apply(
            lambda conn, now: writes.update_case_tx(conn, case_id, changes, actor, now, notify)
        )
        if outcome.data.get("notify"):
            return await self.writes.tell_customer(case_id, self._post_outcome)
        return None

    async def _post_outcome(self, conversation_id: int, text: str, case_id: int) -> int:
        return await self.actions.post_reply(
            conversation_id, SYSTEM, text, automated=True, meta={"complaint_case_id": case_id}
        )

    async def correct(self, data: dict[str, Any], actor: str) -> dict[str, Any]:
        """Store a correction (and relabel the message and its case); the detector retrains shortly after."""
        target, label = writes.check_correction(data)
        outcome = await self.writes.apply(lambda conn, now: writes.correct_tx(conn, target, label, actor, now))
        return outcome.data


ANALYSIS = web.AppKey("kefu.analysis", ComplaintService)


async def _analysis_ctx(app: web.Application) -> AsyncIterator[None]:
    await app[ANALYSIS].start()
    yield
    await app[ANALYSIS].stop()


def install(app: web.Application) -> None:
    """Wire complaints into a hub: the service, its bus subscription, its API and page, its privacy section."""
    from agents_ui.reports_api import routes

    actions = app[ACTIONS]
    service = ComplaintService(app[DATABASE], app[BUS], actions, AnalysisSettings.from_env(), actions.clock)
    app[ANALYSIS] = service
    app[BUS].subscribe(
        Batched(service.on_events, gather_s=SCORING_GATHER_S),
        name="complaints",
        events=(MessageReceived, ComplaintCorrected, CustomerChanged),
    )
    app[BUS].subscribe(
        service.on_remote_event, name="complaints-elsewhere", origin="remote", events=(ComplaintCorrected,)
    )
    app.router.add_routes(routes)
    app.cleanup_ctx.append(_analysis_ctx)
    privacy.register()
