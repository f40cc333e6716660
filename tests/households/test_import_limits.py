"""Hostile household lists are refused before they are parsed, fast and in little memory, and a
parse never holds the database: a scan posted meanwhile is stored at once."""
from __future__ import annotations

import io
import threading
import time
import zipfile
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from openpyxl.utils import get_column_letter
from sqlmodel import Session, func, select

from community import clock
from community.households import importer
from community.households.importer import ImportFileError
from community.stations.models import Drop, client_id_matches
from tests import builders
from tests.households.helpers import audits, count_households, english, upload

MB = 1024 * 1024
HEADER = ["楼栋", "单元", "室", "人数"]


# ---- hand-made workbooks (openpyxl would refuse to write the hostile ones) -----------------

def _cell(ref: str, value: Any) -> str:
    if isinstance(value, int):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def _sheet(rows: Iterable[list[Any]], *, dimension: str | None = None,
           extra: str = "") -> bytes:
    body = "".join(
        f'<row r="{n}">' + "".join(_cell(f"{get_column_letter(i)}{n}", v)
                                   for i, v in enumerate(row, start=1) if v != "")
        + "</row>" for n, row in enumerate(rows, start=1))
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{dim}<sheetData>{body}{extra}</sheetData></worksheet>").encode()


def _xlsx(sheet: bytes, *, shared: Callable[[Any], None] | None = None,
          extra_parts: int = 0, level: int = 6) -> bytes:
    """A minimal workbook: one sheet; `shared` streams xl/sharedStrings.xml into a file."""
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        zf.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            + ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
               'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
               if shared else "")
            + "</Types>"))
        zf.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"))
        zf.writestr("xl/workbook.xml", (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'xmlns:r="{rel}"><sheets><sheet name="名单" sheetId="1" r:id="rId1"/></sheets>'
            "</workbook>"))
        zf.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            + (f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
               if shared else "")
            + "</Relationships>"))
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
        if shared is not None:
            with zf.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
                shared(part)
        for i in range(extra_parts):
            zf.writestr(f"docProps/part{i}.xml", "<x/>")
    return buf.getvalue()


def huge_dimension_xlsx() -> bytes:
    """About 1.5 KB declaring 16,384 columns × 1,048,576 rows (its last cell really there)."""
    return _xlsx(_sheet([HEADER], dimension="A1:XFD1048576",
                        extra='<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'))


def shared_strings_bomb_xlsx() -> bytes:
    """About 1 MB whose shared strings unpack to ~200 MB (openpyxl keeps them all in memory)."""
    chunk = b"<si><t>abcdefgh</t></si>" * 40_000

    def write(part: Any) -> None:
        part.write(b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.'
                   b'openxmlformats.org/spreadsheetml/2006/main" count="8000000" '
                   b'uniqueCount="8000000">')
        for _ in range(200):
            part.write(chunk)
        part.write(b"</sst>")

    return _xlsx(_sheet([HEADER, [1, 1, 101, 2]]), shared=write, level=1)


# ---- memory: the peak resident set during one call ------------------------------------------

