"""Scope cases of community/web: the moved-URL redirects only answer 308 (tested in
test_moved.py) and reach no data."""
from __future__ import annotations

from community.web import moved
from tests.scope import exempt

exempt(*(moved.endpoint(old) for old in moved.MOVED))
