"""Volunteer stewards (督导员), station chiefs, shifts, check-ins, supervision logs and hours.

The module owns the volunteer tables (`models`) and every page and job about them. It is
split into sub-packages with the same rooms (rules, services, queries, forms, views):

- `stewards/`: invitations, applications, approval, training, availability, station chiefs;
- `shifts/`: rotas from station windows, sign-up, assignments, coverage, the calendar feed;
- `checkins/`: rotating station codes, check-in and check-out, the chief's confirmation,
  supervision logs, no-shows;
- `hours/`: approval of hours with points, the steward's figures, certificates, the report;
- `jobs`: closing finished shifts, shift reminders (plain functions the scheduler calls).

The sub-domains never import one another; they all use `models` and message people through
`community.inbox` (import-linter contracts in pyproject.toml).
"""
