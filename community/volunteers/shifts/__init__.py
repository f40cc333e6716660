"""Shifts (排班): rotas generated from station windows, sign-up and cancel, managers'
assignments, coverage, and the steward's private calendar feed.

- `rules` (pure): shifts from windows and exceptions, reconciling them with the stored ones,
  coverage states and rates, the sign-up cut-off;
- `services`: generation (idempotent), sign-up and cancel, assign and unassign, the number
  needed, calendar keys;
- `queries`: the steward's shifts and the open ones, the roster, one shift, the coverage
  calendar, the at-risk list and the calendar feed;
- `ical` (pure): the feed as iCalendar;
- `forms`, `views`: the `shifts` (/steward/shifts, /steward/calendar) and `rota`
  (/manage/rota) blueprints.
"""
