"""Login and account forms (Flask-WTF: CSRF on every form).

Validator messages are our own `_l()` strings so every error shows in the user's language.
Role and area choices are filled per request from what the actor may grant; the service,
not the form, decides whether a submitted (role, area) pair is allowed.
"""
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

REQUIRED = _l("This field is required.")
NAME_LENGTH = _l("At most 80 characters.")
PASSWORD_LENGTH = _l("Use 8 to 128 characters.")
USERNAME_LENGTH = _l("Use 3 to 64 characters.")


def _int_or_none(value: Any) -> int | None:
    """Coerce a select's value to int; garbage becomes None (caught as a field error)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class LoginForm(FlaskForm):
    """Phone number or username, and password."""

    login = StringField(_l("Phone number or username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])


class AccountForm(FlaskForm):
    """A manager or admin creates an account and gives it a role in their scope."""

    display_name = StringField(_l("Name"), validators=[
        DataRequired(REQUIRED), Length(max=80, message=NAME_LENGTH)])
    username = StringField(_l("Username"), validators=[
        Optional(), Length(min=3, max=64, message=USERNAME_LENGTH)])
    phone = StringField(_l("Phone number"), validators=[
        Optional(), Length(max=20, message=_l("Enter an 11-digit mobile number."))])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(REQUIRED), Length(min=8, max=128, message=PASSWORD_LENGTH)])
    role = SelectField(_l("Role"), choices=[], validate_choice=False,
                       validators=[DataRequired(REQUIRED)])
    area_id = SelectField(_l("Area"), coerce=_int_or_none, choices=[], validate_choice=False,
                          validators=[InputRequired(REQUIRED)])


class GrantForm(FlaskForm):
    """Give an existing account another role."""

    role = SelectField(_l("Role"), choices=[], validate_choice=False,
                       validators=[DataRequired(REQUIRED)])
    area_id = SelectField(_l("Area"), coerce=_int_or_none, choices=[], validate_choice=False,
                          validators=[InputRequired(REQUIRED)])


class PasswordResetForm(FlaskForm):
    """An admin sets a new password for an account in their scope."""

    password = PasswordField(_l("New password"), validators=[
        DataRequired(REQUIRED), Length(min=8, max=128, message=PASSWORD_LENGTH)])
