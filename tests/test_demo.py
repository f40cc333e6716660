"""The demo city: its shape, one active card per household, idempotence, and working logins;
its stations and windows, and the drops: dates, mixtures and patterns."""
from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlmodel import Session, SQLModel

from community import clock, demo
from community.areas.models import Area
from community.auth.models import ROLES, Account, RoleGrant
from community.db import open_session
from community.demo import city as demo_city
from community.demo import drops as demo_drops
from community.demo.context import DEMO_PASSWORD
from community.households.models import Card, Household, HouseholdMember
from community.stations.models import Drop, Station, StationException, StationWindow
from tests.conftest import DEFAULT_NOW

DEMO = pytest.mark.demo_db  # the demo city, built once per worker: see tests/conftest.py

SEED = 7
# A few days of drops keep the suite fast; the CLI builds 60.
DAYS = 4


def _build(app: Flask) -> list[str]:
    lines: list[str] = []
    with open_session(app) as session:
        demo.build(session, seed=SEED, echo=lines.append, days=DAYS)
    return lines


def _counts(session: Session) -> dict[str, int]:
    session.expire_all()
    counts = {t.name: session.execute(select(func.count()).select_from(t)).scalar_one()
              for t in SQLModel.metadata.sorted_tables}
    session.rollback()  # end the read transaction: on SQLite it holds the write lock
    return counts


def _printed_logins(lines: list[str]) -> list[tuple[str, str, str]]:
    """(role, login, password) rows of the printed table."""
    table = "\n".join(lines).splitlines()
    start = next(i for i, line in enumerate(table) if line.split()[:2] == ["role", "login"])
    rows = []
    for line in table[start + 2:]:
        parts = line.split()
        if len(parts) >= 4 and parts[0] in ROLES:
            rows.append((parts[0], parts[1], parts[2]))
    return rows


@DEMO
def test_demo_city_shape(app: Flask, session: Session) -> None:
    """1/2/4/8 areas, ~3,000 households, one active card each, unique codes, every role."""
    _build(app)
    levels = dict(session.execute(
        select(Area.level, func.count()).group_by(Area.level)).all())
    assert levels == {"city": 1, "district": 2, "street": 4, "community": 8}
    households = session.execute(select(func.count()).select_from(Household)).scalar_one()
    assert 2_700 <= households <= 3_300
    per_household = session.execute(
        select(Card.household_id, func.count()).where(Card.status == "active")
        .group_by(Card.household_id)).all()
    assert len(per_household) == households
    assert {n for _hid, n in per_household} == {1}
    cards = session.execute(select(Card.short_code, Card.token)).all()
    assert len({c.short_code for c in cards}) == len(cards)
    assert len({c.token for c in cards}) == len(cards)
    assert all(len(c.token) >= 22 for c in cards)
    roles = set(session.execute(select(RoleGrant.role)).scalars())
    assert roles == set(ROLES)
    moved_out = session.execute(select(func.count()).select_from(Household)
                                .where(Household.status == "moved_out")).scalar_one()
    assert 0.01 * households <= moved_out <= 0.06 * households
    members = set(session.execute(select(Household.members)).scalars())
    assert members == {1, 2, 3, 4, 5, 6}
    # Every demo resident is linked, approved, to an active household of their own community.
    links = session.execute(
        select(HouseholdMember.status, Household.status, Household.community_id, RoleGrant.area_id)
        .join(Household, Household.id == HouseholdMember.household_id)
        .join(RoleGrant, (RoleGrant.account_id == HouseholdMember.account_id)
              & (RoleGrant.role == "resident"))).all()
    assert len(links) == 16
    assert all(m == "approved" and h == "active" and c == a for m, h, c, a in links)
    # Each community's first building has unit 1 room 101 (a realistic address layout).
    rooms = set(session.execute(select(Household.room)).scalars())
    assert "101" in rooms
    assert all(r[-2:] in ("01", "02") for r in rooms)


