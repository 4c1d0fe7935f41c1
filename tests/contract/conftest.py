"""The `backend` the API contract tests run against, and helpers they share.

Contract tests speak to a Kubernetes API only through the official client, from a kubeconfig,
so the same test can run against the simulator and against a real kube-apiserver. Each test
works in its own fresh namespace, so tests can share one backend per session.

To add a backend, give `_BACKENDS` a starter: a function from a temporary directory to a
`Backend` and a callable that stops it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from jupyter_workspaces.simulator.apiserver import ApiServer
from tests.realcluster.backend import start_real


@dataclass
class Backend:
    """A Kubernetes API to test against, reached through `kubeconfig`."""

    name: str
    kubeconfig: Path
    clients: list[client.ApiClient] = field(default_factory=list)

    def api_client(self) -> client.ApiClient:
        api_client = config.new_client_from_config(str(self.kubeconfig))
        self.clients.append(api_client)
        return api_client


def _start_simulator(directory: Path) -> tuple[Backend, Callable[[], None]]:
    server = ApiServer()
    server.start()
    path = server.write_kubeconfig(directory / "kubeconfig")
    return Backend("simulator", path), server.stop


def _start_real(directory: Path) -> tuple[Backend, Callable[[], None]]:
    kubeconfig, stop = start_real(directory)
    return Backend("real", kubeconfig), stop


_BACKENDS: dict[str, Callable[[Path], tuple[Backend, Callable[[], None]]]] = {
    "simulator": _start_simulator,
    "real": _start_real,
}
# A real kube-apiserver 1.20.2 (tests/realcluster): its tests run in `make test-real`.
_MARKS = {"real": pytest.mark.realcluster}


@pytest.fixture(
    scope="session",
    params=[pytest.param(name, marks=_MARKS.get(name, ())) for name in sorted(_BACKENDS)],
)
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    started, stop = _BACKENDS[request.param](tmp_path_factory.mktemp(request.param))
    yield started
    for api_client in started.clients:
        api_client.close()
    stop()


@pytest.fixture
def api(backend: Backend) -> client.ApiClient:
    return backend.api_client()


@pytest.fixture
def core(api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture
def apps(api: client.ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(api)


@pytest.fixture
def namespace(core: client.CoreV1Api) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards."""
    name = f"contract-{uuid.uuid4().hex[:10]}"
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


def status_body(error: client.ApiException) -> dict[str, Any]:
    """The Kubernetes `Status` an error answer carried."""
    body: dict[str, Any] = json.loads(error.body)
    return body


def statefulset(
    name: str, *, labels: dict[str, str] | None = None, replicas: int = 1
) -> dict[str, Any]:
    """A small valid StatefulSet manifest."""
    selector = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "labels": {**selector, **(labels or {})}},
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": selector},
                "spec": {
                    "containers": [
                        {
                            "name": "workspace",
                            "image": "jupyter/base-notebook:2024-01-01",
                            "ports": [{"containerPort": 8888, "name": "jupyterlab"}],
                            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                        },
                        {"name": "sidecar", "image": "busybox:1.36"},
                    ]
                },
            },
        },
    }


def pod(
    name: str,
    *,
    labels: dict[str, str] | None = None,
    gpu: int = 0,
    cpu: str = "100m",
    memory: str = "128Mi",
    bound_by_test: bool = False,
) -> dict[str, Any]:
    """A small valid pod manifest with requests (and GPU limits when asked).

    `bound_by_test` names a scheduler that does not exist, so that a test which binds the pod
    itself is not raced by the scheduler a real control plane runs.
    """
    resources: dict[str, Any] = {"requests": {"cpu": cpu, "memory": memory}}
    if gpu:
        resources["limits"] = {"nvidia.com/gpu": str(gpu)}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {
            "containers": [{"name": "main", "image": "busybox:1.36", "resources": resources}],
            **({"schedulerName": "bound-by-test"} if bound_by_test else {}),
        },
    }


def eventually(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll `check` until it returns a truthy value (for outcomes a controller brings about)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {timeout} s: last {result!r}")
        time.sleep(interval)
