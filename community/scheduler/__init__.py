"""Scheduled jobs that run exactly once per period: the job registry, the `job_run` record,
the runner (claims a period, runs the job, records the outcome) and the scheduler process.

This package is the only place that imports APScheduler (in `process.py`); web workers never
start a scheduler. Job functions themselves live in each module's `jobs.py`.
"""
