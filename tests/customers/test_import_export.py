"""A supervisor imports customers from a spreadsheet, watches the progress, fixes the bad rows, and exports."""
from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from hub.domain import Role
from hub.events import CustomersImported, Event
from hub.keys import BUS
from tests.customers.helpers import call, customer_writes, staff, until
from tests.support import AgentSession

HEADER = "name,emails,phones,company,lifecycle_stage,tier,tags,plan,seats,id\n"
ROWS = [
    "李娜,li.na@example.cn,,新华书店,customer,key,,pro,,",          # line 2: matches the record by email
    "张伟,,+86 139 0000 0001,,prospect,,,,,",                      # line 3: matches the SMS customer by phone
    "Tom Baker,tom@example.com,,Baker & Sons,former customer,,a; b,,12,",  # line 4: new
    "Bad Stage,bad@example.com,,,lead,,,,,",                        # line 5
    "Bad Plan,plan@example.com,,,,,,gold,,",                        # line 6
    "Ghost,,,,,,,,,999999",                                         # line 7: no such customer
    ",,,,,,,,,",                                                    # line 8: blank, ignored
    ",,,Nameless Ltd,,,,,,",                                        # line 9
    "=HYPERLINK(\"http://evil\"),formula@example.com,,,,,,,,",      # line 10: new, a formula-looking name
]


async def upload(session: AgentSession, body: bytes, content_type: str = "text/csv") -> tuple[int, Any]:
    resp = await session.client.post("/api/customer-imports", data=body,
                                      headers={"X-CSRF-Token": session.csrf, "Content-Type": content_type})
    return resp.status, await resp.json()


async def finished(session: AgentSession, job_id: str) -> dict[str, Any]:
    async def done() -> dict[str, Any] | None:
        _, body = await session.get(f"/api/customer-imports/{job_id}")
        return body["job"] if body["job"]["state"] in ("done", "failed") else None

    return await until(done)


async def export(session: AgentSession, query: str = "") -> tuple[list[str], list[dict[str, str]]]:
    resp = await session.client.get(f"/api/customer-export{query}")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
    raw = await resp.read()
    assert raw.startswith("\ufeff".encode())
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
    return list(reader.fieldnames or []), list(reader)


