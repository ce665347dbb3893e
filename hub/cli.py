"""The `kefu` command: serve, migrate, agent add, bot eval."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import logging
import os
import sys
from collections.abc import Sequence

from aiohttp import web

from hub.config import Settings
from hub.domain import DomainError, Role


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        database_url=getattr(args, "database", None),
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
    )


def new_event_loop(choice: str) -> asyncio.AbstractEventLoop:
    """The loop `kefu serve` runs on: uvloop when installed (its sockets cost less CPU), or asyncio's own."""
    if choice not in ("auto", "uvloop", "asyncio"):
        raise SystemExit(f"KEFU_EVENT_LOOP must be auto, uvloop or asyncio, not {choice!r}")
    if choice != "asyncio":
        try:
            import uvloop
        except ImportError:
            if choice == "uvloop":
                raise SystemExit("KEFU_EVENT_LOOP=uvloop but uvloop is not installed") from None
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def _serve(args: argparse.Namespace) -> int:
    from hub import heap
    from hub.app import create_app
    from hub.channel_setup import channels_from_env
    from hub.demo import seed_on_startup

    settings = _settings(args)
    if args.demo:
        # the demo shows the bot at work: new conversations start with the starter bot
        settings = dataclasses.replace(settings, bot_enabled=True)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(settings, extra_channels=channels_from_env())
    if args.demo:
        app.on_startup.append(seed_on_startup)
    heap.enable()
    app.on_startup.append(heap.freeze_at_startup)
    where = settings.effective_database_url.split("@")[-1]
    print(f"Kefu on http://{settings.host}:{settings.port}  (database: {where})", flush=True)
    print(f"  agent console: http://{settings.host}:{settings.port}/console", flush=True)
    print(f"  demo web chat: http://{settings.host}:{settings.port}/demo", flush=True)
    web.run_app(app, host=settings.host, port=settings.port, print=None, loop=new_event_loop(settings.event_loop))
    return 0


async def _with_database(settings: Settings, work):  # type: ignore[no-untyped-def]
    from hub.actions import Actions
    from hub.attachments import AttachmentStore
    from hub.events import InProcessBus
    from hub.storage import migrate
    from hub.storage.database import Database

    db = Database(settings.effective_database_url)
    try:
        await migrate.upgrade(db)
        actions = Actions(db, InProcessBus(), settings, AttachmentStore(settings.data_dir / "attachments"))
        return await work(actions)
    finally:
        await db.dispose()


def _migrate(args: argparse.Namespace) -> int:
    async def nothing(actions):  # type: ignore[no-untyped-def]
        return None

    asyncio.run(_with_database(_settings(args), nothing))
    print("database is up to date")
    return 0


def _agent_add(args: argparse.Namespace) -> int:
    from hub.passwords import hash_password_sync

    password = args.password or os.environ.get("KEFU_AGENT_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            print("error: give --password, KEFU_AGENT_PASSWORD, or run in a terminal", file=sys.stderr)
            return 2
        password = getpass.getpass("Password: ")
    try:
        password_hash = hash_password_sync(password)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    async def add(actions):  # type: ignore[no-untyped-def]
        return await actions.create_agent(
            name=args.name, email=args.email, password_hash=password_hash, role=Role(args.role)
        )

    try:
        agent_id = asyncio.run(_with_database(_settings(args), add))
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(f"agent {agent_id} added: {args.email.strip().lower()} ({args.role})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(prog="kefu", description="Kefu omnichannel support hub")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the hub")
    serve.add_argument("--host", help="listen address (KEFU_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (KEFU_PORT, default 8080)")
    serve.add_argument("--database", help="database URL (KEFU_DATABASE_URL, default SQLite in the data dir)")
    serve.add_argument("--demo", action="store_true", help="seed a demo agent, customers and conversations")
    serve.set_defaults(func=_serve)

    mig = sub.add_parser("migrate", help="apply database migrations and exit")
    mig.add_argument("--database")
    mig.set_defaults(func=_migrate)

    agent = sub.add_parser("agent", help="manage agent accounts")
    agent_sub = agent.add_subparsers(dest="agent_command", required=True)
    add = agent_sub.add_parser("add", help="add an agent")
    add.add_argument("--name", required=True)
    add.add_argument("--email", required=True)
    add.add_argument("--role", default="agent", choices=[r.value for r in Role])
    add.add_argument("--password", help="or KEFU_AGENT_PASSWORD, or asked for in a terminal")
    add.add_argument("--database")
    add.set_defaults(func=_agent_add)

    from hub.analysis.report_cli import add_report_command

    add_report_command(sub)

    try:
        from bots.cli import add_commands
    except ImportError:
        pass
    else:
        add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `kefu` console script."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
