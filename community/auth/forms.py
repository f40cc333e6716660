"""Login and account forms (Flask-WTF: CSRF on every form); their rules are the input models'.

Role and area choices are filled per request from what the actor may grant; the service,
not the form, decides whether a submitted (role, area) pair is allowed.
"""
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField, StringField, TelField

from community.auth.schemas import AccountGrantIn, GrantIn, LoginIn, PasswordChangeIn, PasswordIn
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
    remember = BooleanField(_l("Keep me logged in on this phone (residents)"))


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


class _LoginNamesMixin:
    """The account's login names, handed to the model so a password cannot be built on them
    (set by the view: `form.login_names = (account.username, account.phone)`)."""

    login_names: tuple[str | None, ...] = ()

    def _with_names(self, data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "login_names": tuple(n for n in self.login_names if n)}


class PasswordResetForm(_LoginNamesMixin, ModelForm[PasswordIn]):
    """An admin sets a new password for an account in their scope."""

    model = PasswordIn

    password = PasswordField(_l("New password"))

    def model_data(self) -> dict[str, Any]:
        """The typed password and the account's login names."""
        return self._with_names(super().model_data())


class PasswordChangeForm(_LoginNamesMixin, ModelForm[PasswordChangeIn]):
    """A user changes their own password (rules: `PasswordChangeIn`)."""

    model = PasswordChangeIn

    current_password = PasswordField(_l("Current password"))
    new_password = PasswordField(_l("New password"))
    confirm_password = PasswordField(_l("New password, again"))

    # Whether the account has a password to confirm (set by the view; SMS sign-ups have none).
    has_password: bool = True

    def model_data(self) -> dict[str, Any]:
        """The typed passwords, the account's login names and whether it has a password."""
        data = self._with_names(super().model_data())
        if not self.has_password:
            data["current_password"] = None
        return {**data, "has_password": self.has_password}
