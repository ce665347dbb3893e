"""Every table module, imported once so Base.metadata knows the whole schema (migrations use it)."""
from __future__ import annotations

from hub.storage import bot_tables, complaint_tables, console_tables, customer_tables, kb_tables, tables
from hub.storage.tables import Base

metadata = Base.metadata

__all__ = ["metadata", "tables", "kb_tables", "bot_tables", "customer_tables", "complaint_tables", "console_tables"]
