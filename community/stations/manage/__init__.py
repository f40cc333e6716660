"""The managers' side of stations: station, window, exception and device pages, the drop
list, its drill-in and exports (station chiefs read and regrade their community's drops).

A sub-package with the module's rooms (services.py writes, queries.py reads, views.py pages)
because these use cases would have pushed `stations/services.py`, which holds THE scan use
case (`record_drops`), device tokens and regrading, past 800 lines. The scan path stays at
the top level (`stations.services`, `stations.api`, the steward's page in `stations.views`);
the pure schedule rules (overlaps included) are in `stations.windows`.
"""
