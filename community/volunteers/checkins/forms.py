"""Forms of the check-in, station code, supervision log and no-show pages.

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
from community.volunteers.schemas import INCIDENT_LABELS, Incident
from community.web.forms import ModelForm


def _count(label: Any) -> IntegerField:
    # Optional(): an empty box is no number (LogIn reads it as 0), not one WTForms can't read.
    return IntegerField(label, validators=[Optional()])


class SupervisionLogForm(ModelForm[LogIn]):
    """A steward's log of one shift (rules: `LogIn`)."""

    model = LogIn

    residents_guided = _count(_l("Residents guided"))
    drops_corrected = _count(_l("Drops corrected"))
    incident_late_drop = _count(INCIDENT_LABELS[Incident.LATE_DROP])
    incident_dumping = _count(INCIDENT_LABELS[Incident.DUMPING])
    incident_full_bin = _count(INCIDENT_LABELS[Incident.FULL_BIN])
    incident_broken_station = _count(INCIDENT_LABELS[Incident.BROKEN_STATION])
    incident_other = _count(INCIDENT_LABELS[Incident.OTHER])
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
