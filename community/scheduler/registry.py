"""Every periodic job: its name, cadence (local time) and the module job it calls.

Job functions are plain, idempotent functions in each module's `jobs.py`; the adapters
here turn a Period into the arguments each one takes. Add a job by adding a `Job` here.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from community import partitions
from community.casework import jobs as casework_jobs
from community.dashboard import digest as dashboard_digest
from community.inbox import jobs as inbox_jobs
from community.points import jobs as points_jobs
from community.ratings import jobs as ratings_jobs
from community.reports import jobs as reports_jobs
from community.scheduler.periods import Daily, EveryMinutes, Monthly, Yearly
from community.scheduler.runner import Job, JobFailed, Period
from community.stations import jobs as stations_jobs
from community.volunteers import jobs as volunteers_jobs
from community.volunteers.shifts import services as volunteers_shifts


def _expire_points(session: Session, period: Period) -> Mapping[str, Any]:
    # Due on 1 January: what expired at the end of the year before goes now. Committed batch
    # by batch (accounts stay locked one batch at a time, not for the whole city).
    total = points_jobs.ExpiryCounts()
    for counts in points_jobs.expire_batches(session, now=period.due_at):
        session.commit()
        total += counts
    return {"accounts": total.accounts, "entries": total.entries, "points": total.points}


def _carry_points(session: Session, period: Period) -> Mapping[str, Any]:
    # Due on 1 January (after the expiry at 00:30): closes the year before the one just
    # ended (on 1 January 2033, 2031), so last year's drops can still be regraded for a
    # year. Batch by batch; idempotent (`ledger_key`). Detaching and dropping the closed
    # year's partitions stays with the operator (`flask points carry-forward --detach`).
    total = points_jobs.CarryCounts()
    for counts in points_jobs.carry_forward(session, year=period.start.year - 1,
                                            now=period.due_at):
        session.commit()
        total += counts
    session.commit()
    return {"accounts": total.accounts, "entries": total.entries, "points": total.points}


def _verify_ledger(session: Session, period: Period) -> Mapping[str, Any]:
    drift = points_jobs.verify_ledger(session)
    if drift:
        shown = ", ".join(f"account {d.account_id}: balance {d.balance} ≠ entries "
                          f"{d.entries_sum}" for d in drift[:20])
        raise JobFailed(f"{len(drift)} points account(s) drifted from their entries: {shown}")
    return {"drifted": 0}


def _clean_up(session: Session, period: Period) -> Mapping[str, Any]:
    return {**stations_jobs.forget_revoked_device_tokens(session, now=period.due_at),
            **points_jobs.forget_request_ids(session, now=period.due_at)}


def _make_partitions(session: Session, period: Period) -> Mapping[str, Any]:
    # Monthly partitions of drops and ledger entries (PostgreSQL): last month's (a late
    # upload's) to three months ahead exist long before their first row; strays the DEFAULT
    # partition caught while the job was down are moved into their month. Idempotent.
    made = partitions.ensure_ahead(session, period.start.date())
    return {"created": made.created, "moved": made.moved}


def _send_sms(session: Session, period: Period) -> Mapping[str, Any]:
    # Texts queued by notifications (opted-in people only); committed row by row, so a crash
    # never sends twice what was recorded as sent.
    counts: dict[str, int] = {}
    for status in inbox_jobs.send_sms(session, now=period.due_at):
        session.commit()
        counts[status] = counts.get(status, 0) + 1
    return counts


def _evaluate_cases(session: Session, period: Period) -> Mapping[str, Any]:
    # Idempotent: case state is recomputed from the verdicts in device-time order.
    return casework_jobs.evaluate_cases(session, now=period.due_at)


def _casework_nightly(session: Session, period: Period) -> Mapping[str, Any]:
    # Period = the local day just ended: every open case re-checked (voids change no id),
    # and after a Sunday the week's audit sample drawn.
    return casework_jobs.nightly(session, day=period.start.date(), now=period.due_at)


def _escalate_reports(session: Session, period: Period) -> Mapping[str, Any]:
    # Once per deadline whatever runs it (a conditional update and a unique escalation row).
    return reports_jobs.escalate(session, now=period.due_at)


def _generate_rotas(session: Session, period: Period) -> Mapping[str, Any]:
    report = volunteers_shifts.generate_all(session, now=period.due_at, weeks=ROTA_WEEKS)
    return {"created": report.created, "updated": report.updated,
            "cancelled": report.cancelled, "kept": report.kept}


def _close_shifts(session: Session, period: Period) -> Mapping[str, Any]:
    # After each window: check out who forgot, mark who never came as a no-show.
    return volunteers_jobs.close_finished_shifts(session, now=period.due_at)


def _remind_shifts(session: Session, period: Period) -> Mapping[str, Any]:
    return volunteers_jobs.remind_upcoming_shifts(session, now=period.due_at, ahead=REMIND_AHEAD)


def _roll_up_day(session: Session, period: Period) -> Mapping[str, Any]:
    # Period = the local day just ended; rebuilt whole, so a re-run changes nothing.
    return ratings_jobs.roll_up_day(session, day=period.start.date(), now=period.due_at)


def _refresh_rollups(session: Session, period: Period) -> Mapping[str, Any]:
    # Late uploads, regrades, moves and check-ins mark their days dirty, however old: rebuild
    # exactly those, re-rate their months, make final what no drop can reach any more.
    # Today is never rolled up; dashboards read it from the raw rows.
    return ratings_jobs.refresh_dirty(session, now=period.due_at)


def _send_digests(session: Session, period: Period) -> Mapping[str, Any]:
    # Once a day; the inbox's dedupe key (per community, day and person) keeps a re-run
    # from sending twice.
    return dashboard_digest.send_digests(session, now=period.due_at)


def _rate_month(session: Session, period: Period) -> Mapping[str, Any]:
    # Due on the 1st after the daily rollup: rates every community for the month before.
    return ratings_jobs.rate_month(session, month=period.start.date(), now=period.due_at)


ROTA_WEEKS = 4
REMIND_AHEAD = timedelta(hours=2)

# catch_up=1 for checks and clean-ups: after downtime only the latest period matters.
JOBS: dict[str, Job] = {job.name: job for job in (
    Job("points.expire", Yearly(at=time(0, 30)), _expire_points,
        _l("Expire the points whose last day has passed (earned in year Y, gone after Y+1)"),
        _l("1 January at 00:30"), batched=True),
    Job("points.carry_forward", Yearly(at=time(1, 0)), _carry_points,
        _l("Close the points of the year before last: carry every account's unspent points "
           "into the next year, so that year's records can be archived"),
        _l("1 January at 01:00"), batched=True),
    Job("points.verify", Daily(at=time(3, 0), catch_up=1), _verify_ledger,
        _l("Recompute every points balance from its entries; any drift fails the run"),
        _l("Every day at 03:00")),
    Job("ratings.rollups", Daily(at=time(0, 20), offset_days=1), _roll_up_day,
        _l("Roll up the day just ended: drops, households, steward coverage"),
        _l("Every day at 00:20 (the day before)")),
    Job("ratings.refresh", EveryMinutes(60, catch_up=1), _refresh_rollups,
        _l("Rebuild the days whose data changed (late uploads, regrades, moves, check-ins), "
           "re-rate their months and make final the months no upload can reach"),
        _l("Every hour"), batched=True),
    Job("ratings.monthly", Monthly(at=time(1, 0)), _rate_month,
        _l("Rate every community for the month just ended (star, compliant, not compliant)"),
        _l("The 1st of each month at 01:00")),
    Job("volunteers.rotas", Daily(at=time(1, 0), catch_up=1), _generate_rotas,
        _l("Generate steward shifts from the station windows for the next four weeks"),
        _l("Every day at 01:00")),
    Job("volunteers.close_shifts", EveryMinutes(15), _close_shifts,
        _l("After each window: automatic check-out, and no-shows for missed shifts"),
        _l("Every 15 minutes")),
    Job("volunteers.reminders", EveryMinutes(15, catch_up=1), _remind_shifts,
        _l("Remind stewards of their shifts two hours ahead (in-app inbox)"),
        _l("Every 15 minutes")),
    Job("dashboard.digest", Daily(at=time(7, 30), catch_up=1), _send_digests,
        _l("Send managers and station chiefs their daily digest: hours to approve, join "
           "requests, shifts at risk in the next 48 hours, open cases, overdue reports"),
        _l("Every day at 07:30")),
    Job("inbox.sms", EveryMinutes(5, catch_up=1), _send_sms,
        _l("Send the text messages of notifications to people who asked for them (not at "
           "night)"),
        _l("Every 5 minutes")),
    Job("casework.cases", EveryMinutes(10, catch_up=1), _evaluate_cases,
        _l("Open cases for repeat mis-drops, close them after a run of correct drops (with "
           "refunds where the rules say so), escalate overdue education tasks"),
        _l("Every 10 minutes")),
    Job("casework.nightly", Daily(at=time(2, 0), offset_days=1), _casework_nightly,
        _l("Re-check every open mis-drop case; on Mondays, draw each steward's sample of last "
           "week's verdicts for the blind audit"),
        _l("Every day at 02:00 (draws on Mondays)")),
    Job("reports.escalate", EveryMinutes(10, catch_up=1), _escalate_reports,
        _l("Open reports from the stewards' supervision-log incidents; escalate overdue "
           "reports one level up the area tree (community, street, district) and tell them"),
        _l("Every 10 minutes")),
    Job("maintenance.clean_up", Daily(at=time(4, 0), catch_up=1), _clean_up,
        _l("Forget revoked device tokens and old redemption request ids"),
        _l("Every day at 04:00")),
    Job("maintenance.partitions", Daily(at=time(4, 30), catch_up=1), _make_partitions,
        _l("Create the monthly partitions of drops and points entries three months ahead "
           "(PostgreSQL); move rows that arrived before their month existed"),
        _l("Every day at 04:30")),
)}
