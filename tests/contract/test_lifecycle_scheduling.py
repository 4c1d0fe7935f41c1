"""Pods that cannot run yet: no node fits, or the project's quota is used up; then they can."""

from __future__ import annotations

from tests.contract.lifecycle import (
    Kube,
    condition,
    is_ready,
    messages,
)


def test_pod_needing_more_gpus_than_any_node_has_is_unschedulable(
    kube: Kube, project: str
) -> None:
    kube.create_workspace(project, "big", gpu=2)

    pod = kube.wait_pod(
        project, "big-0", lambda p: condition(p, "PodScheduled").get("status") == "False"
    )

    scheduled = condition(pod, "PodScheduled")
    assert scheduled["reason"] == "Unschedulable"
    assert scheduled["message"] == "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."
    event = kube.wait_event(project, "big-0", "FailedScheduling")
    assert event["type"] == "Warning"
    assert event["message"] == "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."
    assert pod["status"]["phase"] == "Pending"
    assert not pod["spec"].get("nodeName")


def test_pod_waiting_for_a_gpu_is_scheduled_once_another_workspace_stops(
    kube: Kube, project: str
) -> None:
    for name in ("holder-a", "holder-b"):
        kube.create_workspace(project, name, gpu=1)
        kube.wait_pod(project, f"{name}-0", is_ready)
    kube.create_workspace(project, "waiter", gpu=1)
    pod = kube.wait_pod(
        project, "waiter-0", lambda p: condition(p, "PodScheduled").get("status") == "False"
    )
    assert condition(pod, "PodScheduled")["message"] == (
        "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."
    )

    kube.scale(project, "holder-a", 0)

    pod = kube.wait_pod(project, "waiter-0", is_ready, seconds=120)
    assert condition(pod, "PodScheduled")["status"] == "True"


def test_pod_whose_node_selector_matches_no_node_is_unschedulable(
    kube: Kube, project: str
) -> None:
    kube.create_workspace(project, "picky", node_selector={"gpu": "h100"})

    pod = kube.wait_pod(
        project, "picky-0", lambda p: condition(p, "PodScheduled").get("status") == "False"
    )

    assert condition(pod, "PodScheduled")["message"] == (
        "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity."
    )


def test_pod_over_quota_is_refused_with_failed_create_then_created_when_quota_grows(
    kube: Kube, project: str
) -> None:
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "gpus", "namespace": project},
        "spec": {"hard": {"requests.nvidia.com/gpu": "0"}},
    }
    kube.call(kube.core.create_namespaced_resource_quota, project, quota)

    kube.create_workspace(project, "greedy", gpu=1)

    event = kube.wait_event(project, "greedy", "FailedCreate")
    assert event["type"] == "Warning"
    assert event["involvedObject"]["kind"] == "StatefulSet"
    assert event["message"].startswith(
        'create Pod greedy-0 in StatefulSet greedy failed error: pods "greedy-0" is forbidden: '
        "exceeded quota: gpus, requested: requests.nvidia.com/gpu=1, "
        "used: requests.nvidia.com/gpu=0, limited: requests.nvidia.com/gpu=0"
    )
    assert kube.pod(project, "greedy-0") is None

    kube.call(
        kube.core.patch_namespaced_resource_quota,
        "gpus",
        project,
        {"spec": {"hard": {"requests.nvidia.com/gpu": "1"}}},
    )

    pod = kube.wait_pod(project, "greedy-0", is_ready, seconds=120)
    assert "create Pod greedy-0 in StatefulSet greedy successful" in messages(
        kube.events(project, "greedy", "StatefulSet"), "SuccessfulCreate"
    )
    assert pod["status"]["phase"] == "Running"
