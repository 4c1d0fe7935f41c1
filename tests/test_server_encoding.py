"""JSON answers: each record's text is kept only while the very same record is current."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timezone

from jupyter_workspaces.records import Workspace
from jupyter_workspaces.server.encoding import RecordJson, dumps
from jupyter_workspaces.status import StatusReport

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc)


def workspace(name: str, status: str = "Active") -> Workspace:
    report = StatusReport(
        status=status,  # type: ignore[arg-type]
        reason="Ready",
        message="Ready.",
        since=T0,
        facts={"checked": T0},
    )
    return Workspace(name=name, project="vision", owner="ada", status=report, image="img")


def test_list_body_is_the_records_as_the_api_serves_them() -> None:
    records = [workspace("a"), workspace("b")]
    body = json.loads(RecordJson().list_body("workspaces", records))
    assert body == {"workspaces": [json.loads(dumps(r.to_dict())) for r in records]}
    assert body["workspaces"][0]["status"]["facts"]["checked"] == "2026-03-01T09:30:00Z"


def test_a_changed_record_gets_new_text() -> None:
    encoder = RecordJson()
    before = workspace("a")
    assert '"Active"' in encoder.text(before)
    after = dataclasses.replace(
        before, status=dataclasses.replace(before.status, status="Stopped")
    )
    assert '"Stopped"' in encoder.text(after)
    assert '"Active"' in encoder.text(before)


def test_replaced_records_do_not_pile_up() -> None:
    encoder = RecordJson()
    for _ in range(5):
        encoder.values([workspace(f"w{i}") for i in range(1000)])
    assert len(encoder) <= 2 * 1000 + 1000
