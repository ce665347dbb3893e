"""A customer asks what Kefu holds about them, then to be forgotten (GDPR / PIPL)."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient
from sqlalchemy import Connection

from channels.base import Attachment, ThreadHint
from hub.customers.privacy import register_section, unregister_section
from hub.domain import Role
from hub.keys import ACTIONS, BUS, DATABASE
from hub.storage.schema import metadata
from tests.customers.helpers import call, customer_writes, staff, until
from tests.support import AgentSession

NAME, EMAIL, PHONE, PHRASE = "张伟 Zhang Wei", "zhang.wei@example.cn", "+8613812345678", "Biscuit"
PHOTO = b"\x89PNG fake bytes of Biscuit the purple elephant"
SHARED = b"%PDF the shop's price list, sent by many customers"

# A subsystem of the test's own: loyalty cards that name the customer.
loyalty_meta = sa.MetaData()
loyalty = sa.Table(
    "test_loyalty_cards", loyalty_meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("customer_id", sa.Integer, nullable=False),
    sa.Column("printed_name", sa.String(200), nullable=False),
)


def _export_cards(conn: Connection, customer_id: int) -> Any:
    rows = conn.execute(sa.select(loyalty.c.printed_name).where(loyalty.c.customer_id == customer_id))
    return [r.printed_name for r in rows]


def _erase_cards(conn: Connection, customer_id: int) -> None:
    conn.execute(sa.delete(loyalty).where(loyalty.c.customer_id == customer_id))


def _erase_fails(conn: Connection, customer_id: int) -> None:
    raise RuntimeError("the loyalty system is down")


@pytest.fixture
def loyalty_section() -> Iterator[None]:
    register_section("test_loyalty", _export_cards, _erase_cards)
    yield
    unregister_section("test_loyalty")


def _everything(conn: Connection, extra: tuple[sa.Table, ...]) -> list[tuple[str, str]]:
    """Every stored value of every table as text (JSON unescaped), with its table name."""
    found = []
    for table in [*metadata.sorted_tables, *extra]:
        for row in conn.execute(sa.select(table)):
            for value in row:
                if value is None:
                    continue
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
                found.append((table.name, text))
    return found


async def _leaks(hub: TestClient, needles: list[str], *extra: sa.Table) -> list[tuple[str, str]]:
    async with hub.app[DATABASE].read() as conn:
        values = await conn.run_sync(_everything, extra)
    return [(table, needle) for table, text in values for needle in needles if needle.lower() in text.lower()]


async def _story(hub: TestClient, agent: AgentSession) -> tuple[int, int]:
    """Zhang writes by SMS and email (a photo and a shared price list), rates the help, and fills a record."""
    sms = await customer_writes(hub, "sms", PHONE, f"我的包裹里有 {PHRASE} 吗？第三次问了！", "SM-priv-1")
    customer_id = sms.customer_id
    mail = await customer_writes(
        hub, "email", EMAIL, f"Photo of {PHRASE} attached.", "<m1@example.cn>",
        html=f"<p>Photo of <b>{PHRASE}</b> attached.</p>", thread=ThreadHint(subject=f"{PHRASE} photo"),
        verified_addresses=(("sms", PHONE),),
        attachments=(Attachment(f"{PHRASE}.png", "image/png", len(PHOTO), data=PHOTO),
                     Attachment("prices.pdf", "application/pdf", len(SHARED), data=SHARED)),
    )
    assert mail.customer_id == customer_id
    other = await customer_writes(hub, "sms", "+15550999", "price list attached", "SM-priv-other",
                                  attachments=(Attachment("prices.pdf", "application/pdf", len(SHARED),
                                                          data=SHARED),))
    assert other.customer_id != customer_id
    status, _ = await call(agent, "PATCH", f"/api/customers/{customer_id}/record", {
        "name": NAME, "emails": [EMAIL], "phones": [PHONE], "company": "张氏贸易", "address": "北京市朝阳区 1 号",
        "notes": f"Owns {PHRASE}", "tags": ["vip"],
    })
    assert status == 200
    await agent.post(f"/api/conversations/{sms.conversation_id}/take")
    await agent.post(f"/api/conversations/{sms.conversation_id}/messages", {"text": f"您好 {NAME}，已查到。"})
    await agent.post(f"/api/conversations/{sms.conversation_id}/notes", {"text": f"Called {PHONE} about {PHRASE}"})
    await agent.post(f"/api/conversations/{sms.conversation_id}/resolve")

    async def asked() -> bool:
        _, page = await agent.get(f"/api/customers/{customer_id}/timeline?kind=csat")
        return bool(page["items"])

    await until(asked)
    await customer_writes(hub, "sms", PHONE, f"5: {PHRASE} says thanks", "SM-priv-2")
    await hub.app[BUS].drain()  # let every subscriber (scoring, CSAT thanks) finish with the messages
    return customer_id, mail.conversation_id


async def test_a_supervisor_exports_and_an_admin_erases_leaving_no_personal_data(
    hub: TestClient, login_as: Any, loyalty_section: None
) -> None:
    agent = await staff(hub, login_as, Role.AGENT)
    supervisor = await staff(hub, login_as, Role.SUPERVISOR)
    admin = await staff(hub, login_as, Role.ADMIN)
    await hub.app[DATABASE].run_write(lambda conn: loyalty_meta.create_all(conn))
    customer_id, _ = await _story(hub, agent)
    await hub.app[DATABASE].run_write(
        lambda conn: conn.execute(sa.insert(loyalty), {"customer_id": customer_id, "printed_name": NAME})
    )
    store = hub.app[ACTIONS].attachments
    photo_path = store.path_for(hashlib.sha256(PHOTO).hexdigest())
    shared_path = store.path_for(hashlib.sha256(SHARED).hexdigest())
    assert photo_path.exists() and shared_path.exists()

    assert (await agent.get(f"/api/customers/{customer_id}/privacy/export"))[0] == 403
    resp = await supervisor.client.get(f"/api/customers/{customer_id}/privacy/export")
    assert resp.status == 200 and "attachment" in resp.headers["Content-Disposition"]
    exported = await resp.json()
    assert exported["format"] == "kefu.customer-export/1"
    assert exported["customer"]["name"] == NAME and exported["customer"]["emails"] == [EMAIL]
    assert {(i["channel"], i["address"]) for i in exported["identities"]} >= {("sms", PHONE), ("email", EMAIL)}
    texts = [m["text"] for c in exported["conversations"] for m in c["messages"]]
    assert any(PHRASE in t for t in texts) and f"Called {PHONE} about {PHRASE}" in texts
    assert exported["satisfaction"][0]["comment"] == f"{PHRASE} says thanks"
    assert exported["sections"]["test_loyalty"] == [{"customer_id": customer_id, "data": [NAME]}]
    assert set(exported["sections"]) == _registered()  # every subsystem that registered is in the file
    assert any(e["kind"] == "csat.rated" for e in exported["events"])

    assert (await call(supervisor, "POST", f"/api/customers/{customer_id}/privacy/erase",
                       {"confirm": customer_id, "basis": "gdpr"}))[0] == 403
    for body, code in [({"basis": "gdpr"}, "not_confirmed"), ({"confirm": customer_id + 1, "basis": "gdpr"},
                                                              "not_confirmed"),
                       ({"confirm": customer_id, "basis": "because"}, "invalid_basis")]:
        status, answer = await call(admin, "POST", f"/api/customers/{customer_id}/privacy/erase", body)
        assert (status, answer["error"]) == (400, code)

    # A section that fails rolls the whole erasure back: nothing is half-erased.
    register_section("test_failing", lambda conn, cid: None, _erase_fails)
    try:
        status, answer = await call(admin, "POST", f"/api/customers/{customer_id}/privacy/erase",
                                    {"confirm": customer_id, "basis": "pipl"})
        assert (status, answer["error"]) == (500, "internal_error")
    finally:
        unregister_section("test_failing")
    assert (await agent.get(f"/api/customers/{customer_id}/record"))[1]["customer"]["name"] == NAME
    assert photo_path.exists()

    status, answer = await call(admin, "POST", f"/api/customers/{customer_id}/privacy/erase",
                                {"confirm": customer_id, "basis": "pipl"})
    assert status == 200, answer
    counts = answer["erased"]
    assert (counts["records"], counts["conversations"], counts["identities"], counts["attachments"]) == (1, 2, 2, 1)
    assert counts["messages"] >= 7

    needles = [NAME, "张伟", "Zhang Wei", EMAIL, PHONE, PHONE.removeprefix("+86"), PHRASE, "张氏贸易"]
    assert await _leaks(hub, needles, loyalty) == []
    assert not photo_path.exists() and shared_path.exists()  # the price list is still another customer's

    _, record = await agent.get(f"/api/customers/{customer_id}/record")
    customer = record["customer"]
    assert customer["erased"] is True and customer["identities"] == [] and customer["emails"] == []
    assert customer["name"] is None and customer["notes"] is None and customer["attributes"] == {}
    _, page = await agent.get(f"/api/customers/{customer_id}/timeline?kind=record&limit=1")
    erased = page["items"][0]
    assert erased["event"] == "customer.erased" and erased["actor"] == f"agent:{admin.agent_id}"
    assert erased["data"]["basis"] == "pipl" and "test_loyalty" in erased["data"]["sections"]
    status, answer = await call(admin, "POST", f"/api/customers/{customer_id}/privacy/erase",
                                {"confirm": customer_id, "basis": "gdpr"})
    assert (status, answer["error"]) == (409, "already_erased")
    status, answer = await call(agent, "PATCH", f"/api/customers/{customer_id}/record", {"name": "Back"})
    assert (status, answer["error"]) == (409, "customer_erased")

    # The same phone writing again is a stranger now: a new record, nothing joined to the old one.
    again = await customer_writes(hub, "sms", PHONE, "hello?", "SM-priv-3")
    assert again.customer_id != customer_id


async def test_records_merged_into_the_person_are_erased_with_them(hub: TestClient, login_as: Any) -> None:
    agent = await staff(hub, login_as, Role.AGENT)
    admin = await staff(hub, login_as, Role.ADMIN)
    main = await customer_writes(hub, "sms", "+15550201", "I am Mei Chen", "SM-merge-1")
    other = await customer_writes(hub, "webchat", "visitor-mei", "Mei Chen again, on the web", "w-merge-1")
    await call(agent, "PATCH", f"/api/customers/{other.customer_id}/record", {"name": "Mei Chen"})
    assert (await agent.post(f"/api/customers/{other.customer_id}/merge", {"into": main.customer_id}))[0] == 200

    status, answer = await call(admin, "POST", f"/api/customers/{other.customer_id}/privacy/erase",
                                {"confirm": other.customer_id, "basis": "gdpr"})
    assert (status, answer["error"]) == (409, "merged_record")
    status, answer = await call(admin, "POST", f"/api/customers/{main.customer_id}/privacy/erase",
                                {"confirm": main.customer_id, "basis": "gdpr"})
    assert status == 200 and answer["erased"]["records"] == 2
    assert await _leaks(hub, ["Mei Chen"]) == []
    _, merged = await agent.get(f"/api/customers/{other.customer_id}/record")
    assert merged["customer"]["erased"] is True
    assert (await admin.get("/api/customers/999999/privacy/export"))[0] == 404
    assert (await call(admin, "POST", "/api/customers/999999/privacy/erase",
                       {"confirm": 999999, "basis": "gdpr"}))[0] == 404


def _registered() -> set[str]:
    from hub.customers.privacy import sections

    return {s.name for s in sections()}
