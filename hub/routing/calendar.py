"""Business-hours calendars: weekly opening ranges in an IANA time zone, minus holidays, with dated exceptions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# How far ahead to look for an opening before deciding a calendar never opens.
MAX_SCAN_DAYS = 3 * 366

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_CACHE_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Opening hours on one weekday in local wall time; an end at or before the start runs past midnight."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("TimeRange takes local wall-clock times without tzinfo")

    @classmethod
    def parse(cls, text: str) -> TimeRange:
        """Read "09:00-17:30"; "22:00-06:00" runs overnight and "00:00-00:00" is the whole day."""
        match = _RANGE_RE.match(text)
        if not match:
            raise ValueError(f"not a time range: {text!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h2 == 24 and m2 == 0:
            h2 = 0  # "24:00" is how people write "until midnight"
        return cls(time(h1, m1), time(h2, m2))


@dataclass(frozen=True, slots=True)
class Holiday:
    """A local date on which the calendar stays closed; yearly ones repeat on the same month and day."""

    day: date
    yearly: bool = False
    name: str = ""

    @classmethod
    def parse(cls, text: str, name: str = "") -> Holiday:
        """Read "2026-12-24" (once) or "12-25" (every year)."""
        parts = text.strip().split("-")
        if len(parts) == 2:
            # A leap year as placeholder so "02-29" is accepted.
            return cls(date(2000, int(parts[0]), int(parts[1])), yearly=True, name=name)
        return cls(date.fromisoformat(text.strip()), yearly=False, name=name)


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """When a team works: `weekly` maps 0=Monday..6=Sunday to ranges, in `timezone`."""

    id: str
    timezone: str
    weekly: Mapping[int, tuple[TimeRange, ...]]
    holidays: tuple[Holiday, ...] = ()
    # Dated exceptions that replace the weekly hours of that local date (and win over a holiday): a short
    # day before a holiday, or a weekend turned working day (调休); an empty tuple closes the day.
    special: Mapping[date, tuple[TimeRange, ...]] = field(default_factory=dict)
    _tz: ZoneInfo = field(init=False, repr=False, compare=False)
    _once: frozenset[date] = field(init=False, repr=False, compare=False)
    _yearly: frozenset[tuple[int, int]] = field(init=False, repr=False, compare=False)
    _cache: dict[date, tuple[tuple[datetime, datetime], ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        bad = [d for d in self.weekly if d not in range(7)]
        if bad:
            raise ValueError(f"weekdays must be 0..6, got {bad}")
        object.__setattr__(self, "_tz", ZoneInfo(self.timezone))
        object.__setattr__(self, "_once", frozenset(h.day for h in self.holidays if not h.yearly))
        object.__setattr__(self, "_yearly", frozenset((h.day.month, h.day.day) for h in self.holidays if h.yearly))
        object.__setattr__(self, "_cache", {})

    @classmethod
    def from_spec(
        cls,
        id: str,
        timezone: str,
        hours: Mapping[str, Iterable[str]],
        holidays: Iterable[str] = (),
        special: Mapping[str, Iterable[str]] | None = None,
    ) -> BusinessCalendar:
        """Build from plain data: {"mon": ["09:00-12:00", "13:00-17:00"], ...}, ["12-25", "2026-04-03"] and
        {"2026-02-14": ["09:00-17:00"], "2026-02-16": ["09:00-12:00"]}."""
        weekly: dict[int, tuple[TimeRange, ...]] = {}
        for name, ranges in hours.items():
            key = name.strip().lower()[:3]
            if key not in _WEEKDAYS:
                raise ValueError(f"unknown weekday {name!r}")
            weekly[_WEEKDAYS.index(key)] = tuple(TimeRange.parse(r) for r in ranges)
        dated: dict[date, tuple[TimeRange, ...]] = {}
        for day, ranges in (special or {}).items():
            try:
                when = date.fromisoformat(day.strip())
            except ValueError:
                raise ValueError(f"special hours need a date like 2026-02-16, got {day!r}") from None
            dated[when] = tuple(TimeRange.parse(r) for r in ranges)
        return cls(id, timezone, weekly, tuple(Holiday.parse(h) for h in holidays), dated)

    @classmethod
    def always_open(cls, id: str = "24x7", timezone: str = "UTC") -> BusinessCalendar:
        """A calendar that never closes, for queues that count SLAs in wall-clock time."""
        whole_day = (TimeRange(time(0), time(0)),)
        return cls(id, timezone, {d: whole_day for d in range(7)})

    def is_holiday(self, day: date) -> bool:
        """Whether ranges starting on this local date are cancelled."""
        return day in self._once or (day.month, day.day) in self._yearly

    def is_open(self, at: datetime) -> bool:
        """Whether `at` falls inside business hours."""
        _require_aware(at)
        for start, end in self._pieces_from(at):
            return start <= at < end
        return False

    def next_open(self, at: datetime) -> datetime | None:
        """`at` itself when open, else the next opening instant (UTC); None if it never opens."""
        _require_aware(at)
        for start, _end in self._pieces_from(at):
            return max(start, at.astimezone(UTC))
        return None

    def business_seconds_between(self, a: datetime, b: datetime) -> float:
        """Open seconds in [a, b); negative when b is before a."""
        _require_aware(a)
        _require_aware(b)
        if b < a:
            return -self.business_seconds_between(b, a)
        total = timedelta(0)
        for start, end in self._pieces_from(a):
            if start >= b:
                break
            total += min(end, b) - max(start, a)
        return total.total_seconds()

    def add_business_seconds(self, at: datetime, seconds: float) -> datetime:
        """The instant (UTC) at which `seconds` of open time have passed since `at`."""
        _require_aware(at)
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        if seconds == 0:
            return at.astimezone(UTC)
        remaining = timedelta(seconds=seconds)
        for start, end in self._pieces_from(at):
            begin = max(start, at)
            available = end - begin
            if remaining <= available:
                return (begin + remaining).astimezone(UTC)
            remaining -= available
        raise ValueError(f"calendar {self.id!r} has no business hours within {MAX_SCAN_DAYS} days")

    def _pieces_from(self, at: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Non-overlapping open intervals in UTC, in order, that end after `at`."""
        # Start a day early: yesterday's overnight range may still be running.
        day = at.astimezone(self._tz).date() - timedelta(days=1)
        last_end: datetime | None = None
        quiet_days = 0
        while quiet_days <= MAX_SCAN_DAYS:
            produced = False
            for start, end in self._day_intervals(day):
                if last_end is not None and start < last_end:
                    start = last_end  # overlaps what was already yielded
                if end <= start:
                    continue
                last_end = end
                if end > at:
                    produced = True
                    yield start, end
            quiet_days = 0 if produced else quiet_days + 1
            day += timedelta(days=1)

    def _day_intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The UTC intervals of the ranges that start on one local date, sorted by start."""
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        special = self.special.get(day)
        if special is None and self.is_holiday(day):
            result: tuple[tuple[datetime, datetime], ...] = ()
        else:
            spans = []
            for r in special if special is not None else self.weekly.get(day.weekday(), ()):
                end_day = day + timedelta(days=1) if r.end <= r.start else day
                start = self._first_instant_reading(day, r.start)
                end = self._first_instant_reading(end_day, r.end)
                if end > start:
                    spans.append((start, end))
            result = tuple(sorted(spans))
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[day] = result
        return result

    def _first_instant_reading(self, day: date, at: time) -> datetime:
        """The first instant (UTC) at which the local wall clock reads `at` or later on `day`."""
        naive = datetime.combine(day, at)
        # fold=0 picks the first of two readings when clocks go back, which is what we want.
        instant = naive.replace(tzinfo=self._tz).astimezone(UTC)
        if instant.astimezone(self._tz).replace(tzinfo=None) == naive:
            return instant
        # The wall time falls in a spring-forward gap and never appears: open at the jump itself,
        # found by bisecting between the two offsets' readings (transitions fall on whole seconds).
        lo = int(naive.replace(tzinfo=self._tz, fold=1).timestamp())
        hi = int(instant.timestamp())
        while lo < hi:
            mid = (lo + hi) // 2
            if datetime.fromtimestamp(mid, self._tz).replace(tzinfo=None) >= naive:
                hi = mid
            else:
                lo = mid + 1
        return datetime.fromtimestamp(lo, UTC)


def _require_aware(at: datetime) -> None:
    """Refuse naive datetimes: a wall time without a zone has no business-hours answer."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("datetimes must be timezone-aware")
