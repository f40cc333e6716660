"""Scope cases of the scan settings page and its mis-drop reasons (stations/manage/views.py);
see tests/scope.py. A has a reason of its own; the manager of B can neither read A's
settings, change A's default quality nor add a reason to A, and B's own page shows none of
A's reasons."""
from __future__ import annotations

from tests.builders import World
from tests.scope import Case, foreign
from tests.stations.appeals.scope_cases import _a_reason

A_REASON = "A的原因"


@foreign("stations.scan_settings")
def _scan_settings(w: World) -> list[Case]:
    _a_reason(w)
    return [Case("GET", f"/manage/stations/scan-settings?community_id={w.a.id}"),
            Case("GET", f"/manage/stations/scan-settings?community_id={w.street_a.id}"),
            Case("GET", "/manage/stations/scan-settings", expect=(200,), absent=[A_REASON]),
            Case("GET", f"/manage/stations/scan-settings?community_id={w.b.id}",
                 expect=(200,), absent=[A_REASON])]


@foreign("stations.save_scan_settings")
def _save_scan_settings(w: World) -> list[Case]:
    return [Case("POST", f"/manage/stations/scan-settings?community_id={w.a.id}",
                 data={"default_quality": "ungraded"}),
            Case("POST", f"/manage/stations/scan-settings?community_id={w.a.id}",
                 data={"default_quality": "correct"})]


@foreign("stations.add_reason")
def _add_reason(w: World) -> list[Case]:
    return [Case("POST", f"/manage/stations/reasons?community_id={w.a.id}",
                 data={"label_zh": "外来原因", "label_en": "foreign"}),
            Case("POST", f"/manage/stations/reasons?community_id={w.street_a.id}",
                 data={"label_zh": "外来原因", "label_en": "foreign"})]


@foreign("stations.set_reason_active")
def _set_reason_active(w: World) -> list[Case]:
    own = _a_reason(w)
    return [Case("POST", f"/manage/stations/reasons/{own}/active", data={"active": "0"}),
            Case("POST", f"/manage/stations/reasons/{own}/active", data={"active": "1"})]
