"""Turn what Kubernetes says about a workspace into one of five statuses, with the reason why.

`derive_status(statefulset, pod, events, now)` is pure: plain JSON dicts in, a `StatusReport`
out, no I/O and no clock (the caller passes `now`). The first rule that matches decides.

Events first. Only events about the workspace's StatefulSet, its pod `<name>-0` and its home
PVC `home-<name>-0` are read (`events_for` picks them; the cache uses the same helper). An
event is stale, and ignored, when it names another uid than the current object (a previous
pod), or was last seen before the current pod's creation (pod events), before the latest
activation (`activated-at` annotation; StatefulSet events) or before the StatefulSet's
creation (any event: a re-created workspace of the same name). "Last seen" is
`lastTimestamp`, else `series.lastObservedTime`, else `eventTime` (newer events leave the
timestamps null), else `firstTimestamp`.

No pod:

| situation                                            | status  | reason            |
|------------------------------------------------------|---------|-------------------|
| StatefulSet being deleted                            | Stopped | Deleting          |
| replicas 0, `stopped-by: user:<owner>`               | Stopped | StoppedByUser     |
| replicas 0, `stopped-by: policy:<name>`              | Stopped | StoppedIdle       |
| replicas 0, `stopped-by: user:<someone else>`        | Stopped | StoppedByAdmin    |
| replicas 0, no (or an out-of-date) `stopped-by`      | Stopped | Stopped           |
| replicas 1, FailedCreate "exceeded quota"            | Pending | QuotaExceeded     |
| replicas 1, FailedCreate that clears by itself       | Pending | Queued            |
|   ("status unknown for quota", "please try again")   |         |                   |
| replicas 1, FailedCreate "is forbidden"/"is invalid" | Failed  | PodRejected       |
| replicas 1, anything else                            | Pending | Queued            |

A pod exists (checked in this order by `status.pod`, with `status.scheduling` for a pod on no
node yet and `status.failures` for containers that cannot run):

| situation                                         | status       | reason                   |
|---------------------------------------------------|--------------|--------------------------|
| pod `status.reason` NodeLost, or phase Unknown    | Failed       | NodeLost                 |
| phase Failed, `status.reason` Evicted             | Failed       | Evicted                  |
| phase Failed, container terminated OOMKilled      | Failed       | OOMKilled                |
| phase Failed, anything else                       | Failed       | PodFailed                |
| phase Succeeded                                   | Failed       | Exited                   |
| unscheduled, scheduling gates / SchedulingGated   | Pending      | SchedulingGated          |
| unscheduled, home PVC ProvisioningFailed          | Failed       | VolumeProvisioningFailed |
| unscheduled, the scheduler names only volumes     | Pending      | VolumeNotBound           |
| unscheduled, no node fits (GPU, CPU, memory,      | Pending      | Unschedulable            |
|   node selector, taint, cordon, ...)              |              |                          |
| unscheduled, no word from the scheduler yet       | Pending      | Scheduling               |
| scheduled, not ready, NodeNotReady event since    | Failed       | NodeLost                 |
| a container waits ErrImagePull/ImagePullBackOff   | Failed       | ImagePullBackOff         |
| a container waits InvalidImageName                | Failed       | InvalidImageName         |
| a container waits CreateContainerConfigError      | Failed       | ContainerConfigError     |
| ... CreateContainerError/RunContainerError        | Failed       | ContainerStartFailed     |
| CrashLoopBackOff after OOMKilled; OOMKilled now   | Failed       | OOMKilled                |
| CrashLoopBackOff                                  | Failed       | CrashLoopBackOff         |
| Running and Ready                                 | Active       | Ready                    |
| init containers not all done ("step 1 of 2")      | Initializing | InitContainers           |
| main container running, not ready                 | Initializing | WaitingForReadiness      |
| main container terminated, about to restart       | Initializing | Restarting               |
| waiting, a Pulling event not yet followed by Pulled | Initializing | PullingImage         |
| waiting otherwise (ContainerCreating, no status)  | Initializing | ContainerCreating        |

Init containers are checked for the same failures as the main one ("setup step 'x'").

Then, over what the pod shows:

| situation                                            | status             | reason           |
|------------------------------------------------------|--------------------|------------------|
| StatefulSet being deleted, pod still there           | what the pod shows | Deleting         |
| replicas 0, pod still there (stop in progress)       | what the pod shows | Stopping         |
| replicas 1, pod has a deletionTimestamp              | Initializing       | Replacing        |
| pod still there 2 minutes past its deletion deadline | Failed             | StuckTerminating |

Decisions where the house plan is silent:

- A stop in progress keeps the pod's status (DESIGN: it still holds resources) but takes the
  reason `Stopping`, so a list filtered by reason finds every workspace on its way down; the
  pod's own reason stays in `kube_reason` and `facts["podReason"]`. A pod that already shows
  NodeLost keeps that reason: the node, not the stop, is what the reader must act on.
- StoppedByAdmin means "stopped by a user who is not the owner"; only the owner and
  configured admins may stop a workspace, so anyone else is an admin. Owners are compared by
  exact name or by their label slug. A `stopped-at` older than `activated-at` describes an
  earlier stop and is ignored (`Stopped`, "stopped outside this tool").
- ErrImagePull and ImagePullBackOff alternate while the kubelet retries; both report
  `ImagePullBackOff` so the row does not flicker. The exact one is in `kube_reason`.
- A quota FailedCreate is Pending, not Failed: the StatefulSet controller keeps retrying and
  the pod is created as soon as another workspace frees the quota. A request that alone is
  more than the quota's hard limit is Pending too (raising the quota starts it, as the
  design's table has it), but its message says that freeing other workspaces will not help.
  Right after a quota is created or changed, admission refuses pods with "status unknown for
  quota" until the quota controller has counted; that clears within seconds, so it stays
  Pending/Queued, as does "please try again". Any other refusal (a quota that demands
  limits, an admission webhook, an invalid pod) is Failed: it never resolves without a
  change.
- A pod with a deletionTimestamp while replicas is 1 is being replaced (rolling update,
  eviction, manual delete): Initializing, since a new pod follows at once. If it outlives
  its deadline (`deletionTimestamp`) by 2 minutes it is stuck, usually on an unreachable
  node, and nothing starts until someone acts: Failed.
- A running container that ended and is about to restart is Initializing/Restarting; only
  the kubelet's back-off (CrashLoopBackOff) makes it Failed. OOMKilled is Failed at once:
  the same memory limit will be hit again.
- An unbound home PVC is Pending (VolumeNotBound) while provisioning is only slow; a
  ProvisioningFailed event on the PVC that no later ProvisioningSucceeded answers makes it
  Failed, and is ignored once the pod is scheduled (the volume was made after all).
- The node controller's NodeNotReady event on the pod, with Ready not True since, is read
  as a lost node (Failed/NodeLost) without waiting for the pod's phase to turn Unknown, which
  newer control planes no longer do.
- A missing secret or config map (CreateContainerConfigError) is Failed although the kubelet
  retries: nothing changes until someone creates it; the message says the workspace then
  starts by itself.
- A pod that reached phase Succeeded is Failed/Exited: a workspace is never meant to end.
- `replicas` missing means 1 (the API server's default). An event with no time at all is kept
  unless its uid says it belongs to another object.
- `since` is when the current status began as far as the objects tell: the stop time, the
  first quota refusal, the PodScheduled change, the first Pulling event, the container's
  start, the Ready change, the first failure event. It is None when nothing tells.
- `facts` carries the numbers behind a message for the table and the API: `quota` (name and,
  per resource, requested/used/hard), `gpusRequested`, `nodes` and `blockers` (the scheduler's
  per-node reasons), `exitCode`, `exitReason`, `restarts`, `memoryLimit`, `pullError`,
  `missing`, `initDone`/`initTotal`, `stoppedBy`/`stopReason`, `podReason` (under a stop,
  delete or replacement), `schedulerMessage`, `evictionMessage`, `nodeMessage`, `claim`,
  `gates`, `lastProbe`, `createError`. Quoted Kubernetes text is
  trimmed and has anything that looks like a credential redacted.
- Messages say how long a state has lasted (`now - since`); the caller recomputes the status
  when objects change, so between changes the durations in a message age.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from jupyter_workspaces import constants as c
from jupyter_workspaces.status import objects as k
from jupyter_workspaces.status.messages import (
    QuotaShortage,
    amount,
    bytes_text,
    duration,
    parse_quota_message,
    resource_base,
    resource_word,
)
from jupyter_workspaces.status.objects import events_for, workspace_of_event
from jupyter_workspaces.status.pod import SLOW, pod_status
from jupyter_workspaces.status.report import (
    KubeObject,
    Status,
    StatusReport,
    WorkspaceView,
    quoted,
)

__all__ = [
    "KubeObject",
    "Status",
    "StatusReport",
    "derive_status",
    "events_for",
    "workspace_of_event",
]

# How long a pod may outlive its deletion deadline before we call it stuck.
STUCK_AFTER = timedelta(minutes=2)


def derive_status(
    statefulset: KubeObject,
    pod: KubeObject | None,
    events: Sequence[KubeObject],
    now: datetime,
) -> StatusReport:
    """Return the status of the workspace behind `statefulset` at time `now`."""
    view = WorkspaceView.read(statefulset, pod, events, now)
    if pod is None:
        if view.deleting_since is not None:
            return _deleted_without_pod(view)
        if view.replicas < 1:
            return _stopped(view)
        return _waiting_for_pod(view)

    shown = pod_status(view, pod)
    if view.deleting_since is not None or view.replicas < 1:
        return _going_away(view, pod, shown)
    if k.meta(pod).get("deletionTimestamp"):
        return _replacing(view, pod, shown)
    return shown


# ---- stopped -----------------------------------------------------------------------------


def _stop_annotations(view: WorkspaceView) -> tuple[str | None, datetime | None, str | None]:
    """(stopped-by, stopped-at, stop-reason) of the latest stop, or Nones if out of date."""
    sts = view.statefulset
    by = k.annotation(sts, c.STOPPED_BY_ANNOTATION) or None
    at = k.parse_time(k.annotation(sts, c.STOPPED_AT_ANNOTATION))
    why = k.annotation(sts, c.STOP_REASON_ANNOTATION) or None
    if at is not None and view.activated is not None and at < view.activated:
        return None, None, None
    return by, at, why


def _is_owner(view: WorkspaceView, user: str) -> bool:
    if not view.owner:
        return False
    return user == view.owner or c.owner_slug(user) == c.owner_slug(view.owner)


def _stopped(view: WorkspaceView) -> StatusReport:
    by, at, why = _stop_annotations(view)
    ago = f" {view.ago(at)} ago" if at else ""
    because = f' (reason given: "{quoted(why)}")' if why else ""
    kept = " Its home volume is kept: activate it to continue where it left off."
    kind, _, who = (by or "").partition(":")
    if not who:
        kind, who = "user", kind
    facts = {"stoppedBy": by, "stopReason": why}

    if by and kind == "policy":
        return _plain(
            view,
            "Stopped",
            "StoppedIdle",
            f'Stopped{ago} by the idleness policy "{who}"{because}.{kept}',
            since=at,
            **facts,
        )
    if by and _is_owner(view, who):
        return _plain(
            view,
            "Stopped",
            "StoppedByUser",
            f"Stopped by {who}{ago}{because}.{kept}",
            **facts,
            since=at,
        )
    if by:
        owner = f", not its owner {view.owner}" if view.owner else ""
        return _plain(
            view,
            "Stopped",
            "StoppedByAdmin",
            f"Stopped by {who} (an administrator{owner}){ago}{because}.{kept}",
            since=at,
            **facts,
        )
    return _plain(
        view,
        "Stopped",
        "Stopped",
        "Stopped: it was scaled to zero outside this tool, or created stopped." + kept,
        since=at,
    )


def _deleted_without_pod(view: WorkspaceView) -> StatusReport:
    return _plain(
        view,
        "Stopped",
        "Deleting",
        f"Being deleted (requested {view.ago(view.deleting_since)} ago). Its home volume is "
        "kept unless deleting it was asked for too.",
        since=view.deleting_since,
    )


# ---- should run, no pod yet ----------------------------------------------------------------


def _waiting_for_pod(view: WorkspaceView) -> StatusReport:
    floor = max((t for t in (view.created, view.activated) if t is not None), default=None)
    failed = k.latest(view.set_events, "FailedCreate")
    created = k.latest(view.set_events, "SuccessfulCreate")
    if failed is not None and created is not None:
        failed_at, created_at = k.event_last_seen(failed), k.event_last_seen(created)
        if failed_at is not None and created_at is not None and created_at > failed_at:
            failed = None  # the pod was made after all; it is on its way back
    if failed is not None:
        text = k.event_message(failed)
        since = k.earliest_seen(
            [e for e in view.set_events if "exceeded quota" in k.event_message(e)],
            "FailedCreate",
        ) or k.event_first_seen(failed)
        shortages = parse_quota_message(text)
        if any(s.beyond_limit for s in shortages):
            return _exceeds_quota(view, [s for s in shortages if s.beyond_limit], since)
        if shortages:
            return _quota_exceeded(view, shortages, since)
        transient = _transient_refusal(text, view.namespace)
        if transient is None and (" is forbidden: " in text or " is invalid: " in text):
            detail = text.split(" failed error: ", 1)[-1]
            return _plain(
                view,
                "Failed",
                "PodRejected",
                f"Kubernetes refuses to create the workspace's pod: {quoted(detail)}. This does "
                "not resolve by itself: ask a project administrator what the project's "
                "policies require.",
                since=since,
                kube_reason="FailedCreate",
                createError=quoted(detail),
            )

    waited = view.ago(floor)
    note = ""
    if failed is not None:
        transient = _transient_refusal(k.event_message(failed), view.namespace)
        note = (
            f" The last attempt was refused for a moment ({transient}); Kubernetes retries by "
            "itself."
            if transient
            else f" The last attempt failed: {quoted(k.event_message(failed))}."
        )
    elif view.longer_than(floor, SLOW):
        note = (
            " This usually takes seconds: the cluster's StatefulSet controller may be "
            "overloaded or down. Ask an administrator if it lasts."
        )
    return _plain(
        view,
        "Pending",
        "Queued",
        f"Waiting for Kubernetes to create the workspace's pod ({waited or 'just now'} so "
        f"far).{note}",
        since=floor,
        kube_reason="FailedCreate" if failed is not None else None,
    )


def _transient_refusal(text: str, namespace: str) -> str | None:
    """Why a refusal that clears by itself happened, in plain words; None for any other."""
    if "status unknown for quota" in text:
        return f"Kubernetes was still counting project {namespace}'s quota use"
    if "please try again" in text:
        return "the Kubernetes API asked to try again"
    return None


def _quota_facts(shortages: list[QuotaShortage]) -> dict[str, Any]:
    gpu = next((s for s in shortages if resource_base(s.resource) == c.GPU_RESOURCE), None)
    return {
        "quota": {
            "name": shortages[0].quota,
            "resources": [
                {"resource": s.resource, "requested": s.requested, "used": s.used, "hard": s.hard}
                for s in shortages
            ],
        },
        "gpusRequested": gpu.requested if gpu else None,
    }


def _exceeds_quota(
    view: WorkspaceView, shortages: list[QuotaShortage], since: datetime | None
) -> StatusReport:
    needs = " and ".join(amount(s.resource, s.requested) for s in shortages)
    allows = " and ".join(amount(s.resource, s.hard) for s in shortages)
    waited = f" Waiting for {view.ago(since)}." if since else ""
    return _plain(
        view,
        "Pending",
        "QuotaExceeded",
        f"This workspace alone needs {needs}, more than project {view.namespace}'s quota "
        f'"{shortages[0].quota}" allows in all ({allows}): freeing other workspaces will not '
        "make room. It waits until a project administrator raises the quota; to start "
        "sooner, recreate it with fewer resources." + waited,
        since=since,
        kube_reason="FailedCreate",
        **_quota_facts(shortages),
    )


def _quota_exceeded(
    view: WorkspaceView, shortages: list[QuotaShortage], since: datetime | None
) -> StatusReport:
    quota = shortages[0].quota
    needs = " and ".join(amount(s.resource, s.requested) for s in shortages)
    in_use = "; ".join(_usage(s) for s in shortages)
    waited = f" Waiting for {view.ago(since)}." if since else ""
    return _plain(
        view,
        "Pending",
        "QuotaExceeded",
        f'Project {view.namespace} has used up its quota "{quota}": this workspace needs '
        f"{needs}, and {in_use} in use. It starts by itself once enough is freed: stop a "
        "workspace you no longer need, or ask a project administrator to raise the quota."
        + waited,
        since=since,
        kube_reason="FailedCreate",
        **_quota_facts(shortages),
    )


def _usage(shortage: QuotaShortage) -> str:
    base = resource_base(shortage.resource)
    if base in ("memory", "storage", "ephemeral-storage"):
        return (
            f"{bytes_text(shortage.used)} of {bytes_text(shortage.hard)} of "
            f"{resource_word(shortage.resource)} are"
        )
    used = amount(shortage.resource, shortage.used).split(" ")[0]
    hard = amount(shortage.resource, shortage.hard)
    verb = "is" if hard.startswith("1 ") else "are"
    return f"{used} of {hard} {verb} already"


# ---- a pod on its way out ------------------------------------------------------------------


def _stuck(view: WorkspaceView, pod: Mapping[str, Any]) -> timedelta | None:
    deadline = k.parse_time(k.meta(pod).get("deletionTimestamp"))
    if deadline is None or view.now - deadline <= STUCK_AFTER:
        return None
    return view.now - deadline


def _deletion_requested(pod: Mapping[str, Any]) -> datetime | None:
    deadline = k.parse_time(k.meta(pod).get("deletionTimestamp"))
    grace = k.meta(pod).get("deletionGracePeriodSeconds")
    if deadline is None:
        return None
    return deadline - timedelta(seconds=grace if isinstance(grace, int) else 0)


def _going_away(view: WorkspaceView, pod: Mapping[str, Any], shown: StatusReport) -> StatusReport:
    deleting = view.deleting_since is not None
    if deleting:
        reason = "Deleting"
        intro = (
            f"Deletion was requested {view.ago(view.deleting_since)} ago; the workspace is "
            "shutting down. Its home volume is kept unless deleting it was asked for too."
        )
        since = view.deleting_since
    else:
        reason = "Stopping"
        by, at, why = _stop_annotations(view)
        at = at or _deletion_requested(pod)
        who = f" by {by.partition(':')[2] or by}" if by else ""
        if by and by.startswith("policy:"):
            who = f' by the idleness policy "{by.partition(":")[2]}"'
        when = f" {view.ago(at)} ago" if at else ""
        because = f' (reason given: "{quoted(why)}")' if why else ""
        intro = (
            f"A stop was requested{who}{when}{because}; the workspace is shutting down and "
            "holds its resources until it is gone."
        )
        since = at
    facts = dict(shown.facts)
    facts["podReason"] = shown.reason

    stuck = _stuck(view, pod)
    if shown.reason == "NodeLost":
        return replace(shown, message=f"{intro} {shown.message}", facts=facts)
    if stuck is not None:
        return replace(
            shown,
            status="Failed",
            reason="StuckTerminating",
            message=f"{intro} {_stuck_words(pod, stuck)}",
            since=since,
            facts=facts,
        )
    return replace(
        shown,
        reason=reason,
        message=f"{intro} Until then: {shown.message}",
        since=since or shown.since,
        kube_reason=shown.kube_reason or shown.reason,
        facts=facts,
    )


def _replacing(view: WorkspaceView, pod: Mapping[str, Any], shown: StatusReport) -> StatusReport:
    facts = dict(shown.facts)
    facts["podReason"] = shown.reason
    if shown.reason == "NodeLost":
        return shown
    requested = _deletion_requested(pod)
    stuck = _stuck(view, pod)
    if stuck is not None:
        return replace(
            shown,
            status="Failed",
            reason="StuckTerminating",
            message=f"The workspace is being restarted. {_stuck_words(pod, stuck)}",
            since=requested,
            facts=facts,
        )
    return replace(
        shown,
        status="Initializing",
        reason="Replacing",
        message=(
            "The workspace is being restarted: its old pod is shutting down "
            f"({view.ago(requested) or 'just now'} so far) and a new one starts as soon as it "
            "is gone. Work kept only in memory is lost; files on the home volume are kept."
        ),
        since=requested,
        kube_reason=shown.kube_reason or shown.reason,
        facts=facts,
    )


def _stuck_words(pod: Mapping[str, Any], late: timedelta) -> str:
    node = (pod.get("spec") or {}).get("nodeName") or "its node"
    return (
        f"Its old pod on node {node} has not shut down {duration(late)} after its deadline; "
        f"the node may be unreachable. Nothing new starts until it is gone: ask an "
        f"administrator to check node {node}."
    )


# ---- reports without a pod -----------------------------------------------------------------


def _plain(
    view: WorkspaceView,
    status: Status,
    reason: str,
    message: str,
    *,
    since: datetime | None,
    kube_reason: str | None = None,
    **facts: Any,
) -> StatusReport:
    return StatusReport(
        status=status,
        reason=reason,
        message=message,
        since=since,
        kube_reason=kube_reason,
        image=view.image(),
        facts={key: value for key, value in facts.items() if value is not None},
    )
