"""The audit log names a report's photos as what was attached (photo, +1 photo, after-photo),
never as their internal paths, each linked to the photo for the log's reader (a community
manager, who may see every photo of the community's reports); on both backends."""
from __future__ import annotations

import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from community import clock
from community.reports.models import Report
from tests import builders
from tests.reports.photos import jpeg

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=SH)


def _post(client, world, st, colour):
    return client.post("/reports/new", content_type="multipart/form-data", data={
        "community_id": str(world.a.id), "station_id": str(st.id), "kind": "overflow",
        "photo": (io.BytesIO(jpeg(colour=colour)), "bin.jpg")})


def test_report_photos_read_as_attached_and_link_to_the_photo(client, session: Session,
                                                              world: builders.World) -> None:
    st = builders.station(session, world.a, "审计照片投放点")
    chief = builders.account(session, "station_chief", world.a)
    st.chief_id = chief.id
    session.add(st)
    joiner = builders.account(session, "resident", world.a)
    session.commit()
    with clock.freeze(NOW):
        builders.login(client, world.resident_a)
        assert _post(client, world, st, (200, 0, 0)).status_code == 302
        client.post("/logout")
        builders.login(client, joiner)
        assert _post(client, world, st, (0, 200, 0)).status_code == 302
        client.post("/logout")
        builders.login(client, chief)
        (report,) = session.execute(select(Report)).scalars()
        assert client.post(f"/reports/{report.id}/handle", content_type="multipart/form-data",
                           data={"note": "已清运", "photo": (io.BytesIO(jpeg()), "a.jpg")}
                           ).status_code == 302
        client.post("/logout")
        builders.login(client, world.manager_a)
        page = client.get("/admin/audit/").get_data(as_text=True)
        assert ".jpg" not in page
        assert f"{world.a.id}/{report.id}-" not in page
        files = re.findall(r'data-testid="audit-file"><a href="([^"]+)"[^>]*>([^<]+)</a>', page)
        assert sorted(label for _href, label in files) == ["+1 照片已附", "处理后照片已附",
                                                          "照片已附"]
        for href, _label in files:
            assert href.startswith(f"/reports/{report.id}/")
            assert client.get(href).status_code == 200, href
        client.post("/lang", data={"lang": "en"})
        en = client.get("/admin/audit/").get_data(as_text=True)
        assert "+1 photo attached" in en
        assert "after-photo attached" in en
