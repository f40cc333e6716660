"""Foreign-access cases of the volunteers hours pages."""
from __future__ import annotations
