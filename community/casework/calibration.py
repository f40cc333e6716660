"""Verdict-audit statistics (督导评判校准): sampling, agreement, Cohen's kappa with its 95%
interval, Wilson intervals and the lenient/strict flag. Pure, no DB.

Definitions (the manager's page says the same in words):
- **Sample** per steward and local week (Monday to Sunday): of the steward's verdicts that
  can be re-graded from a photo (identified or not, not void, graded correct or incorrect,
  with a photo), `sample_size(n) = min(n, max(minimum, ⌈rate · n⌉))` (defaults 10 and 5%),
  drawn uniformly without replacement by a generator seeded with (community, week,
  steward): the same inputs always draw the same sample, so drawing is idempotent.
- **Pairs**: (the steward's original verdict, the auditor's blind verdict), categories
  correct / incorrect; an auditor's "cannot tell from the photo" is left out.
- **Agreement** p_o = agreeing pairs / pairs. **Cohen's kappa** κ = (p_o − p_e)/(1 − p_e)
  with p_e = Σ_c (original share of c)·(audit share of c). Its 95% interval is
  κ ± 1.96·SE with Cohen's (1960) large-sample SE = √(p_o(1 − p_o) / (n (1 − p_e)²)),
  clipped to [−1, 1]. Not given (`Agreement.kappa_na` says why) when there are no pairs;
  when the steward or the auditor used one verdict only (p_e = 1, or κ = 0 by construction
  with an interval of [−1, 1]: it says nothing about agreement); and when every pair agrees
  or none does (p_o = 1 or 0: the SE is 0, so the interval collapses to a point). With the 10
  pairs of one week the interval is wide by nature; the page pools the weeks shown.
- **Lenient / strict flag**: a *lenient* disagreement is original correct, audit incorrect;
  a *strict* one the reverse. A steward is flagged lenient when their lenient-disagreement
  rate L_s/n_s exceeds their peers' pooled rate L_p/n_p (all other stewards of the
  community, same period) by a one-sided two-proportion z-test with pooled variance,
  z ≥ 1.645 (5%), with at least MIN_PAIRS pairs on both sides and at least MIN_DISAGREE
  lenient disagreements of their own; strict likewise. With equal rates on both sides
  neither flag is raised.
- **Accuracy** with a Wilson score 95% interval (correct / graded).
"""
from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

Z95 = 1.959963984540054
Z_ONE_SIDED_95 = 1.6448536269514722
MIN_PAIRS = 10
MIN_DISAGREE = 2
DEFAULT_RATE = 0.05
DEFAULT_MINIMUM = 10
QUALITIES = ("correct", "incorrect")


def sample_size(n: int, rate: float = DEFAULT_RATE, minimum: int = DEFAULT_MINIMUM) -> int:
    """How many of n verdicts to audit: the larger of `minimum` and ⌈rate·n⌉, at most n."""
    if n <= 0:
        return 0
    return min(n, max(minimum, math.ceil(rate * n - 1e-9)))


def draw(candidates: Iterable[int], k: int, seed: str) -> list[int]:
    """k of the candidate ids, uniformly without replacement, reproducible from `seed`
    (sorted first, so the result does not depend on the candidates' order)."""
    pool = sorted(set(candidates))
    k = max(0, min(k, len(pool)))
    return sorted(random.Random(seed).sample(pool, k))  # noqa: S311 - a sample, not a secret


@dataclass(frozen=True)
class Interval:
    """An estimate with its 95% interval."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class Agreement:
    """Agreement and Cohen's kappa of n (original, audit) pairs."""

    n: int
    agree: int
    lenient: int  # original correct, audit incorrect
    strict: int  # original incorrect, audit correct
    rate: float | None
    kappa: Interval | None
    # Why kappa is not given (None when it is): "no_pairs"; "one_category" (the steward or
    # the auditor used one verdict only, e.g. never "incorrect": kappa is 0 or undefined by
    # construction and says nothing); "degenerate" (every pair agrees, or none does: kappa is
    # 1 or −1 but its interval collapses to a point, which is no interval).
    kappa_na: str | None = None


def agreement(pairs: Iterable[tuple[str, str]]) -> Agreement:
    """Agreement rate and Cohen's kappa with its 95% interval (see the module docstring)."""
    counted = [(o, a) for o, a in pairs if o in QUALITIES and a in QUALITIES]
    n = len(counted)
    agree = sum(1 for o, a in counted if o == a)
    lenient = sum(1 for o, a in counted if o == "correct" and a == "incorrect")
    strict = sum(1 for o, a in counted if o == "incorrect" and a == "correct")
    if n == 0:
        return Agreement(0, 0, 0, 0, None, None, "no_pairs")
    po = agree / n
    pe = sum((sum(1 for o, _a in counted if o == c) / n) * (sum(1 for _o, a in counted
                                                              if a == c) / n)
             for c in QUALITIES)
    if pe >= 1 - 1e-12 or len({o for o, _a in counted}) < 2 or len({a for _o, a in counted}) < 2:
        return Agreement(n, agree, lenient, strict, po, None, "one_category")
    if agree in (0, n):
        return Agreement(n, agree, lenient, strict, po, None, "degenerate")
    k = (po - pe) / (1 - pe)
    se = math.sqrt(max(po * (1 - po), 0.0) / (n * (1 - pe) ** 2))
    return Agreement(n, agree, lenient, strict, po,
                     Interval(k, max(-1.0, k - Z95 * se), min(1.0, k + Z95 * se)))


def wilson(successes: int, n: int, z: float = Z95) -> Interval | None:
    """A proportion with its Wilson score interval; None when n is 0."""
    if n <= 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # The bounds hold p exactly at 0 and 1 (floating point would miss by an ulp).
    return Interval(p, max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half)))


def _z(x1: int, n1: int, x2: int, n2: int) -> float:
    """One-sided two-proportion z (pooled variance) of x1/n1 above x2/n2; 0 when undefined."""
    p = (x1 + x2) / (n1 + n2)
    if p <= 0 or p >= 1:
        return 0.0
    se = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    return (x1 / n1 - x2 / n2) / se


def flags(by_steward: Mapping[int, Agreement]) -> dict[int, str | None]:
    """Each steward's flag against their peers: "lenient", "strict" or None."""
    out: dict[int, str | None] = {}
    total_n = sum(a.n for a in by_steward.values())
    total_l = sum(a.lenient for a in by_steward.values())
    total_s = sum(a.strict for a in by_steward.values())
    for s, a in by_steward.items():
        n_p = total_n - a.n
        out[s] = None
        if a.n < MIN_PAIRS or n_p < MIN_PAIRS:
            continue
        if (a.lenient >= MIN_DISAGREE
                and _z(a.lenient, a.n, total_l - a.lenient, n_p) >= Z_ONE_SIDED_95):
            out[s] = "lenient"
        elif (a.strict >= MIN_DISAGREE
              and _z(a.strict, a.n, total_s - a.strict, n_p) >= Z_ONE_SIDED_95):
            out[s] = "strict"
    return out


def accuracy(qualities: Sequence[str]) -> Interval | None:
    """Correct / graded of verdicts (ungraded left out), with its Wilson interval."""
    graded = [q for q in qualities if q in QUALITIES]
    return wilson(sum(1 for q in graded if q == "correct"), len(graded))
