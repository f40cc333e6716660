"""Read-only dashboards composing several modules: the community manager's, the area's and the
city's (rankings, compliant coverage, tonnage rates, rating trends). They read rollups and
ratings, never a month of raw drops."""
