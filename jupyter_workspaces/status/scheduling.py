"""Status rules for a pod that no node runs yet: gates, volumes, and the scheduler's refusals."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from jupyter_workspaces.constants import home_claim_name
from jupyter_workspaces.status import objects as k
from jupyter_workspaces.status.messages import Blocker, amount, parse_scheduler_message, plural
from jupyter_workspaces.status.report import StatusReport, WorkspaceView, pod_report, quoted


def unscheduled_status(view: WorkspaceView, pod: Mapping[str, Any]) -> StatusReport:
    cond = k.condition(pod, "PodScheduled") or {}
    since = k.parse_time(cond.get("lastTransitionTime")) or k.created(pod)
    gates = [g.get("name") for g in (pod.get("spec") or {}).get("schedulingGates") or []]
    if cond.get("reason") == "SchedulingGated" or gates:
        names = ", ".join(f'"{g}"' for g in gates if g) or "set by the cluster"
        return pod_report(
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
        return pod_report(
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
    return pod_report(
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
        return pod_report(
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
    return pod_report(
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
    if blocker.nodes is not None:
        return f"{count}: {blocker.text}."
    return f"Kubernetes says: {blocker.text}."
