"""Stewards' hours (工时): approval with points, the steward's own figures, certificates and
the managers' hours report.

- `rules` (pure): points for minutes, the correction limits, hours for people, periods,
  masked names;
- `services`: approving one assignment's hours or many (a ledger credit each), recording a
  report's export;
- `queries`: the pending list and one assignment, the steward's hours and points, a
  certificate's data and its public check, the hours report;
- `certificate` (pure): the certificate PDF and the signed token its QR code carries;
- `exports`: the report as CSV and XLSX;
- `forms`, `views`: the `hours` (/manage/volunteers/hours), `my_hours` (/steward/hours)
  and `hours_public` (/verify/hours/<token>) blueprints.
"""
