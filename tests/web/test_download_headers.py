"""CSV downloads name their charset once: `text/csv; charset=utf-8` (werkzeug adds a charset to
a text `mimetype=` even when it already has one, which gave `charset=utf-8; charset=utf-8`)."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from tests import builders

CSV_DOWNLOADS: dict[str, Callable[[builders.World], str]] = {
    "drops (streamed)": lambda w: f"/manage/drops/export.csv?community_id={w.a.id}",
    "points entries (streamed)": lambda w: f"/manage/points/entries.csv?community_id={w.a.id}",
    "dashboard (one piece)": lambda w: f"/dashboard/community/export.csv?community_id={w.a.id}",
}


@pytest.mark.parametrize("name", CSV_DOWNLOADS)
def test_csv_content_type_names_its_charset_once(client: FlaskClient, world: builders.World,
                                                 name: str) -> None:
    builders.login(client, world.manager_a)
    resp = client.get(CSV_DOWNLOADS[name](world))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.headers.get_all("Content-Type") == ["text/csv; charset=utf-8"]
    assert resp.headers["Content-Disposition"].startswith("attachment; filename=")
    assert resp.get_data().startswith(b"\xef\xbb\xbf")  # utf-8-sig, for Excel
