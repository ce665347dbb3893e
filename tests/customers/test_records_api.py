"""An admin defines custom attributes, agents fill in a customer's record, and every change is on its history."""
from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from hub.domain import Role
from tests.customers.helpers import call, customer_writes, staff


async def test_an_agent_fills_in_a_record_and_its_history_says_who_changed_what(
    hub: TestClient, login_as: Any
) -> None:
    admin = await staff(hub, login_as, Role.ADMIN)
    agent = await staff(hub, login_as, Role.AGENT)
    wang = await customer_writes(hub, "sms", "+8613800138000", "你好，我想咨询一下企业版", "SM-rec-1")

    status, body = await call(admin, "POST", "/api/customer-attributes",
                              {"key": "plan", "label": "Plan", "type": "choice", "choices": ["basic", "pro"]})
    assert status == 201 and body["attribute"]["choices"] == ["basic", "pro"]
    status, _ = await call(admin, "POST", "/api/customer-attributes",
                           {"key": "seats", "label": "Seats", "type": "number", "min": 1, "max": 10000})
    assert status == 201
    status, _ = await call(admin, "POST", "/api/customer-attributes",
                           {"key": "renewal", "label": "Renewal date", "type": "date"})
    assert status == 201
    status, listed = await agent.get("/api/customer-attributes")
    assert [a["key"] for a in listed["attributes"]] == ["plan", "seats", "renewal"]

    status, body = await call(agent, "PATCH", f"/api/customers/{wang.customer_id}/record", {
        "name": " 王小明 ", "company": "星云科技", "position": "采购经理", "address": "上海市浦东新区",
        "emails": ["XiaoMing.Wang@Nebula.cn", "wxm@example.com"], "phones": ["+86 138-0013-8000", "021 5555 0101"],
        "language": "zh-cn", "timezone": "Asia/Shanghai", "lifecycle_stage": "prospect", "tier": "key",
        "tags": ["enterprise", "Enterprise", "  trial "], "notes": "Prefers WeChat after 6pm",
        "attributes": {"plan": "pro", "seats": 120, "renewal": "2026-03-31"},
    })
    assert status == 200, body
    record = body["customer"]
    assert record["name"] == "王小明" and record["language"] == "zh-CN"
    assert record["emails"] == ["xiaoming.wang@nebula.cn", "wxm@example.com"]
    assert record["phones"] == ["+8613800138000", "02155550101"]
    assert record["tags"] == ["enterprise", "trial"]
    assert record["attributes"] == {"plan": "pro", "seats": 120, "renewal": "2026-03-31"}
    assert record["tier"] == "key" and record["lifecycle_stage"] == "prospect"
    assert [i["channel"] for i in record["identities"]] == ["sms"]
    # The older agent view reads the same primary email and phone.
    _, legacy = await agent.get(f"/api/customers/{wang.customer_id}")
    assert legacy["customer"]["email"] == "xiaoming.wang@nebula.cn"
    assert legacy["customer"]["display_name"] == "王小明"

    status, body = await call(agent, "PATCH", f"/api/customers/{wang.customer_id}/record",
                              {"lifecycle_stage": "customer", "attributes": {"plan": "basic", "renewal": None},
                               "tier": "key"})
    assert status == 200 and body["changed"] is True
    status, body = await call(agent, "PATCH", f"/api/customers/{wang.customer_id}/record", {"tier": "key"})
    assert status == 200 and body["changed"] is False

    status, history = await agent.get(f"/api/customers/{wang.customer_id}/history")
    newest = [c for c in history["changes"] if c["event_id"] == history["changes"][0]["event_id"]]
    assert {(c["field"], c["before"], c["after"]) for c in newest} == {
        ("lifecycle_stage", "prospect", "customer"),
        ("attributes.plan", "pro", "basic"),
        ("attributes.renewal", "2026-03-31", None),
    }
    assert all(c["actor"] == f"agent:{agent.agent_id}" and c["source"] == "api" for c in history["changes"])
    status, stage_only = await agent.get(f"/api/customers/{wang.customer_id}/history?field=lifecycle_stage")
    assert [(c["before"], c["after"]) for c in stage_only["changes"]] == [("prospect", "customer"),
                                                                          ("customer", "prospect")]
    status, attrs = await agent.get(f"/api/customers/{wang.customer_id}/history?field=attributes&limit=2")
    assert {c["field"] for c in attrs["changes"]} == {"attributes.plan", "attributes.renewal"}
    status, older = await agent.get(
        f"/api/customers/{wang.customer_id}/history?field=attributes&before={attrs['next_before']}"
    )
    assert {c["field"] for c in older["changes"]} == {"attributes.plan", "attributes.seats", "attributes.renewal"}
    assert older["next_before"] is None
    status, nobody = await agent.get(f"/api/customers/{wang.customer_id}/history?actor=agent:999")
    assert nobody["changes"] == []


