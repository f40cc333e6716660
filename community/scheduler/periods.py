"""Job cadences and their periods (pure: no DB, no Flask, no APScheduler).

A period is the unit of work a job does once: a local day, month or year, or a slot of N
minutes. Each cadence knows a period's key ("2026-11-21", "2026-11", "2026",
"2026-11-21T08:15"), when the period becomes due (local wall time), the latest period due
at a moment, and its neighbours, which is all the runner needs for catch-up.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol


class Cadence(Protocol):
    """How often a job runs and what one period is."""

    @property
    def catch_up(self) -> int:
        """At most this many missed periods are run after downtime (read-only: frozen)."""

    def key(self, period: datetime) -> str:
        """The stable text key of a period (unique with the job name)."""

    def parse(self, key: str) -> datetime:
        """The period of a key (raises ValueError for a malformed one)."""

    def due_at(self, period: datetime) -> datetime:
        """The local wall time when the period's work may run."""

    def latest_due(self, local_now: datetime) -> datetime:
        """The newest period whose due time has passed at `local_now` (naive local)."""

    def previous(self, period: datetime) -> datetime:
        """The period before."""

    def following(self, period: datetime) -> datetime:
        """The period after."""

    def describe(self) -> str:
        """A short English description, e.g. "daily at 03:00"."""


def key_label(key: str) -> str:
    """A period key as people read it: a slot's "2026-12-06T21:00" as "2026-12-06 21:00"
    (keys are local wall time already); day, month and year keys unchanged."""
    return key.replace("T", " ", 1)


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time())


@dataclass(frozen=True)
class Daily:
    """A local day; due at `at` on the day `offset_days` after it (1: "yesterday's work")."""

    at: time
    offset_days: int = 0
    catch_up: int = 7

    def key(self, period: datetime) -> str:
        return period.date().isoformat()

    def parse(self, key: str) -> datetime:
        return _midnight(date.fromisoformat(key))

    def due_at(self, period: datetime) -> datetime:
        return datetime.combine(period.date() + timedelta(days=self.offset_days), self.at)

    def latest_due(self, local_now: datetime) -> datetime:
        day = _midnight(local_now.date() - timedelta(days=self.offset_days))
        return day if self.due_at(day) <= local_now else day - timedelta(days=1)

    def previous(self, period: datetime) -> datetime:
        return period - timedelta(days=1)

    def following(self, period: datetime) -> datetime:
        return period + timedelta(days=1)

    def describe(self) -> str:
        when = "the next day" if self.offset_days == 1 else "each day"
        return f"{when} at {self.at:%H:%M}"


def _add_months(d: date, n: int) -> date:
    months = d.year * 12 + d.month - 1 + n
    return date(months // 12, months % 12 + 1, 1)


@dataclass(frozen=True)
class Monthly:
    """A local month; due on `day` of the next month at `at`."""

    at: time
    day: int = 1
    catch_up: int = 3

    def key(self, period: datetime) -> str:
        return f"{period:%Y-%m}"

    def parse(self, key: str) -> datetime:
        year, month = key.split("-")
        return _midnight(date(int(year), int(month), 1))

    def due_at(self, period: datetime) -> datetime:
        return datetime.combine(_add_months(period.date(), 1).replace(day=self.day), self.at)

    def latest_due(self, local_now: datetime) -> datetime:
        month = _midnight(_add_months(local_now.date().replace(day=1), -1))
        return month if self.due_at(month) <= local_now else self.previous(month)

    def previous(self, period: datetime) -> datetime:
        return _midnight(_add_months(period.date(), -1))

    def following(self, period: datetime) -> datetime:
        return _midnight(_add_months(period.date(), 1))

    def describe(self) -> str:
        return f"monthly on day {self.day} at {self.at:%H:%M} (the month before)"


@dataclass(frozen=True)
class Yearly:
    """A local calendar year; due on 1 January of the next year at `at`."""

    at: time
    catch_up: int = 1

    def key(self, period: datetime) -> str:
        return f"{period:%Y}"

    def parse(self, key: str) -> datetime:
        return _midnight(date(int(key), 1, 1))

    def due_at(self, period: datetime) -> datetime:
        return datetime.combine(date(period.year + 1, 1, 1), self.at)

    def latest_due(self, local_now: datetime) -> datetime:
        year = _midnight(date(local_now.year - 1, 1, 1))
        return year if self.due_at(year) <= local_now else self.previous(year)

    def previous(self, period: datetime) -> datetime:
        return _midnight(date(period.year - 1, 1, 1))

    def following(self, period: datetime) -> datetime:
        return _midnight(date(period.year + 1, 1, 1))

    def describe(self) -> str:
        return f"yearly on 1 January at {self.at:%H:%M} (the year before)"


@dataclass(frozen=True)
class EveryMinutes:
    """A slot of `minutes` local minutes (aligned to midnight); due when the slot ends."""

    minutes: int
    catch_up: int = 12

    def key(self, period: datetime) -> str:
        return f"{period:%Y-%m-%dT%H:%M}"

    def parse(self, key: str) -> datetime:
        got = datetime.strptime(key, "%Y-%m-%dT%H:%M")  # noqa: DTZ007 - naive local by design
        if (got.hour * 60 + got.minute) % self.minutes:
            raise ValueError("not the start of a slot")
        return got

    def due_at(self, period: datetime) -> datetime:
        return period + timedelta(minutes=self.minutes)

    def latest_due(self, local_now: datetime) -> datetime:
        into = (local_now.hour * 60 + local_now.minute) % self.minutes
        start = local_now.replace(second=0, microsecond=0) - timedelta(minutes=into)
        return start - timedelta(minutes=self.minutes)

    def previous(self, period: datetime) -> datetime:
        return period - timedelta(minutes=self.minutes)

    def following(self, period: datetime) -> datetime:
        return period + timedelta(minutes=self.minutes)

    def describe(self) -> str:
        return f"every {self.minutes} minutes"


def due_periods(cadence: Cadence, local_now: datetime, done: set[str]) -> list[datetime]:
    """Periods to run now, oldest first: the latest due one and missed ones before it.

    Looks back at most `cadence.catch_up` periods and stops at the first one already done,
    so a restart after downtime runs each missed period once and never older history.
    """
    out: list[datetime] = []
    period = cadence.latest_due(local_now)
    for _ in range(max(1, cadence.catch_up)):
        if cadence.key(period) in done:
            break
        out.append(period)
        period = cadence.previous(period)
    return out[::-1]


def next_due(cadence: Cadence, local_now: datetime) -> datetime:
    """The local time the next period becomes due (for the job history page)."""
    return cadence.due_at(cadence.following(cadence.latest_due(local_now)))
