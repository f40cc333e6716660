"""Points exports: ledger entries and the monthly summary, as CSV for Excel in China
(utf-8-sig, streamed in chunks) and as XLSX (write-only workbook) with local times.

Both formats (written by `community.tabular`) escape text that a spreadsheet would run as a
formula (a reason typed by a manager may start with = + - @) and write times in the
community's zone without a zone suffix, as people read them locally. Kinds and reasons
are in the user's language. CSV and XLSX hold the same cells (`_entry_values`,
`summary_rows`).

The entries export covers households' and stewards' accounts, as the summary does
(`queries`' docstring): a steward's rows name the steward in the household column. Ids:
"Entry ID" is the ledger's id, blank for a drop's own earn and strike (they are the drop
row; their ids in `facts.entries` are internal), and every row about a drop names it in
"Drop". "Corrects" names what a correction (or a redemption's refund) undoes so it can be
matched: the entry's id for a ledger entry, "Drop <id>" for a drop's own earn.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from flask_babel import gettext as _

from community import tabular
from community.points import services as points_services
from community.points.queries import EntryRow, MonthRow
from community.points.schemas import KIND_LABELS

# --- Ledger entries ------------------------------------------------------------------------

def entry_headers() -> list[str]:
    """Column titles of the entries export in the user's language."""
    return [_("Entry ID"), _("Date"), _("Time"), _("Household or steward"), _("Kind"),
            _("Amount"), _("Reason"), _("Rule version"), _("Actor"), _("Drop"),
            _("Corrects")]


def _corrects(row: EntryRow) -> int | str | None:
    """What a correction undoes, as the export names it (see the module docstring)."""
    if row.reverses_id is None:
        return None
    if row.reverses_id > 0:
        return row.reverses_id
    # The drop's own earn (−2·drop in `facts.entries`): the drop's number.
    return _("Drop %(id)s", id=row.drop_id if row.drop_id is not None
             else -row.reverses_id // 2)


def _entry_values(row: EntryRow, tz: str) -> list[Any]:
    """One entry as cell values: local date and time, labels and the plain reason."""
    text = points_services.describe(row.kind, row.amount, row.reason, row.reversed_kind,
                                    row.reversed_reason).rsplit(" ", 1)[0]
    holder = (row.household if row.steward is None
              else _("Steward: %(name)s", name=row.steward))
    return [row.id if row.id > 0 else None, row.local_date, tabular.local(row.at, tz),
            holder, str(KIND_LABELS.get(row.kind, row.kind)), row.amount, text,
            row.rule_version, row.actor if row.actor else _("System"), row.drop_id,
            _corrects(row)]


def entries_csv(rows: Iterable[EntryRow], tz: str, every: int = 500) -> Iterator[bytes]:
    """The entries CSV as byte chunks (dates ISO, times local 'YYYY-MM-DD HH:MM:SS')."""
    return tabular.csv_chunks(entry_headers(), (_entry_values(r, tz) for r in rows), every)


def write_entries_xlsx(rows: Iterable[EntryRow], tz: str, out: IO[bytes], title: str) -> None:
    """Write the entries XLSX (write-only workbook, constant memory per row) to `out`."""
    tabular.write_xlsx(entry_headers(), (_entry_values(r, tz) for r in rows), out,
                       title=title or "points",
                       widths={"B": 12, "C": 20, "D": 16, "G": 36, "K": 14})


# --- Monthly summary -----------------------------------------------------------------------

def summary_headers() -> list[str]:
    """Column titles of the monthly summary in the user's language."""
    return [_("Month"), _("Points issued"), _("Penalties"), _("Penalties refunded"),
            _("Corrections (net)"), _("Adjustments (net)"), _("Redeemed"), _("Expired"),
            _("Net change")]


def _month_values(row: MonthRow, label: str | None = None) -> list[Any]:
    return [label or row.month.strftime("%Y-%m"), row.issued, row.penalties,
            row.penalties_refunded, row.corrections, row.adjustments, row.redeemed,
            row.expired, row.net]


def summary_rows(months: Sequence[MonthRow], total: MonthRow) -> list[list[Any]]:
    """The months oldest first, as a spreadsheet reads them, then the total."""
    return [_month_values(m) for m in reversed(months)] + [_month_values(total, _("Total"))]


def summary_csv(months: Sequence[MonthRow], total: MonthRow) -> Iterator[bytes]:
    """The monthly summary as CSV byte chunks (small: twelve months and a total)."""
    return tabular.csv_chunks(summary_headers(), summary_rows(months, total))


def write_summary_xlsx(months: Sequence[MonthRow], total: MonthRow, out: IO[bytes],
                       title: str) -> None:
    """Write the monthly summary XLSX to `out`."""
    tabular.write_xlsx(summary_headers(), summary_rows(months, total), out,
                       title=title or "summary")
