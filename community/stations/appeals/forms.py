"""Appeal forms: the household's note; the decider's outcome (the button pressed) and reason."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField

from community.stations.appeals.schemas import AppealDecisionIn, AppealIn
from community.web.forms import ModelForm


class AppealForm(ModelForm[AppealIn]):
    """Why the household thinks the verdict is wrong (rules: `AppealIn`)."""

    model = AppealIn

    note = TextAreaField(_l("Why is the verdict wrong?"))


class DecisionForm(ModelForm[AppealDecisionIn]):
    """Uphold or regrade (the two buttons post `outcome`), with the reason the household is
    told (rules: `AppealDecisionIn`)."""

    model = AppealDecisionIn

    outcome = StringField(_l("Decision"))
    reason = StringField(_l("Reason (the household is told it)"))
