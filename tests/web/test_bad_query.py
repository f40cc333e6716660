"""A search or filter value no page can use (a NUL character) is a 400 that says so, in the
user's language, on every list page (one check, `web.bounds`, before any view runs): never the
generic "something went wrong" page, never a 500."""
from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests import builders

PAGES = ["/admin/accounts?q=%00", "/admin/accounts?q=ab%00c&page=1",
         "/manage/households?q=%00", "/manage/drops?q=x%00"]


def _english(client: FlaskClient) -> None:
    client.post("/lang", data={"lang": "en", "next": "/"})


@pytest.mark.parametrize("url", PAGES)
def test_a_nul_in_a_search_says_what_to_change(client: FlaskClient, world: builders.World,
                                               url: str) -> None:
    builders.login(client, world.city_admin)
    resp = client.get(url)
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "无法执行此搜索" in page  # the title
    assert "搜索或筛选内容中含有不允许的字符" in page
    assert "出了点问题" not in page  # not the generic page

    _english(client)
    page = client.get(url).get_data(as_text=True)
    assert "This search cannot be run" in page
    assert "contains a character that is not allowed (a NUL character)" in page


def test_a_nul_in_a_query_argument_names_it_in_json(client: FlaskClient,
                                                    world: builders.World) -> None:
    builders.login(client, world.city_admin)
    resp = client.get("/admin/accounts?q=%00", headers={"Accept": "application/json"})
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "bad_query"
    assert list(body["fields"]) == ["q"]
    # A NUL in the argument's name: named without it.
    resp = client.get("/admin/accounts?q%00=1", headers={"Accept": "application/json"})
    assert resp.status_code == 400
    assert list(resp.get_json()["fields"]) == ["q"]
