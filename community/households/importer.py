"""Household list files (CSV or XLSX) → validated rows. Pure: no DB, no Flask request.

A manager uploads the community's resident list as exported from a spreadsheet. Headers may
be Chinese or English; a bad row is rejected with its line number and a reason, good rows are
kept. A file that cannot be read at all raises `ImportFileError` and nothing is imported.
Each row is checked by `HouseholdIn`, the model of the registry form, whose address
normalisation the list search shares too, so "3栋", "3" and " 3 " always name the same building.
"""
from __future__ import annotations

import csv
import io
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from pydantic import ValidationError

from community.errors import InvalidInput
from community.households.schemas import (
    MAX_PART_LENGTH,
    HouseholdIn,
    HouseholdStatus,
    cell_text,
    normalize_part,
)

MAX_ROWS = 20_000
HEADER_SEARCH_ROWS = 10  # a title row or two above the header is common in exported sheets

# Limits checked before a file is parsed, so a small hostile file cannot make the parser build
# millions of cells (a 1.5 KB XLSX can declare 16,384 × 1,048,576 of them) or inflate a 1 MB
# upload into gigabytes of strings. A 20,000-row list made by Excel or WPS stays far below.
MAX_FILE_BYTES = 5 * 1024 * 1024  # the upload itself (the request limit is the same by default)
SHEET_ROW_SLACK = 5_000  # blank or title rows a sheet may hold beyond its data rows
MAX_COLUMNS = 64  # a list exported from a fuller register may carry other columns
MAX_CELL_CHARS = 1_000
MAX_ZIP_ENTRIES = 500
MAX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024  # all parts of the workbook together
MAX_PART_BYTES = 48 * 1024 * 1024  # one sheet
MAX_SHARED_STRINGS_BYTES = 8 * 1024 * 1024  # openpyxl keeps every shared string in memory
MAX_SHARED_STRINGS = 200_000
MAX_RATIO = 100  # uncompressed / compressed for parts over RATIO_FLOOR; XML compresses ~10-30×
RATIO_FLOOR = 1024 * 1024
_SCAN_CHUNK = 1024 * 1024
REQUIRED = ("building", "unit", "room", "members")

# Normalised header text → field. Normalising drops spaces, case, '*' and bracketed hints.
HEADERS: dict[str, str] = {
    "楼栋": "building", "楼栋号": "building", "楼号": "building", "栋": "building",
    "幢": "building", "楼": "building", "building": "building", "bldg": "building",
    "单元": "unit", "单元号": "unit", "unit": "unit",
    "室": "room", "房号": "room", "室号": "room", "房间号": "room", "门牌号": "room",
    "房间": "room", "room": "room",
    "人数": "members", "户人数": "members", "家庭人数": "members", "人口": "members",
    "members": "members", "people": "members",
    "状态": "status", "居住状态": "status", "status": "status",
}

STATUS_WORDS: dict[str, str] = {
    "在住": "active", "居住": "active", "active": "active",
    "迁出": "moved_out", "已迁出": "moved_out", "moved_out": "moved_out", "movedout": "moved_out",
    "moved out": "moved_out",
}


class ImportFileError(InvalidInput):
    """The whole file was refused (wrong type, unreadable, no header, too many rows)."""

    code = "import_file"


@dataclass(frozen=True)
class Row:
    """One valid household row of the file."""

    line: int
    building: str
    unit: str
    room: str
    members: int
    status: str | None  # None: the file has no status for this row (keep / default active)

    @property
    def address(self) -> tuple[str, str, str]:
        """The (building, unit, room) key."""
        return (self.building, self.unit, self.room)


@dataclass(frozen=True)
class Rejected:
    """A refused row: its line number in the file, a reason code and what made it wrong."""

    line: int
    reason: str  # missing | too_long | members | status | duplicate
    field: str | None = None
    value: str = ""
    first_line: int | None = None  # for duplicates: the line that was kept

    @property
    def message(self) -> Any:
        """The reason in the user's language (lazy: translated when rendered)."""
        names = field_labels()
        name = names.get(self.field or "", self.field or "")
        if self.reason == "missing":
            return _l("%(field)s is missing.", field=name)
        if self.reason == "too_long":
            return _l("%(field)s is longer than %(max)s characters.", field=name,
                      max=MAX_PART_LENGTH)
        if self.reason == "members":
            return _l("Members must be a whole number from 1 to 30 (got “%(value)s”).",
                      value=self.value)
        if self.reason == "status":
            return _l("Unknown status “%(value)s” (use 在住/active or 迁出/moved_out).",
                      value=self.value)
        if self.reason == "duplicate":
            return _l("The same address already appears on line %(line)s.", line=self.first_line)
        return _l("The row is not valid.")


