"""A drop's client id on one of two columns, and its codes as small integers (both backends).

Phones send `crypto.randomUUID()` ids: those are stored as a native uuid (`client_uuid`);
every other accepted id (8–64 characters, including a UUID in capitals or without hyphens)
is kept as the exact text sent (`client_text`). Whatever the column, the answer carries
the same string, a replay is recognised and a void finds the drop. Category, quality and
source are SMALLINT numbers under the same strings.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session, func, select

from community.rows import table_of
from community.stations import services
from community.stations.models import (
    CATEGORY_CODE,
    QUALITY_CODE,
    SOURCE_CODE,
    Drop,
    client_id_matches,
    split_client_id,
)
from community.stations.schemas import Category, DropIn, Quality, Source
from tests import builders

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 8, 30, tzinfo=SH)  # a Friday, inside 07:00–09:00
LOWER = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"   # as crypto.randomUUID() writes it
UPPER = LOWER.upper()                              # the same UUID, in capitals
ODD = ["0123456789abcdef0123456789abcdef",         # UUID digits without hyphens
       "kiosk-7:a.b_c", "abcdefgh", "x" * 64,
       "3f2504e0-4f89-41d3-9a0c-0305e82c330g"]     # UUID-shaped, not hex


def _item(station_id: int, card: str | None, client_id: str, **kw) -> DropIn:
    data = {"client_id": client_id, "station_id": station_id, "category": "kitchen",
            "quality": "correct", "happened_at": NOW, "card": card} | kw
    return DropIn.model_validate(data, strict=False)


@pytest.fixture
def scene(session: Session, world: builders.World):
    from community.auth import services as auth_services

    st = builders.station(session, world.a)
    builders.on_duty(session, world.steward_a, st, NOW - timedelta(hours=10),
                     NOW + timedelta(hours=14))
    card = builders.active_card(session, world.households_a[0])
    session.commit()
    return st, card.token, auth_services.load_actor(session, world.steward_a.id)


def _stored(session: Session, client_id: str) -> list[Drop]:
    session.expire_all()
    rows = list(session.exec(select(Drop).where(client_id_matches([client_id]))).all())
    session.commit()
    return rows


def test_split_keeps_exactly_what_was_sent() -> None:
    assert split_client_id(LOWER) == (UUID(LOWER), None)
    assert split_client_id(UPPER) == (None, UPPER)
    for odd in ODD:
        assert split_client_id(odd) == (None, odd)


def test_a_uuid_is_stored_natively_and_replayed(session: Session, scene) -> None:
    st, card, steward = scene
    first = services.record_drop(session, actor=steward, item=_item(st.id, card, LOWER),
                                 now=NOW)
    session.commit()
    assert first.client_id == LOWER
    [drop] = _stored(session, LOWER)
    assert (drop.client_uuid, drop.client_text, drop.client_id) == (UUID(LOWER), None, LOWER)
    # The database column itself: a native uuid on PostgreSQL (16 bytes), 32 hex digits on
    # SQLite (sqlalchemy.Uuid); never the 36-character text.
    raw = session.execute(text("SELECT client_uuid, client_text FROM drop_record WHERE id = :i"),
                          {"i": drop.id}).one()
    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        assert raw == (UUID(LOWER), None)
        kind = session.execute(text("SELECT pg_typeof(client_uuid)::text FROM drop_record "
                                    "WHERE id = :i"), {"i": drop.id}).scalar()
        session.commit()
        assert kind == "uuid"
    else:
        assert raw == (UUID(LOWER).hex, None)
    again = services.record_drop(session, actor=steward, item=_item(st.id, card, LOWER),
                                 now=NOW + timedelta(seconds=5))
    session.commit()
    assert (again.replay, again.id, again.client_id) == (True, first.id, LOWER)
    assert len(_stored(session, LOWER)) == 1


@pytest.mark.parametrize("client_id", [UPPER, *ODD])
def test_other_ids_round_trip_exactly_and_replay(session: Session, scene,
                                                 client_id: str) -> None:
    st, card, steward = scene
    first = services.record_drop(session, actor=steward, item=_item(st.id, card, client_id),
                                 now=NOW)
    session.commit()
    assert first.client_id == client_id
    [drop] = _stored(session, client_id)
    assert (drop.client_uuid, drop.client_text) == (None, client_id)
    again = services.record_drop(session, actor=steward, item=_item(st.id, card, client_id),
                                 now=NOW + timedelta(seconds=5))
    session.commit()
    assert (again.replay, again.id, again.client_id) == (True, first.id, client_id)
    assert len(_stored(session, client_id)) == 1
    # The steward's undo finds it by the same text.
    voided = services.void_drop(session, actor=steward, client_id=client_id,
                                now=NOW + timedelta(seconds=30))
    session.commit()
    assert (voided.id, voided.client_id) == (first.id, client_id)


def test_a_uuid_in_capitals_is_another_id_than_in_lowercase(session: Session, scene) -> None:
    """Two different strings were two drops before; they stay two (and each answers as sent)."""
    st, card, steward = scene
    out = services.record_drops(session, actor=steward, items=[
        _item(st.id, card, UPPER), _item(st.id, card, LOWER, category="other"),
        _item(st.id, card, UPPER), _item(st.id, card, "kiosk-0001", category="recyclable"),
        _item(st.id, card, LOWER, category="other")], now=NOW)
    session.commit()
    got = [(o.client_id, o.replay) for o in out]  # type: ignore[union-attr]
    assert got == [(UPPER, False), (LOWER, False), (UPPER, True), ("kiosk-0001", False),
                   (LOWER, True)]
    assert out[0].id == out[2].id != out[1].id == out[4].id  # type: ignore[union-attr]
    # A later batch mixing both kinds: all replays, nothing stored twice.
    later = services.record_drops(session, actor=steward, items=[
        _item(st.id, card, "kiosk-0001", category="recyclable"), _item(st.id, card, LOWER),
        _item(st.id, card, UPPER)], now=NOW + timedelta(minutes=1))
    session.commit()
    assert [(o.client_id, o.replay) for o in later] == [  # type: ignore[union-attr]
        ("kiosk-0001", True), (LOWER, True), (UPPER, True)]
    n = session.exec(select(func.count()).select_from(Drop)).one()
    session.commit()
    assert n == 3


def test_exactly_one_client_column_is_set(session: Session, scene) -> None:
    st, _card, _steward = scene
    base = {"station_id": st.id, "community_id": st.community_id, "category": "kitchen",
            "quality": "ungraded", "source": "tally", "happened_at": NOW, "received_at": NOW,
            "local_date": NOW.date(), "in_window": True}
    for client in ({"client_uuid": None, "client_text": None},
                   {"client_uuid": UUID(LOWER), "client_text": LOWER}):
        with pytest.raises(IntegrityError):
            session.execute(insert(table_of(Drop)).values(**base, **client))
        session.rollback()


def test_codes_round_trip_as_strings_and_are_stored_as_numbers(session: Session,
                                                               scene) -> None:
    st, _card, _steward = scene
    made = []
    for n, (category, quality, source) in enumerate(zip(
            list(Category), [*Quality, "correct"], list(Source), strict=True)):
        d = Drop(client_text=f"codes-{n:04d}", station_id=st.id,
                 community_id=st.community_id, category=category, quality=quality,
                 source=source, happened_at=NOW, received_at=NOW, local_date=NOW.date(),
                 in_window=True)
        session.add(d)
        made.append((category, quality, source))
    session.commit()
    session.expire_all()
    rows = session.exec(select(Drop).where(Drop.client_text.like("codes-%"))  # type: ignore[union-attr]
                        .order_by(Drop.client_text)).all()
    assert [(d.category, d.quality, d.source) for d in rows] == made
    assert all(type(d.category) is str for d in rows)
    # Core comparisons take the strings, as before.
    n = session.exec(select(func.count()).select_from(Drop).where(
        Drop.category == "hazardous", Drop.quality.in_(("ungraded", "incorrect")))).one()  # type: ignore[attr-defined]
    assert n == 1
    raw = session.execute(text("SELECT category, quality, source FROM drop_record "
                               "WHERE client_text = 'codes-0000'")).one()
    session.commit()
    assert tuple(raw) == (CATEGORY_CODE.number("kitchen"), QUALITY_CODE.number("correct"),
                          SOURCE_CODE.number("scan")) == (1, 1, 1)


def test_unknown_codes_are_refused(session: Session, scene) -> None:
    st, _card, _steward = scene
    session.add(Drop(client_text="codes-bad1", station_id=st.id,
                     community_id=st.community_id, category="glass", quality="correct",
                     source="scan", happened_at=NOW, received_at=NOW,
                     local_date=NOW.date(), in_window=True))
    with pytest.raises(StatementError, match="unknown code 'glass'"):
        session.flush()
    session.rollback()
    # A number outside the table, written by raw SQL: the CHECK refuses it.
    for column in ("category", "quality", "source"):
        values = {"category": 1, "quality": 1, "source": 1} | {column: 9}
        with pytest.raises(IntegrityError):
            session.execute(text(
                "INSERT INTO drop_record (client_text, station_id, community_id, category, "
                "quality, source, happened_at, received_at, local_date, in_window) VALUES "
                "('codes-bad2', :s, :c, :category, :quality, :source, :at, :at, :day, true)"),
                {"s": st.id, "c": st.community_id, "at": NOW.astimezone(SH).replace(tzinfo=None)
                 if session.get_bind().dialect.name == "sqlite" else NOW,
                 "day": NOW.date(), **values})
        session.rollback()


def test_code_tables_equal_the_enums_and_keep_their_numbers() -> None:
    """The stored numbers are forever: renumbering would change the meaning of every row.
    A new enum member needs a new number here (and a migration of the CHECKs)."""
    assert dict(CATEGORY_CODE.codes) == {"kitchen": 1, "recyclable": 2, "hazardous": 3,
                                         "other": 4}
    assert dict(QUALITY_CODE.codes) == {"correct": 1, "incorrect": 2, "ungraded": 3}
    assert dict(SOURCE_CODE.codes) == {"scan": 1, "manual": 2, "device": 3, "tally": 4}
    assert [c for c, _n in CATEGORY_CODE.codes] == [c.value for c in Category]
    assert [c for c, _n in QUALITY_CODE.codes] == [q.value for q in Quality]
    assert [c for c, _n in SOURCE_CODE.codes] == [s.value for s in Source]
