"""Forms and labels of the check-in, station code, supervision log and no-show pages.

The log form checks what a steward can fix in the field (whole numbers, 0 or more, a short
note) and says so in the user's language; `services.save_log` checks again and has the
last word (whose log it is, whether it is still open, the photos).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import IntegerField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional

from community.volunteers.checkins import services

INCIDENT_LABELS = {
    "late_drop": _l("Out-of-window drops seen"),
    "dumping": _l("Dumping"),
    "full_bin": _l("Full bins"),
    "broken_station": _l("Broken station equipment"),
    "other": _l("Other incidents"),
}
ASSIGNMENT_STATUS_LABELS = {
    "signed_up": _l("Registered"),
    "cancelled": _l("Cancelled"),
    "no_show": _l("No-show"),
    "done": _l("Completed"),
}
METHOD_LABELS = {
    "code": _l("Station code"),
    "chief": _l("Confirmed by hand"),
    "auto": _l("Automatic at the end"),
}
HOURS_STATUS_LABELS = {"pending": _l("Hours pending approval"), "approved": _l("Hours approved")}

_WHOLE = _l("Enter a whole number, 0 or more.")


def _count(label, top: int = services.MAX_COUNT) -> IntegerField:
    return IntegerField(label, validators=[Optional(), NumberRange(min=0, max=top,
                                                                    message=_WHOLE)])


class SupervisionLogForm(FlaskForm):
    """A steward's log of one shift."""

    residents_guided = _count(_l("Residents guided"))
    drops_corrected = _count(_l("Drops corrected"))
    incident_late_drop = _count(INCIDENT_LABELS["late_drop"], 1000)
    incident_dumping = _count(INCIDENT_LABELS["dumping"], 1000)
    incident_full_bin = _count(INCIDENT_LABELS["full_bin"], 1000)
    incident_broken_station = _count(INCIDENT_LABELS["broken_station"], 1000)
    incident_other = _count(INCIDENT_LABELS["other"], 1000)
    note = TextAreaField(_l("Note"), validators=[Optional(),
                                                 Length(max=services.MAX_NOTE)])
    photos = MultipleFileField(_l("Add photos (JPEG, PNG or WebP, up to 5 MB in all)"))

    def incident_fields(self) -> list:
        """The incident count fields, in the order of `models.INCIDENTS`."""
        return [getattr(self, f"incident_{code}") for code in INCIDENT_LABELS]
