"""A workspace's pod through each life a kubelet gives it: the states, events and messages."""

from __future__ import annotations

from jupyter_workspaces.simulator.registry import BEHAVIOUR_ANNOTATION
from tests.contract.lifecycle import (
    COLD_IMAGE,
    MISSING_IMAGE,
    WARM_IMAGE,
    Kube,
    condition,
    container_status,
    is_ready,
    messages,
    waiting_reason,
)


def test_workspace_pod_is_created_scheduled_started_and_ready(kube: Kube, project: str) -> None:
    kube.create_workspace(project, "analysis")

    pod = kube.wait_pod(project, "analysis-0", is_ready)

    assert pod["status"]["phase"] == "Running"
    assert container_status(pod)["state"]["running"]["startedAt"]
    assert condition(pod, "ContainersReady")["status"] == "True"
    assert pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == "analysis-0"
    assert pod["metadata"]["labels"]["controller-revision-hash"].startswith("analysis-")
    owner = pod["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("StatefulSet", "analysis", True)
    claims = [
        v["persistentVolumeClaim"]["claimName"]
        for v in pod["spec"]["volumes"]
        if "persistentVolumeClaim" in v
    ]
    assert claims == ["home-analysis-0"]

    events = kube.events(project, "analysis-0", "Pod")
    node = pod["spec"]["nodeName"]
    assert messages(events, "Scheduled") == [
        f"Successfully assigned {project}/analysis-0 to {node}"
    ]
    assert messages(events, "Pulled") == [
        f'Container image "{WARM_IMAGE}" already present on machine'
    ]
    assert messages(events, "Created") == ["Created container workspace"]
    assert messages(events, "Started") == ["Started container workspace"]
    sts_events = kube.events(project, "analysis", "StatefulSet")
    assert "create Pod analysis-0 in StatefulSet analysis successful" in messages(
        sts_events, "SuccessfulCreate"
    )
    kube.wait(
        "readyReplicas 1",
        lambda: kube.statefulset(project, "analysis").get("status", {}).get("readyReplicas") == 1,
        30,
    )


def test_cold_image_is_pulled_while_the_container_waits_in_container_creating(
    kube: Kube, project: str
) -> None:
    kube.create_workspace(project, "pulling", COLD_IMAGE)

    kube.wait_event(project, "pulling-0", "Pulling")
    pod = kube.pod(project, "pulling-0")
    assert pod is not None
    if not is_ready(pod):
        assert pod["status"]["phase"] == "Pending"
        assert waiting_reason(pod) == "ContainerCreating"
        assert condition(pod, "Ready")["reason"] == "ContainersNotReady"
        assert condition(pod, "Ready")["message"] == "containers with unready status: [workspace]"

    kube.wait_pod(project, "pulling-0", is_ready, seconds=120)
    events = kube.events(project, "pulling-0", "Pod")
    assert messages(events, "Pulling") == [f'Pulling image "{COLD_IMAGE}"']
    (pulled,) = messages(events, "Pulled")
    assert pulled.startswith(f'Successfully pulled image "{COLD_IMAGE}" in ')


def test_missing_image_fails_to_pull_then_backs_off(kube: Kube, project: str) -> None:
    kube.create_workspace(project, "typo", MISSING_IMAGE)

    pod = kube.wait_pod(project, "typo-0", lambda p: waiting_reason(p) == "ImagePullBackOff")

    assert pod["status"]["phase"] == "Pending"
    waiting = container_status(pod)["state"]["waiting"]
    assert waiting["message"] == f'Back-off pulling image "{MISSING_IMAGE}"'
    events = kube.events(project, "typo-0", "Pod")
    failures = messages(events, "Failed")
    assert any(m.startswith(f'Failed to pull image "{MISSING_IMAGE}": ') for m in failures)
    assert "Error: ErrImagePull" in failures
    assert "Error: ImagePullBackOff" in failures
    assert f'Back-off pulling image "{MISSING_IMAGE}"' in messages(events, "BackOff")
    assert all(e["type"] == "Warning" for e in events if e["reason"] == "Failed")


def test_crashing_container_goes_into_crash_loop_back_off(kube: Kube, project: str) -> None:
    kube.create_workspace(project, "flaky", "simulated/crash-loop:1")

    pod = kube.wait_pod(project, "flaky-0", lambda p: waiting_reason(p) == "CrashLoopBackOff")

    status = container_status(pod)
    uid = pod["metadata"]["uid"]
    assert status["restartCount"] >= 1
    assert status["state"]["waiting"]["message"].startswith("back-off ")
    assert status["state"]["waiting"]["message"].endswith(
        f"restarting failed container=workspace pod=flaky-0_{project}({uid})"
    )
    terminated = status["lastState"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (1, "Error")
    assert pod["status"]["phase"] == "Running"
    assert condition(pod, "Ready")["status"] == "False"
    events = kube.events(project, "flaky-0", "Pod")
    assert "Back-off restarting failed container" in messages(events, "BackOff")
    starts = [e for e in events if e["reason"] == "Started"]
    assert sum(e.get("count") or 1 for e in starts) >= 2  # repeats are folded into a count


def test_container_out_of_memory_is_oom_killed_with_exit_code_137(
    kube: Kube, project: str
) -> None:
    kube.create_workspace(project, "hog", "simulated/oom:1")

    pod = kube.wait_pod(
        project,
        "hog-0",
        lambda p: bool(container_status(p).get("lastState", {}).get("terminated")),
    )

    terminated = container_status(pod)["lastState"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (137, "OOMKilled")


def test_container_that_never_gets_ready_reports_failed_readiness_probes(
    kube: Kube, project: str
) -> None:
    kube.create_workspace(
        project, "stuck", WARM_IMAGE, pod_annotations={BEHAVIOUR_ANNOTATION: "never-ready"}
    )

    event = kube.wait_event(project, "stuck-0", "Unhealthy")

    assert event["type"] == "Warning"
    assert event["message"].startswith("Readiness probe failed: dial tcp ")
    assert event["message"].endswith(":8888: connect: connection refused")
    pod = kube.pod(project, "stuck-0")
    assert pod is not None
    assert pod["status"]["phase"] == "Running"
    assert condition(pod, "Ready")["status"] == "False"
    assert condition(pod, "Ready")["message"] == "containers with unready status: [workspace]"


def test_stop_kills_the_container_deletes_the_pod_and_keeps_the_volume(
    kube: Kube, project: str
) -> None:
    kube.create_workspace(project, "pausable")
    kube.wait_pod(project, "pausable-0", is_ready)

    kube.scale(project, "pausable", 0)

    kube.wait("pod deleted", lambda: kube.pod(project, "pausable-0") is None, 60)
    assert messages(kube.events(project, "pausable-0", "Pod"), "Killing") == [
        "Stopping container workspace"
    ]
    assert "delete Pod pausable-0 in StatefulSet pausable successful" in messages(
        kube.events(project, "pausable", "StatefulSet"), "SuccessfulDelete"
    )
    claim = kube.call(
        kube.core.read_namespaced_persistent_volume_claim, "home-pausable-0", project
    )
    assert claim["metadata"]["name"] == "home-pausable-0"

    kube.scale(project, "pausable", 1)
    pod = kube.wait_pod(project, "pausable-0", is_ready)
    volumes = [
        v["persistentVolumeClaim"]["claimName"]
        for v in pod["spec"]["volumes"]
        if "persistentVolumeClaim" in v
    ]
    assert volumes == ["home-pausable-0"]


def test_deleting_the_statefulset_removes_its_pod_but_keeps_the_volume(
    kube: Kube, project: str
) -> None:
    kube.create_workspace(project, "doomed")
    kube.wait_pod(project, "doomed-0", is_ready)

    kube.call(kube.apps.delete_namespaced_stateful_set, "doomed", project)

    kube.wait("pod deleted", lambda: kube.pod(project, "doomed-0") is None, 60)
    claims = kube.call(kube.core.list_namespaced_persistent_volume_claim, project)["items"]
    assert [c["metadata"]["name"] for c in claims] == ["home-doomed-0"]
