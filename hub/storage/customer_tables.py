"""Tables for customer (see hub/storage/tables.py for the shared Base)."""
from __future__ import annotations

from hub.storage.tables import Base  # noqa: F401
