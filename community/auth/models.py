"""Accounts and role grants. An account may hold several roles, each bound to one area."""
from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from community import clock
from community.auth.schemas import Role
from community.types import UTCDateTime

ROLES = tuple(x.value for x in Role)  # the codes of schemas.Role


class Account(SQLModel, table=True):
    """A person who logs in, by username or phone number."""

    __tablename__ = "account"

    id: int | None = Field(default=None, primary_key=True)
    username: str | None = Field(default=None, max_length=64, unique=True)
    phone: str | None = Field(default=None, max_length=20, unique=True)
    display_name: str = Field(max_length=80)
    password_hash: str = Field(max_length=255)
    locale: str | None = Field(default=None, max_length=8)
    active: bool = Field(default=True)
    # Bumped to end every session of the account (logout, password change or reset,
    # disabling, removal from a household): a session carries the value it logged in with.
    session_generation: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Set when an admin chose the password: the owner must replace it before anything else.
    password_must_change: bool = Field(default=False,
                                       sa_column_kwargs={"server_default": sa.false()})
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())

    # The Flask-Login user protocol, written out so models need no web framework.
    is_authenticated: ClassVar[bool] = True
    is_anonymous: ClassVar[bool] = False

    @property
    def is_active(self) -> bool:
        """Flask-Login: disabled accounts cannot log in or stay logged in."""
        return self.active

    def get_id(self) -> str:
        """Flask-Login: the id stored in the session cookie."""
        return str(self.id)


class RoleGrant(SQLModel, table=True):
    """One role of an account inside one area of the tree (its scope)."""

    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("account_id", "role", "area_id", name="uq_role_grant"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    role: str = Field(max_length=20)
    area_id: int = Field(foreign_key="area.id", index=True)
    granted_by: int | None = Field(default=None, foreign_key="account.id")
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
