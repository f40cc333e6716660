"""The hours report as CSV for Excel in China (utf-8-sig) and as XLSX.

Like the drop export (community/stations/exports.py): text a spreadsheet would run as a
formula (a name starting with = + - @) is escaped, labels are in the user's language, and
hours are numbers with at most two decimals. The report is one row per steward, so it is
built whole rather than streamed.
"""
from __future__ import annotations

from typing import IO, Any

from flask_babel import gettext as _

from community import tabular
from community.volunteers.hours.forms import STEWARD_STATUS_LABELS
from community.volunteers.hours.queries import HoursReport, ReportRow


def headers() -> list[str]:
    """Column titles in the user's language (Chinese by default)."""
    return [_("Steward"), _("Phone"), _("Status"), _("Shifts"), _("Completed"), _("No-shows"),
            _("Approved hours"), _("Pending hours"), _("Points credited")]


def _hours(minutes: int) -> float | int:
    """Hours with at most two decimals; whole hours as integers (2, not 2.0)."""
    value = round(minutes / 60, 2)
    return int(value) if value == int(value) else value


def _values(row: ReportRow) -> list[Any]:
    status = str(STEWARD_STATUS_LABELS.get(row.status, row.status)) if row.status else ""
    return [row.name if row.steward_id else _("Total"), row.phone, status, row.shifts,
            row.done, row.no_shows, _hours(row.approved_minutes), _hours(row.pending_minutes),
            row.points]


def report_csv(report: HoursReport) -> bytes:
    """The report as CSV bytes: a BOM, the header, one row per steward, the total last.

    The period and community are in the file name (one header row keeps the file sortable).
    """
    return tabular.csv_bytes(headers(), [_values(r) for r in [*report.rows, report.total]])


def write_report_xlsx(report: HoursReport, out: IO[bytes]) -> None:
    """Write the report as XLSX to `out`: the header, one row per steward, the total last."""
    tabular.write_xlsx(headers(), [_values(r) for r in [*report.rows, report.total]], out,
                       title=report.community.name or "hours", widths={"A": 18, "B": 14})
