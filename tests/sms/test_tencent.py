"""The Tencent Cloud SMS adapter against recorded responses of SendSms (API 2021-01-11).

The SDK runs for real (request building, signing, its status and error checks, its models);
only its HTTP layer (`client.request.send_request`) is replaced by a recorded answer, so no
network is touched. The recordings follow Tencent's documented response shapes: a success,
a per-number frequency limit inside `SendStatusSet`, and an authentication failure as an
`Error` (which the SDK raises).
"""
from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from community.sms import SmsAuthFailed, SmsRejected, SmsThrottled, SmsUnavailable
from community.sms.tencent import TencentSender, TencentSettings, error_for
from tests.sms.conftest import Records

SETTINGS = TencentSettings(secret_id="AKIDtestonly", secret_key="test-only-key",
                           sdk_app_id="1400000000", sign_name="某某社区",
                           template_id="1234567", region="ap-guangzhou")

SUCCESS = {"Response": {
    "SendStatusSet": [{
        "SerialNo": "5000:1045710669157053657849499619", "PhoneNumber": "+8613800138000",
        "Fee": 1, "SessionContext": "", "Code": "Ok", "Message": "send success",
        "IsoCode": "CN"}],
    "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279"}}
THROTTLED = {"Response": {
    "SendStatusSet": [{
        "SerialNo": "", "PhoneNumber": "+8613800138000", "Fee": 0, "SessionContext": "",
        "Code": "LimitExceeded.PhoneNumberDailyLimit",
        "Message": "the number of SMS messages sent from a single mobile number every day "
                   "exceeds the upper limit", "IsoCode": "CN"}],
    "RequestId": "0f1b3d5c-8e6a-4b1c-9d2e-7f3a5b6c8d9e"}}
AUTH_FAILURE = {"Response": {
    "Error": {"Code": "AuthFailure.SecretIdNotFound",
              "Message": "The SecretId is not found, please ensure that your SecretId is "
                         "correct."},
    "RequestId": "8c2c4a5e-0b1f-4d2a-9e3c-6f7a8b9c0d1e"}}
WRONG_NUMBER = {"Response": {
    "SendStatusSet": [{
        "SerialNo": "", "PhoneNumber": "+8613800138000", "Fee": 0, "SessionContext": "",
        "Code": "InvalidParameterValue.IncorrectPhoneNumber",
        "Message": "incorrect phone number", "IsoCode": "CN"}],
    "RequestId": "1d2e3f40-5a6b-4c7d-8e9f-0a1b2c3d4e5f"}}


class Recorded:
    """The HTTP answer the SDK reads: status, headers, body (as `requests` gives them)."""

    def __init__(self, body: dict[str, Any], status_code: int = 200) -> None:
        self.status_code = status_code
        self.headers = {"Content-Type": "application/json"}
        self.content = json.dumps(body).encode()


@pytest.fixture
def sent() -> list[Any]:
    """The requests the SDK tried to send."""
    return []


def _sender(sent: list[Any], answer: Recorded | Exception,
            settings: TencentSettings = SETTINGS) -> TencentSender:
    sender = TencentSender(settings)

    def send_request(req: Any) -> Recorded:
        sent.append(req)
        if isinstance(answer, Exception):
            raise answer
        return answer

    sender.client.request.send_request = send_request
    return sender


def test_success_sends_one_signed_request(sent: list[Any]) -> None:
    _sender(sent, Recorded(SUCCESS)).send_code("13800138000", "042519", minutes=5)
    assert len(sent) == 1
    req = sent[0]
    body = json.loads(req.data)
    assert body == {"PhoneNumberSet": ["+8613800138000"], "SmsSdkAppId": "1400000000",
                    "SignName": "某某社区", "TemplateId": "1234567",
                    "TemplateParamSet": ["042519", "5"]}
    assert req.header["X-TC-Action"] == "SendSms"
    assert req.header["X-TC-Version"] == "2021-01-11"
    assert req.header["X-TC-Region"] == "ap-guangzhou"
    assert req.header["Authorization"].startswith("TC3-HMAC-SHA256 Credential=AKIDtestonly/")
    assert "test-only-key" not in str(req.header)


def test_one_placeholder_template_gets_only_the_code(sent: list[Any]) -> None:
    settings = TencentSettings(**{**SETTINGS.__dict__, "template_params": ("code",)})
    _sender(sent, Recorded(SUCCESS), settings).send_code("13800138000", "042519", minutes=5)
    assert json.loads(sent[0].data)["TemplateParamSet"] == ["042519"]


def test_throttled_number(sent: list[Any], sms_log: Records) -> None:
    with pytest.raises(SmsThrottled) as exc:
        _sender(sent, Recorded(THROTTLED)).send_code("13800138000", "042519", minutes=5)
    assert exc.value.details["provider_code"] == "LimitExceeded.PhoneNumberDailyLimit"
    assert exc.value.status == 429
    assert "0f1b3d5c" in sms_log.text  # the request id, for Tencent's support


def test_auth_failure(sent: list[Any], sms_log: Records) -> None:
    with pytest.raises(SmsAuthFailed) as exc:
        _sender(sent, Recorded(AUTH_FAILURE)).send_code("13800138000", "042519", minutes=5)
    assert exc.value.details["provider_code"] == "AuthFailure.SecretIdNotFound"
    assert exc.value.status == 503
    errors = [r for r in sms_log.records if r.levelno == logging.ERROR]
    assert errors
    assert "AuthFailure.SecretIdNotFound" in errors[0].getMessage()
    assert "042519" not in sms_log.text  # a code never reaches the log


def test_wrong_number(sent: list[Any]) -> None:
    with pytest.raises(SmsRejected):
        _sender(sent, Recorded(WRONG_NUMBER)).send_code("13800138000", "042519", minutes=5)


def test_network_failure_and_server_error(sent: list[Any]) -> None:
    with pytest.raises(SmsUnavailable):
        _sender(sent, ConnectionError("timed out")).send_code("13800138000", "1", minutes=5)
    with pytest.raises(SmsUnavailable):
        _sender(sent, Recorded({"Response": {}}, status_code=502)).send_code(
            "13800138000", "042519", minutes=5)


@pytest.mark.parametrize(("code", "error"), [
    ("LimitExceeded.PhoneNumberThirtySecondLimit", SmsThrottled),
    ("LimitExceeded.PhoneNumberOneHourLimit", SmsThrottled),
    ("LimitExceeded.DeliveryFrequencyLimit", SmsThrottled),
    ("LimitExceeded.AppDailyLimit", SmsAuthFailed),
    ("FailedOperation.SignatureIncorrectOrUnapproved", SmsAuthFailed),
    ("FailedOperation.TemplateIncorrectOrUnapproved", SmsAuthFailed),
    ("FailedOperation.InsufficientBalanceInSmsPackage", SmsAuthFailed),
    ("UnauthorizedOperation.SmsSdkAppIdVerifyFail", SmsAuthFailed),
    ("FailedOperation.PhoneNumberInBlacklist", SmsRejected),
    ("InternalError.Timeout", SmsUnavailable),
    ("SomethingNew", SmsUnavailable),
])
def test_error_mapping(code: str, error: type) -> None:
    assert type(error_for(code)) is error


def test_bad_template_params_refused() -> None:
    with pytest.raises(ValueError, match="TENCENT_SMS_TEMPLATE_PARAMS"):
        TencentSender(TencentSettings(**{**SETTINGS.__dict__, "template_params": ("name",)}))
