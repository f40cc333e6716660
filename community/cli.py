"""Flask CLI commands: db (upgrade/check/revision/current), create-admin, demo, points verify,
points expire, points carry-forward."""
from __future__ import annotations

import getpass
from datetime import date, datetime, time
from typing import cast

import click
from alembic import command
from alembic.config import Config
from flask import Flask, current_app
from werkzeug.local import LocalProxy

from community.db import MIGRATIONS_DIR, get_engine, open_session


def alembic_config(url: str) -> Config:
    """Alembic config pointing at `migrations/` and the given database."""
    cfg = Config(str(MIGRATIONS_DIR.parent / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_database(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` to `revision`."""
    command.upgrade(alembic_config(url), revision)


def register(app: Flask) -> None:
    """Attach the command groups to the app."""

    @app.cli.group("db")
    def db_group() -> None:
        """Database migrations (Alembic)."""

    @db_group.command("upgrade")
    @click.argument("revision", default="head")
    def db_upgrade(revision: str) -> None:
        """Migrate the configured database to REVISION (default: head)."""
        upgrade_database(current_app.config["DATABASE_URL"], revision)

    @db_group.command("check")
    def db_check() -> None:
        """Fail when the models and the migrations disagree (run on a migrated database)."""
        command.check(alembic_config(current_app.config["DATABASE_URL"]))

    @db_group.command("revision")
    @click.option("-m", "--message", required=True)
    def db_revision(message: str) -> None:
        """Autogenerate a migration from the models."""
        command.revision(alembic_config(current_app.config["DATABASE_URL"]), message=message,
                         autogenerate=True)

    @db_group.command("current")
    def db_current() -> None:
        """Show the database's revision."""
        command.current(alembic_config(current_app.config["DATABASE_URL"]))

    @db_group.command("is-empty")
    def db_is_empty() -> None:
        """Exit 0 when the database has no accounts yet (used by `make run` to seed the demo)."""
        from sqlalchemy import text

        with get_engine().connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM account")).scalar_one()
        raise SystemExit(0 if count == 0 else 1)

    @app.cli.command("create-admin")
    @click.option("--username", required=True)
    @click.option("--name", "display_name", default=None)
    @click.option("--city", "city_name", default=None,
                  help="City to administer; created when no city exists yet.")
    @click.option("--password", default=None, help="Prompted for when omitted.")
    def create_admin(username: str, display_name: str | None, city_name: str | None,
                     password: str | None) -> None:
        """Create a city admin account (and the city, on an empty database)."""
        from sqlmodel import col, select

        from community.areas import services as area_services
        from community.areas.models import Area
        from community.areas.schemas import AreaIn
        from community.audit import services as audit
        from community.auth import services as auth_services
        from community.auth.schemas import AccountIn
        from community.errors import InvalidInput

        if password is None:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Repeat password: "):
                raise click.ClickException("Passwords differ.")
        with open_session() as session:
            stmt = select(Area).where(Area.level == "city")
            if city_name:
                stmt = stmt.where(Area.name == city_name)
            city = session.exec(stmt.order_by(col(Area.id))).first()
            if city is None:
                city = area_services.add_area(session, parent=None, level="city",
                                              data=AreaIn.parse(name=city_name or "苏州市"))
            try:
                account = auth_services.create_account(session, data=AccountIn.parse(
                    display_name=display_name or username, password=password,
                    username=username))
            except InvalidInput as exc:  # say which rule the name or password broke
                fields = exc.details.get("fields") or {}
                words = "; ".join(f"{name}: {text}" for name, text in fields.items())
                raise click.ClickException(
                    f"Cannot create account: {words or exc.message}") from exc
            except Exception as exc:  # noqa: BLE001 - report any other problem plainly
                raise click.ClickException(f"Cannot create account: {exc}") from exc
            auth_services.add_grant(session, account=account, role="city_admin", area=city)
            audit.record(session, actor_id=None, action="role.granted", area=city,
                         target_type="account", target_id=account.id, role="city_admin",
                         via="cli")
            session.commit()
        click.echo(f"City admin {username} created for {city.name}.")

    @app.cli.command("demo")
    @click.option("--seed", default=20261121, show_default=True)
    def demo(seed: int) -> None:
        """Build the demo city (idempotent: a second run changes nothing)."""
        from community import demo as demo_data

        with open_session() as session:
            demo_data.build(session, seed=seed, echo=click.echo)

    @app.cli.group("points")
    def points_group() -> None:
        """The points ledger."""

    @points_group.command("verify")
    def points_verify() -> None:
        """Recompute every balance from its entries and every account's streak state (its
        latest run of correct days) from its facts; exit 1 and list the drift when any."""

        from community.points import services as points_services

        with open_session(read_only=True) as session:
            drift = points_services.verify(session)
            runs = points_services.verify_runs(session)
            misdated = points_services.misdated_reversals(session)
        if not drift:
            click.echo("Points ledger OK: every balance equals the sum of its entries.")
        if not runs:
            click.echo("Streak state OK: every account's stored run matches its facts.")
        if not drift and not runs and not misdated:
            return
        for d in drift:
            click.echo(f"account {d.account_id} (household {d.household_id}): balance "
                       f"{d.balance}, entries sum {d.entries_sum}, drift "
                       f"{d.balance - d.entries_sum:+d}")

        def shown(run: tuple[date, date] | None) -> str:
            return f"{run[0].isoformat()}..{run[1].isoformat()}" if run else "none"

        for r in runs:
            click.echo(f"account {r.account_id} (household {r.household_id}): stored run "
                       f"{shown(r.stored)}, facts give {shown(r.facts)}")
        if drift:
            click.echo(f"{len(drift)} account(s) drifted.", err=True)
        if runs:
            click.echo(f"{len(runs)} account(s) with a wrong streak state.", err=True)
        if misdated:
            click.echo(f"{len(misdated)} reversal(s) dated before the entry they undo: "
                       f"{', '.join(map(str, misdated[:20]))}", err=True)
        raise SystemExit(1)

    @points_group.command("expire")
    @click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help="Run as on this local date, YYYY-MM-DD (default: now).")
    def points_expire(day: datetime | None) -> None:
        """Expire points past their last day (idempotent); commits batch by batch."""
        from zoneinfo import ZoneInfo

        from community import clock
        from community.points import jobs as points_jobs

        # Noon in the default zone, so communities a few hours away see the same local date.
        now = clock.now() if day is None else datetime.combine(
            day.date(), time(12), tzinfo=ZoneInfo(clock.DEFAULT_TZ))
        total = points_jobs.ExpiryCounts()
        with open_session() as session:
            for counts in points_jobs.expire_batches(session, now=now):
                session.commit()  # each batch whole: its entries and balances together
                total += counts
        click.echo(f"Points expired: {total.points} point(s) from {total.expired_accounts} "
                   f"of {total.accounts} account(s) holding points ({total.entries} entries).")

    @points_group.command("carry-forward")
    @click.argument("year", type=int)
    @click.option("--detach", is_flag=True,
                  help="Then detach the year's monthly partitions (PostgreSQL) for archiving.")
    def points_carry_forward(year: int, detach: bool) -> None:
        """Close YEAR's books: carry every account's lots into the next year (idempotent;
        commits batch by batch). With --detach, the year's monthly partitions of drops and
        ledger entries are detached afterwards: dump them (pg_dump -t), then DROP them."""
        from community import clock, partitions
        from community.points import jobs as points_jobs

        total = points_jobs.CarryCounts()
        with open_session() as session:
            try:
                for counts in points_jobs.carry_forward(session, year=year, now=clock.now()):
                    session.commit()  # each batch whole: keys and entries together
                    total += counts
            except points_jobs.YearNotOver as err:
                raise click.ClickException(str(err)) from err
            session.commit()  # the communities' closed-year keys, when no account had any
            click.echo(f"Carried forward {total.points} point(s) of {total.accounts} "
                       f"account(s) into {year + 1} ({total.entries} entries).")
            if detach:
                gone = [name for table in partitions.TABLES for name in
                        partitions.detach_year(session, table, year)]
                session.commit()
                click.echo("Detached: " + (", ".join(gone) or "nothing (no partitions)"))

    _register_jobs(app)


def _register_jobs(app: Flask) -> None:
    """`flask jobs list|run` and `flask scheduler run`."""

    @app.cli.group("jobs")
    def jobs_group() -> None:
        """Scheduled jobs: list them, or run any job for any period by hand."""

    @jobs_group.command("list")
    def jobs_list() -> None:
        """Each job, its cadence, its last run and when it is next due."""
        from community.scheduler import history

        with open_session(read_only=True) as session:
            rows = history.job_rows(session, current_app.config["TIMEZONE"])
        for row in rows:
            last = (f"{row.last.period} {row.last.status}" if row.last else "never run")
            click.echo(f"{row.job.name:24} {row.job.cadence.describe():38} last: {last:28} "
                       f"next: {row.next_due:%Y-%m-%d %H:%M}")

    @jobs_group.command("run")
    @click.argument("name")
    @click.option("--period", default=None,
                  help="Period key (2026-11-21, 2026-11, 2026 …); default: every due period.")
    def jobs_run(name: str, period: str | None) -> None:
        """Run one job by hand; a period already done is skipped (the same idempotency)."""
        from zoneinfo import ZoneInfo

        from community.scheduler.registry import JOBS
        from community.scheduler.runner import parse_period, run_due, run_period

        job = JOBS.get(name)
        if job is None:
            raise click.BadParameter(f"unknown job; one of: {', '.join(JOBS)}", param_hint="NAME")
        zone = ZoneInfo(current_app.config["TIMEZONE"])
        if period is None:
            outcomes = run_due(get_engine(), job, zone)
        else:
            try:
                chosen = parse_period(job, period, zone)
            except ValueError:
                raise click.BadParameter("not a period of this job", param_hint="--period") \
                    from None
            outcomes = {chosen.key: run_period(get_engine(), job, chosen, trigger="hand")}
        for key, outcome in outcomes.items():
            click.echo(f"{name} {key}: {outcome}")
        if not outcomes:
            click.echo(f"{name}: nothing due")
        if "failed" in outcomes.values():
            raise SystemExit(1)

    @app.cli.group("scheduler")
    def scheduler_group() -> None:
        """The scheduler process (run exactly one per deployment; never in web workers)."""

    @scheduler_group.command("run")
    @click.option("--once", is_flag=True,
                  help="One pass over every job (with catch-up), then exit.")
    @click.option("--tick", default=60, show_default=True, help="Seconds between checks.")
    def scheduler_run(once: bool, tick: int) -> None:
        """Run the scheduler in the foreground (APScheduler, the community time zone)."""
        import logging

        from community.scheduler import process

        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not every tick
        # current_app is a LocalProxy at run time; Flask types it as the app itself.
        this_app = cast("LocalProxy[Flask]", current_app)._get_current_object()
        if once:
            for name, outcomes in process.run_once(this_app).items():
                for key, outcome in outcomes.items():
                    click.echo(f"{name} {key}: {outcome}")
            return
        process.serve(this_app, tick_seconds=tick)
