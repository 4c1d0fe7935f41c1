"""Fixtures for the server extension's tests: a Jupyter server with the extension enabled.

Loaded with `pytest_plugins` by the tests/test_server_*.py modules. Token requests are made
by the user "ada" (tests.server_helpers.FixedUserProvider, a fixed name so that ownership can
be tested); the cluster is the `sim` fixture's simulator, reached through its kubeconfig.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterator
from typing import Any

import pytest
from tornado.httpclient import HTTPResponse

from tests.server_helpers import PROJECTS, Fetch, server_config


@pytest.fixture
def api(jp_fetch: Fetch, jp_serverapp: Any) -> Iterator[Fetch]:
    """jp_fetch rooted at the workspaces API: api("workspaces", "p", "n", method=...).

    On teardown the extension stops watching, before the test's simulator goes away.
    """

    def fetch(*parts: str, **kwargs: Any) -> Awaitable[HTTPResponse]:
        return jp_fetch("workspaces", "api", *parts, **kwargs)

    yield fetch
    jp_serverapp.web_app.settings["workspaces_backend"].close()


@pytest.fixture
def kube_client(sim: Any) -> Iterator[Any]:
    """An official kubernetes ApiClient for the simulator, to set up and look at the cluster."""
    from kubernetes import config

    client = config.new_client_from_config(config_file=str(sim.kubeconfig))
    yield client
    client.close()


@pytest.fixture
def project_namespaces(kube_client: Any) -> tuple[str, ...]:
    """Create the project namespaces, with a GPU quota on the first."""
    from kubernetes import client

    core = client.CoreV1Api(kube_client)
    for name in PROJECTS:
        core.create_namespace({"metadata": {"name": name}})
    core.create_namespaced_resource_quota(
        PROJECTS[0],
        {"metadata": {"name": "gpus"}, "spec": {"hard": {"requests.nvidia.com/gpu": "4"}}},
    )
    return PROJECTS


@pytest.fixture
def jp_server_config(sim: Any, project_namespaces: tuple[str, ...]) -> dict[str, Any]:
    return server_config(
        kubeconfig=str(sim.kubeconfig),
        url_template=sim.tools_url_template,
        projects=list(project_namespaces),
    )


@pytest.fixture
def other_users(sim: Any, project_namespaces: tuple[str, ...]) -> Iterator[Any]:
    """A WorkspaceService on the same cluster, to act as users other than the test's."""
    from jupyter_workspaces.service import WorkspaceService

    service = WorkspaceService.connect(kubeconfig=sim.kubeconfig, projects=project_namespaces)
    assert service.wait_loaded(10)
    yield service
    service.close()
