"""The residents module's input models: the one place the rules of a link request live."""
from __future__ import annotations

from typing import Annotated

from flask_babel import lazy_gettext as _l
from pydantic import StringConstraints

from community.schemas import InputModel, Say

ENTER_CODE = _l("Enter the code printed under the QR code.")


class LinkIn(InputModel):
    """The card's short code and link code, as a resident types them.

    Whether the link code is needed depends on the community's mode, which only the card
    tells: the service checks that.
    """

    short_code: Annotated[str, StringConstraints(min_length=1, max_length=20), Say(
        by_type={"missing": ENTER_CODE, "string_too_short": ENTER_CODE})]
    link_code: Annotated[str, StringConstraints(max_length=12)] = ""
