"""A designer brings an FAQ spreadsheet and a folder of Markdown in, watches the import, and takes it all out again."""

from __future__ import annotations

import csv
import dataclasses
import io
import zipfile

from aiohttp.test_utils import TestClient

from knowledge_base.keys import KNOWLEDGE_BASE
from tests.knowledge_base_api.conftest import Desk

FAQ = (
    "question,answer,tags\r\n"
    "How long does shipping take?,Most parcels arrive within 3 days.,shipping\r\n"
    '怎么修改收货地址？,发货前在“我的订单”里修改地址。,"地址, 订单"\r\n'
    "Can I pay by invoice?,,billing\r\n"
    'Do you ship abroad?,"Yes, to 40 countries.\r\nCustoms fees are paid on delivery.",shipping\r\n'
)


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


async def test_csv_import_reports_the_bad_row_and_imports_the_rest(designer: Desk) -> None:
    status, data = await designer.upload(
        "/api/kb/imports/csv", [("faq.csv", FAQ.encode(), "text/csv")], status="published"
    )
    assert status == 202 and data["job"]["state"] in ("parsing", "saving", "done")
    job = await designer.finished(data["job"])
    assert job["state"] == "done" and job["error"] is None
    assert (job["total"], job["done"], job["created"], job["updated"]) == (3, 3, 3, 0)
    assert job["problems"] == [{"source": "faq.csv", "line": 4, "message": "answer is empty"}]

    hits = await designer.search("收货地址")
    assert [h["slug"] for h in hits] == ["怎么修改收货地址"]
    assert [h["slug"] for h in await designer.search("customs abroad")] == ["do-you-ship-abroad"]
    status, listing = await designer.get("/api/kb/articles?tag=订单")
    assert [a["title"] for a in listing["articles"]] == ["怎么修改收货地址？"]

    # Importing the same sheet again changes nothing; a changed answer becomes a new version.
    job = await designer.finished(
        (await designer.upload("/api/kb/imports/csv", [("faq.csv", FAQ.encode(), "text/csv")], status="published"))[1][
            "job"
        ]
    )
    assert (job["created"], job["updated"], job["unchanged"]) == (0, 0, 3)
    changed = FAQ.replace("within 3 days", "within 2 days")
    resp = await designer.client.post(
        "/api/kb/imports/csv?status=published",
        data=changed.encode("gb18030"),
        headers={**designer.headers, "Content-Type": "text/csv"},
    )
    assert resp.status == 202 and resp.headers["Location"].startswith("/api/kb/imports/")
    job = await designer.finished((await resp.json())["job"])
    assert (job["created"], job["updated"], job["unchanged"]) == (0, 1, 2)
    article = (await designer.search("how long does shipping take"))[0]
    status, versions = await designer.get(f"/api/kb/articles/{article['article_id']}/versions")
    assert [v["change"] for v in versions["versions"]] == ["imported", "imported"]
    assert "2 days" in article["snippet"]["text"]


