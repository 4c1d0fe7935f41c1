"""The demo scenario shows every status, and changes on its own over its first minute."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jupyter_workspaces.simulator import SimulatedCluster
from tests.contract.lifecycle import Kube, condition, container_status, is_ready, waiting_reason

# Fast enough that the first simulated minute takes 1.5 s.
DEMO_SPEED = 40.0


@pytest.fixture(scope="module")
def demo() -> Iterator[Kube]:
    with SimulatedCluster("demo", speed=DEMO_SPEED) as sim:
        yield Kube(sim.api_client(), DEMO_SPEED)


def test_demo_workspace_over_quota_is_refused_with_failed_create(demo: Kube) -> None:
    event = demo.wait_event("nlp-lab", "llm-finetune", "FailedCreate")
    assert "exceeded quota: workspaces" in event["message"]
    assert demo.pod("nlp-lab", "llm-finetune-0") is None


def test_demo_workspace_waiting_for_gpus_starts_when_the_idle_one_is_stopped(demo: Kube) -> None:
    event = demo.wait_event("vision-lab", "big-sweep-0", "FailedScheduling")
    assert event["message"] == "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."

    demo.wait_pod("vision-lab", "big-sweep-0", is_ready, seconds=90)

    stopped = demo.statefulset("vision-lab", "detector-train")
    assert stopped["spec"]["replicas"] == 0
    annotations = stopped["metadata"]["annotations"]
    assert annotations["workspaces.jupyter.org/stopped-by"] == "policy:idle-culler"


def test_demo_workspace_asking_more_gpus_than_a_node_has_stays_pending(demo: Kube) -> None:
    event = demo.wait_event("teaching", "huge-model-0", "FailedScheduling")
    assert event["message"] == "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."


def test_demo_workspace_pulling_a_big_image_becomes_ready(demo: Kube) -> None:
    demo.wait_event("nlp-lab", "notes-0", "Pulling")
    demo.wait_pod("nlp-lab", "notes-0", is_ready, seconds=90)


@pytest.mark.parametrize(
    ("project", "pod", "reason"),
    [
        pytest.param("nlp-lab", "typo-image-0", "ImagePullBackOff", id="bad-image"),
        pytest.param("vision-lab", "flaky-trainer-0", "CrashLoopBackOff", id="crash-loop"),
        pytest.param("teaching", "dashboard-0", "CrashLoopBackOff", id="crashes-later"),
    ],
)
def test_demo_failing_workspaces_show_their_waiting_reason(
    demo: Kube, project: str, pod: str, reason: str
) -> None:
    demo.wait_pod(project, pod, lambda p: waiting_reason(p) == reason, seconds=120)


def test_demo_out_of_memory_workspace_shows_oom_killed(demo: Kube) -> None:
    pod = demo.wait_pod(
        "teaching",
        "memory-hog-0",
        lambda p: bool(container_status(p).get("lastState", {}).get("terminated")),
    )
    assert container_status(pod)["lastState"]["terminated"]["reason"] == "OOMKilled"


def test_demo_never_ready_workspace_runs_without_readiness(demo: Kube) -> None:
    demo.wait_event("nlp-lab", "stuck-server-0", "Unhealthy")
    pod = demo.pod("nlp-lab", "stuck-server-0")
    assert pod is not None
    assert condition(pod, "Ready")["status"] == "False"


@pytest.mark.parametrize(
    ("project", "name", "stopped_by"),
    [
        pytest.param("teaching", "intro-python", "user:alice", id="by-user"),
        pytest.param("teaching", "old-experiment", "policy:idle-culler", id="by-policy"),
    ],
)
def test_demo_stopped_workspaces_have_no_pod_and_say_who_stopped_them(
    demo: Kube, project: str, name: str, stopped_by: str
) -> None:
    sts = demo.statefulset(project, name)
    assert sts["spec"]["replicas"] == 0
    assert sts["metadata"]["annotations"]["workspaces.jupyter.org/stopped-by"] == stopped_by
    assert demo.pod(project, f"{name}-0") is None


def test_demo_active_workspaces_become_ready(demo: Kube) -> None:
    for project, name in [("vision-lab", "segmentation"), ("vision-lab", "vscode-lab")]:
        demo.wait_pod(project, f"{name}-0", is_ready)
