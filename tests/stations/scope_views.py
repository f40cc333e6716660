"""Scope cases for the stations module (views endpoints); see tests/scope.py."""
