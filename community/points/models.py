"""Points tables: accounts with a never-negative balance, append-only entries, rule sets,
the rewards catalog and redemptions.

`ledger_entry` is append-only: no service updates or deletes a row. A correction is a new
`reversal` entry naming the entry it reverses (unique: an entry is reversed at most once);
UNIQUE (community_id, source, kind, local_date) makes a double credit impossible even under
concurrent retries.

On PostgreSQL `ledger_entry` is partitioned by month of `local_date` (`community.partitions`,
migration b7d3f19a0c62), so its unique keys carry `local_date` on both backends. That keeps
them whole: an entry of a drop is dated by the drop's (or the bonus's) day, a reversal by
the reversed entry's day, so a retry lands on the same key; the entries dated by the day
they are written (redemptions, refunds, adjustments, hours, case refunds, expiry) are
written under the lock of their account or of their own row after the service has read
what was already written. Its primary key there is (id, local_date) and the self-reference
`reverses_id` has no foreign key (SQLite keeps it): a reversal is appended by the
recomputation that has just read the entry it reverses, in the same transaction.

A drop's own earn is its row (`drop_record.points`, see `points.facts`): the ledger holds
no row per drop, only what changes afterwards and the entries that are no drop's.

Every table here that grows with the drops (accounts, entries) carries the
`community_id` of its account, and every unique key includes it: the community is the
distribution column of a sharded deployment (README "Sharding"), so no write or read of the
scan path needs another community's rows.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from community import clock
from community.points.schemas import ItemStatus, LedgerKind, RedemptionStatus
from community.types import UTCDateTime

# The codes of the enums in `schemas` (the CHECK constraints spell them out; the tests keep
# the two equal).
KINDS = tuple(x.value for x in LedgerKind)
OWNER_TYPES = ("household", "steward")
# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigId = BigInteger().with_variant(Integer, "sqlite")


class PointsAccount(SQLModel, table=True):
    """The points account of one household or one steward (积分银行); balance >= 0."""

    __tablename__ = "points_account"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="ck_points_account_balance"),
        CheckConstraint(
            "(owner_type = 'household' AND household_id IS NOT NULL AND steward_id IS NULL) OR "
            "(owner_type = 'steward' AND steward_id IS NOT NULL AND household_id IS NULL)",
            name="ck_points_account_owner"),
        UniqueConstraint("community_id", "household_id", name="uq_points_account_household"),
        UniqueConstraint("community_id", "steward_id", name="uq_points_account_steward"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="area.id", index=True)
    owner_type: str = Field(default="household", max_length=12)
    household_id: int | None = Field(default=None, foreign_key="household.id")
    steward_id: int | None = Field(default=None, foreign_key="steward.id")
    balance: int = Field(default=0)
    # The household's latest run of consecutive correct days (first and last local day;
    # both NULL before its first correct day): the scoring state an award reads with the
    # lock instead of walking the household's history back, kept by every recomputation
    # in the same transaction as the entries (`flask points verify` checks it).
    run_first: date | None = None
    run_last: date | None = None


class LedgerEntry(SQLModel, table=True):
    """One append-only change of an account's points."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        # Both keys hold the partition column (see the module docstring): an entry's local
        # day is a function of its source, and a reversal takes the reversed entry's day.
        UniqueConstraint("community_id", "source", "kind", "local_date",
                         name="uq_ledger_entry_source_kind"),
        UniqueConstraint("community_id", "reverses_id", "local_date",
                         name="uq_ledger_entry_reverses"),
        Index("ix_ledger_entry_account_day", "account_id", "local_date"),
        CheckConstraint(
            "kind IN ('earn', 'bonus', 'penalty', 'strike', 'redeem', 'refund', 'reversal', "
            "'expire', 'adjust', 'carry')", name="ck_ledger_entry_kind"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId,
                           sa_column_kwargs={"autoincrement": True})
    # The account's community (the distribution column; see the module docstring).
    community_id: int = Field(foreign_key="area.id")
    account_id: int = Field(foreign_key="points_account.id")
    amount: int
    kind: str = Field(max_length=10)
    source: str = Field(max_length=64)
    rule_version: int | None = None
    actor_id: int | None = Field(default=None, foreign_key="account.id")
    reason: str = Field(default="", max_length=200)
    at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    local_date: date
    reverses_id: int | None = Field(default=None, foreign_key="ledger_entry.id", sa_type=BigId)
    # The drop an earn, strike or penalty is about (a bonus: the drop that completed its
    # block, the first drop of its last day that earns as correct, in device-time order;
    # a reversal: the reversed entry's). With `kind` it names the entry's subject, so a
    # recomputation can compare what the ledger holds with what the facts deserve.
    # (Bonuses appended before the penalty floor became a function of the facts name the
    # drop whose upload triggered them; a recomputation touching them moves them.)
    drop_id: int | None = Field(default=None, sa_type=BigId)


