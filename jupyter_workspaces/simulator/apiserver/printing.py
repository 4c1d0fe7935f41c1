"""Server-side printing: `meta.k8s.io/v1` Tables, which kubectl asks for to show columns.

Only the columns `kubectl get` shows by default (and the `-o wide` ones for pods and
StatefulSets) for the resources served here; anything else gets Name and Age.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from jupyter_workspaces.simulator.apiserver.resources import Obj, Resource

Column = tuple[str, str, int]  # name, type, priority (1 = only with -o wide)
Cells = list[Any]


def wants_table(accept: str) -> bool:
    return "as=Table" in accept and "g=meta.k8s.io" in accept


def human_age(created: str | None, now: float) -> str:
    """A duration as kubectl prints ages: 45s, 3m12s, 5h, 2d4h, 40d."""
    if not created:
        return "<unknown>"
    moment = datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    seconds = int(now - moment.timestamp())
    if seconds < 0:
        return "0s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if hours < 3:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    return f"{days}d"


def _pod_status(pod: Obj) -> str:
    status = pod.get("status") or {}
    reason = status.get("reason") or status.get("phase") or "Unknown"
    for container in status.get("containerStatuses") or []:
        state = container.get("state") or {}
        if state.get("waiting", {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif state.get("terminated", {}).get("reason"):
            reason = state["terminated"]["reason"]
    if pod["metadata"].get("deletionTimestamp"):
        reason = "Terminating"
    return str(reason)


def _pod(pod: Obj) -> Cells:
    status, spec = pod.get("status") or {}, pod.get("spec") or {}
    containers = status.get("containerStatuses") or []
    ready = sum(1 for c in containers if c.get("ready"))
    restarts = sum(int(c.get("restartCount") or 0) for c in containers)
    return [f"{ready}/{len(spec.get('containers') or [])}", _pod_status(pod), restarts, None,
            status.get("podIP") or "<none>", spec.get("nodeName") or "<none>",
            status.get("nominatedNodeName") or "<none>", "<none>"]  # fmt: skip


def _statefulset(sts: Obj) -> Cells:
    status = sts.get("status") or {}
    containers = (sts.get("spec") or {}).get("template", {}).get("spec", {}).get("containers")
    containers = containers or []
    return [f"{status.get('readyReplicas', 0)}/{(sts.get('spec') or {}).get('replicas', 1)}",
            None, ",".join(c.get("name", "") for c in containers),
            ",".join(c.get("image", "") for c in containers)]  # fmt: skip


def _service(svc: Obj) -> Cells:
    spec = svc.get("spec") or {}
    ports = ",".join(
        f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in spec.get("ports") or []
    )
    return [spec.get("type", "ClusterIP"), spec.get("clusterIP") or "<none>", "<none>",
            ports or "<none>", None]  # fmt: skip


def _claim(claim: Obj) -> Cells:
    spec, status = claim.get("spec") or {}, claim.get("status") or {}
    capacity = (status.get("capacity") or {}).get("storage", "")
    modes = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX"}
    access = ",".join(modes.get(m, m) for m in status.get("accessModes") or [])
    return [status.get("phase", ""), spec.get("volumeName", ""), capacity, access,
            spec.get("storageClassName", ""), None]  # fmt: skip


def _node(node: Obj) -> Cells:
    conditions = (node.get("status") or {}).get("conditions") or []
    ready: dict[str, Any] = next((c for c in conditions if c.get("type") == "Ready"), {})
    state = "Ready" if ready.get("status") == "True" else "NotReady"
    if (node.get("spec") or {}).get("unschedulable"):
        state += ",SchedulingDisabled"
    version = ((node.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", "")
    return [state, "<none>", None, version]


def _event(event: Obj) -> Cells:
    involved = event.get("involvedObject") or {}
    return [event.get("type", ""), event.get("reason", ""),
            f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}",
            event.get("message", "")]  # fmt: skip


# Per resource: the columns after Name, and the cells for them (None marks the Age cell).
_VIEWS: dict[str, tuple[list[Column], Callable[[Obj], Cells]]] = {
    "pods": ([("Ready", "string", 0), ("Status", "string", 0), ("Restarts", "integer", 0),
              ("Age", "string", 0), ("IP", "string", 1), ("Node", "string", 1),
              ("Nominated Node", "string", 1), ("Readiness Gates", "string", 1)], _pod),
    "statefulsets": ([("Ready", "string", 0), ("Age", "string", 0),
                      ("Containers", "string", 1), ("Images", "string", 1)], _statefulset),
    "services": ([("Type", "string", 0), ("Cluster-IP", "string", 0),
                  ("External-IP", "string", 0), ("Port(s)", "string", 0), ("Age", "string", 0)],
                 _service),
    "persistentvolumeclaims": ([("Status", "string", 0), ("Volume", "string", 0),
                                ("Capacity", "string", 0), ("Access Modes", "string", 0),
                                ("StorageClass", "string", 0), ("Age", "string", 0)], _claim),
    "nodes": ([("Status", "string", 0), ("Roles", "string", 0), ("Age", "string", 0),
               ("Version", "string", 0)], _node),
    "namespaces": ([("Status", "string", 0), ("Age", "string", 0)],
                   lambda ns: [(ns.get("status") or {}).get("phase", ""), None]),
    "events": ([("Type", "string", 0), ("Reason", "string", 0), ("Object", "string", 0),
                ("Message", "string", 0)], _event),
}  # fmt: skip


def table(resource: Resource, objects: list[Obj], meta: dict[str, Any], now: float) -> Obj:
    """A Table of `objects`, one row each, with partial metadata for kubectl."""
    columns, cells_of = _VIEWS.get(resource.plural, ([("Age", "string", 0)], lambda _: [None]))
    definitions = [{"name": "Name", "type": "string", "format": "name", "description": "",
                    "priority": 0}]  # fmt: skip
    definitions += [
        {"name": name, "type": kind, "format": "", "description": "", "priority": priority}
        for name, kind, priority in columns
    ]
    rows = []
    for obj in objects:
        metadata = obj["metadata"]
        age = human_age(metadata.get("creationTimestamp"), now)
        cells = [age if cell is None else cell for cell in cells_of(obj)]
        partial = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                   "metadata": metadata}  # fmt: skip
        rows.append({"cells": [metadata["name"], *cells], "object": partial})
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
            "columnDefinitions": definitions, "rows": rows}  # fmt: skip
