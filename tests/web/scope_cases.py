"""Scope cases of community/web: the moved-URL redirects only answer 308 (tested in
test_moved.py) and the home-screen icons are drawn for anyone (test_manifest.py); neither
reaches data."""
from __future__ import annotations

from community.web import moved
from tests.scope import exempt

exempt(*(moved.endpoint(old) for old in moved.MOVED))
exempt("icons.icon")
