"""Form helpers shared by every page: the model-backed form and errors onto fields.

WTForms renders fields, CSRF-protects the form and turns the posted text into Python values
(an IntegerField's "abc" is its own error); the field RULES live in the form's input model
(`community.schemas.InputModel`), which `ModelForm.validate` runs on the parsed values.
"""
from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar, cast

from flask_babel import gettext as _
from flask_wtf import FlaskForm

from community.errors import Conflict, DomainError, InvalidInput
from community.schemas import InputModel

T = TypeVar("T")
M = TypeVar("M", bound=InputModel)


def required(data: T | None) -> T:
    """A field's data once the form has validated, when a required validator (DataRequired,
    InputRequired or the form's own check) has made sure there is one; WTForms types every
    field's data as optional."""
    return cast(T, data)


def errors_onto_form(form: Any, exc: DomainError, *, default: Any = None,
                     text: str | None = None, conflict: str | None = None,
                     own_words: bool = False) -> bool:
    """Put a service's refusal next to the form field it names (or on `default`).

    The one place a view turns a `DomainError` into a form error; False (nothing shown)
    when the refusal names no field of the form and there is no `default`, so the caller
    can flash it instead. The words: `text` when given; for a Conflict with `conflict`,
    that text on `default`; for a plain InvalidInput a generic "not valid" (or, with
    `own_words`, the service's own message when it gave one); otherwise the refusal's own
    message (e.g. "The balance is too small"). The hook rolls the request back on the
    error response the view then returns.
    """
    fields = exc.details.get("fields")
    if isinstance(fields, dict) and text is None:  # an input model's errors, already worded
        shown = [name for name, words in fields.items() if _show(form, name, words)]
        if shown or default is None:
            return bool(shown)
        target, text = default, next(iter(fields.values()))
    elif isinstance(exc, Conflict) and conflict and text is None:
        target, text = default, conflict
    else:
        target = getattr(form, str(exc.details.get("field", "")), None) or default
    if target is None:
        return False
    if text is None:
        generic = type(exc) is InvalidInput and not (
            own_words and exc.message is not type(exc).message)
        text = _("This value is not valid.") if generic else str(exc.message)
    target.errors = [*target.errors, text]
    return True


def _show(form: Any, name: str, words: str) -> bool:
    target = getattr(form, name.split(".")[0], None)
    if target is None or not hasattr(target, "errors"):
        return False
    errors = target.errors if isinstance(target.errors, list) else []
    target.errors = [*errors, words]
    return True


class ModelForm(FlaskForm, Generic[M]):
    """A form whose field rules live in `model`; after `validate()`, `parsed` is the model.

    Field names match the model's; a form whose fields differ overrides `model_data()`.
    Fields the model requires get the `required` flag (the macros render it as the HTML
    attribute), so the browser's hint and the server's rule come from one place.
    """

    model: ClassVar[type[InputModel]]
    parsed: M

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, info in self.model.model_fields.items():
            bound = self._fields.get(name)
            if bound is not None and info.is_required():
                bound.flags.required = True

    def model_data(self) -> dict[str, Any]:
        """The parsed field values the model validates (by default: the fields it names)."""
        return {name: self._fields[name].data for name in self.model.model_fields
                if name in self._fields}

    def validate(self, extra_validators: Any = None) -> bool:
        """CSRF and WTForms' type parsing, then the model's rules onto the fields."""
        if not super().validate(extra_validators):
            return False
        try:
            self.parsed = cast(M, self.model.parse(self.model_data()))
        except InvalidInput as exc:
            fields = [f for name, f in self._fields.items() if name != "csrf_token"]
            errors_onto_form(self, exc, default=fields[0] if fields else None)
            return False
        return True
