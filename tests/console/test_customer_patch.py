"""PATCH /api/customers/{id} (the console's customer card) goes through the record service's checks."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from channels.base import InboundMessage
from hub.keys import ACTIONS
from tests.support import add_agent


async def patch(agent: Any, path: str, body: Any) -> tuple[int, Any]:
    resp = await agent.client.patch(path, json=body, headers={"X-CSRF-Token": agent.csrf})
    return resp.status, await resp.json()


async def test_the_card_is_checked_like_the_record(hub: TestClient, login_as: Any) -> None:
    await add_agent(hub, "mei@example.com")
    mei = await login_as("mei@example.com")
    stored = await hub.app[ACTIONS].receive_inbound(
        InboundMessage(channel="sms", external_id="cp1", sender="+8613800138000", text="hi")
    )
    path = f"/api/customers/{stored.customer_id}"
    status, body = await patch(mei, f"{path}/record", {"emails": ["old@example.com", "second@example.com"]})
    assert status == 200, body

    # The card's names: display_name, email (the primary; the others stay), tags, tier, lifecycle stage.
    status, body = await patch(
        mei,
        path,
        {"display_name": " 陈先生 ", "email": "New@Example.com", "tags": ["VIP", "vip", " 老客户 "],
         "tier": "key", "lifecycle_stage": "former customer"},
    )
    assert status == 200, body
    customer = body["customer"]
    assert (customer["display_name"], customer["email"], customer["tier"]) == ("陈先生", "new@example.com", "key")
    assert customer["lifecycle_stage"] == "former_customer" and customer["tags"] == ["VIP", "老客户"]
    status, record = await mei.get(f"{path}/record")
    assert record["customer"]["emails"] == ["new@example.com", "second@example.com"]
    status, body = await patch(mei, path, {"tier": "key"})
    assert status == 200 and body["changed"] is False

    bad = [
        ({"tier": "gold"}, "unknown_tier", "tier"),
        ({"lifecycle_stage": "alien"}, "unknown_lifecycle_stage", "lifecycle_stage"),
        ({"email": "not-an-address"}, "invalid_email", "emails"),
        ({"email": 42}, "invalid_field", "email"),
        ({"phone": "call me"}, "invalid_phone", "phones"),
        ({"tags": "vip"}, "invalid_field", "tags"),
        ({"display_name": "x" * 201}, "too_long", "name"),
        ({"display_name": "a", "name": "b"}, "invalid_field", "name"),
        ({"email": "a@example.com", "emails": []}, "invalid_field", "emails"),
        ({"password_hash": "x"}, "unknown_field", "password_hash"),
    ]
    for payload, code, field in bad:
        status, body = await patch(mei, path, payload)
        assert (status, body["error"], body.get("field")) == (400, code, field), (payload, body)
    status, body = await patch(mei, "/api/customers/999999", {"tier": "key"})
    assert status == 404
    status, body = await patch(mei, "/api/customers/999999", {"email": "a@example.com"})
    assert status == 404
