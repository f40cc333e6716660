"""Foreign-access cases for the audit log: a manager of B never sees A's entries."""
from __future__ import annotations

from sqlalchemy.orm import object_session

from community.audit import services as audit
from tests.builders import World
from tests.scope import Case, foreign


@foreign("audit.index")
def _index(w: World) -> list[Case]:
    # The world has no audit entries of its own: write some in A (the snapshot ignores this table).
    session = object_session(w.a)
    assert session is not None
    audit.record(session, actor_id=w.manager_a.id, action="card.reissued", area=w.a,
                 target_type="household", target_id=w.households_a[0].id, marker="secret-of-a")
    audit.record(session, actor_id=w.area_admin_a.id, action="role.granted", area=w.street_a,
                 target_type="account", target_id=w.manager_a.id, role="manager")
    audit.record(session, actor_id=None, action="login.failed", login="guess-the-admin")
    session.commit()
    hidden = ["secret-of-a", "玉龙社区", "玉山镇", "guess-the-admin", w.manager_a.display_name]
    return [Case("GET", "/admin/audit/", expect=(200,), absent=hidden),
            Case("GET", "/admin/audit/?action=card", expect=(200,), absent=hidden),
            Case("GET", "/admin/audit/?action=login", expect=(200,), absent=hidden),
            Case("GET", "/admin/audit/?before=999999", expect=(200,), absent=hidden)]
