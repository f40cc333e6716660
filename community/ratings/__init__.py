"""Metrics (pure), daily rollups of drops and steward coverage, rating policies (versioned per
area), monthly star/compliant ratings that explain themselves, and monthly tonnage entries."""
