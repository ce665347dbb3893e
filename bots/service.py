"""The bot in the conversation flow: answers customer messages while a conversation is with the bot.

It subscribes to MessageReceived, reads the turn from the database, decides with bots.policy (the
engine, complaint scoring and knowledge-base search run off the event loop), and acts only through
hub.actions (post_reply, handoff, add_note) and bots.store (versions, memory).
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bots import engine, policy
from bots.content import BotContent, content_to_json, dumps_content
from bots.draft_store import DraftStore
from bots.policy import (
    ArticleHint,
    Decision,
    EntityFound,
    IntentGuess,
    Memory,
    Mood,
    Outgoing,
    PolicyConfig,
    Reading,
    Turn,
    Understanding,
)
from bots.rasa_remote import ParseResult, RasaError, RasaMode, RasaRemote, RasaRemoteConfig
from bots.review_store import ReviewStore, register_privacy, review_cause
from bots.starter import load_starter
from bots.store import BotStore, TurnContext, VersionRecord
from hub import heap
from hub.actions import BOT, SYSTEM, Actions
from hub.config import Settings
from hub.domain import ConversationStatus, DomainError, NotFound
from hub.events import Event, MessageReceived
from hub.keys import ACTIONS, BUS, DATABASE, SETTINGS

log = logging.getLogger(__name__)

KbSearch = Callable[[str, str | None, int], Awaitable[Sequence[ArticleHint]]]
KbArticle = Callable[[int], Awaitable[ArticleHint | None]]
# The score a designer's link gives its article: above any search score, so the bot answers with it.
LINKED_SCORE = 100.0

ARTICLES_TRIED = 3
SNIPPET_CHARS = 160


@dataclass(frozen=True)
class BotSettings:
    """Bot knobs from KEFU_BOT_* variables (a version's own settings override the policy ones)."""

    train_mode: engine.Mode = "fast"
    kb_min_score: float = PolicyConfig().kb_min_score
    unsure_limit: int = PolicyConfig().unsure_limit
    ready_timeout_s: float = 120.0
    concurrency: int = 16
    complaints: bool = True
    model_cache: Path | None = None  # shared folder of trained models by content fingerprint

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BotSettings:
        """Read KEFU_BOT_TRAIN_MODE, _KB_MIN_SCORE, _UNSURE_LIMIT, _READY_TIMEOUT, _CONCURRENCY, ... (docs/bot.md)."""
        e = os.environ if env is None else env
        values: dict[str, Any] = {}
        mode = e.get("KEFU_BOT_TRAIN_MODE", "").strip().lower()
        if mode:
            if mode not in ("fast", "accurate"):
                raise ValueError(f"KEFU_BOT_TRAIN_MODE must be fast or accurate, got {mode!r}")
            values["train_mode"] = mode
        for attr, key, kind in (("kb_min_score", "KEFU_BOT_KB_MIN_SCORE", float),
                                ("unsure_limit", "KEFU_BOT_UNSURE_LIMIT", int),
                                ("ready_timeout_s", "KEFU_BOT_READY_TIMEOUT", float),
                                ("concurrency", "KEFU_BOT_CONCURRENCY", int)):
            if e.get(key):
                values[attr] = kind(e[key])
        if e.get("KEFU_BOT_MODEL_CACHE"):
            values["model_cache"] = Path(e["KEFU_BOT_MODEL_CACHE"]).expanduser()
        if e.get("KEFU_BOT_COMPLAINTS"):
            values["complaints"] = e["KEFU_BOT_COMPLAINTS"].strip().lower() in {"1", "true", "yes", "on"}
        return cls(**values)


@dataclass
class LoadedVersion:
    """A version ready to answer: content, its model or Rasa connection, and its policy settings."""

    record: VersionRecord
    model: engine.EmbeddedModel | None
    rasa: RasaRemoteConfig | None
    config: PolicyConfig
    intents: tuple[str, ...] = field(default=())


def mood_of(score: Any) -> Mood:
    """hub.analysis's ComplaintScore in the policy's terms."""
    return Mood(score.is_complaint, score.probability, score.category, score.severity, tuple(score.cues))


class BotService:
    """Answers conversations in the bot state; trains, loads, tests and activates bot versions."""

    def __init__(self, settings: Settings, store: BotStore, actions: Actions, *,
                 bot_settings: BotSettings | None = None, kb_search: KbSearch | None = None,
                 kb_article: KbArticle | None = None, complaints: Callable[[], Any] | None = None) -> None:
        self.settings = settings
        self.bot_settings = bot_settings or BotSettings.from_env()
        self.store = store
        self.drafts = DraftStore(store.db, store.clock)
        self.review = ReviewStore(store.db, store.clock)
        self.actions = actions
        self.kb_search = kb_search
        self.kb_article = kb_article
        # where the complaint detector comes from: the hub's complaint service when installed, else the seed model
        self._complaint_service = complaints
        self._detector: Callable[[], Any] | None = None
        self.models_dir = settings.data_dir / "bots"
        self._think = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kefu-bot")
        self._trainer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kefu-bot-train")
        self._loaded: dict[int, LoadedVersion] = {}
        self._loading: dict[int, asyncio.Lock] = {}
        self._chains: dict[int, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._training: dict[int, asyncio.Task[None]] = {}
        self._starter: asyncio.Task[None] | None = None
        self._mood_ready: asyncio.Future[None] | None = None
        self._slots = asyncio.Semaphore(self.bot_settings.concurrency)
        self._http: aiohttp.ClientSession | None = None
        self._stopped = False

    # ------------------------------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Recover from a stop mid-training; with the bot on, warm up and train the starter bot if none exists."""
        self._http = aiohttp.ClientSession()
        interrupted = await self.store.recover_interrupted()
        if interrupted:
            log.warning("bot versions %s were training when Kefu stopped; marked failed", interrupted)
        if not self.settings.bot_enabled:
            return
        if self.bot_settings.complaints:
            self._mood_ready = asyncio.ensure_future(self._prepare_detector())
        version_id = None
        if await self.store.count_versions() == 0:
            # Another process starting on the same empty database may get there first: then it trains.
            version_id = await self._create_version(
                load_starter(), label="Starter bot (zh + en)", source="starter", engine_name="embedded",
                settings=None, actor="system", only_if_first=True,
            )
        if version_id is not None:
            log.info("no bot version yet: training the starter bot as version %s", version_id)
            self._starter = await self.train(version_id, activate=True)
        else:
            active = await self.store.active_version_id()
            if active is not None:
                self._spawn(self._preload(active))

    async def stop(self) -> None:
        """Finish in-flight turns, stop training, close connections and threads."""
        self._stopped = True
        pending = [t for t in self._tasks if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=10)
        for task in list(self._training.values()):
            task.cancel()
        for task in [t for t in self._tasks if not t.done()]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._training.values(), return_exceptions=True)
        if self._mood_ready is not None and not self._mood_ready.done():
            self._mood_ready.cancel()
        if self._http is not None:
            await self._http.close()
        self._think.shutdown(wait=False, cancel_futures=True)
        self._trainer.shutdown(wait=False, cancel_futures=True)

    def _spawn(self, work: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _prepare_detector(self) -> None:
        service = self._complaint_service() if self._complaint_service is not None else None
        if service is not None:
            await service.ready()
            self._detector = lambda: service.model.detector
            return
        try:
            from hub.analysis.complaints import default_detector
        except ImportError:
            log.warning("hub.analysis is not installed: the bot cannot tell complaints apart")
            return
        await asyncio.get_running_loop().run_in_executor(self._think, default_detector)
        self._detector = default_detector

    async def _preload(self, version_id: int) -> None:
        try:
            await self.loaded(version_id)
        except Exception:
            log.exception("could not load bot version %s", version_id)

    async def wait_ready(self, timeout: float | None = None) -> None:
        """Wait for the starter bot's training (if any) and complaint scoring to be ready."""
        waits: list[Awaitable[Any]] = [f for f in (self._starter, self._mood_ready) if f is not None]
        if waits:
            await asyncio.wait_for(asyncio.gather(*waits, return_exceptions=True), timeout)

    # ------------------------------------------------------------------------------------------ turns

    async def on_event(self, event: Event) -> None:
        """Bus subscriber: each customer message starts a turn, one at a time per conversation."""
        if isinstance(event, MessageReceived) and not self._stopped:
            log.debug("message %s in conversation %s: turn queued", event.message_id, event.conversation_id)
            self.schedule(event.conversation_id, event.message_id)

    def schedule(self, conversation_id: int, message_id: int) -> asyncio.Task[None]:
        """Queue a turn behind the conversation's previous one, so replies keep the customer's order."""
        previous = self._chains.get(conversation_id)
        task = asyncio.ensure_future(self._turn_after(previous, conversation_id, message_id))
        self._chains[conversation_id] = task
        self._tasks.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            if self._chains.get(conversation_id) is t:
                del self._chains[conversation_id]

        task.add_done_callback(done)
        return task

    async def _turn_after(self, previous: asyncio.Task[None] | None, conversation_id: int, message_id: int) -> None:
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        async with self._slots:
            try:
                await self.handle(conversation_id, message_id)
            except Exception:
                log.exception("bot turn failed on conversation %s, message %s", conversation_id, message_id)

    async def handle(self, conversation_id: int, message_id: int) -> Decision | None:
        """Answer one stored customer message, or stay silent when the conversation is not with the bot."""
        ctx = await self.store.turn_context(conversation_id, message_id)
        if ctx is None or ctx.status != ConversationStatus.BOT.value or ctx.direction != "in":
            log.debug("message %s in conversation %s: not the bot's turn (%s)", message_id, conversation_id,
                      ctx.status if ctx is not None else "gone")
            return None
        memory = ctx.memory
        if memory.last_kind == "handoff":
            # the conversation came back to the bot (resolved, then reopened): start afresh
            memory = Memory(language=memory.language, turns=memory.turns)
        turn = Turn(ctx.text, ctx.channel, memory, ctx.tier, seed=message_id)
        version_id = ctx.active_version_id
        if version_id is None and self._starter is not None and not self._starter.done():
            await asyncio.wait({self._starter}, timeout=self.bot_settings.ready_timeout_s)
            version_id = await self.store.active_version_id()
        version: LoadedVersion | None = None
        if version_id is None:
            decision = policy.handoff(turn, policy.NOT_READY, "no trained bot version is active", {})
        else:
            try:
                version = await self.loaded(version_id)
            except (engine.ModelError, DomainError, ValueError) as exc:
                decision = policy.engine_failed(turn, f"bot version {version_id} cannot be loaded: {exc}")
            else:
                decision = await self.decide(turn, version, sender=f"kefu-conversation-{conversation_id}")
        log.debug("conversation %s, message %s: %s (%s)", conversation_id, message_id, decision.action,
                  decision.details.get("answered_by") or decision.reason)
        await self._apply(ctx, message_id, decision, version_id)
        return decision

    async def decide(self, turn: Turn, version: LoadedVersion, *, sender: str) -> Decision:
        """The policy's decision for a turn, asking the engine and the knowledge base as needed."""
        content = version.record.content
        reading = policy.read_message(turn.text, turn.memory, version.intents)
        mood = await self._mood(reading, turn.channel)
        screened = policy.screen(turn, reading, mood, content, version.config)
        if screened is not None:
            return screened
        if version.rasa is not None and version.rasa.mode is RasaMode.REST:
            try:
                async with RasaRemote(version.rasa, session=self._http) as rasa:
                    replies = await rasa.send(sender, reading.text, {"channel": turn.channel})
            except RasaError as exc:
                return policy.engine_failed(turn, f"Rasa: {exc}", content)
            said = [Outgoing(r.text, r.buttons) for r in replies]
            return policy.from_remote_replies(turn, said, content, {"engine": "rasa-rest"}, version.config)
        try:
            understanding = await self.understand(version, reading.text)
        except RasaError as exc:
            return policy.engine_failed(turn, f"Rasa: {exc}", content)
        articles: Sequence[ArticleHint] = ()
        if not _answers_by_intent(reading, understanding, content, version.config):
            articles = await self.articles(reading.text, turn.language)
        return policy.decide(turn, reading, understanding, articles, content, version.config)

    async def understand(self, version: LoadedVersion, text: str) -> Understanding:
        """What the version's engine makes of a text (Rasa errors propagate)."""
        if not text.strip():
            return Understanding()
        if version.rasa is not None:
            async with RasaRemote(version.rasa, session=self._http) as rasa:
                parsed = await rasa.parse(text)
            threshold = float(version.record.settings.get("intent_threshold", 0.5))
            return understanding_from_rasa(parsed, threshold)
        assert version.model is not None
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._think, version.model.understand, text)

    async def articles(self, text: str, language: str) -> Sequence[ArticleHint]:
        """The best help articles for the text (none when no knowledge base is reachable); an article a
        designer linked to this very question in the review inbox comes first."""
        if self.kb_search is None or not text.strip():
            return ()
        try:
            found = list(await self.kb_search(text, language, ARTICLES_TRIED))
            linked = await self._linked_article(text)
        except Exception:
            log.exception("knowledge-base search failed; answering without articles")
            return ()
        if linked is None:
            return found
        return [linked, *(a for a in found if a.slug != linked.slug)][:ARTICLES_TRIED]

    async def _linked_article(self, text: str) -> ArticleHint | None:
        if self.kb_article is None:
            return None
        article_id = await self.review.linked_article_id(text)
        if article_id is None:
            return None
        hint = await self.kb_article(article_id)  # None once the article is unpublished or gone
        return replace(hint, score=LINKED_SCORE) if hint is not None else None

    async def _mood(self, reading: Reading, channel: str) -> Mood | None:
        if self._mood_ready is None or reading.forced_intent is not None or not reading.text.strip():
            return None
        if not self._mood_ready.done():
            # the detector trains once per process; wait for it rather than train it twice
            await asyncio.wait({self._mood_ready}, timeout=self.bot_settings.ready_timeout_s)
        if self._detector is None:
            return None
        detector = self._detector()
        loop = asyncio.get_running_loop()
        return mood_of(await loop.run_in_executor(self._think, detector.score, reading.text, channel))

    async def _apply(self, ctx: TurnContext, message_id: int, decision: Decision, version_id: int | None) -> None:
        conversation_id = ctx.conversation_id
        if await self.store.status(conversation_id) != ConversationStatus.BOT.value:
            # a person took over while the bot was thinking (a slow Rasa, say): the bot says nothing
            log.debug("conversation %s left the bot during the turn; reply dropped", conversation_id)
            return
        meta = {"bot": {"version_id": version_id, "answered_by": decision.details.get("answered_by"),
                        "intent": decision.details.get("intent"), "reply_to": message_id}}
        for said in decision.messages:
            reply_id = await self.actions.post_reply(conversation_id, BOT, said.text, buttons=said.buttons,
                                                     automated=True, meta=meta)
            log.debug("conversation %s: bot reply stored as message %s", conversation_id, reply_id)
        if decision.action == "handoff":
            details = {**decision.details, "explanation": decision.explanation, "message_id": message_id,
                       "bot_version_id": version_id}
            moved = await self.actions.handoff(conversation_id, decision.handoff_reason or "handoff", details)
            if moved:
                await self.actions.add_note(conversation_id, SYSTEM, handoff_note(decision))
                log.info("conversation %s handed off: %s", conversation_id, decision.handoff_reason)
        await self.store.save_memory(conversation_id, decision.memory, version_id=version_id, message_id=message_id,
                                     handed_off=decision.action == "handoff")
        await self._review(ctx, message_id, decision, version_id)

    async def _review(self, ctx: TurnContext, message_id: int, decision: Decision, version_id: int | None) -> None:
        """Put the turn in the designer's review inbox when the bot was unsure, handed off or did not help."""
        cause = review_cause(decision)
        if cause is None:
            return
        try:
            await self.review.record(conversation_id=ctx.conversation_id, message_id=message_id, channel=ctx.channel,
                                     cause=cause, version_id=version_id, fallback_language=ctx.memory.language)
        except Exception:
            # the customer already has the answer; a lost inbox item must not fail the turn
            log.exception("could not record message %s for review", message_id)

    # ------------------------------------------------------------------------------------------ versions

    async def create_version(self, content: BotContent, *, label: str, source: str, engine_name: str = "embedded",
                             settings: Mapping[str, Any] | None = None, actor: str = "system") -> int:
        """Store content as a new version (checked: Rasa settings must parse)."""
        created = await self._create_version(content, label=label, source=source, engine_name=engine_name,
                                             settings=settings, actor=actor, only_if_first=False)
        assert created is not None
        return created

    async def _create_version(self, content: BotContent, *, label: str, source: str, engine_name: str,
                              settings: Mapping[str, Any] | None, actor: str, only_if_first: bool) -> int | None:
        clean = dict(settings or {})
        if engine_name == "rasa":
            clean["rasa"] = RasaRemoteConfig.from_mapping(clean.get("rasa") or {}).to_mapping()
        policy_config(clean, self.bot_settings, self.settings)  # refuse bad knobs now, not at the first message
        sha = engine.content_sha(dumps_content(content) + repr(sorted(clean.items())))
        return await self.store.create_version(content, label=label, source=source, engine=engine_name,
                                               settings=clean, actor=actor, content_sha=sha,
                                               only_if_first=only_if_first)

    async def train(self, version_id: int, *, activate: bool = False, actor: str = "system") -> asyncio.Task[None]:
        """Start training a version in the background; the task ends when it is ready (or failed)."""
        await self.store.start_training(version_id)
        task = asyncio.ensure_future(self._train(version_id, activate, actor))
        self._training[version_id] = task
        task.add_done_callback(lambda _t: self._training.pop(version_id, None))
        return task

    async def _train(self, version_id: int, activate: bool, activator: str) -> None:
        loop = asyncio.get_running_loop()
        updates: asyncio.Queue[tuple[float, str]] = asyncio.Queue()

        def progress(fraction: float, note: str) -> None:
            loop.call_soon_threadsafe(updates.put_nowait, (fraction, note))

        try:
            record = await self.store.version(version_id)
            metrics: dict[str, Any]
            evaluation: dict[str, Any] | None = None
            model_path: str | None = None
            if record.engine == "embedded":
                mode = record.settings.get("mode", self.bot_settings.train_mode)
                work = loop.run_in_executor(self._trainer, _train_and_save, record.content, mode, progress,
                                            record.content_sha, self.models_dir / _model_name(record),
                                            self.bot_settings.model_cache)
                while not work.done():
                    waiter = asyncio.ensure_future(updates.get())
                    pending: set[asyncio.Future[Any]] = {work, waiter}
                    await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                    if waiter.done():
                        fraction, note = waiter.result()
                        log.info("bot version %s: %3.0f%% %s", version_id, fraction * 100, note)
                        await self.store.report_progress(version_id, fraction, note)
                    else:
                        waiter.cancel()
                while not updates.empty():  # lines reported just before the end, in order
                    fraction, note = updates.get_nowait()
                    log.info("bot version %s: %3.0f%% %s", version_id, fraction * 100, note)
                metrics, evaluation = work.result()
                model_path = _model_name(record)
            else:
                config = RasaRemoteConfig.from_mapping(record.settings["rasa"])
                async with RasaRemote(config, session=self._http) as rasa:
                    metrics = {"rasa_version": await rasa.version(), "rasa_mode": config.mode.value}
            await self.store.finish_training(version_id, model_path, metrics,
                                             activate_as=activator if activate else None, evaluation=evaluation)
            log.info("bot version %s trained: %s", version_id, metrics)
            if activate:
                log.info("bot version %s is now active", version_id)
        except asyncio.CancelledError:
            await asyncio.shield(self.store.fail_training(version_id, "training was cancelled when Kefu stopped"))
            raise
        except Exception as exc:
            log.exception("training bot version %s failed", version_id)
            await self.store.fail_training(version_id, f"{type(exc).__name__}: {exc}")

    async def loaded(self, version_id: int) -> LoadedVersion:
        """A version with its model in memory (loaded once, off the event loop)."""
        found = self._loaded.get(version_id)
        if found is not None:
            return found
        lock = self._loading.setdefault(version_id, asyncio.Lock())
        async with lock:
            found = self._loaded.get(version_id)
            if found is not None:
                return found
            record = await self.store.version(version_id)
            if record.status != "ready":
                raise engine.ModelError(f"version {version_id} is {record.status}, not trained")
            model: engine.EmbeddedModel | None = None
            rasa: RasaRemoteConfig | None = None
            if record.engine == "rasa":
                rasa = RasaRemoteConfig.from_mapping(record.settings["rasa"])
            else:
                if not record.model_path:
                    raise engine.ModelError(f"version {version_id} has no model file")
                path = self.settings.data_dir / "bots" / record.model_path
                if not path.exists():
                    await self._train_here(record, path)
                model = await asyncio.get_running_loop().run_in_executor(self._think, engine.load, path,
                                                                         record.content)
            version = LoadedVersion(record, model, rasa, policy_config(record.settings, self.bot_settings,
                                                                        self.settings),
                                    tuple(i.name for i in record.content.intents))
            self._loaded[version_id] = version
            heap.settle()
            return version

    async def _train_here(self, record: VersionRecord, path: Path) -> None:
        """Another hub process trained this version on its own disk: train the same content here (seeded, so the
        same model), or take it from the shared model cache."""
        log.warning("bot version %s: model file %s is not on this machine; training it here", record.id, path.name)
        mode = record.settings.get("mode", self.bot_settings.train_mode)
        await asyncio.get_running_loop().run_in_executor(
            self._trainer, _train_and_save, record.content, mode, lambda _f, _n: None, record.content_sha, path,
            self.bot_settings.model_cache)

    async def test_message(self, version_id: int, text: str, *, channel: str = "webchat", tier: str = "standard",
                           memory: Memory | None = None) -> dict[str, Any]:
        """What a version would make of a message and do with it, without touching any conversation."""
        version = await self.loaded(version_id)
        turn = Turn(text, channel, memory or Memory(), tier)
        reading = policy.read_message(text, turn.memory, version.intents)
        understanding: Understanding | None = None
        articles: Sequence[ArticleHint] = ()
        error: str | None = None
        if version.rasa is None or version.rasa.mode is RasaMode.PARSE:
            try:
                understanding = await self.understand(version, reading.text)
            except RasaError as exc:
                error = str(exc)
            articles = await self.articles(reading.text, turn.language)
        decision = await self.decide(turn, version, sender=f"kefu-designer-test-{version_id}")
        return {
            "version_id": version_id,
            "text": text,
            "read_as": reading.text,
            "language": turn.language,
            "understanding": understanding_dict(understanding) if understanding is not None else None,
            "engine_error": error,
            "articles": [{"slug": a.slug, "title": a.title, "score": round(a.score, 3)} for a in articles],
            "decision": decision_dict(decision),
        }

    def export_content(self, record: VersionRecord) -> dict[str, Any]:
        """A version's content in Kefu's JSON form."""
        return content_to_json(record.content)


def _answers_by_intent(reading: Reading, understanding: Understanding, content: BotContent,
                       config: PolicyConfig) -> bool:
    """True when the policy will answer from an intent, so searching articles would be wasted."""
    if reading.forced_intent is not None:
        return True
    top = understanding.top
    threshold = config.intent_threshold if config.intent_threshold is not None else understanding.threshold
    return (top is not None and top.confidence >= threshold and top.name not in policy.FALLBACK_INTENTS
            and (top.name in policy.HANDOFF_INTENTS or content.response(f"utter_{top.name}") is not None))


def _model_name(record: VersionRecord) -> str:
    return f"version-{record.id}-{record.content_sha[:12]}.kefu-nlu"


def _train_and_save(content: BotContent, mode: engine.Mode, progress: engine.Progress, sha: str,
                    path: Path, cache: Path | None) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Train (or reuse a cached model), write the model file; returns the metrics and the evaluation."""
    cached = cache / f"{sha}-{mode}.kefu-nlu" if cache is not None else None
    # the evaluation is not in the model file (it holds example texts), so the cache keeps it beside
    cached_eval = cache / f"{sha}-{mode}.evaluation.json" if cache is not None else None
    if cached is not None and cached_eval is not None and cached.exists() and cached_eval.exists():
        try:
            model = engine.load(cached, content)
            evaluation = json.loads(cached_eval.read_text(encoding="utf-8"))
        except (engine.ModelError, ValueError):
            pass  # a damaged cache entry is trained again and overwritten
        else:
            progress(1.0, f"same content already trained: reused {cached.name}")
            engine.save(model, path)
            return dict(model.metrics), evaluation
    model = engine.train(content, mode, progress)
    engine.save(model, path)
    if cached is not None and cached_eval is not None:
        engine.save(model, cached)
        cached_eval.write_text(json.dumps(model.evaluation, ensure_ascii=False), encoding="utf-8")
    return dict(model.metrics), model.evaluation


def policy_config(settings: Mapping[str, Any], defaults: BotSettings, hub: Settings) -> PolicyConfig:
    """The policy knobs for a version: its own settings over KEFU_BOT_* defaults."""
    try:
        threshold = settings.get("intent_threshold")
        return PolicyConfig(
            unsure_limit=max(1, int(settings.get("unsure_limit", defaults.unsure_limit))),
            kb_min_score=float(settings.get("kb_min_score", defaults.kb_min_score)),
            intent_threshold=None if threshold is None else float(threshold),
            link_base=hub.public_url,
            handoff_on_complaint=bool(settings.get("handoff_on_complaint", True)),
        )
    except (TypeError, ValueError) as exc:
        raise DomainError(f"bad bot settings: {exc}", code="invalid_settings") from exc


def understanding_from_rasa(parsed: ParseResult, threshold: float) -> Understanding:
    """Rasa's /model/parse answer in the policy's terms."""
    ranking = parsed.ranking or ((parsed.intent,) if parsed.intent is not None else ())
    return Understanding(
        tuple(IntentGuess(s.name, s.confidence) for s in ranking),
        tuple(EntityFound(e.entity, e.value, e.start, e.end) for e in parsed.entities),
        threshold,
    )


def understanding_dict(understanding: Understanding) -> dict[str, Any]:
    """An understanding as the designer API shows it."""
    return {
        "intent": understanding.top.name if understanding.top else None,
        "confident": understanding.confident,
        "threshold": round(understanding.threshold, 3),
        "ranking": [{"name": g.name, "confidence": round(g.confidence, 4)} for g in understanding.ranking],
        "entities": [{"entity": e.entity, "value": e.value, "start": e.start, "end": e.end}
                     for e in understanding.entities],
    }


def decision_dict(decision: Decision) -> dict[str, Any]:
    """A decision as the designer API shows it."""
    return {
        "action": decision.action,
        "would_hand_off": decision.action == "handoff",
        "reason": decision.reason,
        "explanation": decision.explanation,
        "messages": [{"text": m.text, "buttons": [{"title": b.title, "payload": b.payload} for b in m.buttons]}
                     for m in decision.messages],
        "details": dict(decision.details),
    }


def handoff_note(decision: Decision) -> str:
    """The private note agents see when the bot hands a conversation over."""
    details = decision.details
    lines = [f"Bot handed off: {decision.explanation or decision.reason}"]
    if details.get("intent"):
        lines.append(f"Detected intent: {details['intent']} ({details.get('confidence')})")
    articles = details.get("articles") or []
    if articles:
        lines.append("Articles tried: " + ", ".join(f"{a['title']} ({a['slug']})" for a in articles))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- wiring

BOT_SERVICE: web.AppKey[BotService] = web.AppKey("kefu.bot", BotService)


def knowledge_base_search(app: web.Application) -> KbSearch:
    """Search the hub's knowledge base, whichever is installed on the app when a message comes."""

    async def search(text: str, language: str | None, limit: int) -> Sequence[ArticleHint]:
        try:
            from knowledge_base.keys import KNOWLEDGE_BASE
        except ImportError:
            return ()
        kb = app.get(KNOWLEDGE_BASE)
        if kb is None:
            return ()
        hits = await kb.search(text, language=language, limit=limit)  # type: ignore[attr-defined]
        return [ArticleHint(h.slug, h.title, float(h.score), h.snippet.text) for h in hits]

    return search


def knowledge_base_article(app: web.Application) -> KbArticle:
    """One published article of the hub's knowledge base as a hint, by id (None if not published)."""

    async def article(article_id: int) -> ArticleHint | None:
        try:
            from knowledge_base.keys import KNOWLEDGE_BASE
            from knowledge_base.markdown_text import markdown_to_text
        except ImportError:
            return None
        kb = app.get(KNOWLEDGE_BASE)
        if kb is None:
            return None
        try:
            stored = await kb.store.get(article_id)  # type: ignore[attr-defined]
        except NotFound:
            return None
        if not stored.article.is_published:
            return None
        snippet = " ".join(markdown_to_text(stored.article.body_markdown).split())[:SNIPPET_CHARS]
        return ArticleHint(stored.article.slug, stored.article.title, LINKED_SCORE, snippet)

    return article


def _complaint_service(app: web.Application) -> Any:
    try:
        from hub.analysis.service import ANALYSIS
    except ImportError:
        return None
    return app.get(ANALYSIS)


async def _bot_ctx(app: web.Application) -> AsyncIterator[None]:
    service = app[BOT_SERVICE]
    await service.start()
    yield
    await service.stop()


def install(app: web.Application, *, kb_search: KbSearch | None = None) -> BotService:
    """Put the bot on the app: the service, its bus subscription (when on), designer routes, start/stop."""
    from agents_ui.bot_api import routes
    from agents_ui.designer_api import routes as designer_routes
    from agents_ui.review_api import routes as review_routes

    settings = app[SETTINGS]
    store = BotStore(app[DATABASE], app[BUS])
    service = BotService(settings, store, app[ACTIONS], kb_search=kb_search or knowledge_base_search(app),
                         kb_article=knowledge_base_article(app),
                         complaints=lambda: _complaint_service(app))
    app[BOT_SERVICE] = service
    if settings.bot_enabled:
        app[BUS].subscribe(service.on_event, name="bot", events=(MessageReceived,))
    app.router.add_routes(routes)
    app.router.add_routes(designer_routes)
    app.router.add_routes(review_routes)
    register_privacy()
    app.cleanup_ctx.append(_bot_ctx)
    return service
