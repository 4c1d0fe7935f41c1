"""The status report and what the status rules read about one workspace, gathered once.

`WorkspaceView` sorts a workspace's events into those of its StatefulSet, its current pod and
its home PVC, dropping stale ones, and reads the few numbers every rule needs. The rules
themselves live in `status` (no pod; stop, delete, replace), `status.pod` (a pod exists),
`status.scheduling` (no node yet) and `status.failures` (containers that cannot run).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from jupyter_workspaces import constants as c
from jupyter_workspaces.errors import redact
from jupyter_workspaces.manifests import gpu_count, workspace_container
from jupyter_workspaces.status import objects as k
from jupyter_workspaces.status.messages import duration

Status = Literal["Pending", "Initializing", "Active", "Stopped", "Failed"]
KubeObject = Mapping[str, Any]

# Longest piece of Kubernetes' own text quoted in a message.
MAX_QUOTED = 300


@dataclass(frozen=True)
class StatusReport:
    """One workspace's status, why it has it, and the facts behind it."""

    status: Status
    reason: str
    message: str
    since: datetime | None = None
    kube_reason: str | None = None
    node: str | None = None
    image: str | None = None
    restarts: int = 0
    last_exit_code: int | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict; times as ISO-8601 UTC strings."""
        return {
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
            "since": self.since.isoformat().replace("+00:00", "Z") if self.since else None,
            "kubeReason": self.kube_reason,
            "node": self.node,
            "image": self.image,
            "restarts": self.restarts,
            "lastExitCode": self.last_exit_code,
            "facts": dict(self.facts),
        }


@dataclass(frozen=True)
class WorkspaceView:
    """Everything the rules read about one workspace, with stale events already dropped."""

    statefulset: KubeObject
    pod: KubeObject | None
    now: datetime
    name: str
    namespace: str
    replicas: int
    owner: str
    created: datetime | None
    activated: datetime | None
    deleting_since: datetime | None
    set_events: tuple[KubeObject, ...]
    pod_events: tuple[KubeObject, ...]
    claim_events: tuple[KubeObject, ...]

    @classmethod
    def read(
        cls,
        statefulset: KubeObject,
        pod: KubeObject | None,
        events: Sequence[KubeObject],
        now: datetime,
    ) -> WorkspaceView:
        now = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
        metadata = k.meta(statefulset)
        name = str(metadata.get("name") or "")
        created = k.created(statefulset)
        activated = k.parse_time(k.annotation(statefulset, c.ACTIVATED_AT_ANNOTATION))
        if activated is not None and created is not None and activated < created:
            activated = None  # left over from an earlier workspace of the same name
        replicas = (statefulset.get("spec") or {}).get("replicas")
        set_floor = max((t for t in (created, activated) if t is not None), default=None)
        pod_floor = k.created(pod)
        return cls(
            statefulset=statefulset,
            pod=pod,
            now=now,
            name=name,
            namespace=str(metadata.get("namespace") or ""),
            # The API server defaults a missing replicas to 1.
            replicas=1 if replicas is None else int(replicas),
            owner=k.annotation(statefulset, c.OWNER_ANNOTATION)
            or str((metadata.get("labels") or {}).get(c.OWNER_LABEL) or ""),
            created=created,
            activated=activated,
            deleting_since=k.parse_time(metadata.get("deletionTimestamp")),
            set_events=_fresh(
                events, "StatefulSet", name, metadata.get("uid"), set_floor, created
            ),
            pod_events=_fresh(
                events,
                "Pod",
                str(k.meta(pod).get("name") or c.pod_name(name)),
                k.meta(pod).get("uid"),
                pod_floor,
                created,
            )
            if pod is not None
            else (),
            claim_events=_fresh(
                events, "PersistentVolumeClaim", c.home_claim_name(name), None, created, created
            ),
        )

    # ---- what the workspace asks for ---------------------------------------------------

    def pod_spec(self) -> Mapping[str, Any]:
        """The running pod's spec, else the StatefulSet's pod template."""
        if self.pod is not None and self.pod.get("spec"):
            return dict(self.pod["spec"])
        template = (self.statefulset.get("spec") or {}).get("template") or {}
        return dict(template.get("spec") or {})

    def container(self) -> Mapping[str, Any]:
        return workspace_container(self.pod_spec())

    def image(self) -> str | None:
        return self.container().get("image") or None

    def gpus(self) -> int:
        """Whole GPUs the pod asks for, summed over its containers."""
        return sum(gpu_count(ct) for ct in self.pod_spec().get("containers") or [])

    def request(self, resource: str) -> str | None:
        """The workspace container's request (or limit) of `resource`, as written."""
        res = self.container().get("resources") or {}
        value = (res.get("requests") or {}).get(resource) or (res.get("limits") or {}).get(
            resource
        )
        return str(value) if value is not None else None

    def tool(self) -> str:
        """The main tool: the first named in the tools annotation."""
        tools = k.annotation(self.statefulset, c.TOOLS_ANNOTATION) or ""
        return next((t for t in tools.split(",") if t), "the workspace's tool")

    def probe_port(self) -> int | None:
        probe = self.container().get("readinessProbe") or {}
        for kind in ("tcpSocket", "httpGet"):
            port = (probe.get(kind) or {}).get("port")
            if isinstance(port, int):
                return port
        return None

    # ---- time ------------------------------------------------------------------------

    def ago(self, moment: datetime | None) -> str:
        """'12 minutes' since `moment`, or '' when unknown."""
        return duration(self.now - moment) if moment is not None else ""

    def longer_than(self, moment: datetime | None, limit: timedelta) -> bool:
        return moment is not None and self.now - moment > limit


