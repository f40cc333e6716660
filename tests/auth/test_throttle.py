"""Login throttling: failures only, per account and per address, progressive waits that the
page states, shared through Redis between app instances, and X-Forwarded-For believed only
behind a trusted proxy."""
from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from community import create_app
from community.auth.throttle import Rule
from tests import builders
from tests.conftest import BASE_CONFIG

REDIS_URI = "redis://127.0.0.1:6379/0"
_PREFIX = f"test-throttle-{uuid.uuid4().hex[:8]}"


def _redis_client():
    import redis

    return redis.Redis.from_url(REDIS_URI, socket_connect_timeout=1)


@pytest.fixture(scope="module")
def redis_up() -> Iterator[None]:
    """Skip (saying why) only when no Redis answers; remove this module's keys after."""
    import redis

    client = _redis_client()
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at {REDIS_URI} is unreachable ({exc}); CI runs it")
    yield
    for key in client.scan_iter(match=f"*{_PREFIX}*"):
        client.delete(key)


def _redis_config(name: str, **extra: object) -> dict:
    """Rate limits on, in Redis, under a key prefix of this call's own (each backend's run of
    a test starts from nothing)."""
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": REDIS_URI,
            "RATELIMIT_KEY_PREFIX": f"{_PREFIX}-{name}-{uuid.uuid4().hex[:8]}", **extra}


def _fail(client: FlaskClient, login: str = "managera", **headers: str):
    return client.post("/login", data={"login": login, "password": "wrong-password-x"},
                       headers=headers)


def _good(client: FlaskClient, acct, **headers: str):
    return client.post("/login", data={"login": acct.username or acct.phone,
                                       "password": builders.PASSWORD}, headers=headers)


def test_the_delay_grows_and_is_capped() -> None:
    rule = Rule(free=5, base=30, cap=900, window=86400)
    assert [rule.delay(n) for n in (1, 4, 5, 6, 7, 8, 9, 10, 50)] == [
        0, 0, 30, 60, 120, 240, 480, 900, 900]


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}])
def test_good_logins_never_count(app: Flask, world: builders.World) -> None:
    client = app.test_client()
    for _ in range(12):
        assert _good(client, world.steward_a).status_code == 302
        client.post("/logout")


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True,
                                         "LOGIN_FREE_FAILURES_PER_ACCOUNT": 3}])
def test_failures_make_the_account_wait_and_the_page_says_how_long(
        app: Flask, world: builders.World) -> None:
    client = app.test_client()
    for _ in range(2):
        assert _fail(client).status_code == 401
    third = _fail(client)  # the third failure starts a 30-second wait
    assert third.status_code == 401
    assert "请等待 30 秒后再试" in third.get_data(as_text=True)
    # During the wait even the right password is not checked (case and spaces don't evade it).
    resp = client.post("/login", data={"login": " MANAGERA ", "password": builders.PASSWORD})
    assert resp.status_code == 429
    text = resp.get_data(as_text=True)
    assert "失败次数过多" in text
    assert "秒后再试" in text
    assert "短信" in text  # the owner's way round: an SMS code
    with client.session_transaction() as sess:
        sess["lang"] = "en"
    english = _good(client, world.manager_a).get_data(as_text=True)
    assert "Too many failed attempts. Please wait" in english
    assert "seconds" in english
    # Another account from the same address is not held up by this account's wait.
    assert _good(app.test_client(), world.manager_b).status_code == 302


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True,
                                         "LOGIN_FREE_FAILURES_PER_ACCOUNT": 2,
                                         "LOGIN_DELAY_SECONDS": 1}])
def test_the_owner_gets_in_after_the_wait(app: Flask, world: builders.World) -> None:
    client = app.test_client()
    _fail(client)
    assert _fail(client).status_code == 401  # a 1-second wait starts
    assert _good(client, world.manager_a).status_code == 429
    time.sleep(2.1)
    assert _good(client, world.manager_a).status_code == 302
    client.post("/logout")
    # The good login cleared the account's count: one more failure is free again.
    assert _fail(client).status_code == 401
    assert _good(client, world.manager_a).status_code == 302


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True,
                                         "LOGIN_FREE_FAILURES_PER_ACCOUNT": 2}])
