"""Stewards (督导员) and station chiefs (亭长): invitations, applications, approval,
retirement, training, availability and the chiefs of stations.

- `rules` (pure): invitation limits, tokens and states; availability as times;
- `services`: the write use cases (invite, join, apply, approve, reject, retire, training,
  availability, appoint and remove chiefs);
- `queries`: the invitations, the roster, a steward's page, the steward's own profile, the
  station chiefs; and the loaders the services share;
- `forms`, `views`: the `stewards` (/manage/stewards) and `steward_me` (/steward/join,
  /steward/apply, /steward/profile) blueprints.
"""
