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
import re
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

def _decode(data: bytes) -> str:
    if b"\x00" in data[:4096]:  # UTF-16 or a binary file: not a CSV we can read
        raise ImportFileError(_l("The file could not be read. Save it as CSV (UTF-8) or XLSX."))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_l("The file could not be read. Save it as CSV (UTF-8) or XLSX."))


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    text = _decode(data)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        start = 1
        for row in reader:
            yield start, row
            start = reader.line_num + 1  # a quoted field may span lines
    except csv.Error as exc:
        raise ImportFileError(
            _l("The file could not be read. Save it as CSV (UTF-8) or XLSX.")
        ) from exc


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a bad file
        raise ImportFileError(
            _l("The file could not be read. Save it as CSV (UTF-8) or XLSX.")
        ) from exc
    try:
        ws = wb.worksheets[0]
        # read-only sheets yield every row from the first, so enumerate gives Excel's numbers
        for n, row in enumerate(ws.iter_rows(values_only=True), start=1):
            yield n, list(row)
    except Exception as exc:  # noqa: BLE001
        raise ImportFileError(
            _l("The file could not be read. Save it as CSV (UTF-8) or XLSX.")
        ) from exc
    finally:
        wb.close()


def file_kind(filename: str, data: bytes) -> str:
    """'csv' or 'xlsx' from the name and the content; ImportFileError otherwise."""
    name = (filename or "").lower()
    is_zip = data[:4] == b"PK\x03\x04"
    if name.endswith(".xlsx") or (is_zip and not name.endswith(".csv")):
        if not is_zip:
            raise ImportFileError(
                _l("The file could not be read. Save it as CSV (UTF-8) or XLSX.")
            )
        return "xlsx"
    if name.endswith((".csv", ".txt")):
        if is_zip:
            raise ImportFileError(
                _l("The file could not be read. Save it as CSV (UTF-8) or XLSX.")
            )
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
    kind = file_kind(filename, data)
    rows = _xlsx_rows(data) if kind == "xlsx" else _csv_rows(data)

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
