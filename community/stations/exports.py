"""Drop exports: CSV for Excel in China (utf-8-sig) streamed, and XLSX with local times
(both written by `community.tabular`, which escapes formulas)."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any

from flask_babel import gettext as _

from community import tabular
from community.stations.schemas import CATEGORY_LABELS, QUALITY_LABELS, SOURCE_LABELS


def headers() -> list[str]:
    """Column titles in the user's language (Chinese by default)."""
    return [_("Drop ID"), _("Time"), _("Station"), _("Household"), _("Category"),
            _("Quality"), _("Source"), _("In window"), _("Weight (kg)"), _("Note"),
            _("Undone")]


def _values(row: Any, tz: str) -> list[Any]:
    """One drop as cell values: local time, labels in the user's language."""
    return [
        row.id,
        tabular.local(row.happened_at, tz),
        row.station,
        row.household if row.household else _("Anonymous tally"),
        str(CATEGORY_LABELS.get(row.category, row.category)),
        str(QUALITY_LABELS.get(row.quality, row.quality)),
        str(SOURCE_LABELS.get(row.source, row.source)),
        _("Yes") if row.in_window else _("No (out of window)"),
        float(row.weight_kg) if row.weight_kg is not None else None,
        row.note or "",
        # A voided drop stays in the export (it happened) but is marked: it counts nowhere.
        _("Undone by the steward") if row.voided else "",
    ]


def csv_chunks(rows: Iterable[Any], tz: str, every: int = 500) -> Iterator[bytes]:
    """The CSV as byte chunks: a BOM, the header, then rows, flushed every `every` rows."""
    return tabular.csv_chunks(headers(), (_values(r, tz) for r in rows), every)


def write_xlsx(rows: Iterable[Any], tz: str, out: IO[bytes], title: str) -> None:
    """Write the XLSX (write-only workbook, constant memory per row) to `out`."""
    tabular.write_xlsx(headers(), (_values(r, tz) for r in rows), out, title=title or "drops",
                       widths={"B": 20, "C": 16, "D": 16})
