"""Helpers of the lifecycle contract tests: make workspaces, read pods and events, wait.

Every call goes through the official client over HTTP, so the same tests run against the
simulator and against a real control plane driven by the simulator's kubelets. They assume the
backend's nodes are `scenarios.STANDARD_NODES` (3 nodes, one GPU on each of two) and its images
those of `registry.KNOWN_IMAGES`.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from jupyter_workspaces.manifests import WorkspaceSpec, build_service, build_statefulset
from jupyter_workspaces.simulator.controllers.kubelet import Kubelet
from jupyter_workspaces.simulator.controllers.scheduler import Scheduler
from jupyter_workspaces.simulator.controllers.statefulset import StatefulSetController
from jupyter_workspaces.simulator.scenarios import STANDARD_NODES

T = TypeVar("T")

# An image every node of the standard scenario has already pulled: starts at once.
WARM_IMAGE = "quay.io/jupyter/scipy-notebook:2024-05-27"
# An image no node has yet: 2 GB to pull, 40 simulated seconds.
COLD_IMAGE = "quay.io/jupyter/datascience-notebook:2024-05-27"
MISSING_IMAGE = "quay.io/jupyter/no-such-notebook:2024-05-27"


class Kube:
    """Raw-JSON access to one backend, and waiting for what it should come to."""

    def __init__(self, api: client.ApiClient, speed: float) -> None:
        self.api = api
        self.core = client.CoreV1Api(api)
        self.apps = client.AppsV1Api(api)
        self.speed = speed

    def call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        response = method(*args, _preload_content=False, **kwargs)
        return json.loads(response.data)

    # Objects -----------------------------------------------------------------------------

    def new_project(self) -> str:
        name = f"lc-{uuid.uuid4().hex[:8]}"
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        self.call(self.core.create_namespace, body)
        return name

    def clean_project(self, project: str) -> None:
        """Remove the project's workspaces and pods so they hold no node capacity."""
        for sts in self.call(self.apps.list_namespaced_stateful_set, project)["items"]:
            self.call(self.apps.delete_namespaced_stateful_set, sts["metadata"]["name"], project)
        for pod in self.call(self.core.list_namespaced_pod, project)["items"]:
            try:
                self.call(
                    self.core.delete_namespaced_pod,
                    pod["metadata"]["name"],
                    project,
                    body={"gracePeriodSeconds": 0},
                )
            except ApiException as exc:
                if exc.status != 404:
                    raise
        try:
            self.call(self.core.delete_namespace, project)
        except ApiException as exc:
            if exc.status != 404:
                raise

    def create_workspace(
        self,
        project: str,
        name: str,
        image: str = WARM_IMAGE,
        *,
        gpu: int = 0,
        replicas: int = 1,
        pod_annotations: dict[str, str] | None = None,
        node_selector: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        spec = WorkspaceSpec(name=name, project=project, owner="tester", image=image, gpu=gpu)
        sts = build_statefulset(spec, replicas=replicas)
        template = sts["spec"]["template"]
        template["metadata"]["annotations"].update(pod_annotations or {})
        if node_selector:
            template["spec"]["nodeSelector"] = node_selector
        self.call(self.core.create_namespaced_service, project, build_service(spec))
        created: dict[str, Any] = self.call(self.apps.create_namespaced_stateful_set, project, sts)
        return created

    def scale(self, project: str, name: str, replicas: int) -> None:
        self.call(
            self.apps.patch_namespaced_stateful_set_scale,
            name,
            project,
            {"spec": {"replicas": replicas}},
        )

    def pod(self, project: str, name: str) -> dict[str, Any] | None:
        try:
            pod: dict[str, Any] = self.call(self.core.read_namespaced_pod, name, project)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return pod

    def statefulset(self, project: str, name: str) -> dict[str, Any]:
        sts: dict[str, Any] = self.call(self.apps.read_namespaced_stateful_set, name, project)
        return sts

    def events(self, project: str, name: str, kind: str | None = None) -> list[dict[str, Any]]:
        """Events about object `name` (of `kind`, if given) in the project, oldest first."""
        items = self.call(self.core.list_namespaced_event, project)["items"]
        found = [
            e
            for e in items
            if e["involvedObject"].get("name") == name
            and (kind is None or e["involvedObject"].get("kind") == kind)
        ]
        return sorted(found, key=lambda e: e.get("eventTime") or e.get("firstTimestamp") or "")

    # Waiting -----------------------------------------------------------------------------

    def wait(self, what: str, probe: Callable[[], T | None], seconds: float) -> T:
        """Poll `probe` until it returns something truthy; `seconds` are simulated seconds."""
        deadline = time.monotonic() + seconds / self.speed + 10.0
        last: T | None = None
        while time.monotonic() < deadline:
            last = probe()
            if last:
                return last
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}; last seen: {last!r}")

    def wait_event(
        self, project: str, name: str, reason: str, seconds: float = 60
    ) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            return next((e for e in self.events(project, name) if e["reason"] == reason), None)

        return self.wait(f"event {reason} about {project}/{name}", probe, seconds)

    def wait_pod(
        self, project: str, name: str, check: Callable[[dict[str, Any]], bool], seconds: float = 60
    ) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            pod = self.pod(project, name)
            return pod if pod is not None and check(pod) else None

        return self.wait(f"pod {project}/{name}", probe, seconds)


