"""Drop stations, fixed-time windows and drops; owns the scan use case (see issue: stations)."""
