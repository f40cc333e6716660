"""Foreign-access cases of the volunteers stewards pages."""
from __future__ import annotations
