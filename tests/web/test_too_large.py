"""The 413 page (a request over the size limit) names the limit of what the form sends: a
photo form the photo's, the household list form the list's, any other route the request's;
in Chinese and English. A resident sending a photo is never told about household lists."""
from __future__ import annotations

import io

import pytest
from flask import Flask
from flask.testing import FlaskClient

from community.web.errors import UPLOAD_FORMS
from tests import builders
from tests.households.helpers import upload

BIG = {"MAX_CONTENT_LENGTH": 64 * 1024}  # 64 KB, so the tests send little


def _report(client: FlaskClient, world: builders.World):
    return client.post("/reports/new", content_type="multipart/form-data", data={
        "community_id": str(world.a.id), "kind": "overflow",
        "photo": (io.BytesIO(b"\xff\xd8" + b"0" * 100_000), "bin.jpg")})


@pytest.mark.parametrize("app_config", [BIG])
def test_a_photo_too_large_for_the_request_names_the_photo_limit(
        client: FlaskClient, world: builders.World) -> None:
    builders.login(client, world.resident_a)
    resp = _report(client, world)
    assert resp.status_code == 413
    page = resp.get_data(as_text=True)
    assert "住户名单" not in page
    assert "照片最大 5 MB" in page
    assert "表单超过了 64 KB" in page
    client.post("/lang", data={"lang": "en"})
    en = _report(client, world).get_data(as_text=True)
    assert "household list" not in en
    assert "up to 5 MB" in en
    assert "larger than 64 KB" in en


@pytest.mark.parametrize("app_config", [BIG])
def test_a_household_list_too_large_names_the_lists_limit(
        client: FlaskClient, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    resp = upload(client, world.a.id, b"1,1,101,2\n" * 10_000)
    assert resp.status_code == 413
    page = resp.get_data(as_text=True)
    assert "住户名单——最大 5 MB" in page
    assert "照片" not in page.split('data-testid="error-advice"')[1].split("</p>")[0]


@pytest.mark.parametrize("app_config", [BIG])
def test_another_route_names_the_request_limit(client: FlaskClient,
                                               world: builders.World) -> None:
    builders.login(client, world.resident_a)
    resp = client.post("/reports/1/reopen", data={"reason": "x" * 100_000})
    assert resp.status_code == 413
    page = resp.get_data(as_text=True)
    assert "单次请求允许的 64 KB" in page
    advice = page.split('data-testid="error-advice"')[1].split("</p>")[0]
    assert "住户名单" not in advice
    assert "照片" not in advice


def test_every_upload_form_named_exists(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(UPLOAD_FORMS) <= endpoints
