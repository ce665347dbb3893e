"""`kefu bot ...`: train, import and export bot versions, activate and roll back, from a terminal."""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from bots.content import BotContent, ContentError, loads_content
from bots.rasa_format import (
    RasaFormatError,
    from_bot_content,
    read_domain,
    read_nlu_file,
    to_bot_content,
    write_domain,
    write_nlu,
)

T = TypeVar("T")


def read_bot(path: Path) -> tuple[BotContent, str]:
    """Content from Kefu JSON, a Rasa nlu file (.yml/.json), or a folder holding nlu.yml and domain.yml."""
    if path.is_dir():
        nlu_path = next((path / n for n in ("nlu.yml", "nlu.yaml", "data/nlu.yml") if (path / n).exists()), None)
        if nlu_path is None:
            raise FileNotFoundError(f"{path} has no nlu.yml")
        domain_path = next((path / n for n in ("domain.yml", "domain.yaml") if (path / n).exists()), None)
        return to_bot_content(read_nlu_file(nlu_path), read_domain(domain_path) if domain_path else None), "rasa"
    if path.suffix == ".json":
        text = path.read_text(encoding="utf-8")
        if '"kefu-bot"' in text:
            return loads_content(text), "kefu-json"
    return to_bot_content(read_nlu_file(path)), "rasa"


async def _with_service(args: argparse.Namespace, work: Callable[[Any], Awaitable[T]]) -> T:
    from bots.service import BotService
    from bots.store import BotStore
    from hub.actions import Actions
    from hub.attachments import AttachmentStore
    from hub.config import Settings
    from hub.events import InProcessBus
    from hub.storage import migrate
    from hub.storage.database import Database

    settings = Settings.from_env(database_url=getattr(args, "database", None))
    db = Database(settings.effective_database_url)
    service: BotService | None = None
    try:
        await migrate.upgrade(db)
        bus = InProcessBus()
        actions = Actions(db, bus, settings, AttachmentStore(settings.data_dir / "attachments"))
        service = BotService(settings, BotStore(db, bus), actions)
        return await work(service)
    finally:
        if service is not None:
            await service.stop()
        await db.dispose()


async def _create_and_train(service: Any, content: BotContent, source: str, args: argparse.Namespace) -> int:
    settings = {"mode": args.mode} if getattr(args, "mode", None) else {}
    version_id: int = await service.create_version(content, label=args.label or source, source="cli",
                                                   settings=settings)
    print(f"bot version {version_id} created ({len(content.intents)} intents, {len(content.responses)} responses)")
    if getattr(args, "train", True):
        task = await service.train(version_id, activate=args.activate)
        await task
        info = await service.store.version_info(version_id)
        if info["status"] != "ready":
            raise RuntimeError(f"training failed: {info['error']}")
        metrics = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in info["metrics"].items())
        print(f"bot version {version_id} trained: {metrics}")
        if args.activate:
            print(f"bot version {version_id} is active")
    return version_id


