"""The jobs page shows a slot job's period as local date and time ("2026-12-06 21:00"), not
the stored key's ISO form ("2026-12-06T21:00"); day keys stay as they are."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from community.db import get_engine
from community.scheduler.periods import EveryMinutes, key_label
from community.scheduler.runner import Job, make_period, run_period
from tests import builders

ZONE = ZoneInfo("Asia/Shanghai")


def test_key_label() -> None:
    assert key_label("2026-12-06T21:00") == "2026-12-06 21:00"
    assert key_label("2026-12-06") == "2026-12-06"
    assert key_label("2026-12") == "2026-12"


def _nothing(session: Session, period) -> dict[str, int]:
    return {"rows": 0}


@pytest.mark.real_db  # commits for real: see tests/conftest.py
def test_the_jobs_page_shows_a_slot_period_without_the_t(
        app: Flask, client: FlaskClient, world: builders.World) -> None:
    job = Job("test.slot", EveryMinutes(15), _nothing, "test", "test")
    run_period(get_engine(app), job,
               make_period(job, datetime(2026, 12, 6, 21, 0), ZONE))  # noqa: DTZ001
    builders.login(client, world.city_admin)
    page = client.get("/admin/jobs/").get_data(as_text=True)
    assert "2026-12-06 21:00" in page
    assert "2026-12-06T21:00" not in page
