"""The audit log: who did what, when, in which area, for security- and points-relevant actions."""
