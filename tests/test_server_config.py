"""With no cluster configured the API says so plainly; XSRF guards cookie-authenticated POSTs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jupyter_workspaces import table
from tests.server_helpers import Fetch, error_of, server_config

pytest_plugins = ["pytest_jupyter.jupyter_server", "tests.server_support"]

CLUSTER_ROUTES = [
    pytest.param("GET", ("workspaces",), id="list"),
    pytest.param("POST", ("workspaces",), id="create"),
    pytest.param("GET", ("workspaces.csv",), id="csv"),
    pytest.param("GET", ("workspaces", "p", "w"), id="get"),
    pytest.param("DELETE", ("workspaces", "p", "w"), id="delete"),
    pytest.param("POST", ("workspaces", "p", "w", "activate"), id="activate"),
    pytest.param("POST", ("workspaces", "p", "w", "stop"), id="stop"),
    pytest.param("GET", ("projects",), id="projects"),
    pytest.param("GET", ("status",), id="status"),
]


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return server_config(in_cluster=False)


@pytest.mark.parametrize("method, parts", CLUSTER_ROUTES)
async def test_without_a_cluster_every_route_says_how_to_configure_one(
    api: Fetch, method: str, parts: tuple[str, ...]
) -> None:
    body = json.dumps({"name": "w", "project": "p", "image": "x"}) if method == "POST" else None
    code, error = await error_of(api(*parts, method=method, body=body))
    assert code == 503
    assert error["reason"] == "NotConfigured"
    for option in ("WorkspacesApp.kubeconfig", "WorkspacesApp.in_cluster", "simulator"):
        assert option in error["message"]


async def test_column_catalogue_needs_no_cluster(api: Fetch) -> None:
    response = await api("columns")
    body = json.loads(response.body)
    assert [c["id"] for c in body["columns"]] == table.column_ids()
    assert body["default"] == table.default_column_ids()


async def test_cookie_authenticated_post_without_xsrf_header_is_refused(
    api: Fetch, jp_auth_header: dict[str, str]
) -> None:
    # A token request logs the browser in: the server answers with a login cookie.
    response = await api("columns")
    cookies = [
        value.split(";", 1)[0] for value in response.headers.get_list("Set-Cookie") if value
    ]
    assert cookies, "a token-authenticated request should set the login cookie"
    cookie = "; ".join([*cookies, "_xsrf=abc123"])
    headers = {"Authorization": "", "Cookie": cookie}

    code, error = await error_of(
        api(
            "workspaces",
            "p",
            "w",
            "stop",
            method="POST",
            body="",
            headers=headers,
            allow_nonstandard_methods=True,
        )
    )
    assert code == 403
    assert "xsrf" in error["message"].lower()

    # The same request with the header reaches the extension (which then says: no cluster).
    with_header = {**headers, "X-XSRFToken": "abc123"}
    code, error = await error_of(
        api(
            "workspaces",
            "p",
            "w",
            "stop",
            method="POST",
            body="",
            headers=with_header,
            allow_nonstandard_methods=True,
        )
    )
    assert code == 503
    assert error["reason"] == "NotConfigured"


@pytest.mark.parametrize(
    "options, named",
    [
        pytest.param({"default_columns": ["name", "colour"]}, "colour", id="unknown-column"),
        pytest.param({"simulator_speed": 0.0}, "simulator_speed", id="zero-speed"),
        pytest.param(
            {"url_template": "http://x/{project}/{user}"}, "user", id="unknown-placeholder"
        ),
    ],
)
def test_bad_configuration_is_refused_naming_the_value(
    options: dict[str, Any], named: str
) -> None:
    from traitlets import TraitError

    from jupyter_workspaces.server.app import WorkspacesApp

    with pytest.raises(TraitError) as caught:
        WorkspacesApp(**options)
    assert named in str(caught.value)