@DEMO
def test_demo_is_idempotent_and_logins_work(app: Flask, session: Session,
                                            client: FlaskClient) -> None:
    """A second run adds nothing, says so, and reprints the same logins; each role can log in."""
    first = _build(app)
    before = _counts(session)
    second = _build(app)
    assert _counts(session) == before
    assert any("already exists" in line for line in second)
    # How residents sign up with the development SMS provider (issue 14).
    assert any("/login/phone" in line and "/auth/dev-sms" in line for line in first)
    logins = _printed_logins(first)
    assert logins == _printed_logins(second)
    assert {role for role, _login, _pw in logins} == set(ROLES)
    landing = {"city_admin": "/dashboard/area", "area_admin": "/dashboard/area",
               "manager": "/dashboard/community", "resident": "/me/",
               "steward": "/steward/scan", "station_chief": "/steward/stations",
               "collector": "/collector/"}
    seen: set[str] = set()
    for role, login, password in logins:
        if role in seen:
            continue
        seen.add(role)
        resp = client.post("/login", data={"login": login, "password": password})
        assert resp.status_code == 302, (role, login)
        location = client.get("/").headers["Location"]
        assert location.endswith(landing[role]), role
        # The landing page renders with demo-sized data (e.g. a household list of many pages).
        page = client.get(location)
        assert page.status_code == 200, (role, page.get_data(as_text=True)[:300])
        client.post("/logout")
    # Every account is printed, except the further stewards (<slug>.stewardN, kept off the
    # table to keep it short; tests/volunteers/test_demo.py logs one in).
    printed = {login for _role, login, _pw in logins}
    unprinted = [a.username for a in session.execute(select(Account)).scalars()
                 if a.username not in printed and a.phone not in printed]
    assert unprinted
    assert all(re.fullmatch(r"[a-z]+\.steward\d+", u or "") for u in unprinted), unprinted


