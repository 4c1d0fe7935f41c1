"""The REST API over HTTP, on a Jupyter server whose extension talks to the simulator."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from kubernetes import client

from jupyter_workspaces.constants import STATUSES, home_claim_name
from jupyter_workspaces.manifests import WorkspaceSpec
from jupyter_workspaces.server.handlers import default_handlers
from tests.server_helpers import (
    IMAGE,
    RESEARCHER,
    Fetch,
    error_of,
    eventually,
    server_config,
    spec_body,
)

pytest_plugins = ["pytest_jupyter.jupyter_server", "tests.server_support"]


async def create(api: Fetch, name: str, project: str = "vision", **fields: Any) -> dict[str, Any]:
    response = await api("workspaces", method="POST", body=spec_body(name, project, **fields))
    assert response.code == 201
    body: dict[str, Any] = json.loads(response.body)
    return body


async def fetch_json(api: Fetch, *parts: str, **kwargs: Any) -> Any:
    response = await api(*parts, **kwargs)
    return json.loads(response.body)


async def wait_for_status(api: Fetch, project: str, name: str, status: str) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def reached() -> bool:
        found.update(await fetch_json(api, "workspaces", project, name))
        return bool(found["status"]["status"] == status)

    await eventually(reached)
    return found


async def someone_elses(api: Fetch, other_users: Any, name: str = "bobs-run") -> None:
    """Create bob's workspace behind the server's back, then wait until the server shows it."""
    other_users.create("bob", WorkspaceSpec(name=name, project="vision", owner="bob", image=IMAGE))

    async def shown() -> bool:
        listed = await fetch_json(api, "workspaces", params={"owner": "bob"})
        return any(w["name"] == name for w in listed["workspaces"])

    await eventually(shown)


# Reading.


async def test_list_shows_the_created_workspaces_with_their_status(api: Fetch) -> None:
    await create(api, "alpha")
    await create(api, "beta", project="nlp")
    body = await fetch_json(api, "workspaces")
    rows = {(w["project"], w["name"]): w for w in body["workspaces"]}
    assert set(rows) == {("vision", "alpha"), ("nlp", "beta")}
    assert rows[("vision", "alpha")]["owner"] == RESEARCHER
    assert rows[("vision", "alpha")]["status"]["status"] in STATUSES
    assert rows[("vision", "alpha")]["status"]["message"]


@pytest.mark.parametrize(
    "params, expected",
    [
        pytest.param({"project": "nlp"}, {"beta"}, id="project"),
        pytest.param({"owner": "bob"}, {"bobs-run"}, id="owner"),
        pytest.param(
            {"owner": RESEARCHER, "project": "vision"}, {"alpha"}, id="owner-and-project"
        ),
    ],
)
async def test_list_filters(
    api: Fetch, other_users: Any, params: dict[str, str], expected: set[str]
) -> None:
    await create(api, "alpha")
    await create(api, "beta", project="nlp")
    await someone_elses(api, other_users)
    body = await fetch_json(api, "workspaces", params=params)
    assert {w["name"] for w in body["workspaces"]} == expected


async def test_list_filters_by_status(api: Fetch) -> None:
    await create(api, "alpha")
    await create(api, "beta")
    await api("workspaces", "vision", "beta", "stop", method="POST", body="")
    await wait_for_status(api, "vision", "beta", "Stopped")
    body = await fetch_json(api, "workspaces", params={"status": "Stopped"})
    assert [w["name"] for w in body["workspaces"]] == ["beta"]


async def test_list_refuses_an_unknown_status_listing_the_five(api: Fetch) -> None:
    code, error = await error_of(api("workspaces", params={"status": "Running"}))
    assert code == 400
    assert error["reason"] == "InvalidInput"
    assert "'Running'" in error["message"]
    for status in STATUSES:
        assert status in error["message"]


async def test_get_one_workspace(api: Fetch) -> None:
    await create(api, "alpha", gpu=0, displayName="My thesis")
    body = await fetch_json(api, "workspaces", "vision", "alpha")
    assert body["name"] == "alpha"
    assert body["displayName"] == "My thesis"
    assert body["image"] == IMAGE


async def test_get_unknown_workspace_is_404(api: Fetch) -> None:
    code, error = await error_of(api("workspaces", "vision", "nothing-here"))
    assert code == 404
    assert error["reason"] == "NotFound"
    assert "nothing-here" in error["message"]


async def test_get_in_an_unconfigured_project_is_404_naming_the_projects(api: Fetch) -> None:
    code, error = await error_of(api("workspaces", "physics", "alpha"))
    assert code == 404
    assert "'physics'" in error["message"] and "vision" in error["message"]


async def test_projects_with_quota_use(api: Fetch) -> None:
    await create(api, "alpha")
    body = await fetch_json(api, "projects")
    projects = {p["name"]: p for p in body["projects"]}
    assert {"vision", "nlp"} <= set(projects)
    assert projects["vision"]["workspaces"] == 1
    assert projects["vision"]["quota"]["requests.nvidia.com/gpu"]["hard"] == "4"


async def test_status_says_loaded_and_as_of(api: Fetch) -> None:
    body = await fetch_json(api, "status")
    assert body["configured"] is True
    assert body["loaded"] is True
    assert re.match(r"\d{4}-\d\d-\d\dT", body["asOf"])
    assert body["staleSince"] is None


# Creating.


async def test_create_answers_201_with_location_and_the_caller_as_owner(api: Fetch) -> None:
    response = await api(
        "workspaces", method="POST", body=spec_body("alpha", owner="someone-else")
    )
    assert response.code == 201
    assert response.headers["Location"].endswith("/workspaces/api/workspaces/vision/alpha")
    assert json.loads(response.body)["owner"] == RESEARCHER
    await wait_for_status(api, "vision", "alpha", "Active")


@pytest.mark.parametrize(
    "body, named",
    [
        pytest.param(
            {"name": "x", "project": "vision", "image": IMAGE, "colour": 1},
            "colour",
            id="unknown-field",
        ),
        pytest.param({"project": "vision", "image": IMAGE}, "name", id="missing-name"),
        pytest.param(
            {"name": "Bad_Name", "project": "vision", "image": IMAGE}, "Bad_Name", id="bad-name"
        ),
        pytest.param(
            {"name": "x", "project": "vision", "image": IMAGE, "gpu": -1}, "gpu", id="negative-gpu"
        ),
        pytest.param(
            {"name": "x", "project": "vision", "image": IMAGE, "memory": "lots"},
            "memory",
            id="bad-memory",
        ),
    ],
)
async def test_create_refuses_bad_fields_naming_them(
    api: Fetch, body: dict[str, Any], named: str
) -> None:
    code, error = await error_of(api("workspaces", method="POST", body=json.dumps(body)))
    assert code == 400
    assert error["reason"] == "InvalidInput"
    assert named in error["message"]


@pytest.mark.parametrize(
    "raw, named",
    [
        pytest.param("{not json", "not valid JSON", id="not-json"),
        pytest.param("[1, 2]", "JSON list", id="array"),
        pytest.param("", "empty", id="empty"),
    ],
)
async def test_create_refuses_a_body_that_is_not_an_object(
    api: Fetch, raw: str, named: str
) -> None:
    code, error = await error_of(
        api("workspaces", method="POST", body=raw, allow_nonstandard_methods=True)
    )
    assert code == 400
    assert named in error["message"]


async def test_create_twice_is_409(api: Fetch) -> None:
    await create(api, "alpha")
    code, error = await error_of(api("workspaces", method="POST", body=spec_body("alpha")))
    assert code == 409
    assert error["reason"] == "AlreadyExists"


async def test_create_in_an_unconfigured_project_is_refused(api: Fetch) -> None:
    code, error = await error_of(
        api("workspaces", method="POST", body=spec_body("alpha", "physics"))
    )
    assert code == 404
    assert "physics" in error["message"]


# Acting.


async def test_stop_then_activate(api: Fetch) -> None:
    await create(api, "alpha")
    await wait_for_status(api, "vision", "alpha", "Active")

    response = await api(
        "workspaces",
        "vision",
        "alpha",
        "stop",
        method="POST",
        body=json.dumps({"reason": "done for today"}),
    )
    assert response.code == 200
    stopped = await wait_for_status(api, "vision", "alpha", "Stopped")
    assert stopped["stoppedBy"] == f"user:{RESEARCHER}"
    assert stopped["stopReason"] == "done for today"

    response = await api("workspaces", "vision", "alpha", "activate", method="POST", body="")
    assert response.code == 200
    await wait_for_status(api, "vision", "alpha", "Active")


@pytest.mark.parametrize(
    "body, named",
    [
        pytest.param({"why": "x"}, "why", id="unknown-field"),
        pytest.param({"reason": 42}, "reason", id="reason-not-text"),
        pytest.param({"reason": "x" * 501}, "500", id="reason-too-long"),
    ],
)
async def test_stop_refuses_a_bad_body(api: Fetch, body: dict[str, Any], named: str) -> None:
    await create(api, "alpha")
    code, error = await error_of(
        api("workspaces", "vision", "alpha", "stop", method="POST", body=json.dumps(body))
    )
    assert code == 400
    assert named in error["message"]


@pytest.mark.parametrize("action", ["activate", "stop"])
async def test_acting_on_a_missing_workspace_is_404(api: Fetch, action: str) -> None:
    code, error = await error_of(
        api("workspaces", "vision", "ghost", action, method="POST", body="")
    )
    assert code == 404
    assert error["reason"] == "NotFound"


async def test_delete_keeps_the_volume_by_default(api: Fetch, kube_client: Any) -> None:
    await create(api, "alpha")
    await wait_for_status(api, "vision", "alpha", "Active")
    response = await api("workspaces", "vision", "alpha", method="DELETE")
    assert response.code == 204
    code, _ = await error_of(api("workspaces", "vision", "alpha"))
    assert code == 404
    claims = client.CoreV1Api(kube_client).list_namespaced_persistent_volume_claim("vision")
    assert home_claim_name("alpha") in [c.metadata.name for c in claims.items]


async def test_delete_with_delete_volume_removes_the_volume(api: Fetch, kube_client: Any) -> None:
    await create(api, "alpha")
    await wait_for_status(api, "vision", "alpha", "Active")
    await api("workspaces", "vision", "alpha", method="DELETE", params={"deleteVolume": "true"})
    core = client.CoreV1Api(kube_client)

    async def claim_gone() -> bool:
        names = [
            c.metadata.name for c in core.list_namespaced_persistent_volume_claim("vision").items
        ]
        return home_claim_name("alpha") not in names

    await eventually(claim_gone)


async def test_delete_refuses_a_delete_volume_value_other_than_true_or_false(api: Fetch) -> None:
    await create(api, "alpha")
    code, error = await error_of(
        api("workspaces", "vision", "alpha", method="DELETE", params={"deleteVolume": "yes"})
    )
    assert code == 400
    assert "'yes'" in error["message"] and "true" in error["message"]
    assert (await fetch_json(api, "workspaces", "vision", "alpha"))["name"] == "alpha"


@pytest.mark.parametrize(
    "method, suffix",
    [
        pytest.param("POST", ("stop",), id="stop"),
        pytest.param("POST", ("activate",), id="activate"),
        pytest.param("DELETE", (), id="delete"),
    ],
)
async def test_acting_on_another_users_workspace_is_refused(
    api: Fetch, other_users: Any, method: str, suffix: tuple[str, ...]
) -> None:
    await someone_elses(api, other_users)
    body = "" if method == "POST" else None
    code, error = await error_of(
        api("workspaces", "vision", "bobs-run", *suffix, method=method, body=body)
    )
    assert code == 403
    assert error["reason"] == "Forbidden"
    assert "'bob'" in error["message"]
    # Still there, still bob's, not stopped by anyone.
    found = await fetch_json(api, "workspaces", "vision", "bobs-run")
    assert found["owner"] == "bob" and found["stoppedBy"] is None


class TestAnAdmin:
    """Configured admins may act on everybody's workspaces."""

    @pytest.fixture
    def jp_server_config(self, sim: Any, project_namespaces: tuple[str, ...]) -> dict[str, Any]:
        return server_config(
            kubeconfig=str(sim.kubeconfig), projects=list(project_namespaces), admins=[RESEARCHER]
        )

    async def test_may_stop_another_users_workspace(self, api: Fetch, other_users: Any) -> None:
        await someone_elses(api, other_users)
        response = await api("workspaces", "vision", "bobs-run", "stop", method="POST", body="")
        assert response.code == 200
        stopped = await wait_for_status(api, "vision", "bobs-run", "Stopped")
        assert stopped["owner"] == "bob"
        assert stopped["stoppedBy"] == f"user:{RESEARCHER}"


