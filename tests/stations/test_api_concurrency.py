"""Concurrent posts through the HTTP API on PostgreSQL: one client id is stored exactly once."""
from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlmodel import Session, func, select

from community import clock
from community.stations.models import Drop, client_id_matches
from tests import builders

NOW = datetime(2026, 11, 20, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
THREADS = 32

pytestmark = [pytest.mark.postgres_only, pytest.mark.real_db]


@pytest.fixture(autouse=True)
def _postgres_only(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("concurrency is tested on PostgreSQL (SQLite serializes writers)")


def _clients(app: Flask, session: Session, world: builders.World, n: int, st) -> list:
    """n test clients, each logged in as its own steward of community A, on a shift of `st`
    around NOW (stewards record only on duty)."""
    stewards = [builders.account(session, "steward", world.a) for _ in range(n)]
    for acct in stewards:
        builders.on_duty(session, acct, st, NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    session.commit()
    clients = []
    for acct in stewards:
        c = app.test_client()
        builders.login(c, acct)
        clients.append(c)
    return clients


def _run(clients: list, bodies: list[dict]) -> list:
    """Post bodies[i] from clients[i], all released at once by a barrier."""
    barrier = threading.Barrier(len(clients))
    results: list = [None] * len(clients)

    def worker(i: int) -> None:
        barrier.wait()
        try:
            resp = clients[i].post("/api/v1/drops", json=bodies[i])
            results[i] = (resp.status_code, resp.get_json())
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[i] = (None, repr(exc))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def _drops(session: Session, client_ids: list[str]) -> int:
    session.commit()
    n = session.exec(select(func.count()).select_from(Drop)
                     .where(client_id_matches(client_ids))).one()
    session.commit()
    return n


def test_same_client_id_from_32_clients_is_stored_once(app: Flask, session: Session,
                                                      world: builders.World) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    print(f"seed={seed} threads={THREADS}")
    st = builders.station(session, world.a)
    session.commit()
    clients = _clients(app, session, world, THREADS, st)
    card = builders.active_card(session, rng.choice(world.households_a))
    client_id = f"race-{rng.getrandbits(64):016x}"
    body = {"client_id": client_id, "station_id": st.id, "category": "kitchen",
            "quality": "correct", "happened_at": NOW.isoformat(), "card": card.token}
    with clock.freeze(NOW):
        results = _run(clients, [body] * THREADS)
    statuses = sorted(r[0] for r in results)
    assert all(r[0] in (200, 201) for r in results), results
    assert statuses.count(201) == 1, statuses
    ids = {r[1]["id"] for r in results}
    assert len(ids) == 1
    assert all(r[1]["replay"] == (r[0] == 200) for r in results)
    assert _drops(session, [client_id]) == 1


def test_32_different_client_ids_are_32_drops(app: Flask, session: Session,
                                              world: builders.World) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    print(f"seed={seed} threads={THREADS}")
    st = builders.station(session, world.a)
    session.commit()
    clients = _clients(app, session, world, THREADS, st)
    cards = [builders.active_card(session, hh).token for hh in world.households_a]
    session.commit()
    bodies = [{"client_id": f"many-{rng.getrandbits(64):016x}-{i:02d}", "station_id": st.id,
               "category": rng.choice(["kitchen", "other", "recyclable"]),
               "happened_at": NOW.isoformat(), "card": rng.choice(cards)}
              for i in range(THREADS)]
    with clock.freeze(NOW):
        results = _run(clients, bodies)
    assert [r[0] for r in results] == [201] * THREADS, results
    assert len({r[1]["id"] for r in results}) == THREADS
    assert _drops(session, [b["client_id"] for b in bodies]) == THREADS