def _run(args: argparse.Namespace, work: Callable[[Any], Awaitable[Any]]) -> int:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("bots.service")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        asyncio.run(_with_service(args, work))
    except (OSError, ContentError, RasaFormatError, RuntimeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        from hub.domain import DomainError

        if isinstance(exc, DomainError):
            print(f"error: {exc.message}", file=sys.stderr)
            return 1
        raise
    finally:
        logger.removeHandler(handler)
    return 0


def _train(args: argparse.Namespace) -> int:
    try:
        content, source = read_bot(Path(args.path))
    except (OSError, ContentError, RasaFormatError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return _run(args, lambda service: _create_and_train(service, content, source, args))


def _import_rasa(args: argparse.Namespace) -> int:
    try:
        nlu = read_nlu_file(args.nlu)
        domain = read_domain(args.domain) if args.domain else None
        content = to_bot_content(nlu, domain)
    except (OSError, ContentError, RasaFormatError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return _run(args, lambda service: _create_and_train(service, content, "rasa", args))


def _activate(args: argparse.Namespace) -> int:
    async def work(service: Any) -> None:
        previous = await service.store.activate(args.version, "cli")
        print(f"bot version {args.version} is active (was {previous})")

    return _run(args, work)


def _rollback(args: argparse.Namespace) -> int:
    async def work(service: Any) -> None:
        version_id = await service.store.rollback("cli")
        print(f"rolled back: bot version {version_id} is active")

    return _run(args, work)


def _versions(args: argparse.Namespace) -> int:
    async def work(service: Any) -> None:
        items, _active = await service.store.list_versions()
        for v in items:
            mark = "*" if v["active"] else " "
            print(f"{mark} {v['id']:>4}  {v['status']:<8} {v['engine']:<8} {v['intents']:>3} intents  {v['label']}")

    return _run(args, work)


def _export_rasa(args: argparse.Namespace) -> int:
    async def work(service: Any) -> None:
        record = await service.store.version(args.version)
        nlu, domain = from_bot_content(record.content)
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "nlu.yml").write_text(write_nlu(nlu), encoding="utf-8")
        (out / "domain.yml").write_text(write_domain(domain), encoding="utf-8")
        print(f"wrote {out / 'nlu.yml'} and {out / 'domain.yml'}")

    return _run(args, work)


def _eval(args: argparse.Namespace) -> int:
    """Train on --train, report accuracy, macro-F1, per-intent scores and confusions on --test."""
    from bots.evaluate import StderrProgress, evaluate, format_report, load_examples
    from bots.nlu import MissingExtraError

    try:
        train = load_examples(args.train)
        test = load_examples(args.test)
        report = evaluate(train, test, args.mode, args.oos_label or None, StderrProgress())
    except MissingExtraError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (OSError, RasaFormatError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(report.to_json() if args.json else format_report(report))
    return 0


def add_commands(sub: Any) -> None:
    """Add `kefu bot ...` to the kefu command's subparsers."""
    bot = sub.add_parser("bot", help="bot versions: train, import, export, activate, roll back")
    bot_sub = bot.add_subparsers(dest="bot_command", required=True)

    train = bot_sub.add_parser("train", help="create a bot version from files and train it")
    train.add_argument("path", help="Kefu JSON (kefu-bot), a Rasa nlu.yml, or a folder with nlu.yml and domain.yml")
    train.add_argument("--label", help="a name for the version")
    train.add_argument("--mode", choices=("fast", "accurate"), help="classifier mode (KEFU_BOT_TRAIN_MODE)")
    train.add_argument("--activate", action="store_true", help="make it the active version once trained")
    train.add_argument("--database")
    train.set_defaults(func=_train, train=True)

    imp = bot_sub.add_parser("import-rasa", help="import Rasa nlu.yml (+ domain.yml) as a new version")
    imp.add_argument("nlu")
    imp.add_argument("domain", nargs="?")
    imp.add_argument("--label")
    imp.add_argument("--mode", choices=("fast", "accurate"))
    imp.add_argument("--no-train", dest="train", action="store_false", help="only store it")
    imp.add_argument("--activate", action="store_true")
    imp.add_argument("--database")
    imp.set_defaults(func=_import_rasa)

    act = bot_sub.add_parser("activate", help="make a trained version the one that answers customers")
    act.add_argument("version", type=int)
    act.add_argument("--database")
    act.set_defaults(func=_activate)

    back = bot_sub.add_parser("rollback", help="go back to the previously active version")
    back.add_argument("--database")
    back.set_defaults(func=_rollback)

    ls = bot_sub.add_parser("versions", help="list bot versions (* marks the active one)")
    ls.add_argument("--database")
    ls.set_defaults(func=_versions)

    exp = bot_sub.add_parser("export-rasa", help="write a version's content as Rasa nlu.yml and domain.yml")
    exp.add_argument("version", type=int)
    exp.add_argument("out", help="folder to write into")
    exp.add_argument("--database")
    exp.set_defaults(func=_export_rasa)

    ev = bot_sub.add_parser("eval", help="train the intent classifier on one file and measure it on another")
    ev.add_argument("--train", required=True, type=Path, help="text,category CSV or Rasa nlu.yml")
    ev.add_argument("--test", required=True, type=Path, help="text,category CSV or Rasa nlu.yml")
    ev.add_argument("--json", action="store_true", help="print the report as JSON")
    ev.add_argument("--mode", choices=("fast", "accurate"), default="fast")
    ev.add_argument("--oos-label", default="oos",
                    help="label of out-of-scope rows: in --train they only tune the threshold ('' for none)")
    ev.set_defaults(func=_eval)


def main(argv: list[str] | None = None) -> int:
    """`python -m bots.cli bot ...`, the same commands as `kefu bot ...`."""
    parser = argparse.ArgumentParser(prog="python -m bots.cli")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
