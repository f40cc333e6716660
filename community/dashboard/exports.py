"""The manager dashboard's figures as a spreadsheet: CSV for Excel in China (utf-8-sig) and
XLSX, both written by `community.tabular` (which escapes formulas).

One long table — section, item, figure, unit, value, last month, change — so every section
(headline, counts, trends, stations, buildings, hours, weekdays, categories) fits one sheet
and pivots in Excel. Rates are percentages with one decimal; a rate that is not available is
written as "n/a" in the user's language, never 0.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from flask_babel import gettext as _

from community import tabular
from community.dashboard.charts import pct
from community.dashboard.queries import FIGURES, CommunityDashboard
from community.ratings.standing import LEVEL_LABELS, METRIC_LABELS
from community.stations.forms import WEEKDAY_LABELS
from community.stations.schemas import CATEGORY_LABELS

Row = list[Any]


def headers() -> list[str]:
    """Column titles in the user's language."""
    return [_("Section"), _("Item"), _("Figure"), _("Unit of measure"), _("Value"), _("Last month"),
            _("Change (percentage points)")]


def _rate(value: float | None) -> Any:
    return _("n/a") if value is None else pct(value)


def _metric_rows(section: str, item: str, values: dict[str, float | None] | None) -> list[Row]:
    return [[section, item, str(METRIC_LABELS[code]), "%",
             _rate(values[code]) if values else _("n/a"), None, None] for code in FIGURES]


def rows(d: CommunityDashboard) -> list[Row]:
    """Every figure of the dashboard as spreadsheet rows."""
    month = d.month.strftime("%Y-%m")
    out: list[Row] = []
    head = _("Headline figures")
    for f in d.figures:
        change = f.change
        out.append([head, month, str(METRIC_LABELS[f.code]), "%", _rate(f.value),
                    _rate(f.previous), _("n/a") if change is None else round(change * 100, 1)])
    if d.rating is not None:
        out.append([head, month, _("Rating level"), "", str(LEVEL_LABELS[d.rating.level]),
                    None, None])
    t, p = d.totals, d.previous
    counts = _("Counts")
    for label, unit, now, before in (
            (_("Drops"), "", t.all.drops, p.all.drops),
            (_("Identified drops"), "", t.all.identified, p.all.identified),
            (_("Anonymous tallies"), "", t.all.tallies, p.all.tallies),
            (_("Graded drops"), "", t.all.graded, p.all.graded),
            (_("Correct drops"), "", t.all.correct, p.all.correct),
            (_("Out-of-window drops"), "", t.all.out_of_window, p.all.out_of_window),
            (_("Weighed drops"), "", t.all.weighed, p.all.weighed),
            (_("Weight"), "kg", float(t.all.kg), float(p.all.kg)),
            (_("Households that dropped"), "", t.households_dropped, p.households_dropped),
            (_("Active households"), "", t.active_households, p.active_households),
            (_("Scheduled windows"), "", t.windows_scheduled, p.windows_scheduled),
            (_("Staffed windows"), "", t.windows_staffed, p.windows_staffed)):
        out.append([counts, month, label, unit, now, before, None])
    for point in d.daily:
        out += _metric_rows(_("Daily"), point.start.isoformat(), point.values)
    for point in d.monthly:
        out += _metric_rows(_("Monthly"), point.start.strftime("%Y-%m"), point.values)
    for s in d.stations:
        section = _("By station")
        out.append([section, s.name, _("Drops"), "", s.counts.drops, None, None])
        out += [[section, s.name, str(METRIC_LABELS[code]), "%", _rate(s.metric(code)),
                 None, None]
                for code in ("kitchen_accuracy", "accuracy", "scan_rate", "out_of_window_rate",
                             "steward_coverage")]
    for b in d.buildings:
        section = _("Worst buildings")
        out += [[section, b.building, _("Drops"), "", b.drops, None, None],
                [section, b.building, str(METRIC_LABELS["accuracy"]), "%", _rate(b.accuracy),
                 None, None],
                [section, b.building, str(METRIC_LABELS["out_of_window_rate"]), "%",
                 _rate(b.out_of_window_rate), None, None]]
    for h in d.hours:
        if h.drops:
            item = f"{h.key:02d}:00"
            out += [[_("By hour"), item, _("Drops"), "", h.drops, None, None],
                    [_("By hour"), item, _("Out-of-window drops"), "", h.out_of_window, None,
                     None],
                    [_("By hour"), item, str(METRIC_LABELS["accuracy"]), "%",
                     _rate(h.accuracy), None, None]]
    for w in d.weekdays:
        item = str(WEEKDAY_LABELS[w.key])
        out += [[_("By weekday"), item, _("Drops"), "", w.drops, None, None],
                [_("By weekday"), item, _("Out-of-window drops"), "", w.out_of_window, None,
                 None]]
    for code, c in d.categories:
        item = str(CATEGORY_LABELS[code])
        out += [[_("By category"), item, _("Drops"), "", c.drops, None, None],
                [_("By category"), item, str(METRIC_LABELS["accuracy"]), "%",
                 _rate(c.correct / c.graded if c.graded else None), None, None],
                [_("By category"), item, _("Weight"), "kg", float(c.kg), None, None]]
    return out


def csv_chunks(d: CommunityDashboard) -> Iterator[bytes]:
    """The figures as CSV byte chunks (a BOM first, for Excel)."""
    return tabular.csv_chunks(headers(), rows(d))


def write_xlsx(d: CommunityDashboard, out: IO[bytes]) -> None:
    """Write the figures as a one-sheet XLSX to `out`."""
    tabular.write_xlsx(headers(), rows(d), out, title=d.community.name or "dashboard",
                       widths={"A": 16, "B": 16, "C": 24})
