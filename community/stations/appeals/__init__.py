"""Appeals (申诉) against an incorrect verdict: a member of the household files one within 7 days
of the verdict, with a note; the station chief or a manager of the drop's community upholds
it or regrades the drop to correct, with a reason the household is told.

Rooms as everywhere: `models` (the `drop_appeal` table, also what the verdict audits read),
`rules` (pure: the window, once per drop, a decision needs a reason), `schemas`, `services`
(file, decide), `queries` (the resident's view of a drop, the deciders' queue, outcomes for
the audits), `forms`, `views` (the `appeals` blueprint).
"""
