"""Tests of the managers' station pages, their services and queries (community/stations/manage)."""
