"""Volunteer stewards (督导员), station chiefs, shifts, check-ins, supervision logs and hours."""
