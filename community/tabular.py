"""Spreadsheet exports shared by every module: CSV for Excel in China and XLSX.

CSV is utf-8-sig (Excel in China opens plain UTF-8 as GBK) and streamed in chunks; XLSX is a
write-only workbook (constant memory per row). Text a spreadsheet would run as a formula
(leading = + - @, tab, CR) is escaped in CSV and typed as text in XLSX; dates and times are
written as local wall time, since Excel has no time zones.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
CSV_TIME = "%Y-%m-%d %H:%M:%S"


def escape_formula(value: str) -> str:
    """Prefix a quote to text a spreadsheet would treat as a formula."""
    return "'" + value if value.startswith(FORMULA_LEADS) else value


def local(moment: datetime, tz: str) -> datetime:
    """Aware UTC → naive local time (Excel has no time zones)."""
    return moment.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(CSV_TIME)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return escape_formula(value)
    return value


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]],
               every: int = 500) -> Iterator[bytes]:
    """A CSV as byte chunks: a BOM and the header, then the rows, flushed every `every` rows.

    Cells: None → empty, datetimes as local "YYYY-MM-DD HH:MM:SS" (convert with `local`
    first), dates ISO, text formula-escaped.
    """
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    yield buf.getvalue().encode("utf-8-sig")
    buf.seek(0)
    buf.truncate()
    for n, values in enumerate(rows, 1):
        writer.writerow([_csv_cell(v) for v in values])
        if n % every == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue().encode("utf-8")


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A small CSV in one piece (same cells as `csv_chunks`)."""
    return b"".join(csv_chunks(header, rows))


def _xlsx_cell(ws: Any, value: Any) -> Any:
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, datetime):
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
    elif isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    elif isinstance(value, str):
        cell.data_type = "s"  # typed as text: "=..." is shown, never evaluated
    return cell


def write_xlsx(header: Sequence[str], rows: Iterable[Sequence[Any]], out: IO[bytes], *,
               title: str, widths: dict[str, int] | None = None) -> None:
    """Write a one-sheet XLSX to `out` (datetimes must already be naive local times)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=(title or "export")[:31])
    for column, width in (widths or {}).items():
        ws.column_dimensions[column].width = width
    ws.append(list(header))
    for values in rows:
        ws.append([_xlsx_cell(ws, v) for v in values])
    wb.save(out)
