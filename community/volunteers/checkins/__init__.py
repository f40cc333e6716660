"""Check-ins (签到): stewards prove presence at their shift's station, and log what they did.

- `codes` (pure): the station's rotating code (HMAC of station and time step, 8 digits);
- `rules` (pure): when check-in opens and closes, the minutes a shift counts;
- `services`: check-in and check-out with the code, the chief's hand confirmation, and the
  steward's supervision log (督导记录) with photos;
- `queries`: the steward's check-in page, a station's code and the chief's page, a log with
  the drops linked to its shift, the managers' no-shows and shift detail;
- `forms`, `views`: the `checkin` (/steward) and `checkin_manage` (/manage/checkins)
  blueprints.
"""
