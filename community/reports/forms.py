"""Report forms (Flask-WTF, CSRF on all): the phone report, the handling with its
after-photo, the reopening, a city's deadlines. The field rules are the input models'
(`reports.schemas`); the photos are checked by the services (`community.images`)."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from community.reports.rules import DEFAULT_HOURS
from community.reports.schemas import (
    KIND_LABELS,
    SAY_WHERE,
    DeadlinesIn,
    HandleIn,
    ReopenIn,
    ReportIn,
    where_missing,
)
from community.reports.services import PhotoRequired
from community.web.forms import ModelForm

ELSEWHERE = "elsewhere"


def photo_given(field: Any) -> bool:
    """Whether a file was chosen in this file field (an empty part has no filename)."""
    return isinstance(field.data, FileStorage) and bool(field.data.filename)


def _add_error(field: Any, words: Any) -> None:
    if words not in field.errors:
        field.errors = [*field.errors, words]


def _check_photo(form: Any, ok: bool) -> bool:
    """The photo is required: say so with the other fields' errors, not on a second submit
    (the service checks it again for every other caller)."""
    if not photo_given(form.photo):
        _add_error(form.photo, PhotoRequired.message)
        return False
    return ok


def _kinds() -> list[tuple[str, Any]]:
    return [("", _l("Choose…")), *KIND_LABELS.items()]


class ReportForm(ModelForm[ReportIn]):
    """A report from a phone (rules: `ReportIn`); the page fills the station choices."""

    model = ReportIn

    community_id = HiddenField()
    station_id = SelectField(_l("Where"), choices=[], validate_choice=False)
    place = StringField(_l("Where exactly (if not at a station)"))
    kind = SelectField(_l("What is the problem?"), choices=_kinds, validate_choice=False)
    photo = FileField(_l("Photo"))
    note = TextAreaField(_l("Note (optional)"))
    keep_location = BooleanField(_l("Share the photo's location with the handler"))

    def model_data(self) -> dict[str, Any]:
        """The fields as `ReportIn` takes them ("somewhere else": no station)."""
        station = self.station_id.data or ""
        community = self.community_id.data or ""
        return {"community_id": int(community) if str(community).isdigit() else None,
                "station_id": int(station) if str(station).isdigit() else None,
                "place": self.place.data or "", "kind": self.kind.data or None,
                "note": self.note.data or "", "keep_location": bool(self.keep_location.data)}

    def validate(self, extra_validators: Any = None) -> bool:
        """The model's rules, and every other error at once: the model stops before its
        where-rule when a field failed, and the photo is not one of its fields."""
        ok = super().validate(extra_validators)
        station = self.station_id.data or ""
        if not ok and not self.place.errors and where_missing(
                int(station) if str(station).isdigit() else None, self.place.data or ""):
            _add_error(self.place, SAY_WHERE)
        return _check_photo(self, ok)


class HandleForm(ModelForm[HandleIn]):
    """What the handler did, with the after-photo (rules: `HandleIn`)."""

    model = HandleIn

    note = TextAreaField(_l("What was done"))
    photo = FileField(_l("Photo after the fix"))

    def validate(self, extra_validators: Any = None) -> bool:
        """The note's rule and the after-photo's together (both errors show at once)."""
        return _check_photo(self, super().validate(extra_validators))


class ReopenForm(ModelForm[ReopenIn]):
    """Why the problem is not fixed (rules: `ReopenIn`)."""

    model = ReopenIn

    reason = StringField(_l("Why is it not fixed?"))


class DeadlinesForm(ModelForm[DeadlinesIn]):
    """A city's deadlines in hours per kind (rules: `DeadlinesIn`)."""

    model = DeadlinesIn

    overflow = IntegerField(KIND_LABELS["overflow"], validators=[Optional()])
    dumping = IntegerField(KIND_LABELS["dumping"], validators=[Optional()])
    broken = IntegerField(KIND_LABELS["broken"], validators=[Optional()])
    missed_pickup = IntegerField(KIND_LABELS["missed_pickup"], validators=[Optional()])
    odour = IntegerField(KIND_LABELS["odour"], validators=[Optional()])
    no_offhours_point = IntegerField(KIND_LABELS["no_offhours_point"], validators=[Optional()])
    mixed_collection = IntegerField(KIND_LABELS["mixed_collection"], validators=[Optional()])
    other = IntegerField(KIND_LABELS["other"], validators=[Optional()])

    def fill(self, hours: dict[str, Any]) -> None:
        """Show the hours in force (defaults where the city set none)."""
        for kind, default in DEFAULT_HOURS.items():
            getattr(self, kind).data = hours.get(kind, default)
