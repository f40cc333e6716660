"""Accounts, roles bound to an area scope, login, and the one authorization policy."""
