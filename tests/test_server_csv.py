"""The CSV download over HTTP: chosen columns in order, filters, escaping, file name."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timezone
from typing import Any

import pytest

from jupyter_workspaces import table
from tests.server_helpers import Fetch, error_of, spec_body

pytest_plugins = ["pytest_jupyter.jupyter_server", "tests.server_support"]


async def create(api: Fetch, name: str, project: str = "vision", **fields: Any) -> None:
    response = await api("workspaces", method="POST", body=spec_body(name, project, **fields))
    assert response.code == 201


async def download(api: Fetch, **params: str) -> tuple[list[list[str]], Any]:
    response = await api("workspaces.csv", params=params)
    rows = list(csv.reader(io.StringIO(response.body.decode("utf-8"))))
    return rows, response


async def test_columns_come_in_the_order_asked(api: Fetch) -> None:
    await create(api, "alpha")
    rows, _ = await download(api, columns="status,owner,name,project")
    assert rows[0] == ["status", "owner", "name", "project"]
    assert rows[1][1:] == ["ada", "alpha", "vision"]


async def test_without_columns_the_default_columns_are_used(api: Fetch) -> None:
    await create(api, "alpha")
    rows, _ = await download(api)
    assert rows[0] == table.default_column_ids()


async def test_filters_apply(api: Fetch) -> None:
    await create(api, "alpha")
    await create(api, "beta", project="nlp")
    rows, _ = await download(api, columns="name", project="nlp")
    assert rows == [["name"], ["beta"]]


async def test_times_are_iso_utc(api: Fetch) -> None:
    await create(api, "alpha")
    rows, _ = await download(api, columns="created")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", rows[1][0])


@pytest.mark.parametrize(
    "display_name",
    [
        pytest.param('=HYPERLINK("http://evil","x")', id="equals"),
        pytest.param("+cmd", id="plus"),
        pytest.param("-2+3", id="minus"),
        pytest.param("@SUM(A1:A9)", id="at"),
    ],
)
async def test_cells_a_spreadsheet_would_run_are_neutralised(
    api: Fetch, display_name: str
) -> None:
    await create(api, "alpha", displayName=display_name)
    rows, _ = await download(api, columns="name,displayName")
    assert rows[1] == ["alpha", "'" + display_name]


async def test_download_is_an_attachment_named_with_the_date(api: Fetch) -> None:
    _, response = await download(api, columns="name")
    today = datetime.now(timezone.utc).date().isoformat()
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="workspaces-{today}.csv"'
    )
    assert response.headers["Content-Type"].startswith("text/csv")


async def test_unknown_column_is_400_listing_the_valid_ones(api: Fetch) -> None:
    code, error = await error_of(api("workspaces.csv", params={"columns": "name,secret"}))
    assert code == 400
    assert "'secret'" in error["message"]
    for column in table.column_ids():
        assert column in error["message"]


async def test_no_credential_in_the_csv(api: Fetch, sim: Any) -> None:
    await create(api, "alpha")
    rows, response = await download(api, columns=",".join(table.column_ids()))
    text = response.body.decode("utf-8")
    assert len(rows) == 2
    assert sim.api.token not in text
    assert "token" not in text.lower()


async def test_csv_and_list_agree(api: Fetch) -> None:
    await create(api, "alpha")
    await create(api, "beta")
    rows, _ = await download(api, columns="project,name")
    listed = json.loads((await api("workspaces")).body)["workspaces"]
    assert rows[1:] == [[w["project"], w["name"]] for w in listed]
