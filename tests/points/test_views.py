"""Manager points pages on both backends: the overview's figures against a hand-computed
ledger, scope (manager, area admin, city admin), one household's ledger and its manual
adjustment (refusals change nothing), rule versions and publishing, and the exports."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import func
from sqlmodel import Session, col, select

from community import clock, tabular
from community.audit.models import AuditEntry
from community.auth import services as auth_services
from community.points import exports, forms, queries, services
from community.points.models import LedgerEntry, PointsAccount, PointsRuleSet
from community.points.rules import DropFacts, RuleSet
from community.points.schemas import AdjustIn
from tests import builders
from tests.stations.helpers import english, read

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 8, 30, tzinfo=SH)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def _frozen():
    """Every page and service sees 2026-11-20 08:30 in Shanghai."""
    with clock.freeze(NOW):
        yield


def _facts(session: Session, st, hh, day: date, *, category="kitchen", quality="correct"):
    d = builders.drop(session, st, hh, happened_at=datetime.combine(day, NOW.timetz()),
                      category=category, quality=quality)
    return DropFacts(d.id, d.household_id, d.category, d.quality, d.in_window, d.local_date)


def _award(session: Session, community_id: int, *facts: DropFacts) -> None:
    services.award_for_drops(session, list(facts), community_id=community_id, now=NOW)


def _raw(session: Session, hh, kind: str, amount: int, day: date, reason: str) -> None:
    """An entry the rewards or expiry module would write (they keep the balance in step)."""
    account = session.execute(select(PointsAccount).where(
        col(PointsAccount.household_id) == hh.id)).scalar_one()
    session.add(LedgerEntry(community_id=account.community_id, account_id=account.id,
                            amount=amount, kind=kind,
                            source=f"test:{kind}:{hh.id}:{day}", reason=reason, at=NOW,
                            local_date=day))
    account.balance += amount
    session.flush()


@dataclass
class Scene:
    """The world with a small ledger whose figures are computed by hand in the tests."""

    w: builders.World
    drop_id: int  # h1's kitchen drop of 2026-09-15


@pytest.fixture
def scene(app, session: Session, world: builders.World) -> Scene:
    """A's ledger (h1, h2, h3) and one B entry; each step's balance is noted on the right.

    h1: 2025-11-30 kitchen +2 (outside the 12 months)           2
        2026-09-15 kitchen +2, hazardous +3                      7
        2026-10-10/11/12 incorrect: three strikes, penalty -5    2
        2026-11-20 adjust +20                                    22
        2026-11-20 redeem -10, refund +4, expire -3              13
    h2: 2026-10-05 recyclable +2                                 2
        2026-11-20 adjust -1                                     1
        regrade of the 10-05 drop to incorrect: reversal -1 (only 1 left), strike 0
    h3: 2026-11-20 adjust +7                                     7
    B:  2026-11-01 kitchen +2
    """
    w = world
    h1, h2, h3 = w.households_a
    st = builders.station(session, w.a)
    st_b = builders.station(session, w.b)
    manager = auth_services.load_actor(session, w.manager_a.id)
    with app.test_request_context():
        _award(session, w.a.id, _facts(session, st, h1, date(2025, 11, 30)))
        first = _facts(session, st, h1, date(2026, 9, 15))
        _award(session, w.a.id, first,
               _facts(session, st, h1, date(2026, 9, 15), category="hazardous"))
        late = _facts(session, st, h2, date(2026, 10, 5), category="recyclable")
        _award(session, w.a.id, late)
        _award(session, w.a.id, *[_facts(session, st, h1, date(2026, 10, d), quality="incorrect")
                                  for d in (10, 11, 12)])
        services.adjust(session, actor=manager, household_id=h1.id,
                        data=AdjustIn.parse(amount=20, reason="志愿服务奖励"), now=NOW)
        _raw(session, h1, "redeem", -10, TODAY, "环保袋")
        _raw(session, h1, "refund", 4, TODAY, "redemption")
        _raw(session, h1, "expire", -3, TODAY, "year:2025")
        services.adjust(session, actor=manager, household_id=h2.id,
                        data=AdjustIn.parse(amount=-1, reason="更正"),
                        now=NOW)
        builders.regrade(
            session, DropFacts(late.drop_id, h2.id, "recyclable", "incorrect", True,
                               late.local_date),
            community_id=w.a.id, regrade_id=1, now=NOW)
        services.adjust(session, actor=manager, household_id=h3.id,
                        data=AdjustIn.parse(amount=7, reason="=HYPERLINK(\"x\")"), now=NOW)
        _award(session, w.b.id, _facts(session, st_b, w.households_b[0], date(2026, 11, 1)))
    session.commit()
    assert services.verify(session) == []
    session.commit()
    return Scene(w, first.drop_id)


def _months(page: str) -> dict[str, dict[str, int]]:
    """The month table of the overview: month → column → value."""
    out = {}
    for month, body in re.findall(r'data-month="([\d-]+)">(.*?)</tr>', page, re.S):
        out[month] = {c: int(v) for c, v in re.findall(r'data-col="(\w+)">(-?\d+)<', body)}
    return out


def _total(page: str) -> dict[str, int]:
    body = page.split('data-testid="month-total"', 1)[1].split("</tr>", 1)[0]
    return {c: int(v) for c, v in re.findall(r'data-col="(\w+)">(-?\d+)<', body)}


def _stat(page: str, testid: str) -> int:
    return int(re.search(rf'data-testid="{testid}">(-?\d+)<', page).group(1))  # type: ignore


ZERO = dict.fromkeys(("issued", "penalties", "penalties_refunded", "corrections",
                      "adjustments", "redeemed", "expired", "net"), 0)


def test_overview_figures_equal_the_hand_computed_ledger(client, scene: Scene) -> None:
    builders.login(client, scene.w.manager_a)
    resp = client.get("/manage/points")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert f"积分 · {scene.w.a.name}" in page
    assert "积分余额合计" in page
    assert _stat(page, "points-outstanding") == 20  # 13 + 0 + 7
    assert _stat(page, "points-holders") == 2       # h1 and h3; h2 is back at 0
    months = _months(page)
    assert list(months) == [f"{y}-{m:02d}" for y, m in
                            [(2026, m) for m in range(11, 0, -1)] + [(2025, 12)]]
    assert months["2026-11"] == ZERO | {"adjustments": 26, "redeemed": 6, "expired": 3,
                                        "net": 17}
    assert months["2026-10"] == ZERO | {"issued": 2, "penalties": 5, "corrections": -1,
                                        "net": -4}
    assert months["2026-09"] == ZERO | {"issued": 5, "net": 5}
    assert months["2026-08"] == ZERO
    assert _total(page) == {"issued": 7, "penalties": 5, "penalties_refunded": 0,
                            "corrections": -1, "adjustments": 26, "redeemed": 6, "expired": 3,
                            "net": 18}
    # What the 12 months leave out is the entry of 2025-11: 20 outstanding = 18 + 2.
    english(client, "/manage/points")
    page = client.get("/manage/points").get_data(as_text=True)
    assert f"Points · {scene.w.a.name}" in page
    assert "Points outstanding" in page
    assert "Households with points" in page
    assert _total(page)["net"] == 18


def _client(app, who):
    """A fresh client logged in as `who` (a client stays logged in as its first account)."""
    client = app.test_client()
    builders.login(client, who)
    return client


def test_scope_manager_area_admin_and_city_admin(app, scene: Scene) -> None:
    w = scene.w
    client = _client(app, w.manager_b)
    page = client.get("/manage/points").get_data(as_text=True)
    assert _stat(page, "points-outstanding") == 2
    assert _months(page)["2026-11"]["issued"] == 2
    assert w.a.name not in page
    assert client.get(f"/manage/points?community_id={w.a.id}").status_code == 403

    client = _client(app, w.area_admin_a)  # street A holds community A only
    page = client.get("/manage/points").get_data(as_text=True)
    assert _stat(page, "points-outstanding") == 20
    assert w.b.name not in page
    assert client.get(f"/manage/points?community_id={w.b.id}").status_code == 403

    client = _client(app, w.city_admin)
    page = client.get("/manage/points").get_data(as_text=True)
    assert "全部社区（2）" in page
    assert _stat(page, "points-outstanding") == 22
    assert _months(page)["2026-11"]["issued"] == 2
    assert _total(page)["net"] == 20
    page = client.get(f"/manage/points?community_id={w.b.id}").get_data(as_text=True)
    assert _stat(page, "points-outstanding") == 2
    assert client.get(f"/manage/points?community_id={w.street_a.id}").status_code == 404


def test_steward_and_resident_are_refused(app, scene: Scene) -> None:
    hh = scene.w.households_a[0]
    for who in (scene.w.steward_a, scene.w.resident_a):
        client = _client(app, who)
        assert client.get("/manage/points").status_code == 403
        assert client.get(f"/manage/points/households/{hh.id}").status_code == 403
        assert client.get("/manage/points/rules").status_code == 403


def test_nav_and_household_pages_link_to_the_points_pages(client, scene: Scene) -> None:
    builders.login(client, scene.w.manager_a)
    hh = scene.w.households_a[0]
    listing = client.get("/manage/households").get_data(as_text=True)
    assert 'href="/manage/points"' in listing
    assert f'href="/manage/points/households/{hh.id}"' in listing
    edit = client.get(f"/manage/households/{hh.id}/edit").get_data(as_text=True)
    assert f'href="/manage/points/households/{hh.id}"' in edit


def _rows(page: str) -> list[tuple[str, str]]:
    """(kind, amount) of the ledger rows, as listed."""
    return re.findall(r'data-kind="(\w+)" data-entry-id="-?\d+">.*?data-col="amount">([^<]*)<',
                      page, re.S)


# h1's entries newest written first: the drops' own earns and strikes (on their rows, dated
# when received) among the ledger's.
H1_ROWS = [("expire", "-3"), ("refund", "+4"), ("redeem", "-10"), ("adjust", "+20"),
           ("penalty", "-5"), ("strike", "0"), ("strike", "0"), ("strike", "0"),
           ("earn", "+3"), ("earn", "+2"), ("earn", "+2")]


def test_household_ledger_lists_entries_newest_first_with_reasons(client, scene: Scene) -> None:
    h1 = scene.w.households_a[0]
    builders.login(client, scene.w.manager_a)
    page = client.get(f"/manage/points/households/{h1.id}").get_data(as_text=True)
    assert _stat(page, "ledger-balance") == 13
    assert "1栋1单元101室" in page
    assert _rows(page) == H1_ROWS
    assert "社区调整：志愿服务奖励" in page
    assert "第3次分类错误扣分" in page
    assert "managera" in page  # who adjusted
    assert f'href="/manage/drops/{scene.drop_id}"' in page
    english(client)
    page = client.get(f"/manage/points/households/{h1.id}").get_data(as_text=True)
    assert "Adjustment by the community: 志愿服务奖励" in page
    assert "Kitchen waste sorted correctly" in page


@pytest.mark.parametrize("app_config", [{"PAGE_SIZE": 4}])
def test_ledger_pages_older_entries_by_keyset(client, scene: Scene) -> None:
    h1 = scene.w.households_a[0]
    builders.login(client, scene.w.manager_a)
    url = f"/manage/points/households/{h1.id}"
    seen: list[tuple[str, str]] = []
    links: list[str] = []
    pages = 0
    while url:
        page = client.get(url).get_data(as_text=True)
        rows = _rows(page)
        assert 0 < len(rows) <= 4
        seen += rows
        pages += 1
        found = re.search(r'href="([^"]+)" data-testid="ledger-older"', page)
        url = found.group(1).replace("&amp;", "&") if found else ""
        links += [url] if url else []
    assert pages == 3
    assert seen == H1_ROWS  # the pages split at a ledger row and at a drop's strike
    # The cursor after a drop's strike carries its internal (negative) id, and it works.
    assert any(re.search(r"before=\d+\.-\d+$", u) for u in links), links


def _ledger_state(session: Session) -> tuple:
    session.expire_all()
    state = (
        read(session, select(func.count()).select_from(LedgerEntry))[0],
        read(session, select(PointsAccount.household_id, PointsAccount.balance)
             .order_by(col(PointsAccount.id))),
        read(session, select(func.count()).select_from(AuditEntry)
             .where(col(AuditEntry.action) == "points.adjusted"))[0],
    )
    return state


def test_adjustment_is_stored_with_its_reason(client, session: Session, scene: Scene) -> None:
    h3 = scene.w.households_a[2]
    builders.login(client, scene.w.manager_a)
    resp = client.post(f"/manage/points/households/{h3.id}/adjust",
                       data={"amount": " -7 ", "reason": "  重复发放，收回  "})
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已保存 -7 积分的调整" in page
    assert _stat(page, "ledger-balance") == 0
    assert services.balance(session, h3.id) == 0
    entry = read(session, select(LedgerEntry).order_by(col(LedgerEntry.id).desc()))[0]
    assert (entry.kind, entry.amount, entry.reason, entry.actor_id) == (
        "adjust", -7, "重复发放，收回", scene.w.manager_a.id)


@pytest.mark.parametrize(("data", "field", "zh", "en"), [
    ({"amount": "0"}, "amount", "调整数量不能为零", "The amount cannot be zero."),
    ({"amount": "-8"}, "amount", "积分余额不足：积分不能低于零。",
     "The balance is too small: points can never go below zero."),
    ({"amount": "100001"}, "amount", "一次最多增加或扣除 100,000 积分",
     "At most 100,000 points can be added or taken at once."),
    ({"amount": "abc"}, "amount", "请输入整数积分", "Enter a whole number of points"),
    ({"amount": "", "reason": "x"}, "amount", "请输入整数积分", "Enter a whole number of points"),
    ({"reason": ""}, "reason", "请填写原因", "Please give a reason; the household will see it."),
    ({"reason": "   "}, "reason", "请填写原因", "Please give a reason; the household will see it."),
    ({"reason": "长" * 201}, "reason", "最多 200 个字", "At most 200 characters."),
])
def test_adjustment_refusals_show_at_the_field_and_change_nothing(
        client, session: Session, scene: Scene, data: dict, field: str, zh: str,
        en: str) -> None:
    h3 = scene.w.households_a[2]  # balance 7
    url = f"/manage/points/households/{h3.id}/adjust"
    form = {"amount": "5", "reason": "测试"} | data
    builders.login(client, scene.w.manager_a)
    before = _ledger_state(session)
    resp = client.post(url, data=form)
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    # The message sits in the field's own block, next to its input.
    block = page.split(f'name="{field}"', 1)[1].split("</div>", 1)[0]
    assert zh in block
    assert _stat(page, "ledger-balance") == 7
    english(client)
    page = client.post(url, data=form).get_data(as_text=True)
    assert en in page.split(f'name="{field}"', 1)[1].split("</div>", 1)[0]
    assert _ledger_state(session) == before


def test_foreign_adjustment_is_refused_and_changes_nothing(client, session: Session,
                                                           scene: Scene) -> None:
    h1 = scene.w.households_a[0]
    before = _ledger_state(session)
    builders.login(client, scene.w.manager_b)
    resp = client.post(f"/manage/points/households/{h1.id}/adjust",
                       data={"amount": "5", "reason": "外来"})
    assert resp.status_code == 403
    assert _ledger_state(session) == before


# --- Rules ---------------------------------------------------------------------------------

RULES_FORM = {"points_kitchen": "3", "points_recyclable": "2", "points_hazardous": "4",
              "points_other": "1", "ungraded_earns": "y", "daily_cap": "8",
              "strike_limit": "3", "strike_window_days": "30", "strike_penalty": "5",
              "streak_days": "7", "streak_bonus": "6", "expiry_years": "1",
              "steward_points_per_hour": "10"}


def _versions(page: str) -> dict[str, dict[str, str]]:
    out = {}
    for version, body in re.findall(r'data-testid="rules-row" data-version="(\d+)"[^>]*>(.*?)</tr>',
                                    page, re.S):
        out[version] = dict(re.findall(r'data-col="(\w+)">([^<]*)<', body))
        out[version]["in_force"] = str("rules-in-force" in body)
    return out


def test_rules_page_shows_defaults_and_prefills_the_form(client, scene: Scene) -> None:
    builders.login(client, scene.w.manager_a)
    page = client.get("/manage/points/rules").get_data(as_text=True)
    assert f"积分规则 · {scene.w.a.name}" in page
    versions = _versions(page)
    assert list(versions) == ["0"]
    assert versions["0"]["points_hazardous"] == "3"
    assert versions["0"]["daily_cap"] == "6"
    assert versions["0"]["in_force"] == "True"
    assert 'name="daily_cap" required type="number" value="6"' in page or \
        re.search(r'name="daily_cap"[^>]*value="6"', page)
    assert re.search(r'name="effective_from"[^>]*value="2026-11-20"', page)
    english(client)
    page = client.get("/manage/points/rules").get_data(as_text=True)
    assert "Publish a new version" in page
    assert "Defaults" in page


def test_publishing_versions_shows_them_with_dates_and_values(client, session: Session,
                                                              scene: Scene) -> None:
    w = scene.w
    builders.login(client, w.manager_a)
    url = f"/manage/points/rules?community_id={w.a.id}"
    resp = client.post(url, data=RULES_FORM | {"effective_from": "2026-12-01"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "积分规则第 1 版已发布，自 2026-12-01 起生效" in page
    versions = _versions(page)
    assert list(versions) == ["1", "0"]
    assert (versions["1"]["points_kitchen"], versions["1"]["daily_cap"],
            versions["1"]["streak_bonus"]) == ("3", "8", "6")
    assert versions["1"]["in_force"] == "False"
    assert versions["0"]["in_force"] == "True"
    assert "即将生效" in page
    # A second version from today is in force now; the form starts from it.
    resp = client.post(url, data=RULES_FORM | {"daily_cap": "9", "ungraded_earns": "",
                                               "effective_from": "2026-11-20"})
    assert resp.status_code == 302
    page = client.get(url).get_data(as_text=True)
    versions = _versions(page)
    assert list(versions) == ["2", "1", "0"]
    assert versions["2"]["in_force"] == "True"
    assert versions["2"]["daily_cap"] == "9"
    assert re.search(r'name="daily_cap"[^>]*value="9"', page)
    rows = read(session, select(PointsRuleSet).order_by(col(PointsRuleSet.version)))
    assert [(r.version, r.effective_from, r.created_by) for r in rows] == [
        (1, date(2026, 12, 1), w.manager_a.id), (2, TODAY, w.manager_a.id)]
    assert rows[1].params["ungraded_earns"] is False
    assert rows[1].params["points"] == {"kitchen": 3, "recyclable": 2, "hazardous": 4,
                                        "other": 1}
    assert services.current_rules(session, w.a.id, TODAY).daily_cap == 9
    session.commit()


@pytest.mark.parametrize(("changes", "field", "zh", "en"), [
    ({"daily_cap": "2000"}, "daily_cap", "请输入 0 到 1000 之间的整数",
     "Enter a whole number from 0 to 1000."),
    ({"points_hazardous": "101"}, "points_hazardous", "请输入 0 到 100 之间的整数",
     "Enter a whole number from 0 to 100."),
    ({"streak_days": "1"}, "streak_days", "请输入 2 到 366 之间的整数",
     "Enter a whole number from 2 to 366."),
    ({"strike_limit": ""}, "strike_limit", "请输入 1 到 100 之间的整数",
     "Enter a whole number from 1 to 100."),
    ({"effective_from": "2026-11-19"}, "effective_from", "请选择今天（2026-11-20）或之后的日期",
     "Choose today (2026-11-20) or a later date"),
    ({"effective_from": ""}, "effective_from", "请选择规则生效的日期",
     "Please choose the date the rules apply from."),
])
def test_rules_refusals_per_field_change_nothing(client, session: Session, scene: Scene,
                                                 changes: dict, field: str, zh: str,
                                                 en: str) -> None:
    builders.login(client, scene.w.manager_a)
    url = f"/manage/points/rules?community_id={scene.w.a.id}"
    data = RULES_FORM | {"effective_from": "2026-12-01"} | changes
    resp = client.post(url, data=data)
    assert resp.status_code == 422
    block = resp.get_data(as_text=True).split(f'name="{field}"', 1)[1].split("</div>", 1)[0]
    assert zh in block
    english(client)
    block = client.post(url, data=data).get_data(as_text=True).split(
        f'name="{field}"', 1)[1].split("</div>", 1)[0]
    assert en in block
    assert read(session, select(PointsRuleSet)) == []


def _field_range(name: str) -> tuple[int, int]:
    """The limits the form's input model (RulesIn) puts on a field."""
    from annotated_types import Ge, Le

    meta = forms.RulesForm.model.model_fields[name].metadata
    return (next(m.ge for m in meta if isinstance(m, Ge)),
            next(m.le for m in meta if isinstance(m, Le)))


