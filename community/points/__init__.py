"""The points module (积分制): the append-only ledger, versioned rule sets, rewards and
redemptions, and the honour boards.

Map of the module:
- the ledger, at the top level: `models` (every points table, rewards' and redemptions' too),
  `rules` (pure), `services` (write use cases: award, regrade, adjust, credit stewards,
  lock accounts and append entries; the cross-module API, imported as `points_services`),
  `queries`, `views`, `forms` and `exports` (the managers' /manage/points pages), and `jobs`
  (expiry, the ledger check, forgetting old redemption request ids);
- `rewards/`: the catalog, redemptions, hand-over at the station, cancellation with a refund
  (`services`), what each rewards page shows (`queries`), `forms` and `views`
  (/me/rewards, /steward/pickup, /manage/rewards);
- `boards/`: the honour boards (红榜), read from the ledger with a short-lived ranking cache
  (`queries`), a household's opt-out (`services`) and `views` (/manage/board, /me/board).

`rewards` and `boards` use the ledger through `points.services`; the ledger never imports
them, and they never import each other (import-linter contracts in pyproject.toml).
"""
