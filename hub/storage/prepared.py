"""Hot-path statements compiled once per dialect and, on SQLite, run straight on the DBAPI connection.

SQLAlchemy Core spends more CPU per statement (cache lookup, parameter construction, result set-up)
than SQLite spends running it. The inbound-message transaction runs six statements per message on
the writer thread, so there the statement is compiled once and executed on the sqlite3 connection
with the same bind and result processors Core would apply: the rows written are identical. Other
databases run the Core statement as usual, so callers write one transaction for both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler

_REQUIRED = object()
Processor = Callable[[Any], Any] | None


class _Compiled:
    """One statement compiled for one dialect: SQL text, positional binds with processors, result processors."""

    __slots__ = ("sql", "binds", "results", "has_results")

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
        binds: list[tuple[str, Processor, Any]] = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            default = _REQUIRED if bind.required else bind.effective_value
            binds.append((name, processors.get(name), default))
        self.sql = compiled.string
        self.binds = tuple(binds)
        self.results: tuple[Processor, ...] = tuple(
            entry[3]._cached_result_processor(dialect, None) for entry in compiled._result_columns
        )
        self.has_results = any(p is not None for p in self.results)


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
        compiled = self._sqlite
        if compiled is None:
            compiled = self._sqlite = _Compiled(self.statement, conn.dialect, self.column_keys)
        values = []
        for name, process, default in compiled.binds:
            value = params[name] if default is _REQUIRED or name in params else default
            values.append(value if process is None else process(value))
        raw = conn.connection.driver_connection
        assert raw is not None
        fetched = raw.execute(compiled.sql, values).fetchall()
        if not compiled.has_results:
            return fetched
        processors = compiled.results
        return [
            tuple(value if p is None else p(value) for p, value in zip(processors, row, strict=True)) for row in fetched
        ]

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