async def test_bad_values_are_refused_with_a_400_that_names_the_field(hub: TestClient, login_as: Any) -> None:
    admin = await staff(hub, login_as, Role.ADMIN)
    agent = await staff(hub, login_as, Role.AGENT)
    li = await customer_writes(hub, "sms", "+15550100", "hello", "SM-rec-2")
    await call(admin, "POST", "/api/customer-attributes",
               {"key": "plan", "label": "Plan", "type": "choice", "choices": ["basic", "pro"]})
    await call(admin, "POST", "/api/customer-attributes",
               {"key": "seats", "label": "Seats", "type": "number", "min": 1})

    path = f"/api/customers/{li.customer_id}/record"
    cases = [
        ({"lifecycle_stage": "lead"}, "unknown_lifecycle_stage", "lifecycle_stage"),
        ({"tier": "gold"}, "unknown_tier", "tier"),
        ({"emails": ["not-an-email"]}, "invalid_email", "emails"),
        ({"phones": ["call me"]}, "invalid_phone", "phones"),
        ({"timezone": "Mars/Olympus"}, "invalid_timezone", "timezone"),
        ({"language": "chinese!"}, "invalid_language", "language"),
        ({"attributes": {"plan": "enterprise"}}, "invalid_attribute", "attributes.plan"),
        ({"attributes": {"seats": 0}}, "invalid_attribute", "attributes.seats"),
        ({"attributes": {"seats": "many"}}, "invalid_attribute", "attributes.seats"),
        ({"attributes": {"shoe_size": 42}}, "unknown_attribute", "attributes.shoe_size"),
        ({"display_name": "Li"}, "unknown_field", "display_name"),
        ({"tags": "vip"}, "invalid_field", "tags"),
        ({"name": "x" * 201}, "too_long", "name"),
    ]
    for body, code, field in cases:
        status, answer = await call(agent, "PATCH", path, body)
        assert (status, answer["error"], answer["field"]) == (400, code, field), (body, answer)
        assert answer["message"]
    _, record = await agent.get(path)
    assert record["customer"]["lifecycle_stage"] == "customer" and record["customer"]["attributes"] == {}
    _, history = await agent.get(f"/api/customers/{li.customer_id}/history")
    assert history["changes"] == []

    assert (await agent.get("/api/customers/999999/record"))[0] == 404
    assert (await call(agent, "PATCH", "/api/customers/999999/record", {"tier": "key"}))[0] == 404
    resp = await agent.client.patch(path, data="tier=key", headers={"X-CSRF-Token": agent.csrf,
                                                                     "Content-Type": "text/plain"})
    assert resp.status == 415


