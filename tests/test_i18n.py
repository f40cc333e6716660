"""Translations: every msgid has Chinese, Chinese is the default, the compiled catalog is loaded."""
from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest
from babel.support import Translations
from flask import Flask
from flask_babel import force_locale, gettext

from community import create_app
from tests import builders

ROOT = Path(__file__).resolve().parent.parent


def _i18n_tool() -> ModuleType:
    """scripts/i18n.py, imported by path (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "scripts" / "i18n.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    """scripts/i18n.py, its extraction of every marked message (3-5 s: the whole source tree
    and the templates) made once for this module's tests, which only read it."""
    module = _i18n_tool()
    module.extract = functools.cache(module.extract)
    return module


@pytest.fixture
def bare_app(tmp_path: Path) -> Flask:
    """The app without a database: translation lookups need none."""
    return create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/none.db",
                       "SECRET_KEY": "test-only"})


def test_every_msgid_has_a_chinese_translation(tool: ModuleType) -> None:
    missing = tool.missing()
    assert missing == [], (
        "untranslated (write {msgid: 中文} JSON, run scripts/i18n.py update, add, compile): "
        f"{missing}")


# English msgids that must name Chinese text: the literal column names and values of the
# household import file, and an example of what the search box takes.
CJK_DATA_MSGIDS = ("Unknown status", "No header row found", "Upload a CSV or XLSX file",
                   "e.g. 3-2-301")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def test_no_english_msgid_carries_a_chinese_gloss(tool: ModuleType) -> None:
    """QA: English pages showed "Overflowing bin (满溢)": the Chinese belongs in the zh
    catalog, never in the English source string."""
    glossed = []
    for message in tool.extract():
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        for msgid in ids:
            if msgid and CJK.search(msgid) and not msgid.startswith(CJK_DATA_MSGIDS):
                glossed.append(msgid)
    assert glossed == [], glossed


def test_compiled_catalog_matches_the_po(tool: ModuleType) -> None:
    """A translation added to the .po but not compiled would show English on the site."""
    po = tool.load("zh")
    mo = Translations.load(str(tool.TRANSLATIONS), ["zh"])
    stale = [m.id for m in po if m.id and isinstance(m.id, str) and m.string
             and "fuzzy" not in m.flags and mo.gettext(m.id) != m.string]
    assert stale == [], f"run scripts/i18n.py compile: {stale[:10]}"


def test_zh_catalog_is_loaded(bare_app: Flask) -> None:
    with bare_app.test_request_context("/"):
        with force_locale("zh"):
            assert gettext("Log in") == "登录"
            assert gettext("Login failed") == "登录失败"
        with force_locale("en"):
            assert gettext("Log in") == "Log in"


def test_login_page_is_chinese_by_default_and_switches(client, world: builders.World) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in page
    assert "<h1>登录</h1>" in page
    assert "手机号或用户名" in page
    resp = client.post("/lang", data={"lang": "en", "next": "/login"})
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/login")
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="en"' in page
    assert "<h1>Log in</h1>" in page
    assert "登录" not in page
    client.post("/lang", data={"lang": "zh", "next": "/login"})
    assert "<h1>登录</h1>" in client.get("/login").get_data(as_text=True)


def test_unknown_language_and_foreign_next_are_ignored(client, world: builders.World) -> None:
    resp = client.post("/lang", data={"lang": "fr", "next": "https://evil.example/"})
    assert resp.status_code == 302
    assert "evil" not in resp.headers["Location"]
    assert "<h1>登录</h1>" in client.get("/login").get_data(as_text=True)


def test_language_choice_is_remembered_on_the_account(client, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    client.post("/lang", data={"lang": "en", "next": "/"})
    client.post("/logout")
    fresh = client.application.test_client()
    builders.login(fresh, world.manager_a)
    assert "Audit log" in fresh.get("/admin/audit/").get_data(as_text=True)
