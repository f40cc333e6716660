"""Foreign-access cases of the points views pages."""
from __future__ import annotations