def quoted(text: str) -> str:
    """Kubernetes' own words as a clause: one line, no final full stop, of reasonable length,
    with anything that looks like a credential replaced (messages reach CSVs and logs)."""
    flat = redact(" ".join(str(text).split())).rstrip(" .")
    return flat if len(flat) <= MAX_QUOTED else flat[: MAX_QUOTED - 1] + "…"


def _fresh(
    events: Sequence[KubeObject],
    kind: str,
    name: str,
    uid: Any,
    floor: datetime | None,
    set_created: datetime | None,
) -> tuple[KubeObject, ...]:
    """The events about (kind, name) that concern the current object.

    Stale: an event naming another uid (a previous pod or object of the same name), or one
    last seen before `floor` (the object's creation, or the latest activation) or before the
    StatefulSet's creation (a re-created workspace must not inherit old warnings). Events
    with no time at all are kept unless their uid says otherwise.
    """
    kept = []
    for event in events:
        obj = k.involved(event)
        if obj.get("kind") != kind or obj.get("name") != name:
            continue
        if uid and obj.get("uid") and obj.get("uid") != uid:
            continue
        seen = k.event_last_seen(event)
        if seen is not None and any(f is not None and seen < f for f in (floor, set_created)):
            continue
        kept.append(event)
    return tuple(kept)


# ---- reading a pod, and a report about it ------------------------------------------------


def pod_report(
    view: WorkspaceView,
    status: Status,
    reason: str,
    message: str,
    *,
    since: datetime | None,
    kube_reason: str | None = None,
    **facts: Any,
) -> StatusReport:
    """A report about the view's pod: node, image, restarts and exit code filled in."""
    pod = view.pod
    main = k.main_container_status(pod)
    restarts = int((main or {}).get("restartCount") or 0)
    terminated = terminated_state(main) or last_terminated(main)
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


def is_scheduled(pod: Mapping[str, Any]) -> bool:
    """Whether a node was chosen for the pod."""
    return bool((pod.get("spec") or {}).get("nodeName")) or k.condition_is(
        pod, "PodScheduled", "True"
    )


def scheduled_at(pod: Mapping[str, Any]) -> datetime | None:
    """When the pod was placed on its node (else created)."""
    cond = k.condition(pod, "PodScheduled") or {}
    return k.parse_time(cond.get("lastTransitionTime")) or k.created(pod)


def node_of(pod: Mapping[str, Any]) -> str:
    """The pod's node name, or "its node" for a message."""
    return str((pod.get("spec") or {}).get("nodeName") or "its node")


def terminated_state(status: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """A container status's current `terminated` record, or {}."""
    return ((status or {}).get("state") or {}).get("terminated") or {}


def last_terminated(status: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """A container status's previous run's `terminated` record, or {}."""
    return ((status or {}).get("lastState") or {}).get("terminated") or {}


def waiting_state(status: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """A container status's current `waiting` record, or {}."""
    return ((status or {}).get("state") or {}).get("waiting") or {}


def finished_at(pod: Mapping[str, Any]) -> datetime | None:
    """When the main container's current run ended, if it has."""
    return k.parse_time(terminated_state(k.main_container_status(pod)).get("finishedAt"))


def condition_time(pod: Mapping[str, Any], kind: str) -> datetime | None:
    """When the pod's condition `kind` last changed."""
    return k.parse_time((k.condition(pod, kind) or {}).get("lastTransitionTime"))
