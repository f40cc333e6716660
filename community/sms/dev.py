"""The development SMS provider: codes go to the server log, never to a phone.

With `keep` (demo/debug mode only, `SMS_DEV_PAGE=1`), the latest codes are also kept in this
process's memory so the /auth/dev-sms page can show them and the demo works offline. The
outbox is per process: the demo runs one (`make run`, `flask run`); with several gunicorn
workers the page shows only the codes its own worker sent, which is why production uses a
real provider.
"""
from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from community import clock

log = logging.getLogger("community.sms")
LOUD_HINT = (" — SMS_PROVIDER=dev outside demo/debug mode: no text message was sent and "
             "residents cannot sign up by phone. Set SMS_PROVIDER=tencent and the TENCENT_SMS_* "
             "variables (README, Configuration).")


@dataclass(frozen=True)
class SentCode:
    """One code the development provider "sent"."""

    phone: str
    code: str
    sent_at: datetime
    minutes: int


class DevSender:
    """Writes each code to the log (WARNING, so `flask run` shows it); optionally keeps it."""

    def __init__(self, *, keep: int = 0, loud: bool = False) -> None:
        self.keep = keep
        # Outside demo/debug mode: an ERROR per code, so a production log shows the mistake.
        self.loud = loud
        self._outbox: deque[SentCode] = deque(maxlen=max(keep, 1))
        self._lock = threading.Lock()
        self.texts: deque[tuple[str, str]] = deque(maxlen=50)  # the latest notices "sent"

    def send_code(self, phone: str, code: str, *, minutes: int) -> None:
        """Log the code (and keep it for the dev page when keeping is on)."""
        log.log(logging.ERROR if self.loud else logging.WARNING,
                "开发短信 DEV SMS → %s: 验证码 code %s (%d 分钟内有效 valid %d minutes)%s",
                phone, code, minutes, minutes, LOUD_HINT if self.loud else "")
        if self.keep:
            with self._lock:
                self._outbox.append(SentCode(phone, code, clock.now(), minutes))

    def send_text(self, phone: str, text: str) -> None:
        """Log a notice (the inbox's SMS channel) and keep it in `texts` for tests and demos."""
        log.log(logging.ERROR if self.loud else logging.WARNING, "开发短信 DEV SMS → %s: %s%s",
                phone, text, LOUD_HINT if self.loud else "")
        with self._lock:
            self.texts.append((phone, text))

    def latest(self) -> list[SentCode]:
        """The kept codes, newest first (empty when keeping is off)."""
        if not self.keep:
            return []
        with self._lock:
            return list(reversed(self._outbox))