@pytest.mark.parametrize("name", [*forms.POINT_FIELDS, *forms.NUMBER_FIELDS])
def test_form_ranges_are_the_ruleset_ranges(name: str) -> None:
    """The form refuses exactly what RuleSet.problems() refuses, at both ends."""
    low, high = _field_range(name)

    def problems(value: int) -> list[str]:
        if name in forms.POINT_FIELDS:
            return RuleSet(points={forms.POINT_FIELDS[name]: value}).problems()
        return RuleSet(**{name: value}).problems()

    assert problems(low) == []
    assert problems(high) == []
    assert problems(low - 1)
    assert problems(high + 1)


# --- Exports -------------------------------------------------------------------------------

def _csv(resp) -> list[list[str]]:
    assert resp.status_code == 200, resp.status_code
    assert resp.data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))


def test_entries_csv_parses_back_with_local_times_and_escapes(client, session: Session,
                                                              scene: Scene) -> None:
    w = scene.w
    builders.login(client, w.manager_a)
    resp = client.get(f"/manage/points/entries.csv?community_id={w.a.id}"
                      "&day_from=2026-10-01&day_to=2026-11-30")
    assert "attachment" in resp.headers["Content-Disposition"]
    assert resp.headers["Cache-Control"] == "no-store"
    rows = _csv(resp)
    assert rows[0] == ["记录编号", "日期", "时间", "住户或督导员", "类型", "积分", "原因",
                       "规则版本", "操作人", "投放记录", "更正对象"]
    body = rows[1:]
    # October: h2's earn and its reversal, h1's three strikes and the penalty, h2's strike
    # of the regrade... then November's adjustments, redeem, refund, expire (A only).
    assert sorted(r[4] for r in body) == sorted(
        ["获得", "更正", "警告", "警告", "警告", "扣分", "警告",
         "调整", "调整", "调整", "兑换", "退还", "过期"])
    assert all(r[1] >= "2026-10-01" for r in body)
    assert sum(int(r[5]) for r in body) == 2 - 1 - 5 + 20 - 1 + 7 - 10 + 4 - 3
    adjust = next(r for r in body if r[6].endswith("志愿服务奖励"))
    assert adjust[1:4] == ["2026-11-20", "2026-11-20 08:30:00", "1栋1单元101室"]
    assert adjust[5] == "20"
    assert adjust[7] == ""
    assert adjust[8] == "managera"
    hyperlink = next(r for r in body if "HYPERLINK" in r[6])
    assert hyperlink[6].startswith("社区调整")  # the reason is inside a sentence
    earn = next(r for r in body if r[4] == "获得")
    assert earn[6] == "可回收物分类正确"
    # The regrade took back h2's drop's own earn (on the drop's row): the correction says what.
    reversal = next(r for r in body if r[4] == "更正")
    assert reversal[5] == "-1"
    assert reversal[6].startswith("更正：可回收物分类正确"), reversal[6]
    assert earn[7] == "0"
    assert earn[8] == "系统"
    assert "金浦社区" not in resp.get_data(as_text=True)
    assert all(not r[3].startswith("2栋") for r in body)
    entry = read(session, select(AuditEntry).where(col(AuditEntry.action) == "points.exported"))
    assert entry[0].detail == {"fmt": "csv", "rows": 13, "day_from": "2026-10-01",
                               "day_to": "2026-11-30"}
    english(client)
    rows = _csv(client.get(f"/manage/points/entries.csv?community_id={w.a.id}"))
    assert rows[0][:3] == ["Entry ID", "Date", "Time"]
    # The default range is this month so far.
    assert {r[1] for r in rows[1:]} == {"2026-11-20"}


