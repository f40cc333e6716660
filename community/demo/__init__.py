"""The demo city: 苏州市 with two districts, four streets, eight communities, ~3,000 households.

`build(session, seed=..., echo=..., days=60)` is the one entry point: it runs a list of small
steps (`STEPS`) over one `Demo` context (`context.py`). The steps live in their own modules:
`city` (areas, accounts, households and cards, stations and windows), `drops` (2–3 stations'
`days` days of drops, ending yesterday, and today's up to the build, with realistic patterns,
bulk-inserted with SQLAlchemy Core, and the points ledgers that follow them), `rewards`
(catalogs and redemptions), `volunteers` (stewards, shifts, check-ins, hours) and `ratings`
(rollups and monthly ratings).
Imports flow one way: this module → the steps → `context`.

Every step finds what already exists by natural keys (area name under its parent,
username or phone, household address) and adds only what is missing, so a second
run changes nothing. Layout and people are drawn from `random.Random(seed)`; card
secrets still come from `secrets` (`community.households.codes`).

It runs from the CLI (`flask --app wsgi demo`), so it commits: once per community
for the bulk household and drop steps, and once at the end.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from community.demo import (
    appeals,
    casework,
    city,
    collection,
    drops,
    jobs,
    ratings,
    reports,
    rewards,
    volunteers,
)
from community.demo.context import HOUSEHOLDS_PER_COMMUNITY, Demo, Step, format_logins

__all__ = ["SIGNUP_HELP", "STEPS", "build", "signup_help"]

# How a resident signs up in the demo (printed after the logins, and by `make run` with the
# address it serves on): the development SMS provider writes each code to the server log and,
# with SMS_DEV_PAGE=1 (set by `make run`), shows it at /auth/dev-sms.
def signup_help(base_url: str | None = None) -> str:
    """The sign-up help, with full addresses on `base_url` (the server actually started, e.g.
    http://127.0.0.1:8000) or, when no server is known (`flask demo` serves nothing), with
    paths on whatever address the server runs at: never a guessed port."""
    base = (base_url or "").rstrip("/")
    where = "" if base else " (on the demo server's address)"
    return (f"居民注册 Residents sign up: open {base}/login/phone{where} (用手机号登录/注册), "
            "enter any mobile number (e.g. 139 0000 0001), then the 6-digit code. No SMS is "
            f"sent: the code appears in the server log and at {base}/auth/dev-sms "
            "(SMS_PROVIDER=dev, SMS_DEV_PAGE=1).")


SIGNUP_HELP = signup_help()  # no server known: paths only


# Stewards come before the drops (they record them); rotas after the ledgers (a steward's
# points account would make `drops.add_points` think a community had been scored); ratings
# last (they read every step before).
STEPS: list[Step] = [city.add_areas, city.add_households, city.add_accounts, city.add_stations,
                     volunteers.add_stewards, drops.add_drops, drops.add_points,
                     casework.add_casework, appeals.add_appeals, reports.add_reports,
                     rewards.add_rewards, volunteers.add_rotas, collection.add_collection,
                     ratings.add_ratings, jobs.add_job_history]


def build(session: Session, *, seed: int, echo: Callable[[str], Any] = print,
          days: int = 60, households: tuple[int, int] = HOUSEHOLDS_PER_COMMUNITY) -> None:
    """Create (or complete) the demo city and print its logins; a second run changes nothing.
    `households`: how many per community (drawn between the two; tests build a smaller city).

    Commits on `session` as it goes (the bulk steps once per community) and at the end."""
    demo = Demo(session=session, seed=seed, echo=echo, rng=random.Random(seed), days=days,
                households=households)
    for step in STEPS:
        step(demo)
    session.commit()
    if demo.created:
        echo(f"Demo city built: {demo.created} rows added (seed {seed}).")
    else:
        echo("The demo city already exists; nothing was changed.")
    echo(format_logins(demo.logins))
    echo(SIGNUP_HELP)
