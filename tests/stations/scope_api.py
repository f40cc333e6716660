"""Scope cases for the stations module (api endpoints); see tests/scope.py."""
