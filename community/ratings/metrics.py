"""The metrics of DOMAIN.md as pure functions over rollup totals (no DB, no Flask).

Every rate is a fraction in [0, 1], or None ("not available") when its denominator is zero —
never 0% or 100% by default. Pages format None as "—" / "暂无数据".
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal

CATEGORIES = ("kitchen", "recyclable", "hazardous", "other")
# The metric codes a rating stores and a policy's thresholds refer to.
METRICS = ("scan_rate", "accuracy", "kitchen_accuracy", "participation", "out_of_window_rate",
           "steward_coverage", "kitchen_separation", "on_time_rate")
# Metrics that do not come from the drops' rollups (`all_metrics` leaves them out): the
# reports' 按期处置率, added by the rating where a policy sets a threshold on it.
REPORT_METRICS = ("on_time_rate",)
RATED = ("not_compliant", "compliant", "star")  # "insufficient" is not a rating of quality


def rate(numerator: float | Decimal | int, denominator: float | Decimal | int) -> float | None:
    """numerator / denominator as a float, or None when the denominator is zero."""
    if not denominator:
        return None
    return float(numerator) / float(denominator)


@dataclass
class Counts:
    """Summed drop figures of one category (or of all) over a scope and period."""

    drops: int = 0
    identified: int = 0
    tallies: int = 0
    graded: int = 0
    correct: int = 0
    incorrect: int = 0
    out_of_window: int = 0
    weighed: int = 0
    kg: Decimal = Decimal(0)

    def __add__(self, other: Counts) -> Counts:
        """Two sets of figures together."""
        return Counts(**{f.name: getattr(self, f.name) + getattr(other, f.name)
                         for f in fields(self)})


@dataclass
class Totals:
    """Everything the metrics need for one scope (station, community, area) and period."""

    by_category: dict[str, Counts] = field(default_factory=dict)
    households_dropped: int = 0    # distinct households with an identified drop
    active_households: int = 0     # active at the period's end
    windows_scheduled: int = 0
    windows_staffed: int = 0
    # Collection (收运, community/collection): the collectors' kg by category over the
    # station-days that weighed no drop (stations without scales), and the kitchen bins they
    # found contaminated (收运端检出). Separate figures: the drop counts above never include them.
    collected_kg: dict[str, Decimal] = field(default_factory=dict)
    pickup_contaminated_kitchen: int = 0

    @property
    def all(self) -> Counts:
        """The figures of every category together."""
        total = Counts()
        for counts in self.by_category.values():
            total = total + counts
        return total

    def category(self, code: str) -> Counts:
        """One category's figures (zeros when it had none)."""
        return self.by_category.get(code, Counts())


def scan_rate(c: Counts) -> float | None:
    """扫码率: identified drops / all drops (tallies count in the denominator only)."""
    return rate(c.identified, c.drops)


def accuracy(c: Counts) -> float | None:
    """准确率: correct / graded drops (ungraded excluded)."""
    return rate(c.correct, c.graded)


def out_of_window_rate(c: Counts) -> float | None:
    """过时投放率: drops outside every open window (grace included) / all drops."""
    return rate(c.out_of_window, c.drops)


def participation(households_dropped: int, active_households: int) -> float | None:
    """参与率: households with ≥ 1 identified drop / households active at the period's end."""
    return rate(households_dropped, active_households)


def steward_coverage(staffed: int, scheduled: int) -> float | None:
    """督导到位率: scheduled windows with a steward checked in / scheduled windows."""
    return rate(staffed, scheduled)


def kitchen_separation(t: Totals) -> float | None:
    """厨余垃圾分出率: kitchen-waste kg / all kg, over weighed drops, plus the collectors'
    weights of the station-days that weighed no drop (DOMAIN.md: collector weights are the
    weighed source where stations have no scales; never both for one station-day)."""
    collected = sum(t.collected_kg.values(), Decimal(0))
    return rate(t.category("kitchen").kg + t.collected_kg.get("kitchen", Decimal(0)),
                t.all.kg + collected)


def kitchen_accuracy_with_pickup(t: Totals) -> float | None:
    """Kitchen accuracy counting each kitchen bin the collectors found contaminated
    (收运端检出) as one more graded, incorrect unit: correct / (graded + contaminated bins).
    Shown beside the stewards' kitchen accuracy, never in its place."""
    k = t.category("kitchen")
    return rate(k.correct, k.graded + t.pickup_contaminated_kitchen)


def compliant_coverage(levels: Iterable[str]) -> float | None:
    """达标小区覆盖率: communities rated compliant or star / communities rated.

    A community with insufficient data has no quality rating, so it is not in the denominator.
    """
    rated = [level for level in levels if level in RATED]
    return rate(sum(1 for level in rated if level in ("compliant", "star")), len(rated))


def all_metrics(t: Totals) -> dict[str, float | None]:
    """The metric vector a rating stores (codes in METRICS)."""
    c = t.all
    return {
        "scan_rate": scan_rate(c),
        "accuracy": accuracy(c),
        "kitchen_accuracy": accuracy(t.category("kitchen")),
        "participation": participation(t.households_dropped, t.active_households),
        "out_of_window_rate": out_of_window_rate(c),
        "steward_coverage": steward_coverage(t.windows_staffed, t.windows_scheduled),
        "kitchen_separation": kitchen_separation(t),
    }


def accuracy_by_category(t: Totals) -> dict[str, float | None]:
    """Accuracy of each category (None where nothing was graded)."""
    return {code: accuracy(t.category(code)) for code in CATEGORIES}


# --- City tonnage metrics --------------------------------------------------------------------

@dataclass(frozen=True)
class Tonnage:
    """An area's monthly tonnages: R recyclables recovered, incineration (grate and fluidized
    bed), K kitchen waste treated biologically, L sanitary landfill."""

    recyclables: Decimal
    incineration_grate: Decimal
    incineration_fluid: Decimal
    kitchen: Decimal
    landfill: Decimal

    @property
    def collected(self) -> Decimal:
        """C: household waste collected = I_grate + I_fluid + K + L."""
        return self.incineration_grate + self.incineration_fluid + self.kitchen + self.landfill

    def __add__(self, other: Tonnage) -> Tonnage:
        """Two areas' (or months') tonnages together."""
        return Tonnage(self.recyclables + other.recyclables,
                       self.incineration_grate + other.incineration_grate,
                       self.incineration_fluid + other.incineration_fluid,
                       self.kitchen + other.kitchen, self.landfill + other.landfill)


def recycling_rate(t: Tonnage) -> float | None:
    """回收利用率 = (R + K) / (R + C)."""
    return rate(t.recyclables + t.kitchen, t.recyclables + t.collected)


# Resource-utilization coefficients of DOMAIN.md.
COEFFICIENTS: Mapping[str, Decimal] = {"incineration_grate": Decimal("0.8"),
                                       "incineration_fluid": Decimal("0.5"),
                                       "kitchen": Decimal("0.9"), "landfill": Decimal("0.1")}


def resource_utilization_rate(t: Tonnage) -> float | None:
    """资源化利用率 = (R + I_grate×0.8 + I_fluid×0.5 + K×0.9 + L×0.1) / (R + C)."""
    used = t.recyclables + sum((getattr(t, name) * k for name, k in COEFFICIENTS.items()),
                               Decimal(0))
    return rate(used, t.recyclables + t.collected)
