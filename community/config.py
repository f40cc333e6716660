"""Configuration from environment variables (and a `.env` file).

Every setting has a safe default except the secret key, which is generated once
into the instance folder so that no secret ever lives in the repository.
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from dotenv import load_dotenv


def _secret_key(instance_path: Path) -> str:
    """Return SECRET_KEY from the environment or from `instance/secret_key`, creating it once."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two workers starting together never write two different keys.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def load(instance_path: Path) -> dict[str, Any]:
    """Build the config dict from the environment; `.env` in the working directory is read first."""
    load_dotenv(override=False)
    env = os.environ.get
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "DATABASE_URL": env("DATABASE_URL") or f"sqlite:///{instance_path / 'community.db'}",
        # A streaming standby the aggregate pages read from (community.db.REPLICA_PAGES);
        # empty: everything reads the primary. Pools per process and engine, and psycopg's
        # server-side prepares ("none" behind PgBouncer in transaction mode): README,
        # "Connection budget".
        "DATABASE_REPLICA_URL": env("DATABASE_REPLICA_URL", ""),
        "DATABASE_POOL_SIZE": int(env("DATABASE_POOL_SIZE", "2")),
        "DATABASE_MAX_OVERFLOW": int(env("DATABASE_MAX_OVERFLOW", "3")),
        "DATABASE_PREPARE_THRESHOLD": env("DATABASE_PREPARE_THRESHOLD", "5"),
        "TIMEZONE": env("COMMUNITY_TIMEZONE", "Asia/Shanghai"),
        "BABEL_DEFAULT_LOCALE": env("DEFAULT_LOCALE", "zh"),
        "BABEL_DEFAULT_TIMEZONE": env("COMMUNITY_TIMEZONE", "Asia/Shanghai"),
        "LANGUAGES": ("zh", "en"),
        # Shared counters (login failures, rate limits): redis://… with several workers.
        "RATELIMIT_STORAGE_URI": env("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_KEY_PREFIX": env("RATELIMIT_KEY_PREFIX", "community"),
        # Failed logins: free failures per account / per address, then waits doubling from
        # LOGIN_DELAY_SECONDS up to LOGIN_DELAY_MAX_SECONDS; counts forgotten after a day.
        "LOGIN_FREE_FAILURES_PER_ACCOUNT": int(env("LOGIN_FREE_FAILURES_PER_ACCOUNT", "5")),
        "LOGIN_FREE_FAILURES_PER_ADDRESS": int(env("LOGIN_FREE_FAILURES_PER_ADDRESS", "30")),
        "LOGIN_DELAY_SECONDS": int(env("LOGIN_DELAY_SECONDS", "30")),
        "LOGIN_DELAY_MAX_SECONDS": int(env("LOGIN_DELAY_MAX_SECONDS", "900")),
        "LOGIN_FAILURE_WINDOW_SECONDS": int(env("LOGIN_FAILURE_WINDOW_SECONDS", "86400")),
        # How many reverse proxies in front of the app set X-Forwarded-For/-Proto (0: none;
        # the header is then ignored, as anyone can send it).
        "TRUSTED_PROXIES": int(env("TRUSTED_PROXIES", "0")),
        # Session limits (community.auth.sessions): idle and absolute, for staff and for
        # residents who did not tick "remember me"; remembered residents get days.
        "SESSION_IDLE_MINUTES": int(env("SESSION_IDLE_MINUTES", "30")),
        "SESSION_MAX_HOURS": int(env("SESSION_MAX_HOURS", "12")),
        "RESIDENT_REMEMBER_DAYS": int(env("RESIDENT_REMEMBER_DAYS", "30")),
        "RESIDENT_MAX_DAYS": int(env("RESIDENT_MAX_DAYS", "90")),
        "PERMANENT_SESSION_LIFETIME": timedelta(days=int(env("RESIDENT_REMEMBER_DAYS", "30"))),
        # SMS codes (community.sms, community.auth.phone): the provider, its settings, the
        # development page of codes (demo/debug only) and the per-day caps.
        "SMS_PROVIDER": env("SMS_PROVIDER", "dev"),
        "SMS_DEV_PAGE": env("SMS_DEV_PAGE", "0") == "1",
        "SMS_CODES_PER_PHONE_PER_DAY": int(env("SMS_CODES_PER_PHONE_PER_DAY", "10")),
        "SMS_CODES_PER_ADDRESS_PER_DAY": int(env("SMS_CODES_PER_ADDRESS_PER_DAY", "50")),
        "TENCENT_SMS_SECRET_ID": env("TENCENT_SMS_SECRET_ID", ""),
        "TENCENT_SMS_SECRET_KEY": env("TENCENT_SMS_SECRET_KEY", ""),
        "TENCENT_SMS_SDK_APP_ID": env("TENCENT_SMS_SDK_APP_ID", ""),
        "TENCENT_SMS_SIGN_NAME": env("TENCENT_SMS_SIGN_NAME", ""),
        "TENCENT_SMS_TEMPLATE_ID": env("TENCENT_SMS_TEMPLATE_ID", ""),
        "TENCENT_SMS_REGION": env("TENCENT_SMS_REGION", "ap-guangzhou"),
        "TENCENT_SMS_TEMPLATE_PARAMS": env("TENCENT_SMS_TEMPLATE_PARAMS", "code,minutes"),
        "TENCENT_SMS_NOTICE_TEMPLATE_ID": env("TENCENT_SMS_NOTICE_TEMPLATE_ID", ""),
        # The largest request body. Files have their own, smaller limits (photos and household
        # lists: 5 MB): a file over its limit but under this one is refused on the form, which
        # keeps everything else typed; only a body over this one gets the bare 413 page.
        # nginx (scripts/serve.sh) lets the same amount through. MAX_UPLOAD_BYTES: older name.
        "MAX_CONTENT_LENGTH": int(env("MAX_REQUEST_BYTES",
                                      env("MAX_UPLOAD_BYTES", str(16 * 1024 * 1024)))),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env("SESSION_COOKIE_SECURE", "0") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": 3600,
        "SCHEMA_CHECK": env("SCHEMA_CHECK", "1") == "1",
        "PAGE_SIZE": 50,
    }
