"""Scope cases for the stations module (steward endpoints); see tests/scope.py."""
