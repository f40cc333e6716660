"""The human texts the schemas give the OpenAPI document (the pydantic models' docstrings
and their fields' descriptions, in each module's `schemas`), marked here so the catalog holds
them: the docs page shows them in the reader's language (`openapi.outline`). A test checks that
every text the page shows has a Chinese translation, so a schema text changed there is added
here too.
"""
from __future__ import annotations

from community.stations.openapi import _

SCHEMA_TEXTS = (
    _('A batch of drops, stored in one request and one transaction.'),
    _('An item of a batch that was refused; nothing of it was stored.'),
    _('Field name → message, for each field at fault (left out when none).'),
    _('An item of a batch that is stored (or was stored before: `drop.replay`).'),
    _('One result per item, in the order sent, and the counts.'),
    _("A phone's queued pickups; each item is validated on its own."),
    _('Each item is a CollectionIn, validated on its own: a refused item gets its error in '
      'the results and the others are stored.'),
    _('One result per item, in order.'),
    _('Why one item was refused (`error` is a stable code).'),
    _("One pickup at a station, as a collector's phone sends it."),
    _("The token of the station's collection QR."),
    _('ISO 8601 with a time-zone offset, years 2000–2100.'),
    _('A stored (or replayed) pickup.'),
    _("A CSRF token for the X-CSRFToken header of a session caller's POSTs."),
    _("One drop as a steward's phone or a device sends it."),
    _('A scanned card token or a typed short code; absent for an anonymous tally.'),
    _("Why the drop is incorrect: a code of the community's mis-drop reasons (required with"
      ' quality "incorrect", refused with any other; the reason "other" needs a note).'),
    _('What the client learns about a stored (or replayed) drop.'),
    _('True when the client id was stored before: this is that drop, stored and scored once.'),
    _('In UTC.'),
    _('True when the same household dropped the same category within the duplicate window: '
      'stored and counted, but it scores nothing (no second award).'),
    _("Any error: a stable code, a message in the caller's language, the fields at fault."),
    _('A stable code.'),
    _("In the caller's language (Chinese by default)."),
    _('A date with special hours, or closed (no ranges).'),
    _('One category of a pickup.'),
    _('The contamination photo as a data: URL (base64).'),
    _('A photo upload (a multipart form).'),
    _('A JPEG, PNG or WebP image.'),
    _('A photo was stored for the drop.'),
    _('A station as a steward or device needs it to pick one.'),
    _('A station with its windows, its near exceptions and where it stands right now.'),
    _('Weekly ranges (weekday 0 = Monday, local time); an end not after the start runs past'
      ' midnight.'),
    _('Dates of the next 14 days with special hours, or closed.'),
    _("The station a collection code names (inside the collector's area)."),
    _('The stations the caller may record at.'),
    _('Special hours on one date, local time.'),
    _('A voided (undone) drop: kept, marked void, its points reversed.'),
    _("The change of the household's balance by this void (0 when voided before, or it "
      'scored nothing).'),
    _('True when the drop was voided before: nothing changed now.'),
    _('A weekly range of a station.'),
)
