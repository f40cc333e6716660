"""The phone sign-in forms (Flask-WTF: CSRF on each); their rules are `PhoneIn` and `CodeIn`.

The phone box is `type=tel` with the digit keyboard; the code box asks the phone to offer the
code from the incoming text message (`autocomplete="one-time-code"`).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TelField

from community.auth.phone.schemas import CodeIn, PhoneIn
from community.web.forms import ModelForm


class PhoneForm(ModelForm[PhoneIn]):
    """Step 1: the mobile number."""

    model = PhoneIn

    phone = TelField(_l("Mobile number"), render_kw={
        "inputmode": "numeric", "autocomplete": "tel-national", "maxlength": 20,
        "placeholder": "138 0013 8000"})


class CodeForm(ModelForm[CodeIn]):
    """Step 2: the code, and a name used only when the number has no account yet."""

    model = CodeIn

    code = StringField(_l("Verification code"), render_kw={
        "inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 7,
        "pattern": "[0-9 ]*"})
    display_name = StringField(_l("Your name (only for a new account, optional)"), render_kw={
        "autocomplete": "name", "maxlength": 80})
    remember = BooleanField(_l("Keep me logged in on this phone (residents, 30 days)"))


class ResendForm(FlaskForm):
    """The "send a new code" button of step 2 (CSRF only: the number is the session's)."""