def test_entries_csv_escapes_text_that_starts_a_formula(app) -> None:
    assert tabular.escape_formula("=1+1") == "'=1+1"
    assert tabular.escape_formula("-5") == "'-5"
    assert tabular.escape_formula("3栋") == "3栋"
    row = queries.EntryRow(1, NOW, TODAY, "=cmd|' /C calc'!A0", "adjust", 5, "@SUM(A1)",
                           None, None, None, "+86 manager")
    with app.test_request_context():  # the reasons are translated
        chunks = b"".join(exports.entries_csv([row], "Asia/Shanghai"))
    parsed = list(csv.reader(io.StringIO(chunks.decode("utf-8-sig"))))[1]
    assert parsed[3] == "'=cmd|' /C calc'!A0"
    assert parsed[8] == "'+86 manager"
    assert parsed[6].startswith("社区调整")


def test_entries_xlsx_has_local_times_and_text_cells(client, scene: Scene) -> None:
    w = scene.w
    builders.login(client, w.manager_a)
    resp = client.get(f"/manage/points/entries.xlsx?community_id={w.a.id}"
                      "&day_from=2026-11-20&day_to=2026-11-20")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("记录编号", "日期", "时间", "住户或督导员")
    assert len(rows) == 1 + 6  # three adjustments, redeem, refund, expire
    first = rows[1]
    assert first[1] == NOW.replace(tzinfo=None, hour=0, minute=0)
    assert first[2] == NOW.replace(tzinfo=None)  # local, without a zone
    hyperlink = next(r for r in rows[1:] if "HYPERLINK" in r[6])
    assert ws.cell(rows.index(hyperlink) + 1, 7).data_type == "s"
    assert sum(r[5] for r in rows[1:]) == 20 - 10 + 4 - 3 - 1 + 7