def _status(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise LookupError(key)


def peak_growth(fn: Callable[[], Any]) -> int:
    """Bytes the process's peak RSS rose above its RSS before `fn` ran (Linux: VmHWM is reset
    through /proc/self/clear_refs, so an earlier peak cannot hide this one)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = _status("VmRSS")
    fn()
    return _status("VmHWM") - before


def _refuse(name: str, data: bytes) -> ImportFileError:
    with pytest.raises(ImportFileError) as err:
        importer.parse(name, data)
    return err.value


# ---- refused before parsing ----------------------------------------------------------------

@pytest.mark.parametrize("make", [huge_dimension_xlsx, shared_strings_bomb_xlsx])
def test_hostile_workbooks_are_refused_fast_in_little_memory(make) -> None:
    data = make()
    print(f"{make.__name__}: {len(data)} bytes")
    assert len(data) < 1.2 * MB
    started = time.perf_counter()
    grew = peak_growth(lambda: _refuse("list.xlsx", data))
    took = time.perf_counter() - started
    assert took < 1.0, took
    assert grew < 100 * MB, grew / MB


def test_huge_declared_dimension_is_refused_by_the_page(
        client, session: Session, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    before = count_households(session, world.a.id)
    started = time.perf_counter()
    resp = upload(client, world.a.id, huge_dimension_xlsx(), "名单.xlsx")
    assert time.perf_counter() - started < 1.0
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "文件太大，不是一份住户名单能有的" in page
    assert "超过 25000 行" in page
    assert count_households(session, world.a.id) == before
    assert audits(session, "households.imported") == []
    english(client, "/manage/households/import")
    page = upload(client, world.a.id, shared_strings_bomb_xlsx(), "list.xlsx").get_data(
        as_text=True)
    assert "The file is too large for a household list" in page
    assert "split the list" in page


def test_declared_dimension_limits() -> None:
    ok = [HEADER, [1, 1, 101, 2]]
    importer.parse("x.xlsx", _xlsx(_sheet(ok, dimension="A1:D2")))
    assert "25000" in str(_refuse("x.xlsx", _xlsx(_sheet(ok, dimension="A1:D25001"))).message)
    assert "64" in str(_refuse("x.xlsx", _xlsx(_sheet(ok, dimension="A1:BM2"))).message)
    # A lying dimension does not help: the rows and cells themselves are checked.
    far_row = '<row r="30000"><c r="A30000"><v>1</v></c></row>'
    _refuse("x.xlsx", _xlsx(_sheet(ok, dimension="A1:D2", extra=far_row)))
    far_cell = '<row r="3"><c r="BZ3"><v>1</v></c></row>'
    _refuse("x.xlsx", _xlsx(_sheet(ok, dimension="A1:D2", extra=far_cell)))


def test_physical_rows_without_numbers_are_counted() -> None:
    rows = "<row><c><v>1</v></c></row>" * 31
    sheet = _sheet([HEADER], extra=rows)
    importer.parse("x.xlsx", _xlsx(sheet), max_rows=31)  # 32 rows ≤ 31 + the slack
    with pytest.raises(ImportFileError):
        importer.check_xlsx(_xlsx(sheet), max_sheet_rows=31)


def test_columns_beyond_the_header_are_ignored_up_to_the_limit() -> None:
    wide = [*HEADER, *[""] * 30, "备注"]
    parsed = importer.parse("x.xlsx", _xlsx(_sheet([wide, [1, 1, 101, 2, *[""] * 30, "x"]])))
    assert len(parsed.rows) == 1


def test_zip_directory_limits() -> None:
    sheet = _sheet([HEADER, [1, 1, 101, 2]])
    _refuse("x.xlsx", _xlsx(sheet, extra_parts=importer.MAX_ZIP_ENTRIES))

    def many(part: Any) -> None:  # small and distinct: under the ratio, over the count
        part.write(b"<sst>")
        for i in range(importer.MAX_SHARED_STRINGS + 1):
            part.write(b"<si><t>%d</t></si>" % i)
        part.write(b"</sst>")

    assert "200000" in str(_refuse("x.xlsx", _xlsx(sheet, shared=many)).message)


def test_damaged_or_encrypted_workbooks_are_unreadable_not_errors() -> None:
    good = _xlsx(_sheet([HEADER, [1, 1, 101, 2]] * 50))
    sheet = zipfile.ZipFile(io.BytesIO(good)).getinfo("xl/worksheets/sheet1.xml")
    start = sheet.header_offset + 30 + len(sheet.filename) + 20
    damaged = good[:start] + bytes(b ^ 0x5A for b in good[start:start + 40]) + good[start + 40:]
    assert "could not be read" in str(_refuse("x.xlsx", damaged).message)
    # The "encrypted" flag in the central directory: zipfile wants a password.
    encrypted = bytearray(good)
    for at in range(good.index(b"PK\x01\x02"), len(good) - 4):
        if good[at:at + 4] == b"PK\x01\x02":
            encrypted[at + 8] |= 0x01
    assert "could not be read" in str(_refuse("x.xlsx", bytes(encrypted)).message)


def test_csv_limits_before_rows_are_built() -> None:
    head = "楼栋,单元,室,人数\n"
    lines = importer.MAX_ROWS + importer.SHEET_ROW_SLACK
    blank_tail = "\n" * lines  # blank lines are not rows, but they are counted first
    assert "25000" in str(_refuse("x.csv", (head + "1,1,101,2\n" + blank_tail).encode()).message)
    _refuse("x.csv", (head.rstrip("\n") + "," * 70 + "\n1,1,101,2," + "x," * 70 + "\n").encode())
    _refuse("x.csv", (head + "1,1," + "9" * 2000 + ",2\n").encode())
    _refuse("x.csv", head.encode() + b"1,1,101,2\n" * (importer.MAX_FILE_BYTES // 10 + 1))
    # Empty trailing columns (a spreadsheet's habit) are not counted as columns.
    importer.parse("x.csv", (head.rstrip("\n") + "," * 70 + "\n1,1,101,2" + "," * 70).encode())


# ---- a parse holds no lock ------------------------------------------------------------------

NOW = datetime(2026, 11, 20, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.mark.real_db
def test_scan_is_stored_at_once_while_an_import_is_parsing(
        app: Flask, session: Session, world: builders.World,
        monkeypatch: pytest.MonkeyPatch) -> None:
    st = builders.station(session, world.a)
    chief = builders.account(session, "station_chief", world.a)
    card = builders.active_card(session, world.households_a[0]).token
    session.commit()
    manager, scanner = app.test_client(), app.test_client()
    builders.login(manager, world.manager_a)
    builders.login(scanner, chief)

    parsing, release = threading.Event(), threading.Event()
    real_parse = importer.parse

    def slow_parse(*args: Any, **kwargs: Any) -> importer.Parsed:
        parsing.set()
        release.wait(timeout=20)  # a long parse, ended by the test (bounded if it is not)
        return real_parse(*args, **kwargs)

    monkeypatch.setattr(importer, "parse", slow_parse)
    outcome: dict[str, Any] = {}

    def do_import() -> None:
        try:
            resp = upload(manager, world.a.id, "楼栋,单元,室,人数\n9,1,901,2\n".encode())
            outcome["import"] = resp.status_code
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcome["import"] = repr(exc)

    with clock.freeze(NOW):
        importer_thread = threading.Thread(target=do_import)
        importer_thread.start()
        try:
            assert parsing.wait(timeout=10)
            started = time.perf_counter()
            resp = scanner.post("/api/v1/drops", json={
                "client_id": "during-import-1", "station_id": st.id, "category": "kitchen",
                "quality": "correct", "happened_at": NOW.isoformat(), "card": card})
            took = time.perf_counter() - started
        finally:
            release.set()
            importer_thread.join(timeout=30)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert took < 3.0, took
    assert outcome["import"] == 200
    session.commit()
    stored = session.exec(select(func.count()).select_from(Drop)
                          .where(client_id_matches(["during-import-1"]))).one()
    session.commit()
    assert stored == 1
    assert count_households(session, world.a.id) == len(world.households_a) + 1
