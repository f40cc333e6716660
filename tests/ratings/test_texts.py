"""Checks in words, in Chinese and English: one decimal, "n/a" for a value not available,
a failed value never rounded onto its threshold, gaps, and the one-line reasons."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask, session
from flask_babel import refresh

from community.ratings import policy as p
from community.ratings import texts
from community.ratings.policy import DEFAULT_POLICY, Facts


@pytest.fixture
def zh(app: Flask) -> Iterator[None]:
    with app.test_request_context("/"):
        yield


@pytest.fixture
def en(app: Flask) -> Iterator[None]:
    with app.test_request_context("/"):
        session["lang"] = "en"
        refresh()
        yield


def _check(metric: str, value, threshold, *, op: str = ">=", passed: bool = False) -> dict:
    return {"level": "compliant", "metric": metric, "op": op, "threshold": threshold,
            "value": value, "passed": passed}


def test_percentages(zh) -> None:
    assert texts.pct(0.912) == "91.2%"
    assert texts.pct(0.74496) == "74.5%"
    assert texts.pct(1.0) == "100.0%"
    assert texts.pct(0.0) == "0.0%"
    assert texts.pct(None) == "暂无数据"
    assert texts.threshold_pct(0.95) == "95%"
    assert texts.threshold_pct(0.855) == "85.5%"
    assert texts.threshold_pct(0.1) == "10%"


def test_checks_in_chinese(zh) -> None:
    explain = texts.explain
    assert explain(_check("scan_rate", 0.912, 0.95)) == "扫码率 91.2% < 95%"
    assert explain(_check("accuracy", 0.85, 0.85, passed=True)) == "准确率 85.0% ≥ 85%"
    # A failed value that would round onto the threshold rounds away from it …
    assert explain(_check("accuracy", 0.84996, 0.85)) == "准确率 84.9% < 85%"
    assert explain(_check("out_of_window_rate", 0.10004, 0.10, op="<=")) == \
        "过时投放率 10.1% > 10%"
    # … any other keeps the nearest tenth, as the tables show it.
    assert explain(_check("accuracy", 0.74496, 0.85)) == "准确率 74.5% < 85%"
    assert explain(_check("participation", None, 0.7)) == \
        "参与率 暂无数据（不可用，计为未达到）"
    assert explain(_check(p.ACTIVE_HOUSEHOLDS, 12, 30)) == "在住户数 12 < 30"
    assert explain(_check(p.SCHEDULED_WINDOWS, 0, 1)) == "本月没有排定的投放时段"
    assert explain(_check(p.LAST_MONTH, None, ["compliant", "star"], op="in")) == "上月：无评级"
    assert explain(_check(p.LAST_MONTH, "not_compliant", ["compliant", "star"],
                          op="in")) == "上月：未达标"
    assert texts.gap(_check("scan_rate", 0.912, 0.95)) == "还差 3.8 个百分点"
    assert texts.gap(_check("accuracy", 0.84996, 0.85)) == "还差 0.1 个百分点"
    assert texts.gap(_check(p.ACTIVE_HOUSEHOLDS, 12, 30)) == "在住户数还差 18 户"
    assert texts.gap(_check("accuracy", None, 0.85)) == ""
    assert texts.gap(_check("accuracy", 0.9, 0.85, passed=True)) == ""


def test_reasons_per_level(zh) -> None:
    values = {"scan_rate": 0.912, "accuracy": None, "participation": 0.75,
              "steward_coverage": 0.95, "out_of_window_rate": 0.04}
    got = p.evaluate(DEFAULT_POLICY, values, Facts(40, 10), None)
    assert texts.reasons(got.level, got.checks) == \
        "未达标：准确率 暂无数据（不可用，计为未达到）；扫码率 91.2% < 95%"
    assert texts.next_heading(got.level) == "距达标还差："
    values |= {"scan_rate": 0.96, "accuracy": 0.9}
    got = p.evaluate(DEFAULT_POLICY, values, Facts(40, 10), None)
    assert texts.reasons(got.level, got.checks) == "达标：达到全部达标条件"
    assert texts.next_heading(got.level) == "距星级还差："
    got = p.evaluate(DEFAULT_POLICY, values, Facts(3, 10), None)
    assert texts.reasons(got.level, got.checks) == "数据不足：在住户数 3 < 30"
    assert texts.policy_name(None, 0) == "默认标准"
    assert texts.policy_name("苏州市", 2) == "苏州市 · 第 2 版"


def test_checks_in_english(en) -> None:
    assert texts.explain(_check("scan_rate", 0.912, 0.95)) == "Scan rate 91.2% < 95%"
    assert texts.pct(None) == "n/a"
    assert texts.explain(_check("participation", None, 0.7)) == \
        "Participation: no data (not available counts as not met)"
    assert texts.gap(_check("scan_rate", 0.912, 0.95)) == "3.8 percentage points to go"
    values = {"scan_rate": 0.912, "accuracy": 0.9, "participation": 0.75,
              "steward_coverage": 0.95, "out_of_window_rate": 0.04}
    got = p.evaluate(DEFAULT_POLICY, values, Facts(40, 10), None)
    assert texts.reasons(got.level, got.checks) == "Not compliant: Scan rate 91.2% < 95%"
