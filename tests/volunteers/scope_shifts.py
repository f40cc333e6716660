"""Foreign-access cases of the volunteers shifts pages."""
from __future__ import annotations
