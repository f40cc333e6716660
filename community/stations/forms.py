"""Forms of the manager's station, device and drop pages (Flask-WTF: CSRF on all).

The code labels (category, quality, source, status) live with their enums in `schemas.py`;
the weekday labels, which label no stored code but the schedule's fields, live here.
"""
from __future__ import annotations

import re
from datetime import time
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    FloatField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs: WTForms 3.2
from wtforms.validators import (
    InputRequired,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from community.stations.schemas import (
    CATEGORY_LABELS,
    QUALITY_LABELS,
    STATION_STATUS_LABELS,
    DeviceIn,
    ExceptionIn,
    ReasonTextsIn,
    RegradeIn,
    StationIn,
    WeekIn,
)
from community.web.forms import ModelForm

WEEKDAY_LABELS = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"),
                  _l("Saturday"), _l("Sunday"))

_SPLIT = re.compile(r"[,，;；、\s]+")
_RANGE = re.compile(r"^(\d{1,2}):(\d{2})\s*[-–—~～至]\s*(\d{1,2}):(\d{2})$")


def parse_ranges(text: str) -> list[tuple[time, time]]:
    """Parse '07:00-09:00, 18:00-20:00' into time pairs; raise ValueError on bad input.

    '24:00' is accepted as an end (midnight). An end not after the start runs past midnight.
    """
    out = []
    compact = re.sub(r"\s*([-–—~～至])\s*", r"\1", (text or "").strip())
    for part in _SPLIT.split(compact):
        if not part:
            continue
        m = _RANGE.match(part)
        if not m:
            raise ValueError(part)
        h1, m1, h2, m2 = (int(x) for x in m.groups())
        if h2 == 24 and m2 == 0:
            h2 = 0
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValueError(part)
        out.append((time(h1, m1), time(h2, m2)))
    return out


def format_ranges(ranges: list[tuple[time, time]]) -> str:
    """The editor's text for a weekday's ranges."""
    return ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in ranges)


def _ranges_valid(_form: Any, field: Any) -> None:
    try:
        parse_ranges(field.data or "")
    except ValueError as exc:
        raise ValidationError(_l("Write ranges like 07:00-09:00, 18:00-20:00 (not: %(part)s).",
                                 part=str(exc))) from None


def _time_or_none(text: str | None) -> time | None:
    """'7:30' as a time (None when empty; _time_valid has checked the shape)."""
    return time.fromisoformat(text.strip().zfill(5)) if text and text.strip() else None


def _time_valid(_form: Any, field: Any) -> None:
    if field.data and not re.match(r"^([01]?\d|2[0-3]):[0-5]\d$", field.data.strip()):
        raise ValidationError(_l("Write a time like 07:30."))


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes for a multiple choice."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class StationForm(ModelForm[StationIn]):
    """Name, place, bins, chief, status and grace of one station (rules: `StationIn`)."""

    model = StationIn

    name = StringField(_l("Station name"))
    location = StringField(_l("Location"))
    # Optional(): an empty box means "no value", not a number WTForms cannot read.
    latitude = FloatField(_l("Latitude"), validators=[Optional()])
    longitude = FloatField(_l("Longitude"), validators=[Optional()])
    categories = MultiCheckboxField(
        _l("Bins (accepted categories)"),
        choices=[SelectChoice(k, v) for k, v in CATEGORY_LABELS.items()], validate_choice=False)
    chief_id = SelectField(_l("Station chief"), coerce=int, choices=[], validate_choice=False)
    status = SelectField(_l("Status"), default="open", validate_choice=False,
                         choices=[SelectChoice(k, v) for k, v in STATION_STATUS_LABELS.items()])
    grace_minutes = IntegerField(_l("Grace minutes"), default=10, validators=[Optional()])

    def model_data(self) -> dict[str, Any]:
        """The fields as StationIn takes them (chief 0 is the "none" choice)."""
        return super().model_data() | {"chief_id": self.chief_id.data or None,
                                       "categories": self.categories.data or []}