async def test_a_spreadsheet_import_reports_each_bad_row_and_the_export_round_trips(
    monkeypatch: pytest.MonkeyPatch, hub_factory: Callable[[], Awaitable[TestClient]], login_as_on: Any
) -> None:
    monkeypatch.setenv("KEFU_CUSTOMERS_IMPORT_BATCH", "2")
    hub = await hub_factory()
    login = login_as_on(hub)
    admin = await staff(hub, login, Role.ADMIN)
    supervisor = await staff(hub, login, Role.SUPERVISOR)
    agent = await staff(hub, login, Role.AGENT)
    await call(admin, "POST", "/api/customer-attributes",
               {"key": "plan", "label": "Plan", "type": "choice", "choices": ["basic", "pro"]})
    await call(admin, "POST", "/api/customer-attributes", {"key": "seats", "label": "Seats", "type": "number"})
    _, made = await call(agent, "POST", "/api/customers", {"name": "Li Na", "emails": ["Li.Na@example.cn"]})
    li_id = made["customer"]["id"]
    zhang = await customer_writes(hub, "sms", "+8613900000001", "你好", "SM-imp-1")
    progress: list[CustomersImported] = []

    async def record(event: Event) -> None:
        if isinstance(event, CustomersImported):
            progress.append(event)

    hub.app[BUS].subscribe(record, name="test-import-progress")

    # Chinese Excel saves CSV as GB18030.
    status, body = await upload(supervisor, (HEADER + "\n".join(ROWS) + "\n").encode("gb18030"))
    assert status == 202, body
    job = await finished(supervisor, body["job"]["id"])
    assert job["state"] == "done" and job["total"] == 8 and job["processed"] == 8
    assert (job["created"], job["updated"], job["unchanged"], job["skipped"]) == (2, 2, 0, 4)
    assert sorted((p["line"], p["column"], p["error"]) for p in job["problems"]) == [
        (5, "lifecycle_stage", "unknown_lifecycle_stage"),
        (6, "plan", "invalid_attribute"),
        (7, "id", "not_found"),
        (9, None, "missing_identity"),
    ]
    assert all("bad@example.com" not in p["message"] for p in job["problems"])
    await until(lambda: _all_batches(progress))
    assert [e.done for e in progress] == sorted(e.done for e in progress) and progress[-1].total == 8
    assert len(progress) == 3  # five rows passed the checks; batches of two

    _, li = await agent.get(f"/api/customers/{li_id}/record")
    assert (li["customer"]["name"], li["customer"]["company"], li["customer"]["tier"]) == ("李娜", "新华书店", "key")
    assert li["customer"]["attributes"] == {"plan": "pro"} and li["customer"]["emails"] == ["li.na@example.cn"]
    _, history = await agent.get(f"/api/customers/{li_id}/history?field=company")
    assert history["changes"][0]["source"] == "import"
    assert history["changes"][0]["actor"] == f"agent:{supervisor.agent_id}"
    _, zh = await agent.get(f"/api/customers/{zhang.customer_id}/record")
    assert (zh["customer"]["name"], zh["customer"]["lifecycle_stage"]) == ("张伟", "prospect")

    header, rows = await export(supervisor)
    assert header[:3] == ["id", "name", "emails"] and "plan" in header and "seats" in header
    by_email = {r["emails"]: r for r in rows}
    tom = by_email["tom@example.com"]
    assert (tom["lifecycle_stage"], tom["tags"], tom["seats"], tom["company"]) == (
        "former_customer", "a; b", "12", "Baker & Sons")
    assert by_email["formula@example.com"]["name"] == "'=HYPERLINK(\"http://evil\")"
    assert by_email[""]["phones"] == "+8613900000001"  # the phone is not mistaken for a formula
    _, keys = await export(supervisor, "?tier=key")
    assert [r["name"] for r in keys] == ["李娜"]

    # Edit the export and import it back: one change, the rest unchanged, the formula guard undone.
    tom["seats"] = "15"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header)
    writer.writeheader()
    writer.writerows(rows)
    form = FormData()
    form.add_field("file", buffer.getvalue().encode(), filename="kefu-customers.csv", content_type="text/csv")
    resp = await supervisor.client.post("/api/customer-imports", data=form, headers={"X-CSRF-Token": supervisor.csrf})
    assert resp.status == 202
    job = await finished(supervisor, (await resp.json())["job"]["id"])
    assert (job["created"], job["updated"], job["unchanged"], job["skipped"]) == (0, 1, 3, 0), job
    _, again = await export(supervisor)
    assert {r["emails"]: r["seats"] for r in again}["tom@example.com"] == "15"
    assert {r["emails"]: r["name"] for r in again}["formula@example.com"] == "'=HYPERLINK(\"http://evil\")"


async def _all_batches(progress: list[CustomersImported]) -> bool:
    return bool(progress) and progress[-1].done == progress[-1].total


async def test_imports_refuse_bad_files_and_the_wrong_people(
    monkeypatch: pytest.MonkeyPatch, hub_factory: Callable[[], Awaitable[TestClient]], login_as_on: Any
) -> None:
    monkeypatch.setenv("KEFU_CUSTOMERS_IMPORT_MAX_MB", "0.01")
    hub = await hub_factory()
    login = login_as_on(hub)
    supervisor = await staff(hub, login, Role.SUPERVISOR)
    agent = await staff(hub, login, Role.AGENT)

    assert (await upload(agent, b"name\nA\n"))[0] == 403
    assert (await agent.client.get("/api/customer-export")).status == 403
    cases = [
        (b"name,shoe_size\nA,42\n", "text/csv", 400, "unknown_columns"),
        (b"name,name\nA,B\n", "text/csv", 400, "repeated_columns"),
        (b"", "text/csv", 400, "empty_upload"),
        (b"\xff\xfe\x00garbage\x81", "text/csv", 400, "bad_encoding"),
        (b"name\nA\n", "application/pdf", 415, "unsupported_media_type"),
        (b"name\n" + b"A" * 20_000 + b"\n", "text/csv", 413, "payload_too_large"),
    ]
    for body, content_type, status, code in cases:
        got, answer = await upload(supervisor, body, content_type)
        assert (got, answer["error"]) == (status, code), (body[:20], answer)
        assert answer["message"]
    status, body = await supervisor.get("/api/customer-imports/nope")
    assert status == 404 and body["error"] == "not_found"
    resp = await supervisor.client.get("/api/customer-export?lifecycle_stage=lead")
    assert resp.status == 400 and (await resp.json())["error"] == "unknown_lifecycle_stage"
