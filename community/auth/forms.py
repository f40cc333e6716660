"""Login and account forms (Flask-WTF: CSRF on every form)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional


class LoginForm(FlaskForm):
    """Phone number or username, and password."""

    login = StringField(_l("Phone number or username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])


class AccountForm(FlaskForm):
    """A manager or admin creates an account and gives it a role in their scope."""

    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    username = StringField(_l("Username"), validators=[Optional(), Length(min=3, max=64)])
    phone = StringField(_l("Phone number"), validators=[Optional(), Length(max=20)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=128)])
    role = SelectField(_l("Role"), choices=[])
    area_id = SelectField(_l("Area"), coerce=int, choices=[])


class GrantForm(FlaskForm):
    """Give an existing account another role."""

    role = SelectField(_l("Role"), choices=[])
    area_id = SelectField(_l("Area"), coerce=int, choices=[])