def test_layout_is_deterministic_and_realistic() -> None:
    """Pure: the address plan depends only on the seed; units 1–3 and floors up to 18."""
    a = demo_city.plan_addresses(random.Random(1), 400)
    assert a == demo_city.plan_addresses(random.Random(1), 400)
    assert a != demo_city.plan_addresses(random.Random(2), 400)
    assert len(set(a)) == 400
    assert {u for _b, u, _r in a} <= {"1", "2", "3"}
    assert max(int(r) // 100 for _b, _u, r in a) <= 18
    assert a[0] == ("1", "1", "101")


def test_short_codes_skip_ones_already_taken(session: Session, world, monkeypatch) -> None:
    """A generated code that is already on a card of the community (or drawn twice) is
    replaced, not inserted; codes are unique per community."""
    taken, community_id = session.execute(
        select(Card.short_code, Card.community_id)).first()  # type: ignore[misc]
    draws = iter([taken, "AAAA2222", "AAAA2222", "BBBB3333", "CCCC4444"])
    monkeypatch.setattr(demo_city.codes, "new_code", lambda length=8: next(draws))
    assert demo_city._unused_short_codes(session, community_id, 2) == ["AAAA2222", "BBBB3333"]


def _local(moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo("Asia/Shanghai"))


@DEMO
def test_demo_stations_and_windows(app: Flask, session: Session) -> None:
    """2–3 stations per community, 07–09 and 18–20 daily, grace 10, chiefs, one closed day."""
    _build(app)
    per_community = Counter(session.execute(select(Station.community_id)).scalars())
    assert len(per_community) == 8
    assert set(per_community.values()) <= {2, 3}
    stations = list(session.execute(select(Station)).scalars())
    assert {s.grace_minutes for s in stations} == {10}
    assert {s.status for s in stations} == {"open"}
    assert any(s.categories == "kitchen,other" for s in stations)
    assert all(s.location and s.latitude and 31 < s.latitude < 32 for s in stations)
    assert len({(s.community_id, s.name) for s in stations}) == len(stations)
    windows = session.execute(select(StationWindow.station_id, StationWindow.weekday,
                                     StationWindow.start_time, StationWindow.end_time)).all()
    assert len(windows) == 14 * len(stations)
    assert {(w.start_time, w.end_time) for w in windows} == {(time(7), time(9)),
                                                            (time(18), time(20))}
    # Every station has a chief, a station chief of the station's own community (chiefs are
    # stewards too: their other grants are left out here).
    chiefs = session.execute(
        select(Station.community_id, RoleGrant.area_id)
        .join(RoleGrant, (RoleGrant.account_id == Station.chief_id)
              & (RoleGrant.role == "station_chief"))).all()
    assert len(chiefs) == len(stations)
    assert all(c == a for c, a in chiefs)
    closed = session.execute(select(StationException)
                             .where(StationException.start_time.is_(None))).scalars().all()
    assert len(closed) == 1


@DEMO
def test_demo_drops(app: Flask, session: Session) -> None:
    """`DAYS` days ending yesterday and today's so far; every pattern is present in plausible
    shares, rows hang together."""
    _build(app)
    today = _local(clock.now()).date()
    first, last = today - timedelta(days=DAYS), today - timedelta(days=1)
    drops = list(session.execute(select(Drop)).scalars())
    active = session.execute(select(func.count()).select_from(Household)
                             .where(Household.status == "active")).scalar_one()
    # ~55–70% of active households a day, 1–3 drops each (tallies included).
    assert 0.5 * active * DAYS <= len(drops) <= 2.0 * active * (DAYS + 1)
    assert {d.local_date for d in drops} == {first + timedelta(days=n) for n in range(DAYS + 1)}
    assert all(_local(d.happened_at).date() == d.local_date for d in drops)
    assert all(d.received_at >= d.happened_at for d in drops)
    assert len({d.client_id for d in drops}) == len(drops)
    assert all(d.client_id.startswith("demo-") for d in drops)

    def share(pred: Callable[[Drop], bool]) -> float:
        return sum(1 for d in drops if pred(d)) / len(drops)

    assert 0.78 <= share(lambda d: d.in_window) <= 0.92
    assert 0.02 <= share(lambda d: d.quality == "ungraded") <= 0.08
    assert 0.015 <= share(lambda d: d.source == "tally") <= 0.05
    assert {d.source for d in drops} == {"scan", "manual", "tally"}
    assert {d.category for d in drops} == {"kitchen", "other", "recyclable", "hazardous"}
    assert share(lambda d: d.category == "kitchen") > 0.45
    # Tallies carry no household; identified drops carry their household's active card.
    assert all((d.household_id is None) == (d.card_id is None) == (d.source == "tally")
               for d in drops)
    # In-window means inside 07:00–09:00 or 18:00–20:00 widened by 10 minutes, and out of
    # window means outside: checked here by hand, independently of windows.classify.
    for d in drops:
        t = _local(d.happened_at).time()
        inside = time(6, 50) <= t <= time(9, 10) or time(17, 50) <= t <= time(20, 10)
        assert inside == d.in_window, (d.client_id, t, d.in_window)
    # Accuracy differs by community, within 65–99%.
    graded: dict[int, list[bool]] = {}
    for d in drops:
        if d.quality != "ungraded":
            graded.setdefault(d.community_id, []).append(d.quality == "correct")
    rates = [sum(v) / len(v) for v in graded.values()]
    assert len(rates) == 8
    assert min(rates) >= 0.65
    assert max(rates) <= 0.995
    assert max(rates) - min(rates) >= 0.1
    # Weights (0.2–3 kg) at exactly one station per community.
    weighed = {d.station_id for d in drops if d.weight_kg is not None}
    assert len(weighed) == 8
    assert all(0.2 <= float(d.weight_kg) <= 3 for d in drops if d.weight_kg is not None)
    # Rows hang together: station and household of the drop's community, card of the household.
    station_of = dict(session.execute(select(Station.id, Station.community_id)).all())
    stations = {s.id: s for s in session.execute(select(Station)).scalars()}
    home_of = dict(session.execute(select(Household.id, Household.community_id)).all())
    card_of = dict(session.execute(select(Card.id, Card.household_id)).all())
    for d in drops:
        assert station_of[d.station_id] == d.community_id
        assert d.category in stations[d.station_id].category_list()
        if d.household_id:
            assert home_of[d.household_id] == d.community_id
            assert card_of[d.card_id] == d.household_id
    # Recorded by a steward of the community, or its manager where it has no stewards.
    grants = set(session.execute(select(RoleGrant.account_id, RoleGrant.area_id,
                                        RoleGrant.role)).all())
    staffed = {a for _acc, a, r in grants if r == "steward"}
    for d in drops:
        role = "steward" if d.community_id in staffed else "manager"
        assert (d.recorded_by, d.community_id, role) in grants
    # Nobody drops at the station on its closed day.
    closed = session.execute(select(StationException)
                             .where(StationException.start_time.is_(None))).scalar_one()
    assert first <= closed.day <= last
    assert not [d for d in drops if d.station_id == closed.station_id
                and d.local_date == closed.day]


@DEMO
def test_demo_has_todays_drops_up_to_the_build(app: Flask, session: Session,
                                               client: FlaskClient) -> None:
    """The demo built at 10:00 has today's drops of the morning window (07:00–09:00), all
    uploaded by 10:00; they are scored (entries dated by 10:00, no drift), not rolled up (the
    pages read today raw), and a manager's drop list shows them."""
    from community.points import services as points_services
    from community.points.models import LedgerEntry
    from community.ratings.models import StationDay

    lines = _build(app)
    built = DEFAULT_NOW
    today = built.date()
    todays = list(session.execute(select(Drop).where(Drop.local_date == today)).scalars())
    active = session.execute(select(func.count()).select_from(Household)
                             .where(Household.status == "active")).scalar_one()
    # The morning window's share of a day (about half of the in-window drops).
    assert 0.1 * active <= len(todays) <= 1.2 * active
    assert all(d.received_at <= built for d in todays)
    assert max(_local(d.happened_at) for d in todays) > built - timedelta(hours=2)
    in_window = [d for d in todays if d.in_window]
    assert len(in_window) >= 0.7 * len(todays)
    assert all(time(6, 50) <= _local(d.happened_at).time() <= time(9, 10) for d in in_window)
    # Scored as they came in, by the build at the latest; every balance equals its entries.
    sources = {f"drop:{d.id}" for d in todays if d.household_id is not None}
    entries = [e for e in session.execute(select(LedgerEntry).where(
        LedgerEntry.local_date == today)).scalars() if e.source in sources]
    assert entries
    assert all(e.at <= built for e in entries)
    assert points_services.verify(session) == []
    # Today is read raw (the nightly job rolls it up); yesterday is rolled up.
    rolled = set(session.execute(select(StationDay.local_date).distinct()).scalars())
    assert today not in rolled
    assert today - timedelta(days=1) in rolled
    session.rollback()
    manager = next(login for role, login, _pw in _printed_logins(lines) if role == "manager")
    client.post("/login", data={"login": manager, "password": DEMO_PASSWORD})
    page = client.get(f"/manage/drops?day_from={today}&day_to={today}")
    assert page.status_code == 200
    assert page.get_data(as_text=True).count('data-testid="drop-row"') > 0


def test_drop_time_patterns() -> None:
    """Pure: drop times cluster in the windows; misses sit at edges, noon and late evening."""
    from community.stations import windows

    tz = ZoneInfo("Asia/Shanghai")
    day = date(2026, 3, 2)
    rng = random.Random(3)
    print("seed 3")
    day_windows = windows.windows_on(windows.Schedule.default(), {}, day)
    times = [demo_drops.drop_time(rng, day, tz, day_windows, habit=1, lean=0.5, grace=10)
             for _ in range(4000)]
    assert all(t.date() == day for t in times)
    verdicts = [windows.classify(windows.Schedule.default(), {}, t, 10).in_window for t in times]
    assert 0.82 <= sum(verdicts) / len(times) <= 0.9
    evening = [t for t, ok in zip(times, verdicts, strict=True) if ok and t.hour >= 12]
    assert len(evening) > 0.9 * sum(verdicts)  # habit 1 = the evening window
    hours = Counter(t.hour for t, ok in zip(times, verdicts, strict=True) if not ok)
    assert set(hours) <= {6, 9, 11, 12, 13, 17, 20, 21, 22, 23}
    assert hours[17] + hours[20] > hours[11] + hours[12] + hours[13] > 0


def test_station_plan_and_blocks() -> None:
    """Pure: a main station with every bin first; buildings map to stations in blocks."""
    plans = demo_city.plan_stations(random.Random(5), 12)
    assert 2 <= len(plans) <= 3
    assert plans[0][2] == demo_city.ALL_CATEGORIES
    assert len({p[0] for p in plans}) == len(plans)
    assert [demo_city.station_for_building(b, 12, 3) for b in (1, 4, 5, 8, 9, 12)] == [0, 0, 1, 1,
                                                                                  2, 2]
    assert demo_city.station_for_building(1, 1, 2) == 0


@DEMO
def test_demo_ledgers_follow_the_drops(app: Flask, session: Session) -> None:
    """Every identified demo drop is scored; balances equal their entries; residents see them."""
    from community.points import services as points_services
    from community.points.models import LedgerEntry, PointsAccount

    _build(app)
    session.expire_all()
    scored = session.execute(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.kind.in_(("earn", "strike")))).scalar_one()
    # At most one earn or strike per identified drop (out-of-window drops earn nothing, but an
    # incorrect one still counts as a strike; the daily cap can leave a drop without an earn).
    identified = session.execute(select(func.count()).select_from(Drop).where(
        Drop.household_id.is_not(None))).scalar_one()
    assert 0 < scored <= identified
    assert points_services.verify(session) == []
    assert session.execute(select(func.max(PointsAccount.balance))).scalar_one() > 0
    assert session.execute(select(func.min(PointsAccount.balance))).scalar_one() >= 0
    session.rollback()


