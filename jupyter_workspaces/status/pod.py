"""Status rules for a workspace whose pod exists: the order of checks, start-up and running.

The rules and their reason codes are listed in the `status` module's docstring; this module
applies them in that order to one pod.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from jupyter_workspaces.status import objects as k
from jupyter_workspaces.status.failures import container_failure, oom_killed
from jupyter_workspaces.status.messages import eviction_cause, plural
from jupyter_workspaces.status.report import (
    StatusReport,
    WorkspaceView,
    condition_time,
    finished_at,
    is_scheduled,
    last_terminated,
    node_of,
    pod_report,
    quoted,
    scheduled_at,
    terminated_state,
    waiting_state,
)
from jupyter_workspaces.status.scheduling import unscheduled_status

# Past this, a slow start-up says so and suggests where to look.
SLOW = timedelta(minutes=10)

# Kubelet warnings that explain a slow ContainerCreating: event reason -> what is in trouble.
_SETUP_TROUBLE = {
    "FailedMount": "with its volumes",
    "FailedAttachVolume": "with its volumes",
    "FailedCreatePodSandBox": "setting up its network",
}


def pod_status(view: WorkspaceView, pod: Mapping[str, Any]) -> StatusReport:
    """The status a pod shows, ignoring whether a stop, delete or restart is under way."""
    status = pod.get("status") or {}
    phase = status.get("phase")

    if status.get("reason") == "NodeLost" or phase == "Unknown":
        return _node_lost(view, pod, str(status.get("message") or ""))
    if phase == "Failed":
        return _pod_failed(view, pod)
    if phase == "Succeeded":
        return pod_report(
            view,
            "Failed",
            "Exited",
            "The workspace's program finished and the pod ended, which a workspace should "
            "never do. Stop and activate it to start a fresh pod.",
            since=finished_at(pod),
            kube_reason="Succeeded",
        )
    if not is_scheduled(pod):
        return unscheduled_status(view, pod)

    node_lost = _node_not_ready(view, pod)
    if node_lost is not None:
        return node_lost
    failure = container_failure(view, pod)
    if failure is not None:
        return failure
    if phase == "Running" and k.condition_is(pod, "Ready", "True"):
        return _active(view, pod)
    return _starting(view, pod)


# ---- node and pod failures -------------------------------------------------------------------


def _node_lost(view: WorkspaceView, pod: Mapping[str, Any], detail: str) -> StatusReport:
    ready = k.condition(pod, "Ready") or {}
    since = k.parse_time(ready.get("lastTransitionTime"))
    event = k.latest(view.pod_events, "NodeNotReady")
    if event is not None:
        since = k.event_first_seen(event) or since
    ago = f" {view.ago(since)} ago" if since else ""
    return pod_report(
        view,
        "Failed",
        "NodeLost",
        f"Node {node_of(pod)}, which runs this workspace, stopped responding{ago}. Work kept "
        "only in memory may be lost; files on the home volume are kept. Kubernetes does not "
        "start the workspace elsewhere while the node might still run it: wait for the node "
        "to come back, or ask an administrator to remove the node or the pod.",
        since=since,
        kube_reason="NodeLost",
        nodeMessage=quoted(detail) if detail else None,
    )


def _node_not_ready(view: WorkspaceView, pod: Mapping[str, Any]) -> StatusReport | None:
    # The node controller marks the pods of an unreachable node not ready and says so in a
    # NodeNotReady event; a later readiness change (the node came back) makes it stale.
    if k.condition_is(pod, "Ready", "True"):
        return None
    event = k.latest(view.pod_events, "NodeNotReady")
    if event is None:
        return None
    ready = k.condition(pod, "Ready") or {}
    changed = k.parse_time(ready.get("lastTransitionTime"))
    seen = k.event_last_seen(event)
    if changed is not None and seen is not None and seen + timedelta(seconds=5) < changed:
        return None
    return _node_lost(view, pod, k.event_message(event))


def _pod_failed(view: WorkspaceView, pod: Mapping[str, Any]) -> StatusReport:
    status = pod.get("status") or {}
    kube_reason = str(status.get("reason") or "") or None
    detail = str(status.get("message") or "")
    main = k.main_container_status(pod)
    if kube_reason == "Evicted":
        event = k.latest(view.pod_events, "Evicted")
        since = k.event_first_seen(event) if event else condition_time(pod, "DisruptionTarget")
        return pod_report(
            view,
            "Failed",
            "Evicted",
            f"Kubernetes evicted the workspace from node {node_of(pod)}: "
            f"{eviction_cause(detail) or quoted(detail) or 'the node ran short of a resource'}. "
            "Files on the home volume are kept; Kubernetes starts a new pod for it. If this "
            "repeats, ask for more memory or disk so the workspace stays within what it "
            "requested.",
            since=since,
            kube_reason="Evicted",
            evictionMessage=quoted(detail) if detail else None,
        )
    if terminated_state(main).get("reason") == "OOMKilled":
        return oom_killed(view, pod, terminated_state(main))
    return pod_report(
        view,
        "Failed",
        "PodFailed",
        f"The workspace's pod failed{f' ({kube_reason})' if kube_reason else ''}"
        f"{': ' + quoted(detail) if detail else ''}. Kubernetes replaces a failed pod; if "
        "this repeats, ask an administrator to look at node " + node_of(pod) + ".",
        since=finished_at(pod) or condition_time(pod, "Ready") or k.created(pod),
        kube_reason=kube_reason or "Failed",
    )


def _active(view: WorkspaceView, pod: Mapping[str, Any]) -> StatusReport:
    since = condition_time(pod, "Ready")
    return pod_report(
        view,
        "Active",
        "Ready",
        f"Running on node {node_of(pod)} and ready for {view.ago(since) or 'a moment'}."
        + _restart_note(view, pod),
        since=since,
        kube_reason="Running",
    )


def _restart_note(view: WorkspaceView, pod: Mapping[str, Any]) -> str:
    main = k.main_container_status(pod) or {}
    restarts = int(main.get("restartCount") or 0)
    if not restarts:
        return ""
    last = last_terminated(main)
    note = f" It has been restarted {plural(restarts, 'time')}"
    if last:
        ended = k.parse_time(last.get("finishedAt"))
        reason = f" ({last.get('reason')})" if last.get("reason") else ""
        note += f"; last time it ended with exit code {last.get('exitCode')}{reason}"
        if ended:
            note += f" {view.ago(ended)} ago"
        if last.get("reason") == "OOMKilled":
            note += ", out of memory"
    return note + "."


def _starting(view: WorkspaceView, pod: Mapping[str, Any]) -> StatusReport:
    init = k.container_statuses(pod, init=True)
    done = [s for s in init if terminated_state(s).get("exitCode") == 0]
    declared = (pod.get("spec") or {}).get("initContainers") or []
    total = max(len(init), len(declared))
    if total and len(done) < total:
        current = next((s for s in init if terminated_state(s).get("exitCode") != 0), None)
        name = (current or {}).get("name") or (declared[len(done)].get("name") if declared else "")
        started = k.parse_time(
            ((current or {}).get("state") or {}).get("running", {}).get("startedAt")
        )
        since = scheduled_at(pod)
        return pod_report(
            view,
            "Initializing",
            "InitContainers",
            f"Preparing the workspace on node {node_of(pod)}: setup step {len(done) + 1} of "
            f"{total} ({name}) has been running"
            f"{' for ' + view.ago(started) if started else ''}.",
            since=since,
            kube_reason="PodInitializing",
            initDone=len(done),
            initTotal=total,
        )

    main = k.main_container_status(pod)
    running = ((main or {}).get("state") or {}).get("running")
    terminated = terminated_state(main)
    if running is not None:
        return _waiting_for_readiness(view, pod, k.parse_time(running.get("startedAt")))
    if terminated:
        ended = k.parse_time(terminated.get("finishedAt"))
        code = terminated.get("exitCode")
        reason = f" ({terminated.get('reason')})" if terminated.get("reason") else ""
        return pod_report(
            view,
            "Initializing",
            "Restarting",
            f"The workspace ended with exit code {code}{reason}"
            f"{' ' + view.ago(ended) + ' ago' if ended else ''}; Kubernetes is starting it "
            "again.",
            since=ended,
            kube_reason=str(terminated.get("reason") or "Terminated"),
            exitCode=code,
        )
    return _creating(view, pod, str(waiting_state(main).get("reason") or "ContainerCreating"))


def _creating(view: WorkspaceView, pod: Mapping[str, Any], kube_reason: str) -> StatusReport:
    pulling = k.latest(view.pod_events, "Pulling")
    pulled = k.latest(view.pod_events, "Pulled")
    pulling_at = k.event_last_seen(pulling) if pulling else None
    pulled_at = k.event_last_seen(pulled) if pulled else None
    if pulling_at is not None and (pulled_at is None or pulled_at < pulling_at):
        since = k.event_first_seen(pulling) if pulling else None
        slow = (
            " Large images take several minutes the first time on each node."
            if view.longer_than(since, timedelta(minutes=2))
            else ""
        )
        return pod_report(
            view,
            "Initializing",
            "PullingImage",
            f"Downloading the image {view.image()} to node {node_of(pod)} "
            f"({view.ago(since)} so far).{slow}",
            since=since,
            kube_reason="Pulling",
        )

    since = scheduled_at(pod)
    trouble = k.latest(view.pod_events, *_SETUP_TROUBLE)
    note = ""
    if trouble is not None:
        what = _SETUP_TROUBLE[str(trouble.get("reason"))]
        note = f" Kubernetes reports trouble {what}: {quoted(k.event_message(trouble))}."
    elif view.longer_than(since, SLOW):
        note = (
            " This is slower than usual: ask an administrator to look at node "
            + node_of(pod)
            + "."
        )
    return pod_report(
        view,
        "Initializing",
        "ContainerCreating",
        f"Starting the workspace's container on node {node_of(pod)} ({view.ago(since)} so far)."
        + note,
        since=since,
        kube_reason=kube_reason,
    )


def _waiting_for_readiness(
    view: WorkspaceView, pod: Mapping[str, Any], started: datetime | None
) -> StatusReport:
    tool, port = view.tool(), view.probe_port()
    on_port = f" on port {port}" if port else ""
    message = (
        f"The container is running on node {node_of(pod)}"
        f"{' (started ' + view.ago(started) + ' ago)' if started else ''} and waits for "
        f"{tool} to answer{on_port}."
    )
    failing = k.latest(view.pod_events, "Unhealthy")
    if failing is not None and started is not None:
        seen = k.event_last_seen(failing)
        if seen is not None and seen < started:
            failing = None
    if failing is not None:
        count = k.event_count(failing)
        message += (
            f" {plural(count, 'readiness check')} {'has' if count == 1 else 'have'} failed so far."
        )
    if view.longer_than(started, SLOW):
        message += (
            f" This is taking long: check that the image starts {tool}{on_port} and look at "
            "the workspace's log."
        )
    return pod_report(
        view,
        "Initializing",
        "WaitingForReadiness",
        message + _restart_note(view, pod),
        since=started,
        kube_reason="ContainersNotReady",
        lastProbe=quoted(k.event_message(failing)) if failing is not None else None,
    )
