"""Choosing the SMS provider from the app's config, once, at start-up.

`SMS_PROVIDER=dev` (the default: development and the demo) or `tencent` (production). The
choice never falls back silently:
- an unknown provider, or `tencent` with any of its settings missing, refuses to start
  (`RuntimeError` from `create_app`, naming the missing environment variables);
- `dev` outside demo/debug/testing logs every code at ERROR level with a reminder to set
  a real provider (codes reach only the server log, so residents cannot sign up): a
  production log monitor shows it at the first sign-in attempt. Start-up itself stays quiet,
  as CLI commands (`db upgrade`, `demo`) build the app too.
The development page of codes (`SMS_DEV_PAGE=1`) is refused with a real provider.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from community.sms.base import SmsSender
from community.sms.dev import DevSender
from community.sms.tencent import TencentSender, TencentSettings

PROVIDERS = ("dev", "tencent")
DEV_OUTBOX = 20  # codes the dev page shows
_KEY = "community.sms"

# TencentSettings field → the environment variable it comes from (for the start-up error).
TENCENT_ENV = {
    "secret_id": "TENCENT_SMS_SECRET_ID",
    "secret_key": "TENCENT_SMS_SECRET_KEY",
    "sdk_app_id": "TENCENT_SMS_SDK_APP_ID",
    "sign_name": "TENCENT_SMS_SIGN_NAME",
    "template_id": "TENCENT_SMS_TEMPLATE_ID",
    "region": "TENCENT_SMS_REGION",
    "template_params": "TENCENT_SMS_TEMPLATE_PARAMS",
    "notice_template_id": "TENCENT_SMS_NOTICE_TEMPLATE_ID",
}


def build(config: dict[str, Any] | Any) -> SmsSender:
    """The sender the config asks for; RuntimeError when it cannot be built as asked."""
    name = config.get("SMS_PROVIDER", "dev")
    if name not in PROVIDERS:
        raise RuntimeError(f"SMS_PROVIDER={name!r}: use one of {', '.join(PROVIDERS)}")
    if name == "dev":
        return DevSender(keep=DEV_OUTBOX if config.get("SMS_DEV_PAGE") else 0)
    if config.get("SMS_DEV_PAGE"):
        raise RuntimeError("SMS_DEV_PAGE=1 is for the development provider only")
    settings = TencentSettings(
        secret_id=config.get("TENCENT_SMS_SECRET_ID") or "",
        secret_key=config.get("TENCENT_SMS_SECRET_KEY") or "",
        sdk_app_id=config.get("TENCENT_SMS_SDK_APP_ID") or "",
        sign_name=config.get("TENCENT_SMS_SIGN_NAME") or "",
        template_id=config.get("TENCENT_SMS_TEMPLATE_ID") or "",
        region=config.get("TENCENT_SMS_REGION") or "",
        template_params=tuple(
            p.strip() for p in (config.get("TENCENT_SMS_TEMPLATE_PARAMS") or "").split(",")
            if p.strip()),
        notice_template_id=config.get("TENCENT_SMS_NOTICE_TEMPLATE_ID") or "",
    )
    missing = settings.missing()
    if missing:
        raise RuntimeError("SMS_PROVIDER=tencent needs " + ", ".join(TENCENT_ENV[m]
                                                                     for m in missing))
    try:
        return TencentSender(settings)
    except ValueError as exc:
        raise RuntimeError(str(exc)) from None


def init_app(app: Flask) -> None:
    """Build the configured sender (no network) and keep it on the app."""
    sender = build(app.config)
    if isinstance(sender, DevSender):
        sender.loud = not (app.debug or app.testing or app.config.get("SMS_DEV_PAGE"))
    app.extensions[_KEY] = sender


def sender() -> SmsSender:
    """The app's sender (tests may replace `app.extensions["community.sms"]`)."""
    return current_app.extensions[_KEY]


def dev_outbox() -> DevSender | None:
    """The development sender when its page is on (SMS_DEV_PAGE=1), else None."""
    current = current_app.extensions.get(_KEY)
    if current_app.config.get("SMS_DEV_PAGE") and isinstance(current, DevSender):
        return current
    return None
