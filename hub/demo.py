"""`kefu serve --demo`: a demo agent, customers and conversations so a newcomer sees Kefu at work."""
from __future__ import annotations

import logging
from datetime import timedelta

from aiohttp import web

from channels.base import InboundMessage, ThreadHint, utcnow
from hub.actions import SYSTEM, Actions, agent_actor
from hub.domain import Role
from hub.keys import ACTIONS, QUERIES
from hub.passwords import hash_password
from hub.queries import Queries

log = logging.getLogger(__name__)

DEMO_PASSWORD = "kefu-demo"
DEMO_AGENTS = (
    ("Li Lei 李雷", "agent@example.com", Role.AGENT),
    ("Sam Supervisor", "supervisor@example.com", Role.SUPERVISOR),
    ("Dana Designer", "designer@example.com", Role.DESIGNER),
)


async def seed(actions: Actions, queries: Queries) -> bool:
    """Add the demo data once; returns False when it was already there."""
    if await queries.agent_by_email(DEMO_AGENTS[0][1]) is not None:
        return False
    ids = {}
    for name, email, role in DEMO_AGENTS:
        ids[email] = await actions.create_agent(
            name=name, email=email, password_hash=await hash_password(DEMO_PASSWORD), role=role
        )
    agent = agent_actor(ids["agent@example.com"], Role.AGENT)
    now = utcnow()

    old = await actions.receive_inbound(InboundMessage(
        channel="email", external_id="demo-1@customer.example", sender="john.smith@example.com",
        sender_name="John Smith", text="Hello, how do I change the delivery address of order #1042?",
        thread=ThreadHint(subject="Change delivery address", message_id="demo-1@customer.example"),
        received_at=now - timedelta(days=3),
    ))
    await actions.take_conversation(old.conversation_id, agent)
    await actions.add_note(old.conversation_id, agent, "Changed the address in the shop admin; told him by phone.")
    await actions.resolve(old.conversation_id, agent)
    await actions.receive_inbound(InboundMessage(
        channel="email", external_id="demo-2@customer.example", sender="john.smith@example.com",
        sender_name="John Smith", text="My parcel still has not arrived, this is the second time I ask.",
        thread=ThreadHint(subject="Where is my parcel?", message_id="demo-2@customer.example"),
    ))
    await actions.receive_inbound(InboundMessage(
        channel="webchat", external_id="demo:wang-1", sender="v:demo-wang-fang", sender_name="王芳",
        text="你好，我的订单什么时候发货？",
    ))
    await actions.receive_inbound(InboundMessage(
        channel="sms", external_id="SMdemo0001", sender="+8613800138000", sender_name=None,
        text="Can I return shoes I bought last week?",
    ))
    log.info("demo data seeded by %s", SYSTEM.label)
    return True


async def seed_on_startup(app: web.Application) -> None:
    """aiohttp on_startup hook for --demo."""
    if await seed(app[ACTIONS], app[QUERIES]):
        print(f"demo data added; log in as agent@example.com / {DEMO_PASSWORD}", flush=True)
    else:
        print(f"demo data already present; log in as agent@example.com / {DEMO_PASSWORD}", flush=True)