def test_summary_exports_parse_back(client, scene: Scene) -> None:
    builders.login(client, scene.w.manager_a)
    rows = _csv(client.get("/manage/points/summary.csv"))
    assert rows[0] == ["月份", "发放积分", "扣分", "扣分退还", "更正（净额）", "调整（净额）",
                       "已兑换", "已过期", "净变化"]
    assert [r[0] for r in rows[1:]] == ["2025-12"] + [f"2026-{m:02d}" for m in range(1, 12)] + [
        "合计"]
    assert rows[-2] == ["2026-11", "0", "0", "0", "0", "26", "6", "3", "17"]
    assert rows[-1] == ["合计", "7", "5", "0", "-1", "26", "6", "3", "18"]
    resp = client.get("/manage/points/summary.xlsx")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.data)).active
    xrows = list(ws.iter_rows(values_only=True))
    assert xrows[-1] == ("合计", 7, 5, 0, -1, 26, 6, 3, 18)
    assert xrows[-3] == ("2026-10", 2, 5, 0, -1, 0, 0, 0, -4)
    rows = _csv(_client(client.application, scene.w.city_admin).get("/manage/points/summary.csv"))
    assert rows[-1] == ["合计", "9", "5", "0", "-1", "26", "6", "3", "20"]


def test_too_large_an_export_goes_back_with_a_message(client, session: Session, scene: Scene,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queries, "MAX_EXPORT_ROWS", 5)
    builders.login(client, scene.w.manager_a)
    resp = client.get("/manage/points/entries.csv?day_from=2025-01-01&day_to=2026-12-31")
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "请缩短日期范围" in page
    assert read(session, select(AuditEntry).where(
        col(AuditEntry.action) == "points.exported")) == []


