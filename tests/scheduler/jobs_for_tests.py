"""Jobs used by the scheduler tests: one that writes a row (and can stall half-way), run in
this process or as `python -m tests.scheduler.jobs_for_tests URL MARKER` in a child process
that the test kills half-way."""
from __future__ import annotations

import sys
import time as time_mod
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session

from community.audit.models import AuditEntry
from community.scheduler.periods import Daily
from community.scheduler.runner import Job, Period, make_period

ZONE = ZoneInfo("Asia/Shanghai")


def writer(stall: Path | None = None, seconds: float = 0.0) -> Job:
    """A daily job that appends one audit row per period; with `stall`, it announces itself
    in that file after writing and then hangs (so the test can kill it half-way)."""

    def fn(session: Session, period: Period) -> dict[str, int]:
        session.add(AuditEntry(action=f"test.job:{period.key}", detail={}))
        session.flush()
        if stall is not None:
            stall.write_text("written")
            time_mod.sleep(600)
        if seconds:
            time_mod.sleep(seconds)
        return {"rows": 1}

    return Job("test.writer", Daily(at=time(3, 0)), fn, "test", "test")


def rows(session: Session, key: str) -> int:
    """How many rows the writer job left for a period (ends the read transaction)."""
    got = session.execute(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == f"test.job:{key}")).scalar_one()
    session.commit()
    return got


if __name__ == "__main__":  # the child the kill test starts
    from datetime import datetime

    import community.models  # noqa: F401 - every table, for the foreign keys
    from community.db import make_engine
    from community.scheduler.runner import run_period

    url, marker = sys.argv[1], Path(sys.argv[2])
    job = writer(stall=marker)
    run_period(make_engine(url), job, make_period(job, datetime(2026, 11, 20), ZONE))  # noqa: DTZ001
