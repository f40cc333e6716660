"""The SMS interface every provider implements, and the errors it may raise.

A provider's own failure codes are mapped to these few domain errors, so the pages can say
something useful ("this number received too many messages today") without knowing which
provider is configured. The words are the user's; the provider's details go to the log.
"""
from __future__ import annotations

from typing import Protocol

from flask_babel import lazy_gettext as _l

from community.errors import DomainError


class SmsSender(Protocol):
    """Something that sends verification codes and short notices to mainland mobile numbers."""

    def send_code(self, phone: str, code: str, *, minutes: int) -> None:
        """Send `code` (valid `minutes` minutes) to `phone` (11 digits, no +86); raise SmsError."""
        ...

    def send_text(self, phone: str, text: str) -> None:
        """Send a short notice (already in the reader's language) to `phone`; raise SmsError."""
        ...


class SmsError(DomainError):
    """The message could not be sent."""

    code, status = "sms_failed", 502
    message = _l("The text message could not be sent. Please try again later.")


class SmsThrottled(SmsError):
    """The provider refuses more messages to this number for now (its own frequency limits)."""

    code, status = "sms_throttled", 429
    message = _l("This number has received too many text messages. Please try again later "
                 "(or tomorrow).")


class SmsRejected(SmsError):
    """The provider refuses this number (not a reachable mainland mobile number)."""

    code, status = "sms_rejected", 422
    message = _l("No text message can be sent to this number. Please check it.")


class SmsAuthFailed(SmsError):
    """The provider refuses our credentials or settings: the operator must fix the config."""

    code, status = "sms_unavailable", 503
    message = _l("Text messages cannot be sent at the moment. Please log in with a password "
                 "or try again later.")


class SmsUnavailable(SmsError):
    """The provider could not be reached or failed on its side."""

    code, status = "sms_unavailable", 503
    message = _l("Text messages cannot be sent at the moment. Please try again in a few "
                 "minutes.")
