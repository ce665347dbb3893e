"""Supervisors set up queues, calendars and agents' skills; every wrong request gets a clear JSON error."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hub.keys import DATABASE
from hub.storage.schema import metadata
from tests.routing_db.conftest import Center

ROUTING_TABLES = {
    "calendars",
    "routing_offers",
    "agent_presence_intervals",
    "assignment_intervals",
    "sla_events",
    "queue_hour_stats",
    "agent_hour_stats",
    "metric_rollups",
}


async def test_a_supervisor_sets_up_queues_calendars_and_agents(center: Center) -> None:
    boss = await center.boss()
    status, body = await boss.post(
        "/api/calendars",
        {"id": "berlin", "timezone": "Europe/Berlin", "hours": {"mon": ["09:00-17:00"]}, "holidays": ["12-25"]},
    )
    assert status == 201 and body["calendar"]["name"] == "berlin"
    status, body = await boss.post(
        "/api/queues",
        {
            "name": "Billing",
            "skills": ["billing"],
            "language": "de",
            "policy": "longest_idle",
            "calendar_id": "berlin",
            "sla_first_response_seconds": 900,
            "requeue_on_agent_offline": ["chat", "email"],
        },
    )
    assert status == 201, body
    queue = body["queue"]
    assert (queue["policy"], queue["offer_timeout_seconds"], queue["max_missed_offers"]) == ("longest_idle", 30, 3)
    assert queue["requeue_on_agent_offline"] == ["chat", "email"] and queue["waiting"] == 0

    agent = await center.login("emma@example.com")
    status, body = await boss.patch(
        f"/api/agents/{agent.id}/routing",
        {"skills": ["billing"], "languages": ["de", "en"], "capacity": {"chat": 4}, "queue_ids": [queue["id"]]},
    )
    assert status == 200, body
    assert body["agent"]["capacity"] == {"chat": 4} and body["agent"]["queue_ids"] == [queue["id"]]
    status, body = await agent.get("/api/queues")
    assert [q["agent_ids"] for q in body["queues"] if q["id"] == queue["id"]] == [[agent.id]]

    status, body = await boss.patch(f"/api/queues/{queue['id']}", {"auto_accept": True, "calendar_id": None})
    assert status == 200 and body["queue"]["auto_accept"] is True and body["queue"]["calendar_id"] is None
    status, body = await boss.patch(
        "/api/calendars/berlin", {"hours": {"mon": ["08:00-16:00"], "sat": ["10:00-12:00"]}}
    )
    assert status == 200 and body["calendar"]["hours"]["sat"] == ["10:00-12:00"]
    status, _ = await boss.delete("/api/calendars/berlin")
    assert status == 200
    status, _ = await boss.delete(f"/api/queues/{queue['id']}")
    assert status == 200
    assert (await boss.get(f"/api/queues/{queue['id']}"))[0] == 404


async def test_settings_requests_are_checked(center: Center) -> None:
    boss = await center.boss()
    plain = await center.login("plain@example.com")
    status, body = await plain.post("/api/queues", {"name": "Mine"})
    assert status == 403 and body["error"] == "forbidden"
    await boss.post("/api/calendars", {"id": "cn", "timezone": "Asia/Shanghai", "hours": {"mon": ["09:00-18:00"]}})
    general = [q for q in (await boss.get("/api/queues"))[1]["queues"] if q["name"] == "General"][0]["id"]

    queue_cases = [
        ({}, 400, "missing_field"),
        ({"name": "X", "policy": "random"}, 400, "invalid_field"),
        ({"name": "X", "colour": "red"}, 400, "unknown_fields"),
        ({"name": "X", "offer_timeout_seconds": 1}, 400, "invalid_field"),
        ({"name": "X", "auto_accept": "yes"}, 400, "invalid_field"),
        ({"name": "X", "skills": ["ok", ""]}, 400, "invalid_field"),
        ({"name": "X", "language": "Deutsch!"}, 400, "invalid_field"),
        ({"name": "X", "requeue_on_agent_offline": ["voice"]}, 400, "invalid_field"),
        ({"name": "X", "calendar_id": "nowhere"}, 400, "unknown_calendar"),
        ({"name": "General"}, 409, "queue_exists"),
    ]
    for body, status, code in queue_cases:
        got_status, got = await boss.post("/api/queues", body)
        assert (got_status, got["error"]) == (status, code), body
    assert (await boss.patch("/api/queues/99999", {"auto_accept": True}))[0] == 404
    assert (await boss.patch(f"/api/queues/{general}", {}))[1]["error"] == "missing_field"

    calendar_cases = [
        ({"id": "x", "timezone": "Mars/Olympus", "hours": {}}, "invalid_field"),
        ({"id": "Bad Id", "timezone": "UTC", "hours": {}}, "invalid_field"),
        ({"id": "x", "timezone": "UTC", "hours": {"someday": ["09:00-17:00"]}}, "invalid_calendar"),
        ({"id": "x", "timezone": "UTC", "hours": {"mon": ["9 to 5"]}}, "invalid_calendar"),
        ({"id": "x", "timezone": "UTC", "hours": {}, "holidays": ["christmas"]}, "invalid_calendar"),
        ({"id": "x", "timezone": "UTC"}, "missing_field"),
    ]
    for body, code in calendar_cases:
        got_status, got = await boss.post("/api/calendars", body)
        assert (got_status, got["error"]) == (400, code), body
    status, body = await boss.post("/api/calendars", {"id": "cn", "timezone": "UTC", "hours": {}})
    assert status == 409 and body["error"] == "calendar_exists"
    await boss.patch(f"/api/queues/{general}", {"calendar_id": "cn"})
    status, body = await boss.delete("/api/calendars/cn")
    assert status == 409 and body["error"] == "calendar_in_use"

    agent_cases = [
        ({"capacity": {"chat": -1}}, 400, "invalid_field"),
        ({"capacity": {"voice": 1}}, 400, "invalid_field"),
        ({"queue_ids": [99999]}, 400, "unknown_queue"),
        ({"queue_ids": "all"}, 400, "invalid_field"),
        ({"languages": ["english please"]}, 400, "invalid_field"),
        ({}, 400, "missing_field"),
    ]
    for body, status, code in agent_cases:
        got_status, got = await boss.patch(f"/api/agents/{plain.id}/routing", body)
        assert (got_status, got["error"]) == (status, code), body
    assert (await boss.patch("/api/agents/99999/routing", {"skills": []}))[0] == 404
    assert (await boss.post(f"/api/agents/{plain.id}/presence", {"presence": "asleep"}))[1]["error"] == "invalid_field"

    conversation_id = await center.customer_writes("hello")
    status, body = await boss.patch(f"/api/conversations/{conversation_id}/routing", {"priority": "asap"})
    assert status == 400 and body["error"] == "invalid_field"
    status, body = await boss.delete(f"/api/queues/{general}")
    assert status == 409 and body["error"] == "queue_in_use"
    status, body = await plain.post(f"/api/offers/{conversation_id}/accept")
    assert status == 409 and body["error"] == "no_offer"


async def test_the_routing_migration_builds_exactly_the_tables_the_code_describes(center: Center) -> None:
    def differences(conn: object) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})  # type: ignore[arg-type]
        return list(compare_metadata(context, metadata))

    async with center.hub.app[DATABASE].engine.connect() as conn:
        diff = await conn.run_sync(differences)
    # Other packages' migrations are theirs to check: look at routing's tables and columns only.
    assert [d for d in diff if _touches_routing(d)] == []


ROUTING_COLUMNS = {
    "agents": {"last_assignment_at", "available_since", "missed_offers_in_a_row"},
    "queues": {
        "max_missed_offers",
        "sla_first_response_s",
        "sla_resolution_s",
        "sla_warn_before_s",
        "calendar_id",
        "escalate_on_warning",
        "escalate_on_breach",
        "out_of_hours_message",
        "requeue_on_agent_offline",
        "close_inactive_after_s",
        "abandon_after_s",
    },
    "conversations": {
        "required_skills",
        "language",
        "declined_by",
        "customer_seen_at",
        "last_agent_message_at",
        "sla_state",
        "sla_next_check_at",
        "out_of_hours_notified_at",
        "close_reason",
        "first_agent_response_at",
        "abandoned_at",
        "resolved_at",
    },
}


def _touches_routing(entry: object) -> bool:
    """Whether one compare_metadata entry concerns a routing table, column or index."""
    if isinstance(entry, list):
        return any(_touches_routing(e) for e in entry)
    assert isinstance(entry, tuple)
    kind, rest = entry[0], entry[1:]
    if kind in ("add_table", "remove_table"):
        return rest[0].name in ROUTING_TABLES
    if kind in ("add_index", "remove_index", "add_fk", "remove_fk", "add_constraint", "remove_constraint"):
        table = rest[0].table.name if hasattr(rest[0], "table") else rest[0].parent.name
        columns = {c.name for c in getattr(rest[0], "columns", [])}
        return table in ROUTING_TABLES or bool(columns & ROUTING_COLUMNS.get(table, set()))
    if kind in ("add_column", "remove_column"):
        return rest[1] in ROUTING_TABLES or rest[2].name in ROUTING_COLUMNS.get(rest[1], set())
    table, column = rest[1], rest[2]
    return table in ROUTING_TABLES or column in ROUTING_COLUMNS.get(table, set())


async def test_supervisors_list_every_agents_routing_and_agents_may_not(center: Center) -> None:
    support = await center.queue(name="Support")
    ana = await center.agent("ana@example.com", [support], skills=["refunds", "退款"], capacity={"chat": 2})
    boss = await center.boss()
    status, body = await boss.get("/api/routing/agents")
    assert status == 200
    [row] = [a for a in body["agents"] if a["id"] == ana.id]
    assert (row["queue_ids"], row["skills"], row["capacity"]["chat"]) == ([support], ["refunds", "退款"], 2)
    status, body = await boss.patch(f"/api/agents/{ana.id}/routing", {"skills": ["大 客户"]})
    assert status == 400 and body["message"] == "'skills' has an invalid entry '大 客户'"
    status, body = await ana.get("/api/routing/agents")
    assert status == 403 and body["error"] == "forbidden"
