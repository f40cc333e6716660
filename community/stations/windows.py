"""Fixed-time drop windows (定时投放): is a moment inside a station's window? Pure, no DB.

A schedule is a weekly table of local time ranges plus date exceptions (a closed day
or special hours for one date), in the community's time zone. A range whose end is
not after its start runs past midnight (22:00–01:00). Grace minutes widen every
window on both sides. Drops outside every widened window are 过时投放.

A schedule may carry its history (`Schedule.versions`, `Schedule.status`): then the weekly
table and grace in force on a day are those of the version effective on that day (the
latest `effective_from` not after it), and a window counts only when the station was open
at the window's start (before its first status event a station did not exist). A window
past midnight belongs to the day it starts: its version, its grace and its opening are
that day's. Without history the schedule is the same every day and always open.

The managers' schedule editor refuses overlapping ranges with `find_overlap`.
"""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_RANGES = ((time(7, 0), time(9, 0)), (time(18, 0), time(20, 0)))
TimeRange = tuple[time, time]
Weekly = Mapping[int, Sequence[TimeRange]]  # weekday (0 = Monday) -> ranges
WEEK_MINUTES = 7 * 24 * 60


@dataclass(frozen=True)
class Version:
    """A weekly table (weekday 0 = Monday) and grace minutes in force from a local date on."""

    effective_from: date
    weekly: Mapping[int, Sequence[TimeRange]]
    grace: int = 0


@dataclass(frozen=True)
class Schedule:
    """Weekly ranges by weekday (0 = Monday) in time zone `tz`, optionally with history.

    `versions` (sorted by `effective_from`), when given, replace `weekly` and the `grace`
    argument of `classify`: before the first version there is no schedule. `status` is
    (effective moment, open?) sorted by moment; when given, the station is open at a moment
    iff the latest entry not after it is open (none: it did not exist yet).
    """

    weekly: Mapping[int, Sequence[TimeRange]]
    tz: str = "Asia/Shanghai"
    versions: tuple[Version, ...] = ()
    status: tuple[tuple[datetime, bool], ...] = ()

    @classmethod
    def default(cls, tz: str = "Asia/Shanghai") -> Schedule:
        """07:00–09:00 and 18:00–20:00 every day."""
        return cls(dict.fromkeys(range(7), DEFAULT_RANGES), tz)

    def version_on(self, day: date) -> Version | None:
        """The version in force on local date `day` (None: no history, or before the first)."""
        n = bisect_right([v.effective_from for v in self.versions], day)
        return self.versions[n - 1] if n else None

    def weekly_on(self, day: date) -> Mapping[int, Sequence[TimeRange]]:
        """The weekly table in force on local date `day`."""
        if not self.versions:
            return self.weekly
        version = self.version_on(day)
        return version.weekly if version is not None else {}

    def grace_on(self, day: date, default: int = 0) -> int:
        """The grace minutes in force on local date `day` (`default` without history)."""
        version = self.version_on(day)
        return version.grace if version is not None else default

    def open_at(self, moment: datetime) -> bool:
        """Whether the station existed and was open at `moment` (always, without history)."""
        if not self.status:
            return True
        n = bisect_right([at for at, _ in self.status], moment)
        return self.status[n - 1][1] if n else False


@dataclass(frozen=True)
class Window:
    """One concrete opening, as aware datetimes (without grace).

    `grace` is the grace minutes of the version in force on the window's day when the
    schedule has history (None: `classify` uses its `grace` argument).
    """

    start: datetime
    end: datetime
    grace: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Classification:
    """The verdict for one moment: in a window (with grace) or out of window (过时投放)."""

    in_window: bool
    window: Window | None = None
    next_window: Window | None = field(default=None, compare=False)


def ranges_on(schedule: Schedule, exceptions: Mapping[date, Sequence[TimeRange]],
              day: date) -> Sequence[TimeRange]:
    """The ranges in force on a local date: the exception if there is one, else the weekday's
    (of the version in force that day)."""
    if day in exceptions:
        return exceptions[day]
    return schedule.weekly_on(day).get(day.weekday(), ())


def windows_on(schedule: Schedule, exceptions: Mapping[date, Sequence[TimeRange]],
               day: date) -> list[Window]:
    """Concrete windows that start on local date `day` (DST-aware), at moments the station
    existed and was open."""
    zone = ZoneInfo(schedule.tz)
    version = schedule.version_on(day)
    grace = version.grace if version is not None else None
    out = []
    for start, end in ranges_on(schedule, exceptions, day):
        start_dt = datetime.combine(day, start, tzinfo=zone)
        if not schedule.open_at(start_dt):
            continue
        end_day = day if end > start else day + timedelta(days=1)
        out.append(Window(start_dt, datetime.combine(end_day, end, tzinfo=zone), grace))
    return sorted(out, key=lambda w: w.start)


