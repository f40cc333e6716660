"""Importing household lists: partial imports, idempotence, refused files, XLSX, upload limits."""
from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import event
from sqlmodel import Session, select

from community.households import importer, services
from community.households.models import Card, Household
from tests import builders
from tests.households.helpers import (
    active_cards,
    actor_of,
    audits,
    count_households,
    english,
    read,
    upload,
)

MIXED = (
    "楼栋,单元,室,人数,状态\n"
    "5,1,101,3,在住\n"
    "5,1,102,0,在住\n"       # line 3: members out of range
    "5,1,103,2,迁出\n"
    "5,1,104,2,出租\n"       # line 5: unknown status
    "5,1,101,4,\n"           # line 6: duplicate of line 2
    ",1,105,2,\n"            # line 7: building missing
    "5,1,106,1,\n"
).encode("utf-8-sig")


def test_partial_import_keeps_good_rows(client, session: Session, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    before = count_households(session, world.a.id)
    resp = upload(client, world.a.id, MIXED, "玉龙名单.csv")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "导入结果" in page
    assert 'data-testid="import-created">3<' in page
    assert 'data-testid="import-rejected">4<' in page
    for line in (3, 5, 6, 7):
        assert f'data-line="{line}"' in page
    assert "人数须为 1 到 30 的整数" in page
    assert "无法识别的状态“出租”" in page
    assert "与第 2 行地址重复" in page
    assert "缺少楼栋" in page
    assert count_households(session, world.a.id) == before + 3
    [moved] = read(session, select(Household).where(
        Household.community_id == world.a.id, Household.building == "5", Household.room == "103"))
    assert (moved.building, moved.unit, moved.members, moved.status) == ("5", "1", 2, "moved_out")
    # Every new household got exactly one active card.
    assert active_cards(session, world.a.id) == before + 3
    entry = audits(session, "households.imported")[-1]
    assert entry.area_id == world.a.id
    assert entry.actor_id == world.manager_a.id
    assert entry.detail == {"file": "玉龙名单.csv", "created": 3, "updated": 0,
                            "unchanged": 0, "rejected": 4}


def test_second_import_changes_nothing(client, session: Session, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    upload(client, world.a.id, MIXED)
    cards_before = read(session, select(Card.id, Card.token))
    resp = upload(client, world.a.id, MIXED)
    page = resp.get_data(as_text=True)
    assert 'data-testid="import-created">0<' in page
    assert 'data-testid="import-updated">0<' in page
    assert 'data-testid="import-unchanged">3<' in page
    assert read(session, select(Card.id, Card.token)) == cards_before


def test_changed_rows_are_updated_and_missing_status_keeps_it(
    client, session: Session, world: builders.World
) -> None:
    builders.login(client, world.manager_a)
    upload(client, world.a.id, MIXED)
    # No status column now: 103 stays moved out; 101 gets 5 members; 106 unchanged.
    resp = upload(client, world.a.id,
                  "楼栋,单元,室,人数\n5,1,101,5\n5,1,103,2\n5,1,106,1\n".encode())
    page = resp.get_data(as_text=True)
    assert 'data-testid="import-updated">1<' in page
    assert 'data-testid="import-unchanged">2<' in page
    rows = {h.room: (h.members, h.status) for h in read(session, select(Household).where(
        Household.community_id == world.a.id, Household.building == "5"))}
    assert rows == {"101": (5, "active"), "103": (2, "moved_out"), "106": (1, "active")}
    # Existing households of the world (building 1) in the file's address space are matched too.
    resp = upload(client, world.a.id, b"building,unit,room,members,status\n1,1,101,3,moved_out\n"
)
    assert 'data-testid="import-updated">1<' in resp.get_data(as_text=True)
    [first] = read(session, select(Household).where(Household.id == world.households_a[0].id))
    assert first.status == "moved_out"


@pytest.mark.parametrize(("name", "data", "message"), [
    ("list.pdf", b"%PDF-1.4", "只能导入 CSV 或 XLSX 文件"),
    ("list.xlsx", b"not a workbook", "无法读取该文件"),
    ("list.csv", "姓名,电话\n张三,123\n".encode(), "未找到表头"),
])
def test_unusable_file_imports_nothing(client, session: Session, world: builders.World,
                                       name: str, data: bytes, message: str) -> None:
    builders.login(client, world.manager_a)
    before = count_households(session, world.a.id)
    resp = upload(client, world.a.id, data, name)
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert count_households(session, world.a.id) == before
    assert audits(session, "households.imported") == []


def test_too_many_rows_imports_nothing(client, session: Session, world: builders.World) -> None:
    body = "".join(f"{i // 500},1,{i},2\n" for i in range(20_001))
    builders.login(client, world.manager_a)
    before = count_households(session, world.a.id)
    resp = upload(client, world.a.id, ("楼栋,单元,室,人数\n" + body).encode())
    assert resp.status_code == 422
    assert "文件超过 20000 行" in resp.get_data(as_text=True)
    assert count_households(session, world.a.id) == before


def test_xlsx_import(client, session: Session, world: builders.World) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["楼栋", "单元", "室", "人数", "状态"])
    ws.append([7, 1, 701, 2, "在住"])
    ws.append([7, 1, 702, 99, "在住"])
    ws.append(["7栋", "1单元", "703室", 1.0, "迁出"])
    buf = io.BytesIO()
    wb.save(buf)
    builders.login(client, world.manager_a)
    resp = upload(client, world.a.id, buf.getvalue(), "list.xlsx")
    page = resp.get_data(as_text=True)
    assert 'data-testid="import-created">2<' in page
    assert 'data-line="3"' in page
    rooms = sorted(h.room for h in read(session, select(Household)
                                        .where(Household.building == "7")))
    assert rooms == ["701", "703"]


def test_rejections_in_english(client, session: Session, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    english(client, "/manage/households/import")
    page = upload(client, world.a.id, MIXED).get_data(as_text=True)
    assert "Import result" in page
    assert "Unknown status “出租”" in page
    assert "The same address already appears on line 2." in page
    assert "Building is missing." in page
    bad = upload(client, world.a.id, b"%PDF", "x.pdf").get_data(as_text=True)
    assert "Only CSV and XLSX files can be imported." in bad


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 2000}])
def test_oversized_upload_is_413(client, session: Session, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    before = count_households(session, world.a.id)
    resp = upload(client, world.a.id, ("楼栋,单元,室,人数\n" + "1,1,1,1\n" * 1000).encode())
    assert resp.status_code == 413
    assert "上传的文件过大" in resp.get_data(as_text=True)
    assert count_households(session, world.a.id) == before


def test_import_page_and_missing_file(client, session: Session, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    page = client.get("/manage/households/import").get_data(as_text=True)
    assert "导入住户" in page
    assert world.a.name in page
    assert world.b.name not in page
    resp = client.post("/manage/households/import", data={"community_id": str(world.a.id)})
    assert resp.status_code == 422
    assert "请选择文件" in resp.get_data(as_text=True)


def test_bulk_import_uses_few_statements(app, session: Session, world: builders.World) -> None:
    """Thousands of rows: one load, a few batched inserts and updates, not one query per row."""
    rows = "".join(f"{b},{u},{r},{1 + r % 5}\n" for b in range(11, 21) for u in (1, 2)
                   for r in range(101, 201))
    data = ("楼栋,单元,室,人数\n" + rows).encode()
    actor = actor_of(session, world.manager_a)
    statements: list[str] = []
    engine = session.get_bind()

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        result = services.import_households(session, actor=actor, community_id=world.a.id,
                                            filename="big.csv",
                                            parsed=importer.parse("big.csv", data))
        session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert (result.created, result.updated, result.unchanged) == (2000, 0, 0)
    assert len(statements) < 40, len(statements)
    assert active_cards(session, world.a.id) == 2000 + len(world.households_a)
    codes = read(session, select(Card.short_code))
    assert len(codes) == len(set(codes))


def test_service_refuses_foreign_community(session: Session, world: builders.World) -> None:
    from community.errors import Forbidden

    actor = actor_of(session, world.manager_b)
    with pytest.raises(Forbidden):
        services.import_households(session, actor=actor, community_id=world.a.id,
                                   filename="x.csv", parsed=importer.Parsed())


def test_template_download(client, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    resp = client.get("/manage/households/import/template.csv")
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    assert resp.data.startswith("\ufeff楼栋,单元,室,人数,状态".encode())
    assert "attachment" in resp.headers["Content-Disposition"]
    client.post("/logout")
    builders.login(client, world.resident_a)
    assert client.get("/manage/households/import/template.csv").status_code == 403


def test_import_page_preselects_the_community(client, world: builders.World) -> None:
    builders.login(client, world.city_admin)
    page = client.get(f"/manage/households/import?community_id={world.b.id}").get_data(as_text=True)
    assert f'<option selected value="{world.b.id}">' in page
    assert f'<option value="{world.a.id}">' in page


def test_an_import_answers_a_redirect_to_its_result(client, session: Session,
                                                   world: builders.World) -> None:
    """Post/Redirect/Get (QA #20): a successful import answers 303 to a result page of its
    own; reloading it imports nothing again, the rejected rows follow the reader's language,
    and another account cannot read it."""
    builders.login(client, world.manager_a)
    resp = upload(client, world.a.id, MIXED, "玉龙名单.csv", follow=False)
    assert resp.status_code == 303
    where = resp.headers["Location"]
    assert where.startswith("/manage/households/import/result/")
    for _reload in range(2):
        page = client.get(where).get_data(as_text=True)
        assert 'data-testid="import-created">3<' in page
        assert 'data-line="7"' in page
        assert "缺少楼栋" in page
    assert len(audits(session, "households.imported")) == 1
    english(client, where)
    assert "building" in client.get(where).get_data(as_text=True).lower()
    client.post("/logout")
    builders.login(client, world.manager_b)
    assert client.get(where).status_code == 404
    assert client.get("/manage/households/import/result/nonsense").status_code == 404
