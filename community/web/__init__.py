"""Shared HTTP glue: error mapping, security headers, the current actor, pagination, filters."""