def condition(pod: dict[str, Any], kind: str) -> dict[str, Any]:
    for cond in pod.get("status", {}).get("conditions") or []:
        if cond["type"] == kind:
            return dict(cond)
    return {}


def container_status(pod: dict[str, Any]) -> dict[str, Any]:
    statuses = pod.get("status", {}).get("containerStatuses") or [{}]
    return dict(statuses[0])


def waiting_reason(pod: dict[str, Any]) -> str | None:
    return (container_status(pod).get("state") or {}).get("waiting", {}).get("reason")


def is_ready(pod: dict[str, Any]) -> bool:
    return condition(pod, "Ready").get("status") == "True"


def messages(events: list[dict[str, Any]], reason: str) -> list[str]:
    return [e["message"] for e in events if e["reason"] == reason]


def projects(kube: Kube) -> Iterator[str]:
    project = kube.new_project()
    try:
        yield project
    finally:
        kube.clean_project(project)


# Simulated seconds per real second in lifecycle tests: a 40 s pull takes 0.4 s.
LIFECYCLE_SPEED = 100.0


@pytest.fixture(scope="session")
def nodes(backend: Any) -> Iterator[list[Any]]:
    """The standard nodes, each run by a simulated kubelet; on the simulator backend (which has
    no controller-manager or scheduler) also the simulated StatefulSet controller and scheduler.
    """
    api = backend.api_client()
    core = client.CoreV1Api(api)
    for node in STANDARD_NODES:
        manifest = node.manifest()
        try:
            core.create_node(manifest, _preload_content=False)
        except ApiException as exc:
            if exc.status != 409:
                raise
        core.patch_node_status(node.name, {"status": manifest["status"]}, _preload_content=False)
    running: list[Any] = []
    if backend.name == "simulator":
        running += [
            StatefulSetController(backend.api_client(), LIFECYCLE_SPEED),
            Scheduler(backend.api_client(), LIFECYCLE_SPEED),
        ]
    for node in STANDARD_NODES:
        kubelet = Kubelet(None, node.name, speed=LIFECYCLE_SPEED, api=backend.api_client())
        kubelet.images.update(node.images)
        running.append(kubelet)
    for component in running:
        component.start()
    for component in running:
        component.wait_synced(30)
    yield running
    for component in running:
        component.stop()


@pytest.fixture
def kube(backend: Any, nodes: list[Any]) -> Kube:
    """The backend's API, with the speed of its simulated nodes."""
    return Kube(backend.api_client(), LIFECYCLE_SPEED)


@pytest.fixture
def project(kube: Kube) -> Iterator[str]:
    """A fresh namespace, emptied afterwards so it holds no node capacity."""
    yield from projects(kube)
