"""Foreign-access cases of the points rewards pages."""
from __future__ import annotations
