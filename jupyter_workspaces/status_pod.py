"""Status rules for a workspace whose pod exists: scheduling, start-up, running, failure.

The rules and their reason codes are listed in the `status` module's docstring; this module
applies them in that order to one pod.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from jupyter_workspaces import kube_objects as k
from jupyter_workspaces.constants import home_claim_name
from jupyter_workspaces.kube_messages import (
    Blocker,
    amount,
    bytes_text,
    parse_scheduler_message,
    plural,
    pull_failure_cause,
)
from jupyter_workspaces.status_context import Status, StatusReport, WorkspaceView, quoted

# Past this, a slow start-up says so and suggests where to look.
SLOW = timedelta(minutes=10)

# Container waiting reasons after which the workspace cannot start without a change.
_PULL_FAILURES = ("ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull")
_START_FAILURES = ("CreateContainerError", "RunContainerError", "PreStartHookError")

# What common exit codes mean, for a crash message.
_EXIT_MEANINGS = {
    126: "the start command is not executable",
    127: "the start command was not found in the image",
    137: "it was killed (signal 9)",
    139: "it crashed with a segmentation fault",
    143: "it was terminated (signal 15)",
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
        return _report(
            view,
            "Failed",
            "Exited",
            "The workspace's program finished and the pod ended, which a workspace should "
            "never do. Stop and activate it to start a fresh pod.",
            since=_finished_at(pod),
            kube_reason="Succeeded",
        )
    if not _scheduled(pod):
        return _unscheduled(view, pod)

    node_lost = _node_not_ready(view, pod)
    if node_lost is not None:
        return node_lost
    failure = _container_failure(view, pod)
    if failure is not None:
        return failure
    if phase == "Running" and k.condition_is(pod, "Ready", "True"):
        return _active(view, pod)
    return _starting(view, pod)


# ---- the report ------------------------------------------------------------------------------


def _report(
    view: WorkspaceView,
    status: Status,
    reason: str,
    message: str,
    *,
    since: datetime | None,
    kube_reason: str | None = None,
    **facts: Any,
) -> StatusReport:
    pod = view.pod
    main = k.main_container_status(pod)
    restarts = int((main or {}).get("restartCount") or 0)
    terminated = _terminated(main) or _last_terminated(main)
    exit_code = terminated.get("exitCode") if terminated else None
    return StatusReport(
        status=status,
        reason=reason,
        message=message,
        since=since,
        kube_reason=kube_reason,
        node=((pod or {}).get("spec") or {}).get("nodeName") or None,
        image=view.image(),
        restarts=restarts,
        last_exit_code=int(exit_code) if isinstance(exit_code, int) else None,
        facts={key: value for key, value in facts.items() if value is not None},
    )


def _scheduled(pod: Mapping[str, Any]) -> bool:
    return bool((pod.get("spec") or {}).get("nodeName")) or k.condition_is(
        pod, "PodScheduled", "True"
    )


def _scheduled_at(pod: Mapping[str, Any]) -> datetime | None:
    cond = k.condition(pod, "PodScheduled") or {}
    return k.parse_time(cond.get("lastTransitionTime")) or k.created(pod)


def _node(pod: Mapping[str, Any]) -> str:
    return str((pod.get("spec") or {}).get("nodeName") or "its node")


def _terminated(status: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return ((status or {}).get("state") or {}).get("terminated") or {}


def _last_terminated(status: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return ((status or {}).get("lastState") or {}).get("terminated") or {}


def _waiting(status: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return ((status or {}).get("state") or {}).get("waiting") or {}


def _finished_at(pod: Mapping[str, Any]) -> datetime | None:
    return k.parse_time(_terminated(k.main_container_status(pod)).get("finishedAt"))


# ---- node and pod failures -------------------------------------------------------------------


def _node_lost(view: WorkspaceView, pod: Mapping[str, Any], detail: str) -> StatusReport:
    ready = k.condition(pod, "Ready") or {}
    since = k.parse_time(ready.get("lastTransitionTime"))
    event = k.latest(view.pod_events, "NodeNotReady")
    if event is not None:
        since = k.event_first_seen(event) or since
    ago = f" {view.ago(since)} ago" if since else ""
    return _report(
        view,
        "Failed",
        "NodeLost",
        f"Node {_node(pod)}, which runs this workspace, stopped responding{ago}. Work kept "
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
        since = k.event_first_seen(event) if event else _condition_time(pod, "DisruptionTarget")
        return _report(
            view,
            "Failed",
            "Evicted",
            f"Kubernetes evicted the workspace from node {_node(pod)} to protect the node: "
            f"{quoted(detail) or 'it ran short of a resource'}. Files on the home volume are "
            "kept; Kubernetes starts a new pod for it. If this repeats, ask for more memory or "
            "disk so the workspace stays within what it requested.",
            since=since,
            kube_reason="Evicted",
        )
    if _terminated(main).get("reason") == "OOMKilled":
        return _oom_killed(view, pod, _terminated(main))
    return _report(
        view,
        "Failed",
        "PodFailed",
        f"The workspace's pod failed{f' ({kube_reason})' if kube_reason else ''}"
        f"{': ' + quoted(detail) if detail else ''}. Kubernetes replaces a failed pod; if "
        "this repeats, ask an administrator to look at node " + _node(pod) + ".",
        since=_finished_at(pod) or _condition_time(pod, "Ready") or k.created(pod),
        kube_reason=kube_reason or "Failed",
    )


def _condition_time(pod: Mapping[str, Any], kind: str) -> datetime | None:
    return k.parse_time((k.condition(pod, kind) or {}).get("lastTransitionTime"))


# ---- not yet on a node -------------------------------------------------------------------


def _unscheduled(view: WorkspaceView, pod: Mapping[str, Any]) -> StatusReport:
    cond = k.condition(pod, "PodScheduled") or {}
    since = k.parse_time(cond.get("lastTransitionTime")) or k.created(pod)
    gates = [g.get("name") for g in (pod.get("spec") or {}).get("schedulingGates") or []]
    if cond.get("reason") == "SchedulingGated" or gates:
        names = ", ".join(f'"{g}"' for g in gates if g) or "set by the cluster"
        return _report(
            view,
            "Pending",
            "SchedulingGated",
            f"The workspace is held back before scheduling by gate(s) {names}: a queueing "
            "system is waiting for capacity or approval before it may start. Waiting for "
            f"{view.ago(since)}. It starts by itself when the gate is lifted.",
            since=since,
            kube_reason="SchedulingGated",
            gates=[g for g in gates if g] or None,
        )

    provisioning = _provisioning_failure(view)
    if provisioning is not None:
        return provisioning

    text = str(cond.get("message") or "") if cond.get("reason") == "Unschedulable" else ""
    event = k.latest(view.pod_events, "FailedScheduling")
    if event is not None and (not text or _newer(event, cond)):
        text = k.event_message(event)
    if not text:
        return _report(
            view,
            "Pending",
            "Scheduling",
            f"Waiting for Kubernetes to choose a node ({view.ago(since)} so far).",
            since=since,
        )
    return _cannot_schedule(view, text, since)


def _newer(event: Mapping[str, Any], cond: Mapping[str, Any]) -> bool:
    seen = k.event_last_seen(event)
    changed = k.parse_time(cond.get("lastTransitionTime"))
    return seen is not None and (changed is None or seen > changed)


def _provisioning_failure(view: WorkspaceView) -> StatusReport | None:
    failed = k.latest(view.claim_events, "ProvisioningFailed")
    if failed is None:
        return None
    succeeded = k.latest(view.claim_events, "ProvisioningSucceeded")
    failed_at = k.event_last_seen(failed)
    if succeeded is not None:
        ok_at = k.event_last_seen(succeeded)
        if ok_at is not None and (failed_at is None or ok_at >= failed_at):
            return None
    since = k.earliest_seen(view.claim_events, "ProvisioningFailed")
    claim = k.involved(failed).get("name")
    return _report(
        view,
        "Failed",
        "VolumeProvisioningFailed",
        f"The home volume {claim} cannot be created: {quoted(k.event_message(failed))}. "
        f"Kubernetes has tried {plural(k.event_count(failed), 'time')} over "
        f"{view.ago(since)}. The storage class may not exist or may be out of space: ask an "
        "administrator.",
        since=since,
        kube_reason="ProvisioningFailed",
        claim=claim,
    )


def _cannot_schedule(view: WorkspaceView, text: str, since: datetime | None) -> StatusReport:
    verdict = parse_scheduler_message(text)
    kinds = verdict.kinds()
    waited = view.ago(since)
    facts: dict[str, Any] = {
        "nodes": verdict.nodes,
        "blockers": [{"kind": b.kind, "nodes": b.nodes, "text": b.text} for b in verdict.blockers],
        "schedulerMessage": quoted(text),
    }
    if kinds and kinds <= {"volume"}:
        claim = home_claim_name(view.name)
        return _report(
            view,
            "Pending",
            "VolumeNotBound",
            f"Waiting for the home volume {claim} to be created and attached "
            f"({waited} so far). If this lasts more than a few minutes, the project's "
            "storage class may have no provisioner: ask an administrator.",
            since=since,
            kube_reason="Unschedulable",
            **facts,
        )

    gpus = view.gpus()
    facts["gpusRequested"] = gpus
    found = f"none of the {plural(verdict.nodes, 'node')}" if verdict.nodes else "no node"
    lines = [_blocker_words(view, b, gpus) for b in verdict.blockers]
    if "gpu" in kinds:
        advice = (
            "It starts by itself when enough GPUs are freed; to start sooner, stop a GPU "
            "workspace you do not need or ask for fewer GPUs."
        )
    elif kinds & {"cpu", "memory"}:
        advice = "It starts by itself when room is freed; to start sooner, ask for less."
    elif kinds & {"selector", "taint", "cordoned"}:
        advice = (
            "The workspace asks for nodes this cluster does not offer right now: ask an "
            "administrator."
        )
    else:
        advice = "It starts by itself if room is freed; ask an administrator if it lasts."
    return _report(
        view,
        "Pending",
        "Unschedulable",
        f"No node can run this workspace now: {found} fits. {' '.join(lines)} "
        f"Waiting for {waited}. {advice}",
        since=since,
        kube_reason="Unschedulable",
        **facts,
    )


def _blocker_words(view: WorkspaceView, blocker: Blocker, gpus: int) -> str:
    one = blocker.nodes == 1
    count = plural(blocker.nodes, "node") if blocker.nodes is not None else "Some nodes"
    have, be = ("has", "is") if one else ("have", "are")
    kind = blocker.kind
    if kind == "gpu":
        return f"It needs {plural(gpus, 'GPU')}; {count} {have} fewer than that free."
    if kind in ("cpu", "memory"):
        asked = view.request(kind)
        need = amount(kind, asked) if asked else kind
        word = "CPU" if kind == "cpu" else "memory"
        return f"It needs {need}; {count} {have} less {word} free."
    if kind == "selector":
        return f"{count} {'does' if one else 'do'} not match its node selector."
    if kind == "taint":
        taint = re.search(r"\{([^}]*)\}", blocker.text)
        named = ""
        if taint:
            key, _, value = taint[1].partition(":")
            named = f' (taint "{key.strip()}{"=" + value.strip() if value.strip() else ""}")'
        return f"{count} {be} reserved for other work{named}."
    if kind == "cordoned":
        return f"{count} {be} closed for maintenance."
    if kind == "pods":
        return f"{count} {have} no room for more pods."
    if kind == "volume":
        return f"{count}: its home volume is not ready ({blocker.text})."
    return f"{count}: {blocker.text}." if blocker.nodes is not None else f"{blocker.text}."


# ---- on a node ---------------------------------------------------------------------------


def _container_failure(view: WorkspaceView, pod: Mapping[str, Any]) -> StatusReport | None:
    statuses = [(s, True) for s in k.container_statuses(pod, init=True)]
    statuses += [(s, False) for s in k.container_statuses(pod)]
    for status, is_init in statuses:
        waiting = _waiting(status)
        reason = str(waiting.get("reason") or "")
        message = str(waiting.get("message") or "")
        step = f' (setup step "{status.get("name")}")' if is_init else ""
        who = f'The workspace\'s setup step "{status.get("name")}"' if is_init else "The workspace"
        if reason in _PULL_FAILURES:
            return _pull_failed(view, pod, status, reason, message, step)
        if reason == "InvalidImageName":
            return _report(
                view,
                "Failed",
                "InvalidImageName",
                f"The image name {status.get('image') or view.image()}{step} is not a valid "
                "image reference, so Kubernetes will not download it. Create the workspace "
                "again with a valid image, such as registry.example.org/team/image:tag.",
                since=_failing_since(view, pod, ("InspectFailed", "Failed")),
                kube_reason=reason,
            )
        if reason == "CreateContainerConfigError":
            return _config_missing(view, pod, message, who)
        if reason in _START_FAILURES:
            return _report(
                view,
                "Failed",
                "ContainerStartFailed",
                f"{who} could not be started: "
                f"{quoted(message) or reason}. This needs a change to the image or the "
                "workspace: check its start command.",
                since=_failing_since(view, pod, ("Failed",)),
                kube_reason=reason,
            )
        if reason == "CrashLoopBackOff":
            last = _last_terminated(status)
            if last.get("reason") == "OOMKilled":
                return _oom_killed(view, pod, last)
            return _crash_loop(view, pod, status, message, who)
        if _terminated(status).get("reason") == "OOMKilled":
            return _oom_killed(view, pod, _terminated(status))
    return None


def _failing_since(
    view: WorkspaceView, pod: Mapping[str, Any], reasons: tuple[str, ...]
) -> datetime | None:
    return k.earliest_seen(view.pod_events, *reasons) or _scheduled_at(pod)


def _pull_failed(
    view: WorkspaceView,
    pod: Mapping[str, Any],
    status: Mapping[str, Any],
    reason: str,
    message: str,
    step: str,
) -> StatusReport:
    image = str(status.get("image") or view.image() or "")
    error = message
    for event in sorted(
        (e for e in view.pod_events if e.get("reason") == "Failed"),
        key=lambda e: k.event_last_seen(e) or view.now,
    ):
        text = k.event_message(event)
        if text.startswith("Failed to pull image"):
            error = text
    cause = pull_failure_cause(error) if error else "the runtime could not download it"
    since = _failing_since(view, pod, ("Failed", "BackOff"))
    return _report(
        view,
        "Failed",
        # ErrImagePull and ImagePullBackOff alternate while the kubelet retries; one code
        # keeps the status steady for the reader.
        "ImagePullBackOff",
        f"The image {image}{step} cannot be downloaded: {cause}. Kubernetes "
        f"keeps retrying (for {view.ago(since)} so far), but this rarely fixes itself: check "
        "the image name and tag, or ask an administrator for a pull secret, then create the "
        "workspace again.",
        since=since,
        kube_reason=reason,
        pullError=quoted(error) if error else None,
    )


_MISSING = re.compile(r'(?P<kind>secret|configmap) "(?P<name>[^"]+)" not found', re.IGNORECASE)
_MISSING_KEY = re.compile(
    r"couldn't find key (?P<key>\S+) in (?P<kind>Secret|ConfigMap) (?P<ref>\S+)", re.IGNORECASE
)


def _config_missing(
    view: WorkspaceView, pod: Mapping[str, Any], message: str, who: str
) -> StatusReport:
    missing = _MISSING.search(message)
    key = _MISSING_KEY.search(message)
    if missing:
        kind = "config map" if missing["kind"].lower() == "configmap" else "secret"
        what = f'the {kind} "{missing["name"]}", which does not exist in project {view.namespace}'
    elif key:
        kind = "config map" if key["kind"].lower() == "configmap" else "secret"
        what = f'key "{key["key"]}" of the {kind} {key["ref"]}, which has no such key'
    else:
        what = f"configuration Kubernetes cannot supply ({quoted(message)})"
    return _report(
        view,
        "Failed",
        "ContainerConfigError",
        f"{who} refers to {what}. Create it (or ask a project "
        "administrator to) and the workspace starts by itself.",
        since=_failing_since(view, pod, ("Failed",)),
        kube_reason="CreateContainerConfigError",
        missing=quoted(message),
    )


def _crash_loop(
    view: WorkspaceView,
    pod: Mapping[str, Any],
    status: Mapping[str, Any],
    message: str,
    who: str,
) -> StatusReport:
    last = _last_terminated(status)
    restarts = int(status.get("restartCount") or 0)
    code = last.get("exitCode")
    why = str(last.get("reason") or "")
    ended = k.parse_time(last.get("finishedAt"))
    meaning = _EXIT_MEANINGS.get(code) if isinstance(code, int) else None
    backoff = re.search(r"back-off (\S+) restarting", message)
    exit_text = f"exit code {code}" if code is not None else "an unknown exit code"
    detail = f" ({why})" if why else ""
    return _report(
        view,
        "Failed",
        "CrashLoopBackOff",
        f"{who} keeps crashing: it last ended with "
        f"{exit_text}{detail}{' ' + view.ago(ended) + ' ago' if ended else ''}"
        f"{', ' + meaning if meaning else ''}, and has been restarted "
        f"{plural(restarts, 'time')}. Kubernetes waits "
        f"{backoff[1] if backoff else 'a while'} before the next try. Look at the workspace's "
        "log for the error; the image or its start command needs a fix.",
        since=_failing_since(view, pod, ("BackOff",)) or ended,
        kube_reason="CrashLoopBackOff",
        exitCode=code,
        exitReason=why or None,
        restarts=restarts,
    )


def _oom_killed(
    view: WorkspaceView, pod: Mapping[str, Any], terminated: Mapping[str, Any]
) -> StatusReport:
    main = k.main_container_status(pod) or {}
    restarts = int(main.get("restartCount") or 0)
    limit = ((view.container().get("resources") or {}).get("limits") or {}).get("memory")
    ended = k.parse_time(terminated.get("finishedAt"))
    limit_text = f"its memory limit of {bytes_text(str(limit))}" if limit else "its memory limit"
    return _report(
        view,
        "Failed",
        "OOMKilled",
        f"The workspace ran out of memory: its programs used more than {limit_text} and were "
        f"killed (exit code {terminated.get('exitCode', 137)})"
        f"{' ' + view.ago(ended) + ' ago' if ended else ''}; it has been restarted "
        f"{plural(restarts, 'time')}. Create it with more memory, or load less data at once.",
        since=ended,
        kube_reason="OOMKilled",
        exitCode=terminated.get("exitCode", 137),
        memoryLimit=str(limit) if limit else None,
        restarts=restarts,
    )


def _active(view: WorkspaceView, pod: Mapping[str, Any]) -> StatusReport:
    since = _condition_time(pod, "Ready")
    return _report(
        view,
        "Active",
        "Ready",
        f"Running on node {_node(pod)} and ready for {view.ago(since) or 'a moment'}."
        + _restart_note(view, pod),
        since=since,
        kube_reason="Running",
    )


def _restart_note(view: WorkspaceView, pod: Mapping[str, Any]) -> str:
    main = k.main_container_status(pod) or {}
    restarts = int(main.get("restartCount") or 0)
    if not restarts:
        return ""
    last = _last_terminated(main)
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
    done = [s for s in init if _terminated(s).get("exitCode") == 0]
    declared = (pod.get("spec") or {}).get("initContainers") or []
    total = max(len(init), len(declared))
    if total and len(done) < total:
        current = next((s for s in init if _terminated(s).get("exitCode") != 0), None)
        name = (current or {}).get("name") or (declared[len(done)].get("name") if declared else "")
        started = k.parse_time(
            ((current or {}).get("state") or {}).get("running", {}).get("startedAt")
        )
        since = _scheduled_at(pod)
        return _report(
            view,
            "Initializing",
            "InitContainers",
            f"Preparing the workspace on node {_node(pod)}: setup step {len(done) + 1} of "
            f"{total} ({name}) has been running"
            f"{' for ' + view.ago(started) if started else ''}.",
            since=since,
            kube_reason="PodInitializing",
            initDone=len(done),
            initTotal=total,
        )

    main = k.main_container_status(pod)
    running = ((main or {}).get("state") or {}).get("running")
    terminated = _terminated(main)
    if running is not None:
        return _waiting_for_readiness(view, pod, k.parse_time(running.get("startedAt")))
    if terminated:
        ended = k.parse_time(terminated.get("finishedAt"))
        code = terminated.get("exitCode")
        reason = f" ({terminated.get('reason')})" if terminated.get("reason") else ""
        return _report(
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
    return _creating(view, pod, str(_waiting(main).get("reason") or "ContainerCreating"))


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
        return _report(
            view,
            "Initializing",
            "PullingImage",
            f"Downloading the image {view.image()} to node {_node(pod)} "
            f"({view.ago(since)} so far).{slow}",
            since=since,
            kube_reason="Pulling",
        )

    since = _scheduled_at(pod)
    trouble = k.latest(view.pod_events, "FailedMount", "FailedAttachVolume")
    note = ""
    if trouble is not None:
        note = f" Kubernetes reports trouble with its volumes: {quoted(k.event_message(trouble))}."
    elif view.longer_than(since, SLOW):
        note = (
            " This is slower than usual: ask an administrator to look at node " + _node(pod) + "."
        )
    return _report(
        view,
        "Initializing",
        "ContainerCreating",
        f"Starting the workspace's container on node {_node(pod)} ({view.ago(since)} so far)."
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
        f"The container is running on node {_node(pod)}"
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
    return _report(
        view,
        "Initializing",
        "WaitingForReadiness",
        message + _restart_note(view, pod),
        since=started,
        kube_reason="ContainersNotReady",
        lastProbe=quoted(k.event_message(failing)) if failing is not None else None,
    )
