"""Drop stations, fixed-time windows and drops; owns the scan use case (see issue: stations).

The scan path is at this level (services, api, the steward's page in views); the managers'
pages, with their own services and queries, are the `manage` sub-package.
"""