@dataclass
class Parsed:
    """The outcome of reading a file: good rows and rejected rows, in file order."""

    rows: list[Row] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def field_labels() -> dict[str, Any]:
    """Column names in the user's language (lazy)."""
    return {"building": _l("Building"), "unit": _l("Unit"), "room": _l("Room"),
            "members": _l("Members"), "status": _l("Status")}


# ---- address text (normalised by `households.schemas`) --------------------------------------

_LABELLED = re.compile(
    r"^\s*(?:(?P<b>[^\s栋幢楼单元室号-]+)\s*(?:号楼|栋|幢|楼))?\s*"
    r"(?:(?P<u>[^\s栋幢楼单元室号-]+)\s*单元)?\s*"
    r"(?:(?P<r>[^\s栋幢楼单元室号-]+)\s*(?:室|号)?)?\s*$"
)


def parse_address_query(text: str) -> dict[str, str]:
    """Split a search like '3-2-301', '3栋2单元301' or '3栋' into building/unit/room parts.

    Unlabelled single words are rooms; '3-2' is building and unit. Returns {} when the text
    is not an address.
    """
    text = (text or "").replace("\u3000", " ").strip()
    if not text:
        return {}
    dashed = [p.strip() for p in re.split(r"\s*[-–—/ ]\s*", text) if p.strip()]
    if len(dashed) > 1 and not re.search(r"[栋幢楼单元室]", text):
        if len(dashed) > 3:
            return {}
        keys = ("building", "unit", "room")[: len(dashed)]
        return dict(zip(keys, dashed, strict=True))
    m = _LABELLED.match(text)
    if not m:
        return {}
    parts = {k: v for k, v in (("building", m["b"]), ("unit", m["u"]), ("room", m["r"])) if v}
    return parts


# ---- file reading -------------------------------------------------------------------------

def _unreadable() -> ImportFileError:
    return ImportFileError(_l("The file could not be read. Save it as CSV (UTF-8) or XLSX."))


def _too_big(what: Any) -> ImportFileError:
    return ImportFileError(_l(
        "The file is too large for a household list (%(what)s). Keep only the sheet with the "
        "households, delete empty rows and columns, or split the list and import the parts "
        "one by one.", what=what))


def _decode(data: bytes) -> str:
    if b"\x00" in data[:4096]:  # UTF-16 or a binary file: not a CSV we can read
        raise _unreadable()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _unreadable()


def _csv_rows(data: bytes, max_lines: int) -> Iterator[tuple[int, list[Any]]]:
    text = _decode(data)
    lines = text.count("\n") + 1
    if lines > max_lines:  # counted before the csv module builds a single row
        raise _too_big(_l("%(count)s lines; at most %(max)s", count=lines, max=max_lines))
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        start = 1
        for row in reader:
            _check_width(row)
            yield start, row
            start = reader.line_num + 1  # a quoted field may span lines
    except csv.Error as exc:  # e.g. a field longer than the csv module's own limit
        raise _unreadable() from exc


def _check_width(cells: list[Any]) -> None:
    if len(cells) > MAX_COLUMNS and any(c not in (None, "") for c in cells[MAX_COLUMNS:]):
        raise _too_big(_l("more than %(max)s columns", max=MAX_COLUMNS))
    for cell in cells:
        if isinstance(cell, str) and len(cell) > MAX_CELL_CHARS:
            raise _too_big(_l("a cell longer than %(max)s characters", max=MAX_CELL_CHARS))


# ---- XLSX: the zip directory and the sheet XML are checked before openpyxl reads anything ----

