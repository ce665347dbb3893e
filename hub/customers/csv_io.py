"""Customer CSV, pure: reading an upload into checked rows with per-row problems, and writing the export."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hub.customers.attributes import AttributeDef
from hub.customers.errors import FieldError
from hub.customers.fields import PHONE, RecordChanges, check_changes
from hub.domain import DomainError

COLUMNS = (
    "id", "name", "emails", "phones", "company", "position", "address", "language", "timezone",
    "lifecycle_stage", "tier", "tags", "notes",
)
EXPORT_ONLY = ("created_at", "updated_at")  # written by the export, ignored on import
LIST_SEPARATOR = "; "
MAX_PROBLEMS = 1000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Problem:
    """Why one row (or one cell) was not imported; never repeats the cell's value."""

    line: int
    column: str | None
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        """The problem as the job shows it."""
        return {"line": self.line, "column": self.column, "error": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One checked row: the record it names (by id), its changes, and its line for problems."""

    line: int
    customer_id: int | None
    changes: RecordChanges


@dataclass(frozen=True, slots=True)
class ParsedImport:
    """What a file holds: rows to apply and rows refused."""

    rows: list[ImportRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    total: int = 0


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (with or without BOM), else GB18030 (Chinese Excel's default)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise DomainError("the file is neither UTF-8 nor GB18030 text", code="bad_encoding") from None


def check_header(header: Sequence[str], definitions: Mapping[str, AttributeDef]) -> list[str]:
    """Normalised column names; a 400 naming any column Kefu does not know (or a repeated one)."""
    names = [h.strip().lower() for h in header]
    if not any(names):
        raise DomainError("the file has no header row", code="missing_header")
    known = set(COLUMNS) | set(EXPORT_ONLY) | set(definitions)
    unknown = [n for n in names if n and n not in known]
    if unknown:
        raise DomainError(
            f"unknown column(s): {', '.join(unknown)}; columns are {', '.join(COLUMNS)} or a custom attribute key",
            code="unknown_columns",
        )
    repeated = sorted({n for n in names if n and names.count(n) > 1})
    if repeated:
        raise DomainError(f"column(s) appear twice: {', '.join(repeated)}", code="repeated_columns")
    return names


def read_header(text: str, definitions: Mapping[str, AttributeDef]) -> list[str]:
    """The checked header of a CSV text (for a fast 400 before the import starts)."""
    first = next(csv.reader(io.StringIO(text)), None)
    if first is None:
        raise DomainError("the file is empty", code="empty_upload")
    return check_header(first, definitions)


def _unquote(cell: str) -> str:
    # The export guards formula-looking cells with a leading apostrophe; take it off again.
    if len(cell) > 1 and cell[0] == "'" and cell[1] in _FORMULA_START:
        return cell[1:]
    return cell


def _column_of(field_name: str) -> str:
    return field_name.removeprefix("attributes.")


def parse(text: str, definitions: Mapping[str, AttributeDef]) -> ParsedImport:
    """Every data row checked like an API edit; empty cells leave a field as it is."""
    reader = csv.reader(io.StringIO(text))
    header = check_header(next(reader, []), definitions)
    result = ParsedImport()
    total = 0
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        total += 1
        values = {name: _unquote(cell.strip()) for name, cell in zip(header, cells, strict=False) if name}
        problem = _row(line, values, definitions, result.rows)
        if problem is not None and len(result.problems) < MAX_PROBLEMS:
            result.problems.append(problem)
    return ParsedImport(result.rows, result.problems, total)


def _row(
    line: int, values: Mapping[str, str], definitions: Mapping[str, AttributeDef], rows: list[ImportRow]
) -> Problem | None:
    customer_id = None
    if values.get("id"):
        try:
            customer_id = int(values["id"])
        except ValueError:
            return Problem(line, "id", "invalid_id", "id must be a Kefu customer number")
    data: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    for name, value in values.items():
        if not value or name in ("id", *EXPORT_ONLY):
            continue
        if name in definitions and name not in COLUMNS:
            attributes[name] = value
        else:
            data[name] = value
    if attributes:
        data["attributes"] = attributes
    try:
        changes = check_changes(data, definitions, from_text=True)
    except FieldError as error:
        return Problem(line, _column_of(error.field), error.code, error.message)
    if customer_id is None and not (changes.emails or changes.phones or changes.columns.get("display_name")):
        return Problem(line, None, "missing_identity", "a new customer needs a name, an email or a phone")
    if customer_id is not None and changes.empty:
        return Problem(line, None, "nothing_to_change", "the row names a customer but changes nothing")
    rows.append(ImportRow(line, customer_id, changes))
    return None


# ---------------------------------------------------------------------------------------------- export


def _guard(cell: str) -> str:
    # A cell that Excel would run as a formula gets a leading apostrophe (phone numbers are left alone).
    if cell.startswith(_FORMULA_START) and not PHONE.match(cell):
        return "'" + cell
    return cell


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(_guard(str(v)) for v in value)
    return _guard(str(value))


def export_header(definitions: Iterable[AttributeDef]) -> list[str]:
    """The export's columns: record fields, custom attributes, then timestamps."""
    return [*COLUMNS, *(d.key for d in definitions), *EXPORT_ONLY]


def export_lines(header: Sequence[str], records: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """CSV text, one record per line, for records shaped like hub.customers.store.snapshot plus id/timestamps."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for record in records:
        attributes = record.get("attributes") or {}
        writer.writerow(
            [_cell(record.get(name) if name in COLUMNS or name in EXPORT_ONLY else attributes.get(name))
             for name in header]
        )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def header_line(header: Sequence[str]) -> str:
    """The header row as CSV text."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(header)
    return buffer.getvalue()
