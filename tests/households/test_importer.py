"""The household list parser: encodings, headers, every rejection reason, line numbers. No DB."""
from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from community.households import importer
from community.households.importer import ImportFileError, Rejected, Row


def _csv(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


def _xlsx(rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


GOOD = "楼栋,单元,室,人数,状态\n3,2,301,3,在住\n3,2,302,1,迁出\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_encodings(encoding: str) -> None:
    parsed = importer.parse("list.csv", _csv(GOOD, encoding))
    assert parsed.rejected == []
    assert parsed.rows == [Row(2, "3", "2", "301", 3, "active"),
                           Row(3, "3", "2", "302", 1, "moved_out")]


def test_english_headers_any_order_and_case() -> None:
    data = _csv("Members, Room ,UNIT,Building,Status\n2,101,1,5,moved_out\n4,102,1,5,Active\n")
    parsed = importer.parse("x.CSV", data)
    assert [(r.address, r.members, r.status) for r in parsed.rows] == [
        (("5", "1", "101"), 2, "moved_out"), (("5", "1", "102"), 4, "active")]


def test_alias_headers_title_row_and_unit_words() -> None:
    # A title row above the header, '房号' for room, hints in brackets, '3栋' style values.
    data = _csv("玉龙社区住户名单\n\n楼号,单元,房号,人数(1-30)\n3栋,2单元,301室,3人\n")
    parsed = importer.parse("x.csv", data)
    assert parsed.rows == [Row(4, "3", "2", "301", 3, None)]


def test_status_column_optional() -> None:
    parsed = importer.parse("x.csv", _csv("楼栋,单元,室,人数\n1,1,101,2\n"))
    assert parsed.rows[0].status is None


def test_tab_separated() -> None:
    parsed = importer.parse("x.txt", _csv("楼栋\t单元\t室\t人数\n1\t1\t101\t2\n"))
    assert parsed.rows[0].address == ("1", "1", "101")


def test_each_rejection_reason_with_line_numbers() -> None:
    data = _csv(
        "楼栋,单元,室,人数,状态\n"
        "1,1,101,3,在住\n"      # 2 ok
        ",1,102,3,\n"           # 3 building missing
        "1,1,103,,\n"           # 4 members missing
        "1,1,104,0,\n"          # 5 members out of range
        "1,1,105,31,\n"         # 6 members out of range
        "1,1,106,two,\n"        # 7 members not a number
        "1,1,107,2,出租\n"      # 8 unknown status
        "\n"                    # 9 blank: skipped, but still counts as a line
        "1,1,101,2,\n"          # 10 duplicate of line 2
        f"1,1,{'9' * 21},2,\n"  # 11 room too long
        "1,1,108,2.0,\n"        # 12 ok (Excel number as text)
    )
    parsed = importer.parse("x.csv", data)
    assert [r.line for r in parsed.rows] == [2, 12]
    assert [(r.line, r.reason, r.field) for r in parsed.rejected] == [
        (3, "missing", "building"),
        (4, "missing", "members"),
        (5, "members", "members"),
        (6, "members", "members"),
        (7, "members", "members"),
        (8, "status", "status"),
        (10, "duplicate", "room"),
        (11, "too_long", "room"),
    ]
    assert parsed.rejected[6].first_line == 2
    assert parsed.rejected[5].value == "出租"


def test_duplicate_after_normalising() -> None:
    parsed = importer.parse("x.csv", _csv("楼栋,单元,室,人数\n3,2,301,1\n3栋,2单元,301室,2\n"))
    assert len(parsed.rows) == 1
    assert parsed.rejected == [Rejected(3, "duplicate", "room", first_line=2)]


def test_rejection_messages_are_english_without_a_request() -> None:
    msg = str(Rejected(4, "members", "members", "0").message)
    assert "1 to 30" in msg
    assert "0" in msg
    assert "line 2" in str(Rejected(5, "duplicate", "room", first_line=2).message)


def test_xlsx_numbers_and_row_numbers() -> None:
    data = _xlsx([["住户名单"], ["楼栋", "单元", "室", "人数", "状态"], [3, 2, 301, 3.0, "在住"],
                  [], [3, 2, 302, 40, None]])
    parsed = importer.parse("list.xlsx", data)
    assert parsed.rows == [Row(3, "3", "2", "301", 3, "active")]
    assert [(r.line, r.reason) for r in parsed.rejected] == [(5, "members")]


@pytest.mark.parametrize(("name", "data"), [
    ("list.xls", b"\xd0\xcf\x11\xe0 old excel"),
    ("photo.png", b"\x89PNG\r\n\x1a\n"),
    ("list.xlsx", b"this is not a zip"),
    ("list.xlsx", b"PK\x03\x04 broken zip"),
    ("list.csv", b""),
    ("list.csv", b"a,b,c\n1,2,3\n"),          # no recognisable header
    ("list.csv", "楼栋,单元,室\n1,1,101\n".encode()),  # header lacks members
    ("list.csv", "楼栋,单元\x00,室,人数\n".encode("utf-16")),
])
def test_unusable_files_raise(name: str, data: bytes) -> None:
    with pytest.raises(ImportFileError):
        importer.parse(name, data)


def test_row_limit() -> None:
    body = "".join(f"1,1,{i},2\n" for i in range(1, 12))
    importer.parse("x.csv", _csv("楼栋,单元,室,人数\n" + body), max_rows=11)
    with pytest.raises(ImportFileError) as err:
        importer.parse("x.csv", _csv("楼栋,单元,室,人数\n" + body), max_rows=10)
    assert "10" in str(err.value.message)


def test_default_row_limit_is_20000() -> None:
    body = "".join(f"1,{i // 1000},{i},2\n" for i in range(20_001))
    with pytest.raises(ImportFileError):
        importer.parse("x.csv", _csv("楼栋,单元,室,人数\n" + body))
    ok = importer.parse("x.csv", _csv("楼栋,单元,室,人数\n" + body.split("\n", 1)[1]))
    assert len(ok.rows) == 20_000


@pytest.mark.parametrize(("query", "parts"), [
    ("3-2-301", {"building": "3", "unit": "2", "room": "301"}),
    ("3栋2单元301", {"building": "3", "unit": "2", "room": "301"}),
    ("3号楼2单元301室", {"building": "3", "unit": "2", "room": "301"}),
    ("3 2 301", {"building": "3", "unit": "2", "room": "301"}),
    ("3-2", {"building": "3", "unit": "2"}),
    ("3栋", {"building": "3"}),
    ("2单元301", {"unit": "2", "room": "301"}),
    ("301", {"room": "301"}),
    ("1-2-3-4", {}),
    ("", {}),
])
def test_parse_address_query(query: str, parts: dict) -> None:
    assert importer.parse_address_query(query) == parts


def test_normalize_part_and_members() -> None:
    assert importer.normalize_part("building", " 12号楼 ") == "12"
    assert importer.normalize_part("building", "栋") == "栋"  # a suffix alone is kept, not emptied
    assert importer.normalize_part("room", 301.0) == "301"
    assert importer.parse_members("30") == 30
    assert importer.parse_members("3.5") is None
    assert importer.parse_members("-1") is None


def test_template_csv_has_bom_and_chinese_headers() -> None:
    data = importer.template_csv()
    assert data.startswith(b"\xef\xbb\xbf")
    parsed_header = data.decode("utf-8-sig").splitlines()[0]
    assert parsed_header == "楼栋,单元,室,人数,状态"
    assert importer.parse("t.csv", data).rows == []
