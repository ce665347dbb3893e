"""How long the bot takes to decide a reply: 150 intents, 10,000 help articles, complaint scoring.

Run: python -m bench.bot_reply [--intents 150] [--per-intent 20] [--articles 10000] [--queries 2000]

The bot is built from the BANKING77 and HWU64 training sets in shared/bench-data (plus the
starter bot), trained with the embedded engine; the knowledge base is bench.kb_search's generated
articles in one SearchIndex. Each customer question goes through BotService.decide exactly as in a
conversation: button/number reading, complaint scoring, classification and (when no intent is sure)
knowledge-base search in executors, then the policy. The database reads and writes around a turn
are not included (see bench.webchat for the message path through the hub).
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import random
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from bench.kb_search import generate_articles, generate_queries
from bots import engine, policy
from bots.content import BotContent, Example, Intent, NluData, Response, ResponseVariation
from bots.policy import ArticleHint, Memory, PolicyConfig, Turn
from bots.service import BotService, BotSettings, LoadedVersion
from bots.starter import load_starter
from bots.store import VersionRecord
from hub.config import Settings
from knowledge_base.search import SearchIndex

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "bench-data"
if not DATA.exists():
    DATA = Path("/work/shared/bench-data")


def _csv(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return [(row["text"], row["category"]) for row in csv.DictReader(handle)]


def build_content(intents: int, per_intent: int, seed: int = 3) -> tuple[BotContent, list[str]]:
    """A bot with `intents` intents (starter first, then BANKING77 and HWU64), and held-out test questions."""
    rng = random.Random(seed)
    starter = load_starter()
    chosen = list(starter.intents)
    responses = list(starter.responses)
    tests: list[str] = []
    for name in ("banking77", "hwu64"):
        train = defaultdict(list)
        for text, label in _csv(DATA / name / "train.csv"):
            train[f"{name}_{label}"].append(text)
        held = defaultdict(list)
        for text, label in _csv(DATA / name / "test.csv"):
            held[f"{name}_{label}"].append(text)
        for label in sorted(train):
            if len(chosen) >= intents:
                break
            examples = train[label][:per_intent]
            chosen.append(Intent(label, tuple(Example(t) for t in examples)))
            responses.append(Response(f"utter_{label}", (ResponseVariation(f"About {label}: here is what to do."),)))
            tests.extend(held[label][:5])
    rng.shuffle(tests)
    return BotContent(nlu=NluData(tuple(chosen)), responses=tuple(responses)), tests


def percentile(samples: Sequence[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def line(label: str, samples_ms: Sequence[float]) -> str:
    return (f"{label:<34} p50 {percentile(samples_ms, 0.5):6.2f} ms   p99 {percentile(samples_ms, 0.99):6.2f} ms   "
            f"max {max(samples_ms):6.2f} ms   mean {statistics.fmean(samples_ms):6.2f} ms   n={len(samples_ms)}")


async def run(args: argparse.Namespace) -> None:
    print(f"building a bot of {args.intents} intents ({args.per_intent} examples each at most) ...", flush=True)
    content, held_out = build_content(args.intents, args.per_intent)
    started = time.perf_counter()
    model = engine.train(content, args.mode)
    print(f"trained {len(model.intents)} intents on {model.metrics['examples']} examples in "
          f"{time.perf_counter() - started:.1f} s (held-out accuracy {model.metrics['held_out_accuracy']:.3f})",
          flush=True)

    started = time.perf_counter()
    index = SearchIndex.build(generate_articles(args.articles))
    print(f"indexed {len(index)} articles in {time.perf_counter() - started:.1f} s", flush=True)

    from hub.analysis.complaints import default_detector

    started = time.perf_counter()
    detector = default_detector()
    print(f"complaint detector ready in {time.perf_counter() - started:.1f} s", flush=True)

    loop = asyncio.get_running_loop()
    search_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="bench-kb")

    async def kb_search(text: str, language: str | None, limit: int) -> list[ArticleHint]:
        hits = await loop.run_in_executor(search_pool, partial(index.search, text, language=language, limit=limit))
        return [ArticleHint(h.slug, h.title, h.score, h.snippet.text) for h in hits]

    with tempfile.TemporaryDirectory() as tmp:
        service = BotService(Settings(data_dir=Path(tmp)), store=None, actions=None,  # type: ignore[arg-type]
                             bot_settings=BotSettings(), kb_search=kb_search)
        service._detector = lambda: detector
        service._mood_ready = loop.create_future()
        service._mood_ready.set_result(None)
        record = VersionRecord(1, "bench", "bench", "embedded", {}, content, "", "ready", None, {})
        version = LoadedVersion(record, model, None, PolicyConfig(), tuple(model.intents))

        rng = random.Random(5)
        kb_questions = generate_queries(args.queries // 2, "zh") + generate_queries(args.queries // 2, "en")
        questions = held_out[: args.queries] + kb_questions
        rng.shuffle(questions)
        for text in questions[:50]:  # warm caches and threads
            await service.decide(Turn(text, "webchat"), version, sender="bench")

        total: list[float] = []
        by_kind: dict[str, list[float]] = defaultdict(list)
        for text in questions:
            turn = Turn(text, "webchat", Memory())
            t0 = time.perf_counter_ns()
            decision = await service.decide(turn, version, sender="bench")
            elapsed = (time.perf_counter_ns() - t0) / 1e6
            total.append(elapsed)
            kind = decision.details.get("answered_by") or decision.reason or decision.action
            by_kind[str(kind)].append(elapsed)

        parts: dict[str, list[float]] = defaultdict(list)
        for text in questions[:500]:
            for label, call in (("  classify (embedded model)", lambda t=text: model.understand(t)),
                                ("  complaint score", lambda t=text: detector.score(t, "webchat")),
                                ("  knowledge-base search (top 3)", lambda t=text: index.search(t, limit=3))):
                t0 = time.perf_counter_ns()
                call()
                parts[label].append((time.perf_counter_ns() - t0) / 1e6)
            reading = policy.read_message(text, Memory(), version.intents)
            understanding = model.understand(text)
            t0 = time.perf_counter_ns()
            policy.decide(Turn(text, "webchat"), reading, understanding, (), content)
            parts["  policy (pure)"].append((time.perf_counter_ns() - t0) / 1e6)
        await service.stop()
    search_pool.shutdown()

    print()
    print(f"reply decision, {len(model.intents)} intents, {len(index)} articles, {len(questions)} questions, "
          "one at a time")
    print(line("decide (whole turn, no database)", total))
    for kind, samples in sorted(by_kind.items()):
        print(line(f"  answered by {kind}", samples))
    print("parts, called directly:")
    for label, samples in parts.items():
        print(line(label, samples))
    target = percentile(total, 0.99)
    print(f"\np99 {target:.2f} ms against a target of 15 ms: {'met' if target <= 15 else 'MISSED'}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intents", type=int, default=150)
    parser.add_argument("--per-intent", type=int, default=20)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--mode", choices=("fast", "accurate"), default="fast")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
