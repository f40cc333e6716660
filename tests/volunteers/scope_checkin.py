"""Foreign-access cases of the volunteers checkin pages."""
from __future__ import annotations