class LedgerKey(SQLModel, table=True):
    """A ledger write that must happen once, whatever day it runs: the idempotency key of
    entries dated by the day of their run, which the ledger's own unique keys (they hold
    the partition column, `local_date`) cannot make unique across days.

    Keys: "expire:<account>:<lot year>" (the yearly expiry), "carry:<account>:<year>" (a
    closed year carried forward) and "closed:<year>" (the community's books of that year
    are closed). Inserted ON CONFLICT DO NOTHING in the transaction that appends the
    entries: a second run, on whatever day, finds its key and writes nothing. A small
    plain table (a few rows per account a year), never partitioned.
    """

    __tablename__ = "ledger_key"

    community_id: int = Field(foreign_key="area.id", primary_key=True,
                              sa_column_kwargs={"autoincrement": False})
    key: str = Field(max_length=48, primary_key=True)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())


class PointsRuleSet(SQLModel, table=True):
    """One published version of a community's points rules (params: the RuleSet fields)."""

    __tablename__ = "points_rule_set"
    __table_args__ = (
        UniqueConstraint("community_id", "version", name="uq_points_rule_set_version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="area.id")
    version: int
    effective_from: date
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_by: int | None = Field(default=None, foreign_key="account.id")
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())


REWARD_STATUSES = tuple(x.value for x in ItemStatus)
REDEMPTION_STATUSES = tuple(x.value for x in RedemptionStatus)


class RewardItem(SQLModel, table=True):
    """One item of a community's rewards catalog; `stock` is what can still be reserved."""

    __tablename__ = "reward_item"
    __table_args__ = (
        CheckConstraint("cost > 0", name="ck_reward_item_cost"),
        CheckConstraint("stock >= 0", name="ck_reward_item_stock"),
        CheckConstraint("status IN ('active', 'retired')", name="ck_reward_item_status"),
        CheckConstraint("(household_limit IS NULL AND limit_period IS NULL) OR "
                        "(household_limit >= 1 AND limit_period IN ('month', 'quarter', 'year'))",
                        name="ck_reward_item_household_limit"),
        CheckConstraint("audience IN ('everyone', 'households', 'stewards')",
                        name="ck_reward_item_audience"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="area.id", index=True)
    name: str = Field(max_length=60)
    description: str = Field(default="", max_length=300)
    cost: int
    stock: int = Field(default=0)
    active_from: date | None = None
    active_until: date | None = None
    picture: str | None = Field(default=None, max_length=80)
    status: str = Field(default="active", max_length=10)
    # At most `household_limit` redemptions per household per local calendar `limit_period`
    # (month, quarter or year; both NULL: no limit), cancelled ones not counted. Checked in
    # the redemption's transaction under the household's account lock.
    household_limit: int | None = None
    limit_period: str | None = Field(default=None, max_length=8)
    # Whose points may buy it: households' and stewards' own (everyone), or only one of them
    # (a steward's wallet lists and redeems only "everyone" and "stewards" items).
    audience: str = Field(default="everyone", max_length=10,
                          sa_column_kwargs={"server_default": "everyone"})
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())


class Redemption(SQLModel, table=True):
    """A household's (or a steward's) claim on one reward: points taken and stock reserved
    until handed over.

    The ledger entries are `redeem` and (after a cancellation) `refund`, both with source
    "redemption:<id>", so a redemption is charged once and refunded at most once.
    """

    __tablename__ = "redemption"
    __table_args__ = (
        CheckConstraint("cost > 0", name="ck_redemption_cost"),
        CheckConstraint("status IN ('reserved', 'handed_over', 'cancelled')",
                        name="ck_redemption_status"),
        Index("ix_redemption_household", "household_id", "id"),
        Index("ix_redemption_steward", "steward_id", "id"),
        CheckConstraint("(household_id IS NULL) <> (steward_id IS NULL)",
                        name="ck_redemption_owner"),
        Index("ix_redemption_community_status", "community_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId,
                           sa_column_kwargs={"autoincrement": True})
    community_id: int = Field(foreign_key="area.id")
    reward_id: int = Field(foreign_key="reward_item.id", index=True)
    # Whose points paid: a household's, or a steward's own (积分银行); exactly one is set.
    household_id: int | None = Field(default=None, foreign_key="household.id")
    steward_id: int | None = Field(default=None, foreign_key="steward.id")
    account_id: int = Field(foreign_key="points_account.id")
    cost: int
    status: str = Field(default="reserved", max_length=12)
    # The secret the pickup QR carries; a steward or manager scans it to hand the item over.
    pickup_code: str = Field(max_length=32, unique=True)
    # The phone's request id: a double tap or a retried request redeems once.
    client_id: str | None = Field(default=None, max_length=40, unique=True)
    redeemed_by: int | None = Field(default=None, foreign_key="account.id")
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    handed_over_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    handed_over_by: int | None = Field(default=None, foreign_key="account.id")
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    cancelled_by: int | None = Field(default=None, foreign_key="account.id")
    cancel_reason: str = Field(default="", max_length=200)
