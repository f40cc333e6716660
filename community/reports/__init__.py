"""Reports (随手拍) and their on-time handling (按期处置率), issue 18 items 1-3, 5-7.

- A resident or steward reports a problem at a station (or elsewhere in the community):
  a kind, a photo (cleaned by `community.images`; its EXIF location kept, as coordinates on
  the report, only when the reporter agrees) and a note. A report of the same kind at the
  same station while one is open joins it (+1). Stewards' supervision-log incidents (满溢,
  乱倒, 设施损坏) open reports of the same kind (`jobs.reports_from_logs`).
- Each kind has a deadline (hours; per city, versioned: `ReportDeadlineSet`). A report goes
  to its station's chief, then the community manager; 混收混运 (mixed collection) goes to the
  street instead. States: new → assigned → in progress → handled → confirmed / reopened
  (once, with a reason). The handler adds a note and an after-photo.
- Overdue reports escalate one level up the area tree (community → street → district),
  once per deadline (a conditional update and a unique escalation row), and the admins of
  that level are told through the inbox (`jobs.escalate`).
- 按期处置率 = reports handled by their deadline / reports due in the period (DOMAIN.md),
  pure in `rules.rate`; `queries.on_time_rate(session, area_id, month)` for any level.

Rooms: `rules` (pure), `schemas`, `models`, `services` (writes), `queries` (reads),
`photos` (files), `jobs`, `forms`, `views`. Reports sit above volunteers (they read the
supervision logs) and below ratings (a rating policy may hold a threshold on the rate).
"""
