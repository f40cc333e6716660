"""Join forms (Flask-WTF: CSRF on every form); their rules live in the input models."""
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired

from community.areas.schemas import JoinRequestsIn
from community.residents.schemas import CloseAccountIn, JoinCodeIn, LinkIn, NoticesIn
from community.web.forms import ModelForm


class LinkForm(ModelForm[LinkIn]):
    """A request for the manager's approval, naming the household by its card's short code."""

    model = LinkIn

    short_code = StringField(_l("Card code"))


class JoinCodeForm(ModelForm[JoinCodeIn]):
    """The one-time join code from the household's join slip."""

    model = JoinCodeIn

    code = StringField(_l("Join code"))
    # The community a poster or link named (optional): another community's code is refused.
    community_id = HiddenField()

    def model_data(self) -> dict[str, Any]:
        """The code as typed; the community only when one was given."""
        community = (self.community_id.data or "").strip()
        return {"code": self.code.data or "",
                "community_id": int(community) if community.isdigit() else None}


class JoinRequestsForm(ModelForm[JoinRequestsIn]):
    """A manager chooses whether residents may ask for approval without invitation or slip."""

    model = JoinRequestsIn

    # Which community: the page's target, not an input rule (the service authorizes it).
    community_id = HiddenField(validators=[DataRequired()])
    join_requests = BooleanField(_l("Residents may ask me to approve them without an "
                                    "invitation or join slip"))

    def model_data(self) -> dict[str, Any]:
        """The checkbox as a boolean."""
        return {"join_requests": bool(self.join_requests.data)}


class CloseAccountForm(ModelForm[CloseAccountIn]):
    """Closing one's own account: a box to tick on purpose."""

    model = CloseAccountIn

    confirm = BooleanField(_l("I understand: I leave my households and this account is "
                              "closed for good"))

    def model_data(self) -> dict[str, Any]:
        """The box as a boolean (unticked: the model refuses it with its own words)."""
        return {"confirm": bool(self.confirm.data)}


class NoticesForm(ModelForm[NoticesIn]):
    """The resident's channels besides the inbox (rules: `NoticesIn`)."""

    model = NoticesIn

    sms = BooleanField(_l("Also send me a text message (SMS) for each new message, never "
                          "between 21:00 and 08:00"))