def test_month_start_steps_back_over_years() -> None:
    assert queries._month_start(date(2026, 1, 31), 1) == date(2025, 12, 1)
    assert queries._month_start(date(2026, 11, 20), 11) == date(2025, 12, 1)
    assert queries._month_start(date(2026, 12, 5), -1) == date(2027, 1, 1)
    assert queries.default_range(date(2026, 3, 9)) == (date(2026, 3, 1), date(2026, 3, 9))


# --- The QA walkthrough: ids, accounts, refunds, cursors ------------------------------------

def _ledger_entry(session: Session, account: PointsAccount, kind: str, amount: int, day: date,
                  source: str, reason: str = "", **extra) -> LedgerEntry:
    """An entry written as another module would (the balance kept in step)."""
    row = LedgerEntry(community_id=account.community_id, account_id=account.id, amount=amount,
                      kind=kind, source=source, reason=reason, at=NOW, local_date=day, **extra)
    session.add(row)
    account.balance += amount
    session.flush()
    return row


def _account(session: Session, hh) -> PointsAccount:
    return session.execute(select(PointsAccount).where(
        col(PointsAccount.household_id) == hh.id)).scalar_one()


def _xlsx(resp) -> list[tuple]:
    assert resp.status_code == 200, resp.status_code
    return list(load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True))


