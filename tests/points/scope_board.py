"""Foreign-access cases of the points board pages."""
from __future__ import annotations
