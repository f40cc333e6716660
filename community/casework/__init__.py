"""Casework (教育纠正): the end of the mis-drop loop that follows a household and a steward.

- Cases (纠正案例): a household that reaches the case threshold (default 3 incorrect
  identified drops within 30 local days, a versioned community rule) gets one open case
  with an education task (桶边指导, home visit, building talk) assigned to a steward with a
  due date; the steward records what was done; the case closes by itself after the
  household's next N correct identified drops in a row (default 5) and, where the
  community's rule says so, the strike penalties of the case period are refunded (ledger
  entries of kind `refund`, through the points services). Overdue tasks escalate to the
  manager's list; households with repeated cases are on a private watchlist.
- Verdict audits (督导评判校准): each week a random sample of each steward's verdicts with a
  photo is re-graded blind by the manager or a station chief; per steward: agreement,
  Cohen's kappa with a 95% interval, and a lenient/strict flag against their peers. Audits
  are evidence only: nothing here changes a drop.

Known limit: a refund gives back the penalties live when the case closes; if one of them
is later reversed by a recomputation (a late regrade of a case drop to correct), the
household keeps both the refund and the reversal's points (the ledger stays consistent; the
case is not reopened).

Rooms: `rules` (cases) and `calibration` (audit statistics) are pure; `services` write,
`queries` read, `jobs` are what the scheduler runs, `views` the manager's and steward's
pages. Casework sits above volunteers (it reads drops, writes ledger refunds, assigns
stewards and messages them) and beside ratings (import-linter layers in pyproject.toml).
"""
