"""Tencent Cloud SMS (腾讯云短信) through its official SDK, `tencentcloud-sdk-python-sms`.

One `SendSms` call per code, to `+86` and the 11-digit number, with the configured SDK app
id, sign name (签名) and verification template (模板). The template's parameters are the code
and, if the template has a second placeholder, the minutes it stays valid
(`TENCENT_SMS_TEMPLATE_PARAMS=code,minutes`, the default; `code` for a one-placeholder
template).

Tencent reports failures two ways: an `Error` in the response (bad credentials, bad
parameters, its own outage) which the SDK raises as `TencentCloudSDKException`, and a
per-number `Code` in `SendStatusSet` of an otherwise successful response (the number's
frequency limits, a wrong number). Both are mapped to the domain errors of `base`; the
operator's problems (credentials, sign, template, balance) are logged as errors.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, fields

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from community.sms.base import (
    SmsAuthFailed,
    SmsError,
    SmsRejected,
    SmsThrottled,
    SmsUnavailable,
)

log = logging.getLogger("community.sms")

ENDPOINT = "sms.tencentcloudapi.com"
TIMEOUT_SECONDS = 10
TEMPLATE_PARAMS = ("code", "minutes")
OPTIONAL = frozenset({"notice_template_id"})
NOTICE_MAX = 60  # characters of a notice's template parameter (Tencent's variable limit)

# Per-number limits of Tencent (30 s / 1 h / daily per number, same content): the person
# must wait. The application's own quotas (LimitExceeded.AppDailyLimit ...) are the
# operator's problem instead.
_THROTTLED_PREFIXES = ("LimitExceeded.PhoneNumber", "LimitExceeded.DeliveryFrequencyLimit")
_REJECTED = ("InvalidParameterValue.IncorrectPhoneNumber", "FailedOperation.PhoneNumberInBlacklist",
             "FailedOperation.PhoneNumberParseFail", "UnsupportedOperation.UnsupportedRegion",
             "FailedOperation.ContainDomesticAndInternationalPhoneNumber")
# Credentials, permissions, sign, template, balance, parameters: fix the configuration.
_OPERATOR_PREFIXES = ("AuthFailure", "UnauthorizedOperation", "FailedOperation.Signature",
                      "FailedOperation.Template", "FailedOperation.InsufficientBalance",
                      "FailedOperation.MissingSignature", "FailedOperation.MissingTemplate",
                      "InvalidParameter", "MissingParameter", "LimitExceeded.App",
                      "LimitExceeded.DailyLimit")


@dataclass(frozen=True)
class TencentSettings:
    """Everything the adapter needs, from the environment (see `community.config`)."""

    secret_id: str
    secret_key: str
    sdk_app_id: str
    sign_name: str
    template_id: str
    region: str = "ap-guangzhou"
    template_params: tuple[str, ...] = TEMPLATE_PARAMS
    # The notice template (one placeholder: the text) for the inbox's SMS channel; optional:
    # without it notices are not texted (the outbox row fails as the operator's problem).
    notice_template_id: str = ""

    def missing(self) -> list[str]:
        """Names of the settings left empty (the app refuses to start with any)."""
        return [f.name for f in fields(self)
                if not getattr(self, f.name) and f.name not in OPTIONAL]


def error_for(code: str) -> SmsError:
    """The domain error for one of Tencent's error codes (unknown codes: unavailable)."""
    if code.startswith(_THROTTLED_PREFIXES):
        return SmsThrottled(provider_code=code)
    if code in _REJECTED:
        return SmsRejected(provider_code=code)
    if code.startswith(_OPERATOR_PREFIXES):
        return SmsAuthFailed(provider_code=code)
    return SmsUnavailable(provider_code=code)


class TencentSender:
    """Sends verification codes with Tencent Cloud SMS (API version 2021-01-11)."""

    def __init__(self, settings: TencentSettings) -> None:
        unknown = set(settings.template_params) - set(TEMPLATE_PARAMS)
        if unknown or not settings.template_params:
            raise ValueError(f"TENCENT_SMS_TEMPLATE_PARAMS: use a comma list of "
                             f"{', '.join(TEMPLATE_PARAMS)} (got {sorted(unknown) or 'nothing'})")
        self.settings = settings
        cred = credential.Credential(settings.secret_id, settings.secret_key)
        profile = ClientProfile(httpProfile=HttpProfile(endpoint=ENDPOINT,
                                                        reqTimeout=TIMEOUT_SECONDS))
        self.client = sms_client.SmsClient(cred, settings.region, profile)

    def send_code(self, phone: str, code: str, *, minutes: int) -> None:
        """Send one code; raise SmsThrottled / SmsRejected / SmsAuthFailed / SmsUnavailable."""
        values = {"code": code, "minutes": str(minutes)}
        self._send(phone, self.settings.template_id,
                   [values[name] for name in self.settings.template_params])

    def send_text(self, phone: str, text: str) -> None:
        """Send a notice with the notice template (its one parameter: the text, shortened)."""
        if not self.settings.notice_template_id:
            raise SmsAuthFailed(provider_code="NoNoticeTemplate")
        shown = text if len(text) <= NOTICE_MAX else text[:NOTICE_MAX - 1] + "…"
        self._send(phone, self.settings.notice_template_id, [shown])

    def _send(self, phone: str, template_id: str, params: list[str]) -> None:
        req = models.SendSmsRequest()
        req.PhoneNumberSet = [f"+86{phone}"]
        req.SmsSdkAppId = self.settings.sdk_app_id
        req.SignName = self.settings.sign_name
        req.TemplateId = template_id
        req.TemplateParamSet = params
        try:
            resp = self.client.SendSms(req)
        except TencentCloudSDKException as exc:
            err = error_for(exc.get_code() or "")
            self._log(err, exc.get_code(), exc.get_message(), exc.get_request_id())
            raise err from None
        status = (resp.SendStatusSet or [None])[0]
        if status is None:
            err = SmsUnavailable(provider_code="NoSendStatus")
            self._log(err, "NoSendStatus", "empty SendStatusSet", resp.RequestId)
            raise err
        if status.Code != "Ok":
            err = error_for(status.Code or "")
            self._log(err, status.Code, status.Message, resp.RequestId)
            raise err
        log.info("SMS sent to %s****%s (serial %s, request %s)", phone[:3], phone[-4:],
                 status.SerialNo, resp.RequestId)

    @staticmethod
    def _log(err: SmsError, code: str | None, message: str | None, request_id: str | None) -> None:
        """The provider's details for the operator (the user sees only the domain message)."""
        level = logging.ERROR if isinstance(err, SmsAuthFailed | SmsUnavailable) else logging.INFO
        log.log(level, "Tencent SMS refused (%s): %s %s (request %s)", type(err).__name__,
                code, message, request_id)
