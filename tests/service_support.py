"""Helpers for the cluster, service and CLI tests: a connected service, specs, waiting."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from kubernetes import client

from jupyter_workspaces.cluster import WatchSettings
from jupyter_workspaces.manifests import WorkspaceSpec, build_service, build_statefulset
from jupyter_workspaces.service import WorkspaceService
from jupyter_workspaces.simulator.cluster import SimulatedCluster
from jupyter_workspaces.simulator.scenarios import SCIPY

# Short timeouts and back-offs, so that recovery happens within a test's patience.
FAST = WatchSettings(
    watch_timeout=30, quiet_timeout=10.0, backoff_initial=0.05, backoff_max=0.3, request_timeout=5
)

T = TypeVar("T")


def eventually(check: Callable[[], T | None], timeout: float = 5.0, what: str = "") -> T:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what or check}")
        time.sleep(0.02)


def make_namespace(sim: SimulatedCluster, name: str, labels: dict[str, str] | None = None) -> None:
    core = client.CoreV1Api(sim.api_client())
    core.create_namespace({"metadata": {"name": name, "labels": labels or {}}})


def spec(name: str, project: str = "demo", owner: str = "alice", **fields: Any) -> WorkspaceSpec:
    return WorkspaceSpec(name=name, project=project, owner=owner, image=SCIPY, **fields)


def connect(
    sim: SimulatedCluster, projects: Iterable[str] | None = ("demo",), **options: Any
) -> WorkspaceService:
    """A started service on the simulator, with its first load done."""
    service = WorkspaceService.connect(
        kubeconfig=sim.kubeconfig,
        projects=list(projects) if projects is not None else None,
        settings=options.pop("settings", FAST),
        **options,
    )
    assert service.wait_loaded(15), service.freshness()
    return service


def api_statefulset(sim: SimulatedCluster, project: str, name: str) -> dict[str, Any]:
    """The StatefulSet as the API has it now, as a plain dict."""
    api = client.AppsV1Api(sim.api_client())
    response = api.read_namespaced_stateful_set(name, project, _preload_content=False)
    data: dict[str, Any] = json.loads(response.data)
    return data


def seed_stopped(sim: SimulatedCluster, project: str, count: int, owner: str = "alice") -> None:
    """Write `count` stopped workspaces straight into the simulator's store (fast, no pods)."""
    objects = []
    for i in range(count):
        workspace = spec(f"ws-{i:05d}", project=project, owner=owner)
        objects += [build_statefulset(workspace, replicas=0), build_service(workspace)]
    sim.api.store.seed(objects)


def api_names(sim: SimulatedCluster, project: str) -> list[str]:
    """Names of the StatefulSets in a project, as the API lists them now."""
    api = client.AppsV1Api(sim.api_client())
    return sorted(s.metadata.name for s in api.list_namespaced_stateful_set(project).items)