class DayWindows:
    """`windows_on` of one schedule and its exceptions, remembered per local day: a batch
    classifies its drops against the same few days of a station (pass it to `classify`)."""

    def __init__(self, schedule: Schedule,
                 exceptions: Mapping[date, Sequence[TimeRange]]) -> None:
        self.schedule, self.exceptions = schedule, exceptions
        self._days: dict[date, list[Window]] = {}

    def __call__(self, day: date) -> list[Window]:
        got = self._days.get(day)
        if got is None:
            got = self._days[day] = windows_on(self.schedule, self.exceptions, day)
        return got


def _windows_around(schedule: Schedule, exceptions: Mapping[date, Sequence[TimeRange]],
                    moment: datetime, days_before: int, days_after: int,
                    days: DayWindows | None = None) -> Iterator[Window]:
    local_day = moment.astimezone(ZoneInfo(schedule.tz)).date()
    for offset in range(-days_before, days_after + 1):
        day = local_day + timedelta(days=offset)
        yield from (days(day) if days is not None else windows_on(schedule, exceptions, day))


def classify(schedule: Schedule, exceptions: Mapping[date, Sequence[TimeRange]],
             moment: datetime, grace: int = 0, days: DayWindows | None = None
             ) -> Classification:
    """Decide whether `moment` (aware) falls in a window widened by grace minutes, both ends
    inclusive: start − grace ≤ moment ≤ end + grace. The grace is the window's version's when
    the schedule has history, else `grace`. `days`: the same schedule's windows, remembered
    across calls."""
    if moment.tzinfo is None:
        raise ValueError("classify() needs an aware datetime")
    # A window that started the day before can run past midnight (plus grace) into today.
    for window in _windows_around(schedule, exceptions, moment, 1, 1, days):
        pad = timedelta(minutes=max(0, grace if window.grace is None else window.grace))
        if window.start - pad <= moment <= window.end + pad:
            return Classification(True, window)
    return Classification(False, None, next_window(schedule, exceptions, moment))


def next_window(schedule: Schedule, exceptions: Mapping[date, Sequence[TimeRange]],
                moment: datetime, horizon_days: int = 14) -> Window | None:
    """The first window that starts after `moment` within the horizon (for "next window at")."""
    for window in _windows_around(schedule, exceptions, moment, 0, horizon_days):
        if window.start > moment:
            return window
    return None


def open_now(schedule: Schedule, exceptions: Mapping[date, Sequence[TimeRange]],
             moment: datetime) -> Window | None:
    """The window open at `moment` without grace, if any (for residents: "open now")."""
    for window in _windows_around(schedule, exceptions, moment, 1, 0):
        if window.start <= moment < window.end:
            return window
    return None


def _span(start: time, end: time) -> tuple[int, int]:
    """Minutes from the day's start; an end not after the start runs past midnight."""
    a = start.hour * 60 + start.minute
    b = end.hour * 60 + end.minute
    return a, b if b > a else b + 24 * 60


def fmt_range(r: TimeRange) -> str:
    """'07:00–09:00' for messages and pages."""
    return f"{r[0]:%H:%M}–{r[1]:%H:%M}"


def find_overlap(weekly: Mapping[int, Sequence[TimeRange]],
                 wrap: bool = True) -> tuple[int, TimeRange, TimeRange] | None:
    """The first two ranges that overlap (weekday of the first, both ranges), or None.

    Ranges are laid on the week (a range past midnight reaches into the next weekday, and
    Sunday night into Monday when `wrap`), so 22:00–02:00 on Monday clashes with 01:00–03:00
    on Tuesday.
    """
    spans = []
    for day, ranges in weekly.items():
        for r in ranges:
            a, b = _span(*r)
            spans.append((day * 1440 + a, day * 1440 + b, day, r))
    spans.sort(key=lambda s: s[0])
    if wrap:  # Sunday's late range may run into Monday morning
        spans += [(a + WEEK_MINUTES, b + WEEK_MINUTES, d, r) for a, b, d, r in spans]
    for i, (a1, b1, d1, r1) in enumerate(spans):
        for a2, _b2, _d2, r2 in spans[i + 1:]:
            if a2 >= b1:
                break
            if a2 < b1 and a2 >= a1:
                return d1, r1, r2
    return None