_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*?\bref=\"([^\"]*)\"")
_ROW_TAG = re.compile(rb"<(?:\w+:)?row\b([^>]*)>")
_ROW_NUMBER = re.compile(rb"\br=\"(\d{1,9})\"")
_CELL_REF = re.compile(rb"<(?:\w+:)?c\b[^>]*?\br=\"([A-Za-z]{1,4})\d{1,9}\"")
_SST_ITEM = re.compile(rb"<(?:\w+:)?si\b")
_CELL_NAME = re.compile(r"([A-Za-z]{1,4})(\d{1,9})$")


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _dimension_size(ref: str) -> tuple[int, int]:
    """(rows, columns) of a 'A1:XFD1048576' reference (the last cell's coordinates)."""
    last = _CELL_NAME.match(ref.split(":")[-1].replace("$", ""))
    if last is None:
        return 0, 0
    return int(last.group(2)), _column_number(last.group(1))


def _scan(zf: zipfile.ZipFile, info: zipfile.ZipInfo, pattern: re.Pattern[bytes],
          ) -> Iterator[re.Match[bytes]]:
    """Stream one part of the zip and yield `pattern`'s matches (tags are never split: each
    chunk is cut after its last '>'). Reads at most the part's declared size: zipfile
    stops there and checks the CRC, so a part cannot inflate beyond what the directory says."""
    tail = b""
    with zf.open(info) as part:
        while chunk := part.read(_SCAN_CHUNK):
            buf = tail + chunk
            cut = buf.rfind(b">") + 1
            if cut == 0:
                if len(buf) > _SCAN_CHUNK:  # a megabyte without a '>' is not a sheet
                    raise _unreadable()
                tail = buf
                continue
            yield from pattern.finditer(buf, 0, cut)
            tail = buf[cut:]


def _first_sheet(zf: zipfile.ZipFile, names: set[str]) -> str | None:
    """The part holding the workbook's first worksheet (what openpyxl calls worksheets[0])."""
    workbook, rels = "xl/workbook.xml", "xl/_rels/workbook.xml.rels"
    if workbook not in names or rels not in names:
        return None
    wanted = {workbook: 1024 * 1024, rels: 1024 * 1024}
    for name, limit in wanted.items():
        if zf.getinfo(name).file_size > limit:
            raise _too_big(name)
    targets: dict[str, str] = {}
    for m in re.finditer(rb"<(?:\w+:)?Relationship\b[^>]*>", zf.read(rels)):
        tag = m.group(0)
        rid = re.search(rb"\bId=\"([^\"]+)\"", tag)
        to = re.search(rb"\bTarget=\"([^\"]+)\"", tag)
        if rid and to and re.search(rb"\bType=\"[^\"]*/worksheet\"", tag):
            targets[rid.group(1).decode()] = to.group(1).decode()
    for m in re.finditer(rb"<(?:\w+:)?sheet\b[^>]*?\b\w+:id=\"([^\"]+)\"", zf.read(workbook)):
        target = targets.get(m.group(1).decode())
        if target:
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join("xl", target))
            return path if path in names else None
    return None


