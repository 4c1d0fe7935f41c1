"""The workspace flows a researcher goes through, on the simulator and on a real control plane.

Each test drives the product's own service layer (`WorkspaceService` over a kubeconfig) and
asserts what the table would show: status, reason and the numbers in the hover message. The
same assertions run on both backends (see conftest), so a simulator that drifts from real
Kubernetes fails here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from kubernetes import client

from jupyter_workspaces import constants as c
from jupyter_workspaces.errors import NotFound
from jupyter_workspaces.manifests import WorkspaceSpec
from jupyter_workspaces.records import Workspace
from jupyter_workspaces.service import WorkspaceService
from jupyter_workspaces.simulator.scenarios import STANDARD_NODES
from tests.realcluster.conftest import FlowCluster, raw

USER = "ada"
# Every standard node has this image already: the workspace starts at once.
WARM_IMAGE = "quay.io/jupyter/scipy-notebook:2024-05-27"
# No node has this one: 2 GB to pull, 40 simulated seconds.
COLD_IMAGE = "quay.io/jupyter/datascience-notebook:2024-05-27"
MISSING_IMAGE = "quay.io/jupyter/no-such-notebook:2024-05-27"


@pytest.fixture
def service(flow_cluster: FlowCluster, project: str) -> Iterator[WorkspaceService]:
    svc = WorkspaceService.connect(kubeconfig=flow_cluster.kubeconfig, projects=[project])
    assert svc.wait_loaded(30), "the service did not load the project"
    yield svc
    svc.close()


def spec(project: str, name: str, image: str = WARM_IMAGE, **kw: object) -> WorkspaceSpec:
    return WorkspaceSpec(name=name, project=project, owner=USER, image=image, **kw)  # type: ignore[arg-type]


def wait_status(
    service: WorkspaceService,
    project: str,
    name: str,
    status: str,
    reason: str | None = None,
    timeout: float = 60.0,
) -> tuple[Workspace, list[tuple[str, str]]]:
    """Poll the service until the workspace shows `status` (and `reason`); return it and the
    (status, reason) pairs seen on the way, in order."""
    deadline = time.monotonic() + timeout
    seen: list[tuple[str, str]] = []
    while True:
        workspace = service.get(USER, project, name)
        pair = (workspace.status.status, workspace.status.reason)
        if not seen or seen[-1] != pair:
            seen.append(pair)
        if pair[0] == status and (reason is None or pair[1] == reason):
            return workspace, seen
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{project}/{name} never showed {status}/{reason}; seen {seen}, "
                f"last message: {workspace.status.message}"
            )
        time.sleep(0.05)


def home_claim(flow_cluster: FlowCluster, project: str, name: str) -> dict[str, object] | None:
    core = client.CoreV1Api(flow_cluster.api_client())
    claims = raw(core.list_namespaced_persistent_volume_claim, project)["items"]
    found = [x for x in claims if x["metadata"]["name"] == c.home_claim_name(name)]
    return found[0] if found else None


def test_new_workspace_is_initializing_while_its_image_pulls_then_active(
    service: WorkspaceService, project: str
) -> None:
    service.create(USER, spec(project, "notes", image=COLD_IMAGE))

    active, seen = wait_status(service, project, "notes", "Active")

    assert ("Initializing", "PullingImage") in seen
    assert seen.index(("Initializing", "PullingImage")) < seen.index(("Active", "Ready"))
    assert active.status.reason == "Ready"
    assert active.node in {node.name for node in STANDARD_NODES}


def test_workspace_needing_more_gpus_than_any_node_has_is_pending_with_the_numbers(
    service: WorkspaceService, project: str
) -> None:
    service.create(USER, spec(project, "big", gpu=2))

    pending, _ = wait_status(service, project, "big", "Pending", "Unschedulable")

    assert "It needs 2 GPUs" in pending.status.message
    assert pending.status.facts["gpusRequested"] == 2
    assert pending.status.facts["schedulerMessage"] == (
        "0/3 nodes are available: 3 Insufficient nvidia.com/gpu"
    )
    assert pending.node is None


def test_workspace_over_the_project_quota_is_pending_then_starts_when_the_quota_grows(
    flow_cluster: FlowCluster, service: WorkspaceService, project: str
) -> None:
    core = client.CoreV1Api(flow_cluster.api_client())
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "workspaces"},
        "spec": {"hard": {"requests.cpu": "1"}},
    }
    raw(core.create_namespaced_resource_quota, project, quota)
    # A real cluster's quota controller fills in status.hard shortly after; until it has,
    # admission refuses every pod with "status unknown for quota". Projects in use are past that.
    deadline = time.monotonic() + 30
    while not raw(core.read_namespaced_resource_quota, "workspaces", project).get("status"):
        assert time.monotonic() < deadline, "quota status never filled in"
        time.sleep(0.05)

    service.create(USER, spec(project, "greedy", cpu="2"))
    pending, _ = wait_status(service, project, "greedy", "Pending", "QuotaExceeded")

    assert "alone needs 2 CPUs" in pending.status.message
    assert '"workspaces" allows in all (1 CPU)' in pending.status.message
    assert pending.status.kube_reason == "FailedCreate"
    assert pending.status.facts["quota"] == {
        "name": "workspaces",
        "resources": [{"resource": "requests.cpu", "requested": "2", "used": "0", "hard": "1"}],
    }

    raw(
        core.patch_namespaced_resource_quota,
        "workspaces",
        project,
        {"spec": {"hard": {"requests.cpu": "4"}}},
    )
    wait_status(service, project, "greedy", "Active", timeout=120)


def test_workspace_whose_image_does_not_exist_fails_with_the_image_named(
    service: WorkspaceService, project: str
) -> None:
    service.create(USER, spec(project, "typo", image=MISSING_IMAGE))

    failed, seen = wait_status(service, project, "typo", "Failed", "ImagePullBackOff")

    assert MISSING_IMAGE in failed.status.message
    assert ("Active", "Ready") not in seen


def test_stop_activate_and_delete_keep_the_home_volume(
    flow_cluster: FlowCluster, service: WorkspaceService, project: str
) -> None:
    service.create(USER, spec(project, "thesis"))
    wait_status(service, project, "thesis", "Active")
    claim = home_claim(flow_cluster, project, "thesis")
    assert claim is not None
    uid = claim["metadata"]["uid"]  # type: ignore[index]

    service.stop(USER, project, "thesis", reason="done for today")
    stopped, _ = wait_status(service, project, "thesis", "Stopped", "StoppedByUser")
    assert stopped.stopped_by == f"user:{USER}"
    assert stopped.stop_reason == "done for today"
    assert home_claim(flow_cluster, project, "thesis")["metadata"]["uid"] == uid  # type: ignore[index]

    service.activate(USER, project, "thesis")
    wait_status(service, project, "thesis", "Active")
    assert home_claim(flow_cluster, project, "thesis")["metadata"]["uid"] == uid  # type: ignore[index]

    service.delete(USER, project, "thesis")
    deadline = time.monotonic() + 30
    while True:
        try:
            service.get(USER, project, "thesis")
        except NotFound:
            break
        assert time.monotonic() < deadline, "the workspace was never gone"
        time.sleep(0.05)
    assert home_claim(flow_cluster, project, "thesis")["metadata"]["uid"] == uid  # type: ignore[index]
