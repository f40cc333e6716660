"""Rotating station codes (pure): the current step and one step before are accepted; older
codes, codes of the future, other stations' codes, forged and malformed texts are refused."""
from __future__ import annotations

import ast
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from community.volunteers.checkins import codes

KEY = codes.derive_key("test-secret")
# 2026-03-10 10:00:00 UTC is a multiple of 30 s: the start of a step.
T0 = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
STEP = timedelta(seconds=codes.STEP_SECONDS)


def test_module_is_pure() -> None:
    """codes.py imports no framework or database (it is reused by jobs and the demo)."""
    tree = ast.parse(Path(codes.__file__).read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom)}
    assert not imported & {"flask", "flask_babel", "sqlalchemy", "sqlmodel", "community"}


def test_code_shape() -> None:
    code = codes.current(KEY, 12, T0)
    assert re.fullmatch(r"\d{8}", code.digits)
    assert code.text == f"CHK:12:{code.digits}"
    assert code.step == int(T0.timestamp()) // 30
    assert code.expires_at == T0 + STEP
    assert code.seconds_left(T0) == 30
    assert code.seconds_left(T0 + timedelta(seconds=29, microseconds=500)) == 1
    assert codes.format_digits("01234567") == "0123 4567"


def test_code_changes_every_step_and_per_station() -> None:
    a = codes.current(KEY, 1, T0)
    assert codes.current(KEY, 1, T0 + timedelta(seconds=29)).digits == a.digits
    assert codes.current(KEY, 1, T0 + STEP).digits != a.digits
    assert codes.current(KEY, 2, T0).digits != a.digits
    assert codes.current(codes.derive_key("another-secret"), 1, T0).digits != a.digits


def test_current_step_accepted() -> None:
    code = codes.current(KEY, 7, T0)
    assert codes.verify(KEY, code.text, T0) == codes.Verdict(True, 7)
    assert codes.verify(KEY, code.text, T0 + timedelta(seconds=29)).ok


def test_previous_step_accepted() -> None:
    """One step of tolerance: a code read just before it turned still works."""
    code = codes.current(KEY, 7, T0)
    assert codes.verify(KEY, code.text, T0 + STEP).ok
    assert codes.verify(KEY, code.text, T0 + 2 * STEP - timedelta(microseconds=1)).ok


def test_two_steps_old_refused_as_expired() -> None:
    code = codes.current(KEY, 7, T0)
    verdict = codes.verify(KEY, code.text, T0 + 2 * STEP)
    assert verdict == codes.Verdict(False, 7, codes.EXPIRED)
    assert codes.verify(KEY, code.text, T0 + timedelta(minutes=30)).reason == codes.EXPIRED


def test_very_old_code_refused() -> None:
    code = codes.current(KEY, 7, T0)
    verdict = codes.verify(KEY, code.text, T0 + timedelta(days=1))
    assert not verdict.ok
    assert verdict.reason in (codes.EXPIRED, codes.WRONG)


def test_future_code_refused() -> None:
    """A code of the next step does not exist yet: nobody can have read it at the station."""
    code = codes.current(KEY, 7, T0 + STEP)
    assert codes.verify(KEY, code.text, T0).reason == codes.WRONG


def test_other_station_refused() -> None:
    code = codes.current(KEY, 7, T0)
    assert codes.verify(KEY, code.text, T0, station_id=8) == codes.Verdict(
        False, 7, codes.OTHER_STATION)
    assert codes.verify(KEY, code.text, T0, station_id=7).ok
    # Renaming the station in the text does not move the code to it: the HMAC binds both.
    forged = f"CHK:8:{code.digits}"
    assert codes.verify(KEY, forged, T0).reason == codes.WRONG
    assert codes.verify(KEY, code.digits, T0, station_id=8).reason == codes.WRONG


def test_typed_digits() -> None:
    code = codes.current(KEY, 7, T0)
    typed = codes.format_digits(code.digits)
    assert codes.verify(KEY, typed, T0, station_id=7).ok
    assert codes.verify(KEY, f" {code.digits[:4]}-{code.digits[4:]} ", T0, station_id=7).ok
    # Typed digits with no station to check against cannot be verified.
    assert codes.verify(KEY, code.digits, T0).reason == codes.MALFORMED


@pytest.mark.parametrize("text", [
    "", "   ", "CHK", "CHK:7", "CHK:7:", "CHK:x:12345678", "CHK:7:1234567", "CHK:7:123456789",
    "CHK:-7:12345678", "XYZ:7:12345678", "1234567", "123456789", "abcdefgh", "CHK:7:1234567a",
    "https://example.com/CHK:7:12345678", "CHK:7:12345678:extra", "CHK:" + "9" * 13 + ":12345678",
    "1" * 100,
])
def test_malformed_refused(text: str) -> None:
    verdict = codes.verify(KEY, text, T0, station_id=7)
    assert verdict == codes.Verdict(False, None, codes.MALFORMED)


def test_lowercase_prefix_accepted() -> None:
    code = codes.current(KEY, 7, T0)
    assert codes.verify(KEY, code.text.lower(), T0).ok


def test_compare_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Digits are compared with hmac.compare_digest, for every accepted step."""
    calls: list[tuple[str, str]] = []
    real = codes.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(codes.hmac, "compare_digest", spy)
    code = codes.current(KEY, 7, T0)
    assert codes.verify(KEY, code.text, T0).ok
    assert len(calls) == codes.TOLERANCE_STEPS + 1


def test_naive_time_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        codes.step_of(datetime(2026, 3, 10, 10, 0))  # noqa: DTZ001


# Hypothesis wants naive bounds and adds the zone itself.
moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1),  # noqa: DTZ001
                       timezones=st.just(UTC))
stations = st.integers(min_value=1, max_value=10**9)


@given(key=st.binary(min_size=1, max_size=64), station=stations, moment=moments,
       later=st.integers(min_value=0, max_value=10 * codes.STEP_SECONDS))
def test_accepted_exactly_within_tolerance(key: bytes, station: int, moment: datetime,
                                           later: int) -> None:
    """A code is valid from its step's start until the end of the next step, never after."""
    code = codes.current(key, station, moment)
    at = moment + timedelta(seconds=later)
    expected = codes.step_of(at) - code.step <= codes.TOLERANCE_STEPS
    assert codes.verify(key, code.text, at).ok is expected
    assert codes.verify(key, code.digits, at, station_id=station).ok is expected


@given(key=st.binary(min_size=1, max_size=64), station=stations, other=stations,
       moment=moments)
def test_other_station_never_accepted(key: bytes, station: int, other: int,
                                      moment: datetime) -> None:
    if other == station:
        return
    code = codes.current(key, station, moment)
    assert not codes.verify(key, code.text, moment, station_id=other).ok
    assert not codes.verify(key, f"CHK:{other}:{code.digits}", moment).ok or \
        codes.digits_for(key, other, code.step) == code.digits  # a 1 in 10^8 coincidence


@given(text=st.text(max_size=60), moment=moments)
def test_arbitrary_text_never_crashes(text: str, moment: datetime) -> None:
    verdict = codes.verify(KEY, text, moment, station_id=3)
    assert verdict.ok is False or codes.parse(text) is not None
