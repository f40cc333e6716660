"""Tests of the shared HTTP glue (community/web): navigation, moved URLs."""
