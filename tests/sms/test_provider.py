"""Choosing the provider from config (never a silent fall-back) and the development provider."""
from __future__ import annotations

import logging

import pytest

from community.sms.dev import DevSender
from community.sms.provider import build
from community.sms.tencent import TencentSender
from tests.sms.conftest import Records

TENCENT = {"SMS_PROVIDER": "tencent", "TENCENT_SMS_SECRET_ID": "id", "TENCENT_SMS_SECRET_KEY": "k",
           "TENCENT_SMS_SDK_APP_ID": "1400000000", "TENCENT_SMS_SIGN_NAME": "某某社区",
           "TENCENT_SMS_TEMPLATE_ID": "1", "TENCENT_SMS_REGION": "ap-guangzhou",
           "TENCENT_SMS_TEMPLATE_PARAMS": "code,minutes"}


def test_dev_is_the_default() -> None:
    sender = build({})
    assert isinstance(sender, DevSender)
    assert sender.keep == 0


def test_tencent_when_configured() -> None:
    assert isinstance(build(TENCENT), TencentSender)


def test_tencent_with_missing_settings_refuses_to_start() -> None:
    with pytest.raises(RuntimeError, match="TENCENT_SMS_SECRET_KEY, TENCENT_SMS_SIGN_NAME"):
        build({**TENCENT, "TENCENT_SMS_SECRET_KEY": "", "TENCENT_SMS_SIGN_NAME": ""})


def test_unknown_provider_and_dev_page_with_real_provider_refused() -> None:
    with pytest.raises(RuntimeError, match="SMS_PROVIDER='aliyun'"):
        build({"SMS_PROVIDER": "aliyun"})
    with pytest.raises(RuntimeError, match="SMS_DEV_PAGE"):
        build({**TENCENT, "SMS_DEV_PAGE": True})


def test_create_app_refuses_a_half_configured_provider() -> None:
    from community import create_app

    with pytest.raises(RuntimeError, match="TENCENT_SMS_SECRET_ID"):
        create_app({"TESTING": True, "SMS_PROVIDER": "tencent"})


def test_dev_sender_logs_and_keeps_only_when_asked(sms_log: Records) -> None:
    quiet, kept = DevSender(), DevSender(keep=2)
    quiet.send_code("13800138000", "111111", minutes=5)
    for code in ("222222", "333333", "444444"):
        kept.send_code("13900139000", code, minutes=5)
    assert "13800138000" in sms_log.text
    assert "111111" in sms_log.text
    assert sms_log.records[0].levelno == logging.WARNING  # seen on `flask run`'s console
    assert quiet.latest() == []
    assert [s.code for s in kept.latest()] == ["444444", "333333"]  # newest first, bounded


def test_dev_sender_outside_demo_mode_logs_errors(sms_log: Records) -> None:
    DevSender(loud=True).send_code("13800138000", "111111", minutes=5)
    assert sms_log.records[0].levelno == logging.ERROR
    assert "SMS_PROVIDER=tencent" in sms_log.text