def test_the_sign_up_help_names_the_server_it_runs_on_or_no_port() -> None:
    """SIGNUP_HELP hard-coded port 5000: with the address of the server actually started
    (`make run PORT=8123`) it names that one; without one (`flask demo` serves nothing) it
    names paths only, never a guessed port."""
    on = demo.signup_help("http://127.0.0.1:8123/")
    assert "http://127.0.0.1:8123/login/phone" in on
    assert "http://127.0.0.1:8123/auth/dev-sms" in on
    assert "5000" not in on
    assert "/login/phone" in demo.SIGNUP_HELP
    assert "/auth/dev-sms" in demo.SIGNUP_HELP
    assert not re.search(r"https?://|:\d{2,5}\b", demo.SIGNUP_HELP)


def test_make_run_prints_the_sign_up_help_for_the_port_it_serves() -> None:
    """The Makefile's run target passes one PORT to both the help and `flask run`."""
    import shutil
    import subprocess
    from pathlib import Path

    make = shutil.which("make")
    if make is None:
        pytest.skip("no make")
    root = Path(demo.__file__).resolve().parents[2]
    out = subprocess.run([make, "-n", "-C", str(root), "run", "PORT=8123"], check=True,
                         capture_output=True, text=True, timeout=60).stdout  # noqa: S603
    assert 'signup_help("http://127.0.0.1:8123")' in out
    assert "--port 8123" in out


@DEMO
def test_demo_entries_are_never_dated_after_they_were_recorded(app: Flask,
                                                               session: Session) -> None:
    """An entry is dated (local_date) on or before the local day of the moment it was
    recorded (`at`): the demo stored every day's drops before scoring the first day, so
    that day's scoring saw later days' strikes and runs and dated penalties and bonuses on
    days still to come (QA: a bonus dated after its recording time)."""
    from community.points.models import LedgerEntry

    _build(app)
    session.expire_all()
    zones = dict(session.execute(select(Area.id, Area.timezone)).all())
    entries = session.execute(select(LedgerEntry.id, LedgerEntry.kind, LedgerEntry.community_id,
                                     LedgerEntry.at, LedgerEntry.local_date)).all()
    session.rollback()
    kinds = Counter(e.kind for e in entries)
    assert kinds["penalty"] > 0  # the check has entries to bite on
    misdated = [(e.id, e.kind, e.local_date, e.at) for e in entries
                if e.local_date > e.at.astimezone(ZoneInfo(zones[e.community_id])).date()]
    assert misdated == []
    # Nothing is recorded after the build either.
    assert max(e.at for e in entries) <= DEFAULT_NOW
