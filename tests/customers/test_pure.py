"""The pure parts: field checks, attribute rules, history diffs, CSAT replies, CSV, timeline cursors, scrubbing."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.customers.attributes import AttributeDef, check_definition, check_value
from hub.customers.config import CustomerSettings
from hub.customers.csat import Rating, parse_rating, pick_language, question
from hub.customers.csv_io import export_header, export_lines, header_line, parse
from hub.customers.errors import FieldError
from hub.customers.fields import check_changes, normalize_language, normalize_phone, normalize_stage
from hub.customers.history import changes_in, diff
from hub.customers.privacy import scrub
from hub.customers.timeline import category, decode_cursor, encode_cursor, parse_query
from hub.domain import DomainError

PLAN = AttributeDef("plan", "Plan", "choice", choices=("basic", "pro"))
SEATS = AttributeDef("seats", "Seats", "number", min_value=1, max_value=500)
RENEWAL = AttributeDef("renewal", "Renewal", "date")
DEFS = {d.key: d for d in (PLAN, SEATS, RENEWAL)}


def test_fields_are_normalised_the_way_people_type_them() -> None:
    changes = check_changes(
        {"name": "  Ada  ", "emails": ["Ada@Example.COM", "ada@example.com"], "phones": ["0086 (10) 5555-0101"],
         "lifecycle_stage": "Former Customer", "language": "en_gb", "tags": ["a", " A ", "b  c"],
         "attributes": {"seats": 3.0, "renewal": "2026/01/31", "plan": None}},
        DEFS,
    )
    assert changes.columns == {"display_name": "Ada", "lifecycle_stage": "former_customer", "language": "en-GB",
                               "tags": ["a", "b c"]}
    assert changes.emails == ["ada@example.com"] and changes.phones == ["+861055550101"]
    assert changes.attributes == {"seats": 3, "renewal": "2026-01-31", "plan": None}
    assert check_changes({"name": "", "timezone": "", "language": None}, DEFS).columns == {
        "display_name": None, "timezone": None, "language": None}


@pytest.mark.parametrize(
    ("data", "code", "field"),
    [
        ({"lifecycle_stage": "churned"}, "unknown_lifecycle_stage", "lifecycle_stage"),
        ({"tier": "platinum"}, "unknown_tier", "tier"),
        ({"emails": ["a@b"]}, "invalid_email", "emails"),
        ({"emails": "a@example.com"}, "invalid_field", "emails"),
        ({"phones": ["12"]}, "invalid_phone", "phones"),
        ({"attributes": {"plan": "gold"}}, "invalid_attribute", "attributes.plan"),
        ({"attributes": {"seats": 501}}, "invalid_attribute", "attributes.seats"),
        ({"attributes": {"seats": True}}, "invalid_attribute", "attributes.seats"),
        ({"attributes": {"renewal": "31/01/2026"}}, "invalid_attribute", "attributes.renewal"),
        ({"attributes": ["plan"]}, "invalid_field", "attributes"),
        ({"tags": ["x" * 51]}, "invalid_tag", "tags"),
        ({"email": "a@example.com"}, "unknown_field", "email"),
    ],
)
def test_bad_values_name_their_field(data: dict[str, object], code: str, field: str) -> None:
    with pytest.raises(FieldError) as caught:
        check_changes(data, DEFS)
    assert (caught.value.code, caught.value.field) == (code, field)


def test_csv_cells_are_read_as_text() -> None:
    unbounded = {"seats": AttributeDef("seats", "Seats", "number")}
    changes = check_changes({"emails": "a@example.com; b@example.com", "tags": "x，y、z",
                             "attributes": {"seats": "1,200"}}, unbounded, from_text=True)
    assert changes.emails == ["a@example.com", "b@example.com"] and changes.columns["tags"] == ["x", "y", "z"]
    assert changes.attributes == {"seats": 1200}
    assert normalize_phone("00 44 20 7946 0018") == "+442079460018"
    assert normalize_language("ZH-hans-cn") == "zh-hans-CN"
    assert normalize_stage("former-customer") == "former_customer"


def test_attribute_definitions_keep_their_key_and_type() -> None:
    changed = check_definition({"label": "Subscription", "choices": ["basic", "pro", "max"]}, PLAN)
    assert changed.choices == ("basic", "pro", "max") and changed.key == "plan"
    with pytest.raises(FieldError, match="cannot change"):
        check_definition({"type": "text"}, PLAN)
    with pytest.raises(FieldError):
        check_definition({"max_length": 20}, PLAN)
    text = check_definition({"key": "memo", "label": "Memo", "type": "text", "max_length": 5})
    assert check_value(text, " hi ") == "hi" and check_value(text, "") is None
    with pytest.raises(FieldError):
        check_value(text, "toolong")
    assert check_value(SEATS, "12", from_text=True) == 12
    with pytest.raises(FieldError):
        check_value(SEATS, "12")  # JSON must send a number


def test_history_diffs_only_what_changed_and_reads_older_entries() -> None:
    old, new = diff({"tier": "standard", "tags": ["a"], "attributes": {"plan": "basic", "seats": 3}},
                    {"tier": "standard", "tags": ["a", "b"], "attributes": {"plan": "pro", "seats": 3}})
    assert old == {"tags": ["a"], "attributes.plan": "basic"} and new == {"tags": ["a", "b"], "attributes.plan": "pro"}
    at = datetime(2025, 1, 1, tzinfo=UTC)
    legacy = changes_in(7, at, "agent:1", "customer.updated",
                        {"before": {"display_name": "Li", "tier": "key", "attributes": {"a": 1}},
                         "after": {"display_name": "Li Na", "tier": "key", "attributes": {"a": 2, "b": 3}}})
    assert [(c.field, c.before, c.after, c.source) for c in legacy] == [
        ("attributes.a", 1, 2, "api"), ("attributes.b", None, 3, "api"), ("name", "Li", "Li Na", "api")]
    assert changes_in(8, at, "system", "conversation.opened", {"channel": "sms"}) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5", Rating(5)), ("4: quick, thanks", Rating(4, "quick, thanks")), ("(3)", Rating(3)),
        ("５分", Rating(5)), ("四星。还不错", Rating(4, "还不错")), ("⭐⭐⭐⭐️", Rating(4)),
        ("2/5 - slow", Rating(2, "slow")),
        ("csat:1", Rating(1)), ("5 stars", Rating(5)),
        ("2 boxes were missing", None), ("10", None), ("0", None), ("my order 5", None), ("", None),
        ("5星好评", None), ("csat:6", None),
    ],
)
def test_ratings_are_read_from_replies(text: str, expected: Rating | None) -> None:
    assert parse_rating(text) == expected


@given(st.text(max_size=40))
def test_parsing_a_reply_never_fails_and_only_yields_one_to_five(text: str) -> None:
    rating = parse_rating(text)
    assert rating is None or 1 <= rating.score <= 5


def test_whatsapp_button_payloads_count_and_the_language_follows_the_customer() -> None:
    assert parse_rating("Excellent", {"button_payload": "csat:5"}) == Rating(5)
    assert pick_language("zh-CN", "en") == "zh" and pick_language(None, None, sample="请问几点开门") == "zh"
    assert pick_language("fr", None, sample="bonjour") == "en"
    email = question("en", "How did we do?", buttons=False, html_links=True, link="https://k.example/csat/t<x>")
    assert "https://k.example/csat/t<x>" in email.text and not email.buttons
    assert email.html is not None and "t&lt;x&gt;?score=1" in email.html and "<script" not in email.html
    chat = question("zh", "满意吗？", buttons=True, html_links=False, link="-")
    assert chat.text == "满意吗？" and [b.payload for b in chat.buttons] == [f"csat:{n}" for n in range(1, 6)]


def test_csat_settings_come_from_the_environment() -> None:
    settings = CustomerSettings.from_env({"KEFU_CSAT_ENABLED": "off", "KEFU_CSAT_QUESTION": "Rate us?",
                                          "KEFU_CSAT_QUESTION_ZH": "请评分", "KEFU_CSAT_DELAY_SECONDS": "0"})
    assert not settings.csat_enabled and settings.csat_delay_s == 0
    assert settings.csat_questions == {"en": "Rate us?", "zh": "请评分"}
    assert CustomerSettings.from_env({}).csat_enabled
    with pytest.raises(ValueError, match="KEFU_CSAT_ANSWER_HOURS"):
        CustomerSettings.from_env({"KEFU_CSAT_ANSWER_HOURS": "soon"})


def test_csv_export_reads_back_as_the_same_changes() -> None:
    header = export_header(DEFS.values())
    record = {"id": 9, "name": "=cmd|' /C calc'!A0", "emails": ["a@example.com", "b@example.com"],
              "phones": ["+8613800000000"], "company": "Zhang & Co, Ltd", "lifecycle_stage": "prospect",
              "tier": "key", "tags": ["x", "y"], "attributes": {"plan": "pro", "seats": 12}, "notes": "line\nbreak"}
    text = header_line(header) + "".join(export_lines(header, [record]))
    assert "'=cmd" in text and "'+86" not in text
    parsed = parse(text, DEFS)
    assert parsed.problems == [] and parsed.total == 1
    [row] = parsed.rows
    assert row.customer_id == 9 and row.changes.emails == ["a@example.com", "b@example.com"]
    assert row.changes.columns["display_name"] == "=cmd|' /C calc'!A0" and row.changes.columns["notes"] == "line\nbreak"
    assert row.changes.attributes == {"plan": "pro", "seats": 12}


def test_csv_rows_are_refused_one_by_one() -> None:
    parsed = parse("name,emails,plan\nA,a@example.com,pro\nB,nope,pro\n,,\nC,c@example.com,gold\n", DEFS)
    assert [r.line for r in parsed.rows] == [2]
    assert [(p.line, p.column, p.code) for p in parsed.problems] == [(3, "emails", "invalid_email"),
                                                                      (5, "plan", "invalid_attribute")]
    with pytest.raises(DomainError) as caught:
        parse("name,colour\nA,red\n", DEFS)
    assert caught.value.code == "unknown_columns"


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)), st.integers(1, 2**62))
def test_timeline_cursors_round_trip(at: datetime, event_id: int) -> None:
    aware = at.replace(tzinfo=UTC)
    assert decode_cursor(encode_cursor(aware, event_id)) == (aware, event_id)


def test_timeline_queries_and_kinds() -> None:
    query = parse_query({"kind": "customer,csat", "channel": "sms", "from": "2025-01-01", "to": "2025-01-01",
                         "order": "asc", "limit": "20"})
    assert query.kinds == {"customer", "csat"} and not query.newest_first and query.limit == 20
    assert query.until is not None and query.since is not None and query.until - query.since == timedelta(days=1)
    assert [category(k, a) for k, a in [("message.received", None), ("message.sent", "bot"), ("note.added", None),
                                         ("conversation.reopened", None), ("complaint.case_opened", None),
                                         ("csat.rated", None), ("customer.merged", None), ("routing.sla_breach", None),
                                         ("something.else", None)]] == [
        "customer", "bot", "note", "state", "complaint", "csat", "record", "routing", "other"]


def test_scrubbing_keeps_codes_and_numbers_and_drops_words() -> None:
    data = {"message_id": 4, "channel": "sms", "text": "I am Ada", "before": {"name": "Ada", "tier": "key"},
            "moved": {"identities": [1, 2]}, "score": 5, "comment": "great", "reason": "x" * 65, "verified": True}
    assert scrub(data) == {"message_id": 4, "channel": "sms", "before": {}, "moved": {"identities": [1, 2]},
                           "score": 5, "verified": True}