def test_entries_export_shows_no_internal_ids_and_names_drops_and_corrections(
        client, session: Session, scene: Scene) -> None:
    w = scene.w
    h1 = w.households_a[0]
    penalty = session.execute(select(LedgerEntry).where(
        col(LedgerEntry.kind) == "penalty")).scalar_one()
    _ledger_entry(session, _account(session, h1), "reversal", 5, penalty.local_date,
                  f"reversal:{penalty.id}", reverses_id=penalty.id, drop_id=penalty.drop_id)
    session.commit()
    assert services.verify(session) == []
    builders.login(client, w.manager_a)
    query = f"community_id={w.a.id}&day_from=2026-09-01&day_to=2026-11-30"
    rows = _csv(client.get(f"/manage/points/entries.csv?{query}"))
    assert rows[0][9:] == ["投放记录", "更正对象"]
    body = rows[1:]
    # No internal (negative) id anywhere: a drop's own rows have no entry id, only a drop.
    assert all(r[0] == "" or int(r[0]) > 0 for r in body), [r[0] for r in body]
    own = [r for r in body if r[0] == ""]
    assert sorted(r[4] for r in own) == ["获得", "获得", "获得", "警告", "警告", "警告", "警告"]
    assert all(r[9].isdigit() for r in own)
    assert str(scene.drop_id) in {r[9] for r in own if r[4] == "获得"}
    # h2's regraded drop: its own earn was taken back; the correction names the drop.
    h2_earn = next(r for r in own if r[4] == "获得" and r[1] == "2026-10-05")
    drop_reversal = next(r for r in body if r[4] == "更正" and r[5] == "-1")
    assert drop_reversal[0] != ""
    assert drop_reversal[9] == h2_earn[9]
    assert drop_reversal[10] == f"投放记录 {h2_earn[9]}"
    # A correction of a ledger entry names that entry's id (and the same drop).
    penalty_row = next(r for r in body if r[4] == "扣分")
    assert penalty_row[0] == str(penalty.id)
    assert penalty_row[9] == str(penalty.drop_id)
    back = next(r for r in body if r[4] == "更正" and r[5] == "5")
    assert back[10] == penalty_row[0]
    assert back[9] == penalty_row[9]
    assert all(r[10] == "" for r in body if r[4] != "更正")
    # The Excel file holds the same cells.
    xrows = _xlsx(client.get(f"/manage/points/entries.xlsx?{query}"))
    assert list(xrows[0]) == rows[0]

    def cells(r) -> list[str]:
        return ["" if v is None else str(v) for i, v in enumerate(r) if i not in (1, 2)]

    assert [cells(r) for r in xrows[1:]] == [cells(r) for r in body]
    english(client)
    rows = _csv(client.get(f"/manage/points/entries.csv?{query}"))
    assert rows[0][3] == "Household or steward"
    assert rows[0][9:] == ["Drop", "Corrects"]
    assert next(r for r in rows if r[5] == "-1" and r[10])[10] == f"Drop {h2_earn[9]}"