async def test_markdown_zip_and_files_import_then_export_round_trip(designer: Desk) -> None:
    bundle = _zip(
        {
            "help/refunds.md": (
                "---\ntitle: Refunds\nlanguage: en\ntags: [billing]\nstatus: published\n---\n\n"
                "Money goes back in **5 days**.\n"
            ),
            "help/退货.md": "---\ntitle: 如何退货\nstatus: published\n---\n\n七天内可以无理由退货。\n",
            "help/broken.md": "---\ntitle: [unclosed\nstatus: published\n---\n\nBody\n",
            "__MACOSX/help/._refunds.md": "\x00\x05junk",
            "help/logo.png": "not markdown",
        }
    )
    status, data = await designer.upload(
        "/api/kb/imports/markdown",
        [
            ("help.zip", bundle, "application/zip"),
            ("hours.md", b"---\ntitle: Opening hours\n---\n\nWe answer from 9 to 21.\n", "text/markdown"),
        ],
    )
    assert status == 202, data
    job = await designer.finished(data["job"])
    assert job["state"] == "done" and (job["total"], job["created"]) == (3, 3)
    problems = {(p["source"], p["line"]) for p in job["problems"]}
    assert problems == {("help/broken.md", 3), ("help/logo.png", None)}

    assert [h["slug"] for h in await designer.search("无理由退货")] == ["退货"]
    assert await designer.search("opening hours") == []  # no status in its front matter: a draft

    resp = await designer.client.get("/api/kb/export?format=markdown")
    assert resp.status == 200 and resp.content_type == "application/zip"
    assert "kefu-articles.zip" in resp.headers["Content-Disposition"]
    exported = await resp.read()
    with zipfile.ZipFile(io.BytesIO(exported)) as archive:
        assert sorted(archive.namelist()) == ["hours.md", "refunds.md", "退货.md"]
    job = await designer.finished(
        (await designer.upload("/api/kb/imports/markdown", [("export.zip", exported, "application/zip")]))[1]["job"]
    )
    assert (job["created"], job["updated"], job["unchanged"], job["problems"]) == (0, 0, 3, [])

    resp = await designer.client.get("/api/kb/export?format=csv&status=published")
    assert resp.status == 200 and resp.content_type == "text/csv"
    raw = await resp.read()
    assert raw.startswith(b"\xef\xbb\xbf")  # so Excel shows the Chinese correctly
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert {r["slug"]: r["status"] for r in rows} == {"refunds": "published", "退货": "published"}
    job = await designer.finished(
        (await designer.upload("/api/kb/imports/csv", [("export.csv", raw, "text/csv")]))[1]["job"]
    )
    assert (job["created"], job["unchanged"]) == (0, 2)


async def test_bad_uploads_are_refused_with_json_errors(hub: TestClient, designer: Desk) -> None:
    async def raw(path: str, body: bytes, content_type: str) -> tuple[int, dict[str, str]]:
        resp = await designer.client.post(path, data=body, headers={**designer.headers, "Content-Type": content_type})
        return resp.status, await resp.json()

    status, data = await raw("/api/kb/imports/csv", b'{"question": "q"}', "application/json")
    assert status == 415 and data["error"] == "unsupported_media_type"
    status, data = await raw("/api/kb/imports/csv", b"", "text/csv")
    assert status == 400 and data["error"] == "empty_upload"
    status, data = await raw("/api/kb/imports/csv?status=live", b"question,answer\nq,a\n", "text/csv")
    assert status == 400 and data["error"] == "invalid_status"
    status, data = await designer.get("/api/kb/imports/no-such-job")
    assert status == 404 and data["error"] == "not_found"
    status, data = await designer.get("/api/kb/export?format=pdf")
    assert status == 400 and data["error"] == "invalid_format"

    # As if started with KEFU_KB_MAX_UPLOAD_MB=1.
    kb = hub.app[KNOWLEDGE_BASE]
    kb.config = dataclasses.replace(kb.config, max_upload_bytes=1024 * 1024)
    too_big = b"question,answer\n" + b"q,a\n" * (1024 * 1024 // 4)
    status, data = await raw("/api/kb/imports/csv", too_big, "text/csv")
    assert status == 413 and data["error"] == "payload_too_large"
    status, data = await designer.upload("/api/kb/imports/csv", [("big.csv", too_big, "text/csv")])
    assert status == 413

    # A file that is no CSV at all fails as a whole, and says why.
    status, data = await raw("/api/kb/imports/csv", b"just some words\n", "text/csv")
    job = await designer.finished(data["job"])
    assert job["state"] == "done" and job["total"] == 0
    assert "question" in job["problems"][0]["message"] and job["problems"][0]["line"] == 1
    status, data = await designer.upload(
        "/api/kb/imports/markdown", [("site.zip", b"PK\x03\x04broken", "application/zip")]
    )
    job = await designer.finished(data["job"])
    assert job["problems"][0]["source"] == "site.zip" and "zip" in job["problems"][0]["message"]
