"""Drop exports: CSV for Excel in China (utf-8-sig) streamed, and XLSX with local times.

Both escape text that Excel would run as a formula (leading = + - @, tab, CR), and both
write times in the community's zone without a zone suffix, as people read them locally.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from community.stations.forms import CATEGORY_LABELS, QUALITY_LABELS, SOURCE_LABELS

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: str) -> str:
    """Prefix a quote to text a spreadsheet would treat as a formula."""
    return "'" + value if value.startswith(FORMULA_LEADS) else value


def headers() -> list[str]:
    """Column titles in the user's language (Chinese by default)."""
    return [_("Drop ID"), _("Time"), _("Station"), _("Household"), _("Category"),
            _("Quality"), _("Source"), _("In window"), _("Weight (kg)"), _("Note")]


def _local(moment: datetime, tz: str) -> datetime:
    """Aware UTC → naive local time (Excel has no time zones)."""
    return moment.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def _values(row: Any, tz: str, esc: Any = escape_formula) -> list[Any]:
    """One drop as cell values: local time, labels in the user's language, escaped text."""
    return [
        row.id,
        _local(row.happened_at, tz),
        esc(row.station),
        esc(row.household) if row.household else _("Anonymous tally"),
        str(CATEGORY_LABELS.get(row.category, row.category)),
        str(QUALITY_LABELS.get(row.quality, row.quality)),
        str(SOURCE_LABELS.get(row.source, row.source)),
        _("Yes") if row.in_window else _("No (out of window)"),
        float(row.weight_kg) if row.weight_kg is not None else None,
        esc(row.note or ""),
    ]


def csv_chunks(rows: Iterable[Any], tz: str, every: int = 500) -> Iterator[bytes]:
    """The CSV as byte chunks: a BOM, the header, then rows, flushed every `every` rows."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(headers())
    yield buf.getvalue().encode("utf-8-sig")
    buf.seek(0)
    buf.truncate()
    for n, row in enumerate(rows, 1):
        values = _values(row, tz)
        values[1] = values[1].strftime("%Y-%m-%d %H:%M:%S")
        writer.writerow(["" if v is None else v for v in values])
        if n % every == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue().encode("utf-8")


def write_xlsx(rows: Iterable[Any], tz: str, out: IO[bytes], title: str) -> None:
    """Write the XLSX (write-only workbook, constant memory per row) to `out`."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31] or "drops")
    ws.column_dimensions["B"].width = 20
    ws.column_dimensions["C"].width = 16
    ws.column_dimensions["D"].width = 16
    ws.append(headers())
    for row in rows:
        values = _values(row, tz, esc=str)
        when = WriteOnlyCell(ws, value=values[1])
        when.number_format = "yyyy-mm-dd hh:mm:ss"
        cells: list[Any] = [values[0], when]
        for value in values[2:]:
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str):
                # Typed as text, so "=..." in a note is shown, never evaluated as a formula.
                cell.data_type = "s"
            cells.append(cell)
        ws.append(cells)
    wb.save(out)
