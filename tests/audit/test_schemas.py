"""The audit codes: one StrEnum and one label table each."""
from __future__ import annotations

import pytest

from community.audit import schemas


@pytest.mark.parametrize(("labels", "enum"), [
    (schemas.ACTION_LABELS, schemas.Action),
    (schemas.TARGET_LABELS, schemas.Target),
])
def test_every_code_has_one_label(labels, enum) -> None:
    assert list(labels) == list(enum)
    assert all(type(code.value) is str for code in enum)


def _recorded_codes() -> tuple[set[str], set[str], set[str]]:
    """Every action, target type and detail key an `audit.record(...)` call in the code names."""
    import ast
    from pathlib import Path

    actions, targets, keys = set(), set(), set()
    skip = {"actor_id", "area", "target_id", "ip", None}
    for path in Path(schemas.__file__).parents[1].rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "record" and isinstance(node.func.value, ast.Name)
                    and node.func.value.id in ("audit", "audit_services")):
                continue
            for kw in node.keywords:
                if kw.arg in ("action", "target_type"):
                    into = actions if kw.arg == "action" else targets
                    for sub in ast.walk(kw.value):
                        if isinstance(sub, ast.JoinedStr):  # f"reward.{status}": its prefix
                            into.add(ast.unparse(sub))
                        elif (isinstance(sub, ast.Constant) and isinstance(sub.value, str)
                              and not any(isinstance(p, ast.JoinedStr)
                                          for p in ast.walk(kw.value))):
                            into.add(sub.value)
                elif kw.arg not in skip:  # a from_X/to_X pair is told under X
                    keys.add(kw.arg.removeprefix("from_").removeprefix("to_"))
    return actions, targets, keys


def test_every_recorded_code_has_a_label() -> None:
    actions, targets, keys = _recorded_codes()
    assert "drop.voided" in actions  # the scan found the calls
    assert "verdict_audit" in targets
    fstrings = {a for a in actions if a.startswith("f")}
    assert fstrings == {"f'reward.{status}'"}  # set_item_status: "active" or "retired"
    assert {"reward.active", "reward.retired"} <= set(schemas.ACTION_LABELS)
    assert sorted(actions - fstrings - set(schemas.ACTION_LABELS)) == []
    assert sorted(targets - set(schemas.TARGET_LABELS)) == []
    assert sorted(keys - set(schemas.DETAIL_LABELS)) == []


@pytest.mark.parametrize(("locale", "expected"), [
    ("zh", ["分类质量：错误 → 正确", "结果：维持原判", "原因：看照片", "与督导员一致：否"]),
    ("en", ["Quality: Incorrect → Correct", "Outcome: verdict upheld", "Reason: 看照片",
            "Agrees with the steward: No"]),
])
def test_details_read_as_words(app, locale: str, expected: list[str]) -> None:
    from flask_babel import force_locale
    detail = {"from_quality": "incorrect", "to_quality": "correct", "outcome": "upheld",
              "reason": "看照片", "agrees": False}
    with app.test_request_context(), force_locale(locale):
        assert schemas.describe_detail(detail) == expected
        assert str(schemas.ACTION_LABELS["drop.appeal_decided"]) == (
            "申诉已处理" if locale == "zh" else "Appeal decided")
