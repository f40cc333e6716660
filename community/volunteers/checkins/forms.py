"""Forms and labels of the check-in, station code, supervision log and no-show pages.

The log form reads the posted text; its field rules (whole numbers, 0 or more, a short note)
are `schemas.LogIn`'s, in the user's language; `services.save_log` decides the rest (whose
log it is, whether it is still open, the photos).
"""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import IntegerField, SelectMultipleField, TextAreaField
from wtforms.validators import Optional

from community.volunteers.checkins.schemas import LogIn
from community.web.forms import ModelForm

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

def _count(label: Any) -> IntegerField:
    # Optional(): an empty box is no number (LogIn reads it as 0), not one WTForms can't read.
    return IntegerField(label, validators=[Optional()])


class SupervisionLogForm(ModelForm[LogIn]):
    """A steward's log of one shift (rules: `LogIn`)."""

    model = LogIn

    residents_guided = _count(_l("Residents guided"))
    drops_corrected = _count(_l("Drops corrected"))
    incident_late_drop = _count(INCIDENT_LABELS["late_drop"])
    incident_dumping = _count(INCIDENT_LABELS["dumping"])
    incident_full_bin = _count(INCIDENT_LABELS["full_bin"])
    incident_broken_station = _count(INCIDENT_LABELS["broken_station"])
    incident_other = _count(INCIDENT_LABELS["other"])
    note = TextAreaField(_l("Note"))
    photos = MultipleFileField(_l("Add photos (JPEG, PNG or WebP, up to 5 MB in all)"))
    # The page's own "remove" checkboxes (one per stored photo); not rendered by WTForms.
    remove_photos = SelectMultipleField(choices=[], validate_choice=False)

    def incident_fields(self) -> list:
        """The incident count fields, in the order of `models.INCIDENTS`."""
        return [getattr(self, f"incident_{code}") for code in INCIDENT_LABELS]

    def model_data(self) -> dict[str, Any]:
        """The fields as LogIn takes them (a note left out of the post is empty)."""
        return super().model_data() | {"note": self.note.data or "",
                                       "remove_photos": self.remove_photos.data or []}
