"""Sign-up and login by phone number and SMS code (residents first; a second way in for all).

Rooms: `codes` (pure: making and hashing codes, the limits), `models` (the code table and the
per-day send counters), `schemas` (the phone and code inputs), `services` (request a code,
verify it: log in or create the account), `forms` and `views` (the two-step page and the
development page of codes). Sending goes through `community.sms`.
"""