def test_unknown_logins_wait_alike(app: Flask, world: builders.World) -> None:
    client = app.test_client()
    for login in ("nobody", "managera"):
        _fail(client, login)
        _fail(client, login)
        assert _fail(client, login).status_code == 429  # no hint of which accounts exist


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True,
                                         "LOGIN_FREE_FAILURES_PER_ADDRESS": 4}])
def test_spoofed_forwarded_for_changes_nothing_without_a_trusted_proxy(
        app: Flask, world: builders.World) -> None:
    client = app.test_client()
    statuses = [_fail(client, f"guess{i}", **{"X-Forwarded-For": f"10.0.0.{i}"}).status_code
                for i in range(8)]
    assert statuses[:4] == [401] * 4
    assert statuses[4:] == [429] * 4  # one address, whatever the header says


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "TRUSTED_PROXIES": 1,
                                         "LOGIN_FREE_FAILURES_PER_ADDRESS": 4}])
def test_forwarded_for_is_believed_behind_one_trusted_proxy(
        app: Flask, world: builders.World) -> None:
    client = app.test_client()
    statuses = [_fail(client, f"guess{i}", **{"X-Forwarded-For": f"10.0.0.{i}"}).status_code
                for i in range(8)]
    assert statuses == [401] * 8  # eight clients behind the proxy, each with its own count
    same = [_fail(client, f"other{i}", **{"X-Forwarded-For": "10.9.9.9"}).status_code
            for i in range(6)]
    assert same[4:] == [429, 429]


def test_failures_are_counted_across_two_app_instances_sharing_redis(
        redis_up: None, app: Flask, world: builders.World) -> None:
    config = {**BASE_CONFIG, "DATABASE_URL": app.config["DATABASE_URL"],
              **_redis_config("shared", LOGIN_FREE_FAILURES_PER_ACCOUNT=4)}
    first, second = create_app(config), create_app(config)
    for other in (first, second):  # both serve this test's (rolled-back) connection
        other.extensions["community.bind"] = app.extensions["community.bind"]
    # Two workers, alternating: four failures in all start the wait, seen by both.
    results = [_fail((first if i % 2 else second).test_client()).status_code for i in range(4)]
    assert results == [401] * 4
    assert _good(first.test_client(), world.manager_a).status_code == 429
    assert _good(second.test_client(), world.manager_a).status_code == 429
    # Good logins on another account, on both workers, do not count.
    for worker in (first, second, first, second, first, second):
        assert _good(worker.test_client(), world.manager_b).status_code == 302


def test_redis_storage_works_at_start_up(redis_up: None, app: Flask,
                                         world: builders.World) -> None:
    config = {**BASE_CONFIG, "DATABASE_URL": app.config["DATABASE_URL"],
              **_redis_config("startup")}
    prefix = config["RATELIMIT_KEY_PREFIX"]
    started = create_app(config)
    started.extensions["community.bind"] = app.extensions["community.bind"]
    assert _good(started.test_client(), world.manager_a).status_code == 302
    assert _fail(started.test_client()).status_code == 401
    keys = list(_redis_client().scan_iter(match=f"*{prefix}*"))
    assert keys, "the failure was counted in Redis"


def test_memory_storage_outside_tests_is_warned_about(app: Flask) -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    def attempts(config: dict) -> None:
        served = create_app({**BASE_CONFIG, "DATABASE_URL": app.config["DATABASE_URL"],
                             "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
                             **config})
        served.extensions["community.bind"] = app.extensions["community.bind"]
        for _ in range(2):
            _fail(served.test_client(), "nobody")

    handler = Keep(level=logging.WARNING)
    logging.getLogger("community").addHandler(handler)
    try:
        attempts({"TESTING": False})
        production = len(records)
        attempts({})
    finally:
        logging.getLogger("community").removeHandler(handler)
    assert production == 1  # once per process, at the first login it serves
    assert "memory://" in records[0].getMessage()
    assert len(records) == 1  # testing (or debug): no warning