class ScheduleForm(ModelForm[WeekIn]):
    """The weekly windows: one text field per weekday (empty: no window that day).

    The text is read into time ranges here (a typing matter); the rules are `WeekIn`'s.
    """

    model = WeekIn

    weekday_0 = StringField(WEEKDAY_LABELS[0], validators=[_ranges_valid])
    weekday_1 = StringField(WEEKDAY_LABELS[1], validators=[_ranges_valid])
    weekday_2 = StringField(WEEKDAY_LABELS[2], validators=[_ranges_valid])
    weekday_3 = StringField(WEEKDAY_LABELS[3], validators=[_ranges_valid])
    weekday_4 = StringField(WEEKDAY_LABELS[4], validators=[_ranges_valid])
    weekday_5 = StringField(WEEKDAY_LABELS[5], validators=[_ranges_valid])
    weekday_6 = StringField(WEEKDAY_LABELS[6], validators=[_ranges_valid])
    # Empty: from today (the community's local date); past days are refused by the service.
    effective_from = DateField(_l("In force from"), validators=[Optional()])

    def day_fields(self) -> list[Any]:
        """The seven weekday fields, Monday first."""
        return [getattr(self, f"weekday_{d}") for d in range(7)]

    def model_data(self) -> dict[str, Any]:
        """Each weekday's text as its list of (start, end) times, and the first day."""
        return {**{f"weekday_{d}": parse_ranges(f.data or "")
                   for d, f in enumerate(self.day_fields())},
                "effective_from": self.effective_from.data}


class ExceptionForm(ModelForm[ExceptionIn]):
    """One date exception: closed all day, or special hours (rules: `ExceptionIn`)."""

    model = ExceptionIn

    day = DateField(_l("Date"), validators=[InputRequired(_l("Please choose a date."))])
    kind = RadioField(_l("Kind"), default="closed", choices=[
        SelectChoice("closed", _l("Closed all day")), SelectChoice("special", _l("Special hours"))])
    start = StringField(_l("From"), validators=[Optional(), _time_valid])
    end = StringField(_l("Until"), validators=[Optional(), _time_valid])
    note = StringField(_l("Note"))

    def model_data(self) -> dict[str, Any]:
        """The day and note, and the times only for special hours."""
        special = self.kind.data == "special"
        return {"day": self.day.data, "note": self.note.data or "", "kind": self.kind.data,
                "start": _time_or_none(self.start.data) if special else None,
                "end": _time_or_none(self.end.data) if special else None}


class DeviceForm(ModelForm[DeviceIn]):
    """A new device: its name and (optionally) its station (rules: `DeviceIn`)."""

    model = DeviceIn

    name = StringField(_l("Device name"))
    station_id = SelectField(_l("Station"), coerce=int, choices=[], validate_choice=False)

    def model_data(self) -> dict[str, Any]:
        """The station choice 0 is "any station"."""
        return {"name": self.name.data or "", "station_id": self.station_id.data or None}


class RegradeForm(ModelForm[RegradeIn]):
    """A new quality for a drop and the reason (rules: `RegradeIn`)."""

    model = RegradeIn

    quality = SelectField(_l("New quality"), validate_choice=False,
                          choices=[SelectChoice(k, v) for k, v in QUALITY_LABELS.items()])
    # Asked with a regrade to incorrect (the view lists the community's active reasons).
    reason_code = SelectField(_l("Mis-drop reason"), validate_choice=False, choices=[])
    reason = StringField(_l("Reason"))

    def model_data(self) -> dict[str, Any]:
        """A reason left out of the post is an empty one; a mis-drop reason only goes with
        a regrade to incorrect."""
        code = (self.reason_code.data or None) if self.quality.data == "incorrect" else None
        return {"quality": self.quality.data, "reason": self.reason.data or "",
                "reason_code": code}


class ReasonTextsForm(ModelForm[ReasonTextsIn]):
    """A reason's labels and how-to texts (rules: `ReasonTextsIn`)."""

    model = ReasonTextsIn

    label_zh = StringField(_l("Label (Chinese)"))
    label_en = StringField(_l("Label (English)"))
    howto_zh = TextAreaField(_l("How to sort it right (Chinese)"))
    howto_en = TextAreaField(_l("How to sort it right (English)"))

    def model_data(self) -> dict[str, Any]:
        """Fields left out of the post are empty."""
        return {name: self._fields[name].data or "" for name in
                ("label_zh", "label_en", "howto_zh", "howto_en")}