def check_xlsx(data: bytes, *, max_sheet_rows: int) -> None:
    """Refuse a workbook whose parts would make the parser build too much, before parsing.

    The zip directory first (entries, total size, compression ratio), then the shared
    strings and the first sheet are streamed without building anything: the declared
    dimension, the highest row number, the number of physical rows and the widest cell.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _unreadable() from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise _too_big(_l("%(count)s parts in the workbook", count=len(infos)))
        total = sum(i.file_size for i in infos)
        if total > MAX_UNCOMPRESSED_BYTES:
            raise _too_big(_l("%(size)s MB once unpacked", size=total // (1024 * 1024)))
        for info in infos:
            if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(
                    info.compress_size, 1):
                raise _too_big(_l("a part unpacks %(ratio)s times larger",
                                  ratio=info.file_size // max(info.compress_size, 1)))
            if (info.file_size > MAX_SHARED_STRINGS_BYTES
                    and not info.filename.startswith("xl/worksheets/")
                    and info.filename.endswith((".xml", ".rels", ".vml"))):
                raise _too_big(_l("%(size)s MB in %(part)s", size=info.file_size // (1024 * 1024),
                                  part=info.filename[:60]))
        names = {i.filename for i in infos}
        try:
            _check_shared_strings(zf, names)
            sheet = _first_sheet(zf, names)
            sheets = [sheet] if sheet else sorted(
                n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml"))
            for name in sheets:
                _check_sheet(zf, zf.getinfo(name), max_sheet_rows)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, KeyError,
                zlib.error, RuntimeError, NotImplementedError, ValueError) as exc:
            # corrupt data, an encrypted part (RuntimeError), an unknown compression method
            raise _unreadable() from exc


def _check_shared_strings(zf: zipfile.ZipFile, names: set[str]) -> None:
    for name in ("xl/sharedStrings.xml", "xl/SharedStrings.xml"):
        if name not in names:
            continue
        info = zf.getinfo(name)
        if info.file_size > MAX_SHARED_STRINGS_BYTES:
            raise _too_big(_l("%(size)s MB of text", size=info.file_size // (1024 * 1024)))
        for count, _m in enumerate(_scan(zf, info, _SST_ITEM), start=1):
            if count > MAX_SHARED_STRINGS:
                raise _too_big(_l("more than %(max)s different texts", max=MAX_SHARED_STRINGS))


def _check_sheet(zf: zipfile.ZipFile, info: zipfile.ZipInfo, max_rows: int) -> None:
    if info.file_size > MAX_PART_BYTES:
        raise _too_big(_l("%(size)s MB of cells", size=info.file_size // (1024 * 1024)))
    rows_limit = _l("more than %(max)s rows", max=max_rows)
    columns_limit = _l("more than %(max)s columns", max=MAX_COLUMNS)
    with zf.open(info) as part:
        head = part.read(64 * 1024)
    dim = _DIMENSION.search(head)
    if dim:
        rows, columns = _dimension_size(dim.group(1).decode("ascii", "replace"))
        if rows > max_rows:
            raise _too_big(rows_limit)
        if columns > MAX_COLUMNS:
            raise _too_big(columns_limit)
    physical = 0
    for m in _scan(zf, info, re.compile(_ROW_TAG.pattern + b"|" + _CELL_REF.pattern)):
        if m.group(2) is not None:  # a cell: how far right does it reach?
            if _column_number(m.group(2).decode()) > MAX_COLUMNS:
                raise _too_big(columns_limit)
            continue
        physical += 1
        number = _ROW_NUMBER.search(m.group(1))
        if physical > max_rows or (number and int(number.group(1)) > max_rows):
            raise _too_big(rows_limit)


def _xlsx_rows(data: bytes, max_sheet_rows: int) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    check_xlsx(data, max_sheet_rows=max_sheet_rows)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a bad file
        raise _unreadable() from exc
    try:
        ws = wb.worksheets[0]
        # Explicit bounds: openpyxl would otherwise pad every row to the declared width.
        rows = ws.iter_rows(values_only=True, max_row=max_sheet_rows, max_col=MAX_COLUMNS)
        # read-only sheets yield every row from the first, so enumerate gives Excel's numbers
        for n, row in enumerate(rows, start=1):
            cells = list(row)
            _check_width(cells)
            yield n, cells
    except ImportFileError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _unreadable() from exc
    finally:
        wb.close()


def file_kind(filename: str, data: bytes) -> str:
    """'csv' or 'xlsx' from the name and the content; ImportFileError otherwise."""
    name = (filename or "").lower()
    is_zip = data[:4] == b"PK\x03\x04"
    if name.endswith(".xlsx") or (is_zip and not name.endswith(".csv")):
        if not is_zip:
            raise _unreadable()
        return "xlsx"
    if name.endswith((".csv", ".txt")):
        if is_zip:
            raise _unreadable()
        return "csv"
    raise ImportFileError(_l("Only CSV and XLSX files can be imported."))


def _header_key(value: Any) -> str:
    text = cell_text(value).lower()
    text = re.sub(r"[（(].*?[）)]", "", text)  # '人数(1-30)' → '人数'
    return re.sub(r"[\s*＊:：]", "", text)


def _match_header(cells: list[Any]) -> dict[str, int] | None:
    columns: dict[str, int] = {}
    for i, cell in enumerate(cells):
        key = _header_key(cell)
        fld = HEADERS.get(key)
        if fld and fld not in columns:
            columns[fld] = i
    return columns if all(f in columns for f in REQUIRED) else None


def _blank(cells: Iterable[Any]) -> bool:
    return all(cell_text(c) == "" for c in cells)


def parse(filename: str, data: bytes, *, max_rows: int = MAX_ROWS) -> Parsed:
    """Read a CSV or XLSX household list into valid rows and rejected rows."""
    if not data:
        raise ImportFileError(_l("The file is empty."))
    if len(data) > MAX_FILE_BYTES:
        raise _too_big(_l("more than %(max)s MB", max=MAX_FILE_BYTES // (1024 * 1024)))
    kind = file_kind(filename, data)
    max_sheet_rows = max_rows + SHEET_ROW_SLACK
    rows = (_xlsx_rows(data, max_sheet_rows) if kind == "xlsx"
            else _csv_rows(data, max_sheet_rows))

    columns: dict[str, int] | None = None
    seen_rows = 0
    for _line, cells in rows:
        if _blank(cells):
            continue
        seen_rows += 1
        columns = _match_header(cells)
        if columns is not None or seen_rows >= HEADER_SEARCH_ROWS:
            break
    if columns is None:
        raise ImportFileError(_l(
            "No header row found. The first row must name the columns: "
            "楼栋, 单元, 室, 人数 (状态 optional), or building, unit, room, members, status."
        ))

    parsed = Parsed()
    first_seen: dict[tuple[str, str, str], int] = {}
    count = 0
    for line, cells in rows:
        if _blank(cells):
            continue
        count += 1
        if count > max_rows:
            raise ImportFileError(_l("The file has more than %(max)s rows. Split it and "
                                     "import the parts one by one.", max=max_rows))
        result = _validate(line, cells, columns)
        if isinstance(result, Rejected):
            parsed.rejected.append(result)
            continue
        first = first_seen.get(result.address)
        if first is not None:
            parsed.rejected.append(Rejected(line, "duplicate", "room", first_line=first))
            continue
        first_seen[result.address] = line
        parsed.rows.append(result)
    return parsed


def _cell(cells: list[Any], columns: dict[str, int], name: str) -> Any:
    i = columns.get(name)
    return cells[i] if i is not None and i < len(cells) else None


def _validate(line: int, cells: list[Any], columns: dict[str, int]) -> Row | Rejected:
    """One row through `HouseholdIn`; its first error (in field order) names the reason."""
    raw = {name: _cell(cells, columns, name) for name in ("building", "unit", "room")}
    raw_members = cell_text(_cell(cells, columns, "members"))
    raw_status = cell_text(_cell(cells, columns, "status"))
    # An unknown word goes to the model as typed, which refuses it; no status keeps the default.
    status = STATUS_WORDS.get(raw_status.lower(), raw_status) if raw_status else None
    try:
        data = HouseholdIn.model_validate(
            {**raw, "members": parse_members(raw_members) if raw_members else None,
             "status": status or HouseholdStatus.ACTIVE})
    except ValidationError as err:
        return _rejected(line, err.errors(include_url=False)[0], raw, raw_members, raw_status)
    return Row(line, data.building, data.unit, data.room, data.members,
               str(data.status) if status else None)


def _rejected(line: int, error: Any, raw: dict[str, Any], raw_members: str,
              raw_status: str) -> Rejected:
    """The reason code of a row's first error."""
    name = str(error["loc"][0])
    if name == "members":
        if not raw_members:
            return Rejected(line, "missing", "members")
        return Rejected(line, "members", "members", raw_members[:40])
    if name == "status":
        return Rejected(line, "status", "status", raw_status[:40])
    if error["type"] == "string_too_long":
        return Rejected(line, "too_long", name, normalize_part(name, raw[name])[:40])
    return Rejected(line, "missing", name)


def parse_members(text: str) -> int | None:
    """'3', '3.0' or '3人' → 3; None unless a whole number (its range is `HouseholdIn`'s)."""
    text = text.strip().removesuffix("人").strip()
    if not re.fullmatch(r"\d+(\.0+)?", text):
        return None
    return int(text.split(".")[0])


def template_csv() -> bytes:
    """The downloadable template: Chinese headers, UTF-8 with BOM so Excel opens it correctly."""
    return "楼栋,单元,室,人数,状态\r\n".encode("utf-8-sig")