class TestTheDemoUser:
    """With demo_user set, whoever logs in acts as that user."""

    @pytest.fixture
    def jp_server_config(self, sim: Any, project_namespaces: tuple[str, ...]) -> dict[str, Any]:
        return server_config(
            kubeconfig=str(sim.kubeconfig), projects=list(project_namespaces), demo_user="bob"
        )

    async def test_acts_as_the_demo_user(self, api: Fetch, other_users: Any) -> None:
        await someone_elses(api, other_users)
        response = await api("workspaces", "vision", "bobs-run", "stop", method="POST", body="")
        assert json.loads(response.body)["owner"] == "bob"
        stopped = await wait_for_status(api, "vision", "bobs-run", "Stopped")
        assert stopped["stoppedBy"] == "user:bob"
        created = await create(api, "mine")
        assert created["owner"] == "bob"


# Authentication: every route, every method.


def concrete_requests() -> list[Any]:
    cases = []
    for pattern, handler in default_handlers:
        path = re.sub(r"\(\?P<project>[^)]*\)", "vision", pattern)
        path = re.sub(r"\(\?P<name>[^)]*\)", "alpha", path).replace("\\.", ".")
        for method in ("get", "post", "delete"):
            if method in vars(handler):
                cases.append(pytest.param(method.upper(), path, id=f"{method}-{path}"))
    return cases


@pytest.mark.parametrize("method, path", concrete_requests())
async def test_unauthenticated_requests_are_refused_on_every_route(
    jp_fetch: Fetch, method: str, path: str
) -> None:
    body = spec_body("alpha") if method == "POST" else None
    code, _ = await error_of(
        jp_fetch(
            *path.strip("/").split("/"), method=method, body=body, headers={"Authorization": ""}
        )
    )
    assert code == 403
