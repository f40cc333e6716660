"""Drop exports: CSV (utf-8-sig, Chinese, escaped formulas) and XLSX (local times), bounded."""
from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from community import tabular
from community.audit.models import AuditEntry
from community.stations.manage import services as manage_services
from community.stations.models import Drop
from tests import builders
from tests.stations.helpers import english, read

SH = ZoneInfo("Asia/Shanghai")
RANGE = "day_from=2026-11-20&day_to=2026-11-20"


@pytest.mark.parametrize(("text", "expected"), [
    ("=1+1", "'=1+1"), ("+86", "'+86"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("3栋2单元301室", "3栋2单元301室"), ("a=b", "a=b"), ("", ""),
])
def test_escape_formula(text: str, expected: str) -> None:
    assert tabular.escape_formula(text) == expected


@pytest.fixture
def scene(session: Session, world: builders.World):
    st = builders.station(session, world.a, "=HYPERLINK(\"http://evil\")")
    builders.drop(session, st, world.households_a[0],
                  happened_at=datetime(2026, 11, 20, 7, 5, 9, tzinfo=SH), quality="correct",
                  weight_kg=Decimal("2.500"), note="@cmd 备注")
    builders.drop(session, st, None, happened_at=datetime(2026, 11, 20, 0, 30, tzinfo=SH),
                  category="hazardous", in_window=False)
    builders.drop(session, builders.station(session, world.b, "B站"), world.households_b[0],
                  happened_at=datetime(2026, 11, 20, 8, tzinfo=SH))
    session.commit()
    return world


def test_csv_opens_as_utf8_sig_with_chinese_and_escapes(client, session: Session,
                                                        scene: builders.World) -> None:
    builders.login(client, scene.manager_a)
    resp = client.get(f"/manage/drops/export.csv?{RANGE}")
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    raw = resp.data
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:6] == ["投放记录编号", "时间", "投放点", "住户", "垃圾类别", "分类质量"]
    assert len(rows) == 3  # header + A's two drops (not B's)
    first, second = rows[1], rows[2]  # newest first
    assert first[1] == "2026-11-20 07:05:09"  # local time
    assert first[2] == "'=HYPERLINK(\"http://evil\")"
    assert first[3] == "1栋1单元101室"
    assert first[4:8] == ["厨余垃圾", "正确", "扫码", "是"]
    assert first[8] == "2.5"
    assert first[9] == "'@cmd 备注"
    assert first[10] == ""  # not undone
    assert second[1] == "2026-11-20 00:30:00"
    assert second[3:8] == ["匿名计数", "有害垃圾", "未评定", "匿名计数", "否（过时投放）"]
    entry = read(session, select(AuditEntry).where(AuditEntry.action == "drops.exported"))[0]
    assert entry.detail["rows"] == 2
    assert entry.detail["fmt"] == "csv"
    english(client, "/manage/drops")
    rows = list(csv.reader(io.StringIO(
        client.get(f"/manage/drops/export.csv?{RANGE}").data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Drop ID", "Time", "Station"]


def test_an_undone_drop_is_exported_marked(client, session: Session,
                                          scene: builders.World) -> None:
    """A voided drop happened, so it is listed, but marked as undone (it counts nowhere)."""
    drop = read(session, select(Drop).where(Drop.note == "@cmd 备注"))[0]
    drop.voided_at = datetime(2026, 11, 20, 7, 7, tzinfo=SH)
    session.add(drop)
    session.commit()
    builders.login(client, scene.manager_a)
    rows = list(csv.reader(io.StringIO(
        client.get(f"/manage/drops/export.csv?{RANGE}").data.decode("utf-8-sig"))))
    assert rows[0][10] == "已撤销"
    assert [r[10] for r in rows[1:]] == ["已撤销", ""]


def test_xlsx_has_local_times_and_text_cells(client, scene: builders.World) -> None:
    builders.login(client, scene.manager_a)
    resp = client.get(f"/manage/drops/export.xlsx?{RANGE}")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("投放记录编号", "时间", "投放点", "住户")
    assert len(rows) == 3
    # Naive local wall time (not UTC 23:05 of the day before).
    assert rows[1][1] == datetime(2026, 11, 20, 7, 5, 9, tzinfo=SH).replace(tzinfo=None)
    assert rows[2][1] == datetime(2026, 11, 20, 0, 30, tzinfo=SH).replace(tzinfo=None)
    assert rows[1][2] == "=HYPERLINK(\"http://evil\")"
    assert ws.cell(row=2, column=3).data_type == "s"  # shown as text, never a formula
    assert rows[1][8] == 2.5


def test_too_large_export_is_refused_with_a_message(client, session: Session, monkeypatch,
                                                    scene: builders.World) -> None:
    monkeypatch.setattr(manage_services, "MAX_EXPORT_ROWS", 1)
    builders.login(client, scene.manager_a)
    for fmt in ("csv", "xlsx"):
        resp = client.get(f"/manage/drops/export.{fmt}?{RANGE}")
        assert resp.status_code == 302
        assert "day_from=2026-11-20" in resp.headers["Location"]
        page = client.get(resp.headers["Location"]).get_data(as_text=True)
        assert "超过 200,000 条" in page
    assert read(session, select(AuditEntry).where(AuditEntry.action == "drops.exported")) == []


def test_foreign_and_steward_exports_are_refused(client, scene: builders.World) -> None:
    builders.login(client, scene.steward_a)
    assert client.get(f"/manage/drops/export.csv?{RANGE}").status_code == 403
    client.post("/logout")
    builders.login(client, scene.manager_b)
    resp = client.get(f"/manage/drops/export.csv?community_id={scene.a.id}&{RANGE}")
    assert resp.status_code == 403
