"""Routing: offers, skills, calendars, SLA state, presence intervals.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_OPEN = sa.text("ended_at IS NULL")



# Plain ADD COLUMN works on SQLite and PostgreSQL alike; server defaults fill the rows that exist.
def _agent_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("last_assignment_at", sa.DateTime(), nullable=True),
        sa.Column("available_since", sa.DateTime(), nullable=True),
        sa.Column("missed_offers_in_a_row", sa.Integer(), nullable=False, server_default="0"),
    ]


def _queue_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("max_missed_offers", sa.Integer(), nullable=False, server_default="3"),
        sa.Column("sla_first_response_s", sa.Integer(), nullable=True),
        sa.Column("sla_resolution_s", sa.Integer(), nullable=True),
        sa.Column("sla_warn_before_s", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("escalate_on_warning", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("escalate_on_breach", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("out_of_hours_message", sa.Text(), nullable=True),
        sa.Column("requeue_on_agent_offline", sa.JSON(), nullable=False, server_default='["chat"]'),
        sa.Column("close_inactive_after_s", sa.Integer(), nullable=True),
        sa.Column("abandon_after_s", sa.Integer(), nullable=True),
    ]


def _conversation_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("required_skills", sa.JSON(), nullable=False, server_default="[]"),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("declined_by", sa.JSON(), nullable=False, server_default="{}"),
        sa.Column("customer_seen_at", sa.DateTime(), nullable=True),
        sa.Column("last_agent_message_at", sa.DateTime(), nullable=True),
        sa.Column("sla_state", sa.String(length=16), nullable=True),
        sa.Column("sla_next_check_at", sa.DateTime(), nullable=True),
        sa.Column("out_of_hours_notified_at", sa.DateTime(), nullable=True),
        sa.Column("close_reason", sa.String(length=32), nullable=True),
    ]


_CONVERSATION_INDEXES = ["first_agent_response_at", "abandoned_at", "resolved_at", "sla_next_check_at"]


def upgrade() -> None:
    op.create_table(
        "calendars",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("hours", sa.JSON(), nullable=False),
        sa.Column("holidays", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendars")),
    )
    for column in _agent_columns():
        op.add_column("agents", column)
    for column in _queue_columns():
        op.add_column("queues", column)
    # SQLite accepts a REFERENCES clause on ADD COLUMN when the default is NULL, so no table rebuild
    # (a rebuild of `queues` would trip the foreign keys that conversations hold on it).
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE queues ADD COLUMN calendar_id VARCHAR(64) REFERENCES calendars (id)")
    else:
        op.add_column("queues", sa.Column("calendar_id", sa.String(length=64), nullable=True))
        op.create_foreign_key(op.f("fk_queues_calendar_id_calendars"), "queues", "calendars", ["calendar_id"], ["id"])
    for column in _conversation_columns():
        op.add_column("conversations", column)
    for name in _CONVERSATION_INDEXES:
        op.create_index(f"ix_conversations_{name}", "conversations", [name], unique=False)
    op.create_index("ix_conversations_waiting_order", "conversations", ["status", "priority", "enqueued_at", "id"])
    op.create_index("ix_customers_tier", "customers", ["tier"])

    op.create_table(
        "routing_offers",
        sa.Column("id", _ID, nullable=False),
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("agent_id", _ID, nullable=False),
        sa.Column("queue_id", _ID, nullable=False),
        sa.Column("channel_type", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("from_agent_id", _ID, nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("offered_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_routing_offers_agent_id_agents")),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"], name=op.f("fk_routing_offers_conversation_id_conversations")
        ),
        sa.ForeignKeyConstraint(["from_agent_id"], ["agents.id"], name=op.f("fk_routing_offers_from_agent_id_agents")),
        sa.ForeignKeyConstraint(["queue_id"], ["queues.id"], name=op.f("fk_routing_offers_queue_id_queues")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_offers")),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_routing_offers_conversation_id")),
    )
    op.create_index("ix_routing_offers_agent_id", "routing_offers", ["agent_id"], unique=False)
    op.create_index("ix_routing_offers_expires_at", "routing_offers", ["expires_at"], unique=False)

    op.create_table(
        "agent_presence_intervals",
        sa.Column("id", _ID, nullable=False),
        sa.Column("agent_id", _ID, nullable=False),
        sa.Column("presence", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_agent_presence_intervals_agent_id_agents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_presence_intervals")),
    )
    op.create_index(
        "ix_agent_presence_intervals_agent_started", "agent_presence_intervals", ["agent_id", "started_at"]
    )
    op.create_index("ix_agent_presence_intervals_started_at", "agent_presence_intervals", ["started_at"])
    op.create_index("ix_agent_presence_intervals_ended_at", "agent_presence_intervals", ["ended_at"])
    op.create_index(
        "uq_agent_presence_intervals_open",
        "agent_presence_intervals",
        ["agent_id"],
        unique=True,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )

    op.create_table(
        "assignment_intervals",
        sa.Column("id", _ID, nullable=False),
        sa.Column("agent_id", _ID, nullable=False),
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_assignment_intervals_agent_id_agents")),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_assignment_intervals_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_intervals")),
    )
    op.create_index("ix_assignment_intervals_agent_started", "assignment_intervals", ["agent_id", "started_at"])
    op.create_index("ix_assignment_intervals_started_at", "assignment_intervals", ["started_at"])
    op.create_index("ix_assignment_intervals_ended_at", "assignment_intervals", ["ended_at"])
    op.create_index(
        "uq_assignment_intervals_open",
        "assignment_intervals",
        ["conversation_id"],
        unique=True,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )

    op.create_table(
        "sla_events",
        sa.Column("id", _ID, nullable=False),
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("queue_id", _ID, nullable=True),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"], name=op.f("fk_sla_events_conversation_id_conversations")
        ),
        sa.ForeignKeyConstraint(["queue_id"], ["queues.id"], name=op.f("fk_sla_events_queue_id_queues")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_events")),
        sa.UniqueConstraint("conversation_id", "target", "kind", name=op.f("uq_sla_events_conversation_id_target_kind")),
    )
    op.create_index("ix_sla_events_at", "sla_events", ["at"])

    op.create_table(
        "queue_hour_stats",
        sa.Column("span_h", sa.Integer(), nullable=False),
        sa.Column("hour", sa.DateTime(), nullable=False),
        sa.Column("queue_id", _ID, nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("answered_within", sa.Integer(), nullable=False),
        sa.Column("answer_wait_s", sa.Float(), nullable=False),
        sa.Column("abandoned", sa.Integer(), nullable=False),
        sa.Column("short_abandoned", sa.Integer(), nullable=False),
        sa.Column("handled", sa.Integer(), nullable=False),
        sa.Column("handle_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("span_h", "hour", "queue_id", name=op.f("pk_queue_hour_stats")),
    )
    op.create_table(
        "agent_hour_stats",
        sa.Column("span_h", sa.Integer(), nullable=False),
        sa.Column("hour", sa.DateTime(), nullable=False),
        sa.Column("agent_id", _ID, nullable=False),
        sa.Column("handled", sa.Integer(), nullable=False),
        sa.Column("handle_s", sa.Float(), nullable=False),
        sa.Column("available_s", sa.Float(), nullable=False),
        sa.Column("handling_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("span_h", "hour", "agent_id", name=op.f("pk_agent_hour_stats")),
    )
    op.create_table(
        "metric_rollups",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("settled_until", sa.DateTime(), nullable=True),
        sa.Column("threshold_s", sa.Float(), nullable=False),
        sa.Column("short_abandon_s", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_metric_rollups")),
    )


def downgrade() -> None:
    op.drop_table("metric_rollups")
    op.drop_table("agent_hour_stats")
    op.drop_table("queue_hour_stats")
    op.drop_table("sla_events")
    op.drop_table("assignment_intervals")
    op.drop_table("agent_presence_intervals")
    op.drop_table("routing_offers")
    op.drop_index("ix_customers_tier", table_name="customers")
    op.drop_index("ix_conversations_waiting_order", table_name="conversations")
    for name in _CONVERSATION_INDEXES:
        op.drop_index(f"ix_conversations_{name}", table_name="conversations")
    for column in _conversation_columns():
        op.drop_column("conversations", column.name)
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_queues_calendar_id_calendars"), "queues", type_="foreignkey")
    op.drop_column("queues", "calendar_id")
    for column in _queue_columns():
        op.drop_column("queues", column.name)
    for column in _agent_columns():
        op.drop_column("agents", column.name)
    op.drop_table("calendars")