def test_summary_entries_export_and_outstanding_cover_the_same_accounts(
        client, session: Session, scene: Scene) -> None:
    from community.volunteers.models import Steward

    w = scene.w
    steward = Steward(community_id=w.a.id, account_id=w.steward_a.id, status="approved")
    session.add(steward)
    session.flush()
    assert services.credit_steward(session, steward_id=steward.id, community_id=w.a.id,
                                   amount=30, source="hours:test", reason="hours:180",
                                   actor_id=None, now=NOW) == 30
    session.commit()
    builders.login(client, w.manager_a)
    page = client.get("/manage/points").get_data(as_text=True)
    assert _stat(page, "points-outstanding") == 20 + 30
    assert "所有住户和督导员" in page
    months = _months(page)
    assert months["2026-11"]["issued"] == 30
    total = _total(page)
    assert total["net"] == 18 + 30
    # The entries of the twelve months add up to the summary; the steward's row says so.
    rows = _csv(client.get(f"/manage/points/entries.csv?community_id={w.a.id}"
                           "&day_from=2025-12-01&day_to=2026-11-30"))
    body = rows[1:]
    assert sum(int(r[5]) for r in body) == total["net"]
    assert sum(int(r[5]) for r in body if r[1] >= "2026-11-01") == months["2026-11"]["net"]
    hours = next(r for r in body if r[5] == "30")
    assert hours[3] == f"督导员：{w.steward_a.display_name}"
    # The audit entry counts the rows the file holds.
    audit_rows = read(session, select(AuditEntry).where(
        col(AuditEntry.action) == "points.exported"))[0].detail["rows"]
    assert audit_rows == len(body)
    english(client)
    page = client.get("/manage/points").get_data(as_text=True)
    assert "The sum of all household balances" not in page
    assert "and stewards" in page


