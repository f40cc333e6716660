"""The audit codes: one StrEnum and one label table each."""
from __future__ import annotations

import pytest

from community.audit import schemas
from community.waste import CATEGORY_LABELS


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


def test_every_job_and_sentence_is_labelled_in_both_languages(app) -> None:
    """Jobs have titles (the jobs page shows them, not ids); every label and sentence has a
    Chinese translation; a sentence only names details the log records."""
    from flask_babel import force_locale

    from community.audit import sentences
    from community.scheduler.labels import JOB_TITLES
    from community.scheduler.registry import JOBS

    assert sorted(set(JOBS) - set(JOB_TITLES)) == []
    assert set(sentences.SENTENCES) <= set(schemas.ACTION_LABELS)
    with app.test_request_context():
        for template in sentences.SENTENCES.values():
            keys = {k.removeprefix("from_").removeprefix("to_")
                    for k in sentences.used_keys_of(str(template))}
            assert keys <= set(schemas.DETAIL_LABELS) | {"who", "target"}
        texts = [*schemas.ACTION_LABELS.values(), *JOB_TITLES.values(),
                 *sentences.SENTENCES.values(), *(JOBS[n].description for n in JOBS)]
        with force_locale("en"):
            english = [str(t) for t in texts]
        with force_locale("zh"):
            chinese = [str(t) for t in texts]
    untranslated = [e for e, z in zip(english, chinese, strict=True) if e == z]
    assert untranslated == []


@pytest.mark.parametrize(("locale", "expected"), [
    ("zh", "张三 将 1栋1单元101室 的厨余垃圾投放 由 错误 改为 正确，原因：看照片"),
    ("en", "张三 changed the Kitchen waste drop of 1栋1单元101室 from Incorrect to Correct, "
           "reason: 看照片"),
])
def test_a_regrade_reads_as_a_sentence(app, locale: str, expected: str) -> None:
    from flask_babel import force_locale

    from community.audit import queries, sentences

    with app.test_request_context(), force_locale(locale):
        target = str(queries.DROP_NAME) % {
            "category": str(CATEGORY_LABELS["kitchen"]), "address": "1栋1单元101室"}
        said = sentences.line("drop.regraded", {"from_quality": "incorrect",
                                                "to_quality": "correct", "reason": "看照片"},
                              who="张三", target=target)
        assert said == expected
        # An action without its own sentence still reads as words, never as a code.
        generic = sentences.line("station.windows", {"building": None}, who=None, target=None)
        assert "station.windows" not in generic
        assert schemas.detail_value("building", None) == "—"
