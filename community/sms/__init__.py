"""Sending SMS verification codes: the `SmsSender` interface and its providers.

`base` holds the interface and the domain errors a provider raises; `dev` is the development
provider (codes to the server log and, in demo mode, to the /auth/dev-sms page); `tencent`
sends through Tencent Cloud SMS's official SDK; `provider` picks one from the app's config
(`SMS_PROVIDER=dev|tencent`). Nothing here knows about accounts: the auth module decides
when a code is sent and checks it.
"""
from community.sms.base import (
    SmsAuthFailed,
    SmsError,
    SmsRejected,
    SmsSender,
    SmsThrottled,
    SmsUnavailable,
)

__all__ = ["SmsAuthFailed", "SmsError", "SmsRejected", "SmsSender", "SmsThrottled",
           "SmsUnavailable"]