async def test_attribute_definitions_are_admin_business_and_keep_their_values_safe(
    hub: TestClient, login_as: Any
) -> None:
    admin = await staff(hub, login_as, Role.ADMIN)
    supervisor = await staff(hub, login_as, Role.SUPERVISOR)
    agent = await staff(hub, login_as, Role.AGENT)
    zhao = await customer_writes(hub, "sms", "+15550111", "hi", "SM-rec-3")

    status, body = await call(supervisor, "POST", "/api/customer-attributes",
                              {"key": "x", "label": "X", "type": "text"})
    assert status == 403 and body["error"] == "forbidden"
    bad_definitions = [
        ({"key": "Plan", "label": "Plan", "type": "text"}, "invalid_field", "key"),
        ({"key": "tier", "label": "Tier", "type": "text"}, "reserved_key", "key"),
        ({"key": "plan", "label": "Plan", "type": "colour"}, "invalid_type", "type"),
        ({"key": "plan", "label": "Plan", "type": "choice"}, "missing_field", "choices"),
        ({"key": "plan", "label": "Plan", "type": "choice", "choices": ["a", "a"]}, "invalid_field", "choices"),
        ({"key": "seats", "label": "Seats", "type": "number", "min": 5, "max": 1}, "invalid_field", "min"),
        ({"key": "seats", "type": "number"}, "missing_field", "label"),
        ({"key": "memo", "label": "Memo", "type": "text", "choices": ["a"]}, "invalid_field", "choices"),
    ]
    for body, code, field in bad_definitions:
        status, answer = await call(admin, "POST", "/api/customer-attributes", body)
        assert (status, answer["error"], answer["field"]) == (400, code, field), (body, answer)

    await call(admin, "POST", "/api/customer-attributes",
               {"key": "plan", "label": "Plan", "type": "choice", "choices": ["basic", "pro"]})
    status, body = await call(admin, "POST", "/api/customer-attributes", {"key": "plan", "label": "P", "type": "text"})
    assert status == 409 and body["error"] == "attribute_exists"
    await call(agent, "PATCH", f"/api/customers/{zhao.customer_id}/record", {"attributes": {"plan": "pro"}})

    status, body = await call(admin, "PATCH", "/api/customer-attributes/plan", {"type": "text"})
    assert status == 400 and body["error"] == "immutable"
    status, body = await call(admin, "PATCH", "/api/customer-attributes/plan", {"choices": ["basic"]})
    assert status == 409 and body["error"] == "choice_in_use"
    status, body = await call(admin, "PATCH", "/api/customer-attributes/plan",
                              {"label": "Subscription", "choices": ["basic", "pro", "enterprise"]})
    assert status == 200 and body["attribute"]["label"] == "Subscription"
    status, body = await call(admin, "DELETE", "/api/customer-attributes/plan")
    assert status == 409 and body["error"] == "attribute_in_use"
    assert (await call(admin, "DELETE", "/api/customer-attributes/nope"))[0] == 404

    status, body = await call(admin, "DELETE", "/api/customer-attributes/plan?purge=true")
    assert status == 200 and body["values_removed"] == 1
    _, record = await agent.get(f"/api/customers/{zhao.customer_id}/record")
    assert record["customer"]["attributes"] == {}
    _, history = await agent.get(f"/api/customers/{zhao.customer_id}/history")
    assert history["changes"][0]["source"] == "attribute_deleted"
    assert history["changes"][0]["field"] == "attributes.plan" and history["changes"][0]["before"] == "pro"


async def test_a_customer_entered_by_hand_cannot_duplicate_a_known_email(hub: TestClient, login_as: Any) -> None:
    agent = await staff(hub, login_as, Role.AGENT)
    status, body = await call(agent, "POST", "/api/customers",
                              {"name": "Chen Jing", "emails": ["chen@example.com"], "lifecycle_stage": "potential"})
    assert status == 201 and body["customer"]["lifecycle_stage"] == "potential"
    customer_id = body["customer"]["id"]
    status, body = await call(agent, "POST", "/api/customers", {"emails": ["CHEN@example.com"]})
    assert status == 409 and body["error"] == "customer_exists"
    _, history = await agent.get(f"/api/customers/{customer_id}/history")
    assert {c["field"]: c["after"] for c in history["changes"]} == {
        "name": "Chen Jing", "emails": ["chen@example.com"], "lifecycle_stage": "potential", "tier": "standard",
    }
    assert all(c["before"] is None and c["source"] == "api" for c in history["changes"])
