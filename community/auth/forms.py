"""Login and account forms (Flask-WTF: CSRF on every form); their rules are the input models'.

Role and area choices are filled per request from what the actor may grant; the service,
not the form, decides whether a submitted (role, area) pair is allowed.
"""
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField, StringField, TelField

from community.auth.schemas import AccountGrantIn, GrantIn, LoginIn, PasswordIn
from community.web.forms import ModelForm


def _int_or_none(value: Any) -> int | None:
    """Coerce a select's value to int; garbage becomes None (the model calls it missing)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class LoginForm(ModelForm[LoginIn]):
    """Phone number or username, and password (rules: `LoginIn`)."""

    model = LoginIn

    login = StringField(_l("Phone number or username"))
    password = PasswordField(_l("Password"))


class AccountForm(ModelForm[AccountGrantIn]):
    """A manager or admin creates an account and gives it a role in their scope."""

    model = AccountGrantIn

    display_name = StringField(_l("Name"))
    username = StringField(_l("Username"))
    phone = TelField(_l("Phone number"), render_kw={"inputmode": "numeric"})
    password = PasswordField(_l("Password"))
    role = SelectField(_l("Role"), choices=[], validate_choice=False)
    area_id = SelectField(_l("Area"), coerce=_int_or_none, choices=[], validate_choice=False)


class GrantForm(ModelForm[GrantIn]):
    """Give an existing account another role."""

    model = GrantIn

    role = SelectField(_l("Role"), choices=[], validate_choice=False)
    area_id = SelectField(_l("Area"), coerce=_int_or_none, choices=[], validate_choice=False)


class PasswordResetForm(ModelForm[PasswordIn]):
    """An admin sets a new password for an account in their scope."""

    model = PasswordIn

    password = PasswordField(_l("New password"))
