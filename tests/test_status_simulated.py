"""derive_status over what the simulated cluster really serves, read back over HTTP.

The table-driven tests in test_status.py pin every rule to hand-built JSON; these check that
the objects and event texts a running cluster produces lead to the same statuses.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest
from kubernetes import client

from jupyter_workspaces import constants as c
from jupyter_workspaces.manifests import WorkspaceSpec, build_service, build_statefulset
from jupyter_workspaces.simulator import SimulatedCluster
from jupyter_workspaces.simulator.scenarios import SCIPY
from jupyter_workspaces.status import StatusReport, derive_status, events_for

PROJECT = "status-e2e"


def raw(call: Callable[..., Any], *args: Any) -> Any:
    """The JSON body of a client call, as the watch cache sees objects."""
    return json.loads(call(*args, _preload_content=False).data)


def status_of(api: client.ApiClient, name: str) -> StatusReport:
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    sts = raw(apps.read_namespaced_stateful_set, name, PROJECT)
    pods = raw(core.list_namespaced_pod, PROJECT)["items"]
    pod = next((p for p in pods if p["metadata"]["name"] == c.pod_name(name)), None)
    events = events_for(name, raw(core.list_namespaced_event, PROJECT)["items"], PROJECT)
    return derive_status(sts, pod, events, datetime.now(timezone.utc))


def wait_for(
    api: client.ApiClient, name: str, done: Callable[[StatusReport], bool], seconds: float = 30
) -> StatusReport:
    deadline = time.monotonic() + seconds
    report = status_of(api, name)
    while not done(report):
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} never got there; last: {report}")
        time.sleep(0.1)
        report = status_of(api, name)
    return report


@pytest.fixture
def api(sim: SimulatedCluster) -> client.ApiClient:
    api_client = sim.api_client()
    client.CoreV1Api(api_client).create_namespace({"metadata": {"name": PROJECT}})
    return api_client


def create(api: client.ApiClient, name: str, **changes: Any) -> WorkspaceSpec:
    values: dict[str, Any] = {
        "name": name,
        "project": PROJECT,
        "owner": "ada",
        "image": SCIPY,
        "cpu": "1",
        "memory": "2Gi",
    }
    values.update(changes)
    spec = WorkspaceSpec(**values)
    client.CoreV1Api(api).create_namespaced_service(PROJECT, build_service(spec))
    client.AppsV1Api(api).create_namespaced_stateful_set(PROJECT, build_statefulset(spec))
    return spec


def test_a_workspace_becomes_active_then_stopped_by_its_owner(api: client.ApiClient) -> None:
    create(api, "notes")
    report = wait_for(api, "notes", lambda r: r.status == "Active")
    assert report.reason == "Ready"
    assert report.node and report.node in report.message

    stop = {
        "metadata": {
            "annotations": {
                c.STOPPED_BY_ANNOTATION: "user:ada",
                c.STOPPED_AT_ANNOTATION: datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        },
        "spec": {"replicas": 0},
    }
    client.AppsV1Api(api).patch_namespaced_stateful_set("notes", PROJECT, stop)
    report = wait_for(api, "notes", lambda r: r.status == "Stopped")
    assert report.reason == "StoppedByUser"
    assert "Stopped by ada" in report.message


def test_asking_for_more_gpus_than_any_node_has_is_pending_with_numbers(
    api: client.ApiClient,
) -> None:
    create(api, "big", gpu=2)
    report = wait_for(api, "big", lambda r: r.reason == "Unschedulable")
    assert report.status == "Pending"
    assert "It needs 2 GPUs" in report.message
    assert "none of the 3 nodes fits" in report.message


def test_a_full_gpu_quota_is_pending_with_used_and_hard(api: client.ApiClient) -> None:
    quota = {
        "metadata": {"name": "gpus"},
        "spec": {"hard": {f"requests.{c.GPU_RESOURCE}": "0"}},
    }
    client.CoreV1Api(api).create_namespaced_resource_quota(PROJECT, quota)
    create(api, "trainer", gpu=1)
    report = wait_for(api, "trainer", lambda r: r.reason == "QuotaExceeded")
    assert report.status == "Pending"
    assert 'quota "gpus"' in report.message
    assert "needs 1 GPU" in report.message


@pytest.mark.parametrize(
    ("image", "reason", "words"),
    [
        pytest.param("simulated/crash-loop:1", "CrashLoopBackOff", "exit code 1", id="crash"),
        pytest.param("simulated/oom:1", "OOMKilled", "ran out of memory", id="oom"),
        pytest.param("simulated/private:1", "ImagePullBackOff", "needs credentials", id="private"),
        pytest.param("simulated/no-such-image:1", "ImagePullBackOff", "does not exist", id="gone"),
    ],
)
def test_a_broken_workspace_fails_saying_why(
    api: client.ApiClient, image: str, reason: str, words: str
) -> None:
    create(api, "broken", image=image)
    report = wait_for(api, "broken", lambda r: r.status == "Failed")
    assert report.reason == reason, report.message
    assert words in report.message
