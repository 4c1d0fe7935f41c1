"""The column catalogue, the DataFrame of workspaces and the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone

import pytest

from jupyter_workspaces import table
from jupyter_workspaces.errors import InvalidInput
from jupyter_workspaces.records import Workspace
from jupyter_workspaces.status import StatusReport

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc)


def workspace(name: str = "alpha", **fields: object) -> Workspace:
    status = fields.pop(
        "status",
        StatusReport(status="Active", reason="Ready", message="Ready since 09:30.", since=T0),
    )
    values: dict[str, object] = {
        "name": name,
        "project": "vision",
        "owner": "ada",
        "status": status,
        "image": "jupyter/scipy-notebook:2024-01",
        "tools": ("jupyterlab", "vscode"),
        "cpu": "2",
        "memory": "8Gi",
        "gpu": 1,
        "created": T0 - timedelta(days=2),
    }
    values.update(fields)
    return Workspace(**values)  # type: ignore[arg-type]


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_catalogue_ids_are_unique_and_some_are_shown_by_default() -> None:
    ids = table.column_ids()
    assert len(ids) == len(set(ids))
    assert {"name", "project", "status"} <= set(table.default_column_ids())
    assert set(table.default_column_ids()) < set(ids)


def test_catalogue_entries_describe_themselves() -> None:
    for column in table.COLUMNS:
        entry = column.to_dict()
        assert entry["id"] == column.id
        assert entry["title"] and entry["description"].endswith(".")
        assert isinstance(entry["default"], bool)


def test_frame_has_exactly_the_requested_columns_in_order() -> None:
    frame = table.workspaces_frame([workspace("a"), workspace("b")], ["status", "name", "gpu"])
    assert list(frame.columns) == ["status", "name", "gpu"]
    assert frame["name"].tolist() == ["a", "b"]
    assert frame["gpu"].tolist() == [1, 1]


def test_frame_without_a_choice_uses_default_columns() -> None:
    frame = table.workspaces_frame([workspace()])
    assert list(frame.columns) == table.default_column_ids()


def test_frame_of_no_workspaces_still_has_the_columns() -> None:
    frame = table.workspaces_frame([], ["name", "owner"])
    assert list(frame.columns) == ["name", "owner"]
    assert len(frame) == 0


def test_display_name_falls_back_to_name() -> None:
    frame = table.workspaces_frame(
        [workspace("a"), workspace("b", display_name="Thesis runs")], ["displayName"]
    )
    assert frame["displayName"].tolist() == ["a", "Thesis runs"]


@pytest.mark.parametrize(
    "requested, expected",
    [
        pytest.param("name,status", ["name", "status"], id="comma-string"),
        pytest.param(" owner , name ", ["owner", "name"], id="spaces-trimmed"),
        pytest.param(["gpu", "project"], ["gpu", "project"], id="sequence"),
        pytest.param(None, table.default_column_ids(), id="none-means-default"),
    ],
)
def test_parse_columns_accepts(requested: object, expected: list[str]) -> None:
    assert table.parse_columns(requested) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "requested, named",
    [
        pytest.param("name,colour", "'colour'", id="unknown-id"),
        pytest.param("", "no column", id="empty"),
        pytest.param("name,name", "'name' is given twice", id="repeated"),
    ],
)
def test_parse_columns_refuses_with_a_clear_message(requested: str, named: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        table.parse_columns(requested)
    assert named in caught.value.message
    if "twice" not in named:
        assert "status" in caught.value.message  # lists the valid ids


def test_csv_header_and_order_follow_the_request() -> None:
    text = table.to_csv([workspace("a"), workspace("b")], ["owner", "name", "status"])
    rows = read_csv(text)
    assert rows[0] == ["owner", "name", "status"]
    assert rows[1:] == [["ada", "a", "Active"], ["ada", "b", "Active"]]


def test_csv_times_are_iso_utc() -> None:
    stopped = StatusReport(
        status="Stopped",
        reason="StoppedByUser",
        message="Stopped by ada.",
        since=datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc),
    )
    rows = read_csv(table.to_csv([workspace(status=stopped)], ["since", "created"]))
    assert rows[1] == ["2026-03-01T10:00:00Z", "2026-02-27T09:30:00Z"]


@pytest.mark.parametrize(
    "display_name",
    [
        pytest.param('=HYPERLINK("http://x")', id="equals"),
        pytest.param("+1+2", id="plus"),
        pytest.param("-2+3", id="minus"),
        pytest.param("@SUM(A1)", id="at"),
        pytest.param("\tcmd", id="tab"),
        pytest.param("\rcmd", id="carriage-return"),
    ],
)
def test_csv_neutralises_cells_a_spreadsheet_would_run(display_name: str) -> None:
    text = table.to_csv([workspace(display_name=display_name)], ["name", "displayName"])
    rows = read_csv(text)
    assert rows[1] == ["alpha", "'" + display_name]


def test_csv_leaves_ordinary_text_and_numbers_alone() -> None:
    rows = read_csv(table.to_csv([workspace(display_name="Runs = 3")], ["displayName", "gpu"]))
    assert rows[1] == ["Runs = 3", "1"]


def test_csv_empty_cells_for_missing_values() -> None:
    rows = read_csv(table.to_csv([workspace(node=None)], ["name", "node", "stoppedBy"]))
    assert rows[1] == ["alpha", "", ""]


def test_csv_filename_carries_the_date() -> None:
    assert table.csv_filename(date(2026, 3, 1)) == "workspaces-2026-03-01.csv"


def test_csv_of_no_workspaces_is_the_header_alone() -> None:
    assert read_csv(table.to_csv([], ["name", "status"])) == [["name", "status"]]


def test_csv_of_one_column() -> None:
    assert read_csv(table.to_csv([workspace("a")], ["owner"])) == [["owner"], ["ada"]]
