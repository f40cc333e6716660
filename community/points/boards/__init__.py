"""Honour boards (红榜): households, buildings and communities ranked by the points they
earned from sorting in one local month, read from the ledger without names."""
