"""Dirty days: which (community, local day) derived numbers are stale, and why.

Every write that changes a number derived per day (a drop stored, a regrade, a household
moving in or out, a check-in or check-out, a schedule version) marks its community's local
day dirty in the same transaction. The ratings refresh rebuilds exactly those days, however
old, re-rates the months they fall in, and explains any changed level by the counts here.
It sits below every writer (stations, households, volunteers) and is read by ratings.
"""
