"""Small helpers shared by the resident tests."""
from __future__ import annotations

import io

import zxingcpp
from flask.testing import FlaskClient
from PIL import Image
from sqlmodel import Session, select

from community.auth import policy
from community.households import services as households_services
from community.households.models import HouseholdMember
from community.residents import services as residents_services
from community.residents.schemas import JoinCodeIn, LinkIn


def slip_code(session: Session, household_id: int) -> str:
    """A fresh join code for a household, printed by a manager of its community (not committed)."""
    area = households_services.household_area(
        session, households_services.get_household(session, household_id))
    manager = policy.Actor(None, [policy.Grant("manager", area.id, area.path)])
    [slip] = residents_services.issue_join_slips(session, actor=manager, community_id=area.id,
                                                 household_ids=[household_id])
    return slip.code


def link(session: Session, account_id: int, card, *, with_code: bool = True):
    """Join the card's household through the services and commit: with a join slip's code by
    default, else as a request waiting for the manager."""
    if with_code:
        outcome = residents_services.redeem_join_code(
            session, account_id=account_id,
            data=JoinCodeIn.parse(code=slip_code(session, card.household_id)))
    else:
        outcome = residents_services.request_join(
            session, account_id=account_id, data=LinkIn.parse(short_code=card.short_code))
    session.commit()
    return outcome


def members(session: Session, household_id: int) -> list[HouseholdMember]:
    """Fresh rows of a household's members."""
    # populate_existing, not expire_all: expiring would make every World object reload later
    # (and so open a new write-locking transaction on SQLite).
    rows = list(session.exec(select(HouseholdMember).where(
        HouseholdMember.household_id == household_id).order_by(HouseholdMember.id)
        .execution_options(populate_existing=True)))
    done(session)
    return rows


def done(session: Session) -> None:
    """End the test session's read transaction: on SQLite every transaction starts with
    BEGIN IMMEDIATE, so an open one would block the app's next write for the busy timeout."""
    session.commit()


def decode_png(body: bytes) -> list[str]:
    """Every QR text in a PNG."""
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(body)))]


def to_english(client: FlaskClient, next_url: str = "/me/") -> None:
    """Switch the client's interface language to English."""
    client.post("/lang", data={"lang": "en", "next": next_url})
