"""Login throttling that slows attackers down without locking the owner out.

Only FAILED logins count, per account (the login name as typed, normalised, whether or not
an account has it: the wait says nothing about which accounts exist) and per client address.
The first `free` failures cost nothing; each further failure makes the next attempt wait,
twice as long each time (30 s, 1 min, 2 min … up to `cap`). While a wait runs, attempts are
refused before the password is even checked, so guessing stays slow; once it is over, the
owner with the right password gets in (and a good login clears the account's count). The
count is forgotten `window` seconds after the first failure.

The counters live in the `limits` storage named by RATELIMIT_STORAGE_URI: Redis, shared by
every worker, in production; memory (one process only) in development and tests.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from limits.storage import Storage, storage_from_string

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    """How one kind of key (account or address) is throttled."""

    free: int  # failures before any wait
    base: int  # seconds of the first wait
    cap: int  # longest wait, in seconds
    window: int  # seconds after the first failure when the count is forgotten

    def delay(self, failures: int) -> int:
        """Seconds to wait after `failures` failures (0 while they are free)."""
        if failures < self.free:
            return 0
        return min(self.cap, self.base * 2 ** min(failures - self.free, 30))


class LoginThrottle:
    """Failure counters and waits for login keys, in a shared `limits` storage."""

    def __init__(self, storage: Storage, *, prefix: str, account: Rule, address: Rule,
                 local_warning: bool = False) -> None:
        self.storage = storage
        self.prefix = prefix
        self.rules = {"account": account, "address": address}
        self._warn_local = local_warning

    @classmethod
    def from_uri(cls, uri: str, *, prefix: str, account: Rule, address: Rule,
                 local_warning: bool = False) -> LoginThrottle:
        """A throttle on the storage at `uri` (memory://, redis://…); nothing connects yet.

        `local_warning`: log once, at the first use, that the counts are this process's only.
        """
        storage = storage_from_string(uri)
        if not isinstance(storage, Storage):  # an async:// storage cannot serve sync views
            raise ValueError(f"unsupported login throttle storage: {uri}")
        return cls(storage, prefix=prefix, account=account, address=address,
                   local_warning=local_warning)

    def _key(self, kind: str, value: str, part: str) -> str:
        return f"{self.prefix}login:{kind}:{part}:{value}"

    def wait(self, keys: dict[str, str | None]) -> int:
        """Seconds before the next attempt on these keys ({"account": login, "address": ip})
        is allowed; 0: go ahead. A storage failure is logged and lets the attempt through
        (the password check still runs): logins must not stop when Redis does."""
        if self._warn_local:
            self._warn_local = False
            log.warning("RATELIMIT_STORAGE_URI is memory://: failed logins are counted per "
                        "process, so several workers multiply the attempts an attacker gets. "
                        "Use redis://… in production.")
        longest = 0
        try:
            for kind, value in keys.items():
                if not value:
                    continue
                key = self._key(kind, value, "wait")
                if self.storage.get(key) > 0:
                    left = self.storage.get_expiry(key) - time.time()
                    longest = max(longest, max(1, round(left)))
        except Exception:  # noqa: BLE001 - any storage error: log it, do not lock everyone out
            log.exception("login throttle storage unavailable; attempt not throttled")
            return 0
        return longest

    def failed(self, keys: dict[str, str | None]) -> int:
        """Count one failure on each key; return the wait it starts (0 while failures are free)."""
        longest = 0
        try:
            for kind, value in keys.items():
                if not value:
                    continue
                rule = self.rules[kind]
                failures = self.storage.incr(self._key(kind, value, "failures"), rule.window)
                delay = rule.delay(failures)
                if delay:
                    wait_key = self._key(kind, value, "wait")
                    self.storage.clear(wait_key)
                    self.storage.incr(wait_key, delay)
                    longest = max(longest, delay)
        except Exception:  # noqa: BLE001
            log.exception("login throttle storage unavailable; failure not counted")
        return longest

    def succeeded(self, account: str) -> None:
        """A good login clears the account's failures (never the address's: one account the
        attacker owns must not reset the count of the address they guess from)."""
        try:
            self.storage.clear(self._key("account", account, "failures"))
            self.storage.clear(self._key("account", account, "wait"))
        except Exception:  # noqa: BLE001
            log.exception("login throttle storage unavailable; failures not cleared")

    def reset(self) -> None:
        """Forget every counter of the storage (tests)."""
        self.storage.reset()
