"""Hot-path statements compiled once per dialect and, on SQLite, run straight on the DBAPI connection.

SQLAlchemy Core spends more CPU per statement (cache lookup, parameter construction, result set-up)
than SQLite spends running it. The inbound-message transaction runs four statements per message, so
each is compiled once and executed on the sqlite3 connection with the same bind and result processors
Core would apply (UTC datetimes by a C-speed equivalent, tested against Core's): the rows written are
identical. Other databases run the Core statement as usual, so callers write one transaction for both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler

from hub.storage.tables import UTCDateTime

Processor = Callable[[Any], Any] | None


class _Compiled:
    """One statement compiled for one dialect: SQL text, positional binds with processors, result processors."""

    __slots__ = ("sql", "defaults", "results", "has_results", "_get", "_processed")

    def __init__(self, statement: Executable, dialect: Dialect, column_keys: Sequence[str] | None) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(column_keys) if column_keys else None)
        assert isinstance(compiled, SQLCompiler)
        if compiled.positiontup is None:
            raise ValueError(f"{dialect.name} does not use positional parameters")
        prefetch = [*compiled.insert_prefetch, *compiled.update_prefetch]
        if prefetch:
            # Python-side column defaults are computed by Core at execution; name every such column instead.
            raise ValueError(f"give values for {[c.key for c in prefetch]}: their defaults need Core")
        processors = compiled._bind_processors
        binds: list[tuple[str, Processor]] = []
        defaults: dict[str, Any] = {}
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            if not bind.required:
                defaults[name] = bind.effective_value
            binds.append((name, _fast_bind(bind.type, dialect, processors.get(name))))
        self.sql = compiled.string
        self.defaults = defaults
        self.results: tuple[Processor, ...] = tuple(
            entry[3]._cached_result_processor(dialect, None) for entry in compiled._result_columns
        )
        self.has_results = any(p is not None for p in self.results)
        # One C-level lookup of every bind, then the few processors (datetimes, JSON) by position: a loop
        # over all binds testing each for a processor cost more than the statement's own execution.
        self._get = _getter([name for name, _ in binds])
        self._processed = tuple((i, process) for i, (_, process) in enumerate(binds) if process is not None)

    def values(self, params: Mapping[str, Any]) -> list[Any]:
        """The positional values to bind for one parameter set, each through its processor."""
        if self.defaults:
            params = {**self.defaults, **params}
        values = list(self._get(params))
        for i, process in self._processed:
            values[i] = process(values[i])
        return values


def _getter(names: list[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """Every named value of a mapping, as a tuple (itemgetter alone returns a bare value for one name)."""
    if len(names) == 1:
        one = itemgetter(names[0])
        return lambda params: (one(params),)
    return itemgetter(*names) if names else (lambda _params: ())


def _sqlite_utc_text(value: datetime | None) -> str | None:
    """UTCDateTime as SQLAlchemy's SQLite dialect stores it ("YYYY-MM-DD HH:MM:SS.ffffff", UTC), in C speed."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware UTC")
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]  # without the "+00:00"


_CONTAINERS = (list, dict)


def _fast_bind(type_: Any, dialect: Dialect, core: Processor) -> Processor:
    """A C-speed equivalent of Core's bind processor for the hot types on SQLite, else Core's own."""
    if dialect.name != "sqlite":
        return core
    if isinstance(type_, UTCDateTime):
        return _sqlite_utc_text
    serialize = getattr(dialect, "_json_serializer", None)
    if isinstance(type_, JSON) and core is not None and serialize is not None:
        # Core serializes a list or dict with the engine's serializer and nothing else; other values (None,
        # JSON.NULL, null()) keep Core's handling.
        def json_text(value: Any) -> Any:
            return serialize(value) if type(value) in _CONTAINERS else core(value)

        return json_text
    return core


_last_driver: tuple[Connection | None, Any] = (None, None)


def _driver_connection(conn: Connection) -> Any:
    """The sqlite3 connection under `conn`, remembered for the rest of its transaction's statements."""
    global _last_driver
    known, raw = _last_driver
    if known is not conn:
        raw = conn.connection.driver_connection
        _last_driver = (conn, raw)
    return raw


class Prepared:
    """A Core statement run through `rows(conn, params)`; on SQLite without Core's per-call overhead."""

    __slots__ = ("statement", "column_keys", "_sqlite")

    def __init__(self, statement: Executable, column_keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.column_keys = tuple(column_keys) if column_keys else None
        self._sqlite: _Compiled | None = None

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[Sequence[Any]]:
        """Execute with `params` (bind names, or column keys for inserts) and return every row."""
        if conn.dialect.name != "sqlite":
            result = conn.execute(self.statement, dict(params))
            return list(result.all()) if result.returns_rows else []
        compiled = self._compiled(conn)
        fetched = _driver_connection(conn).execute(compiled.sql, compiled.values(params)).fetchall()
        if not compiled.has_results:
            return fetched
        processors = compiled.results
        return [
            tuple(value if p is None else p(value) for p, value in zip(processors, row, strict=True)) for row in fetched
        ]

    def many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Execute once per parameter set (an insert of many rows); returns nothing."""
        if not rows:
            return
        if conn.dialect.name != "sqlite":
            conn.execute(self.statement, [dict(r) for r in rows])
            return
        compiled = self._compiled(conn)
        _driver_connection(conn).executemany(compiled.sql, [compiled.values(r) for r in rows])

    def _compiled(self, conn: Connection) -> _Compiled:
        """This statement compiled for SQLite, once."""
        if self._sqlite is None:
            self._sqlite = _Compiled(self.statement, conn.dialect, self.column_keys)
        return self._sqlite

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Sequence[Any] | None:
        """The first row, or None."""
        found = self.rows(conn, params)
        return found[0] if found else None

    def one(self, conn: Connection, params: Mapping[str, Any]) -> Sequence[Any]:
        """Exactly one row (a RETURNING clause, a lookup by key)."""
        found = self.rows(conn, params)
        if len(found) != 1:
            raise LookupError(f"expected one row, got {len(found)}")
        return found[0]