def test_penalty_refunds_are_not_redemptions(client, session: Session, scene: Scene) -> None:
    h1 = scene.w.households_a[0]
    _ledger_entry(session, _account(session, h1), "refund", 5, TODAY, "case:9",
                  reason="case:9")
    session.commit()
    assert services.verify(session) == []
    builders.login(client, scene.w.manager_a)
    months = _months(client.get("/manage/points").get_data(as_text=True))
    assert months["2026-11"] == ZERO | {"adjustments": 26, "redeemed": 6, "expired": 3,
                                        "penalties_refunded": 5, "net": 22}
    rows = _csv(client.get("/manage/points/summary.csv"))
    assert rows[-2] == ["2026-11", "0", "0", "5", "0", "26", "6", "3", "22"]
    assert _xlsx(client.get("/manage/points/summary.xlsx"))[-2] == (
        "2026-11", 0, 0, 5, 0, 26, 6, 3, 22)


TAMPERED = "1792799538067607.-999999999999999999999"


def test_a_cursor_outside_64_bits_is_the_first_page() -> None:
    from community.points import facts

    assert facts.decode_cursor(TAMPERED) is None
    assert facts.decode_cursor(f"1.{2 ** 63}") is None
    assert facts.decode_cursor(f"{-(2 ** 63) - 1}.5") is None
    assert facts.decode_cursor(f"1.{-(2 ** 63)}") is not None
    moment = datetime(2026, 11, 20, 0, 30, tzinfo=ZoneInfo("UTC"))
    assert facts.decode_cursor(facts.encode_cursor(moment, -54)) == (moment, -54)


def test_tampered_cursors_give_the_first_page(app, client, session: Session,
                                              scene: Scene) -> None:
    from community.volunteers.models import Steward
    from tests.residents.helpers import link

    w = scene.w
    h1 = w.households_a[0]
    link(session, w.resident_a.id, builders.active_card(session, h1))
    steward = Steward(community_id=w.a.id, account_id=w.steward_a.id, status="approved")
    session.add(steward)
    session.flush()
    services.credit_steward(session, steward_id=steward.id, community_id=w.a.id, amount=30,
                            source="hours:test", reason="hours:180", actor_id=None, now=NOW)
    session.commit()
    for who, url in ((w.manager_a, f"/manage/points/households/{h1.id}"),
                     (w.resident_a, "/me/points"), (w.steward_a, "/steward/hours")):
        c = _client(app, who)
        first = c.get(url)
        assert first.status_code == 200, url
        resp = c.get(f"{url}?before={TAMPERED}")
        assert resp.status_code == 200, (url, resp.status_code)
        assert _content(resp.get_data(as_text=True)) == _content(first.get_data(as_text=True))


def _content(page: str) -> str:
    """A page without what changes per request (nonces, CSRF tokens)."""
    return re.sub(r'(nonce|value|content)="[^"]*"', "", page)
