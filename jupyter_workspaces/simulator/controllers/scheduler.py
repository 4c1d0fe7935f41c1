"""A scheduler that places pods on nodes by CPU, memory and GPU, as a client of the API.

It filters nodes the way kube-scheduler 1.20 does (in its plugin order, each node failing on
the first filter it does not pass: unschedulable, taints, node selector, resources), writes the
same `PodScheduled=False/Unschedulable` condition and `FailedScheduling` event with the same
message ("0/3 nodes are available: 3 Insufficient nvidia.com/gpu."), binds through
`pods/binding`, and tries unschedulable pods again when capacity frees up.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from jupyter_workspaces.manifests import parse_quantity
from jupyter_workspaces.simulator.controllers.base import (
    Controller,
    Informer,
    Obj,
    call,
    rfc3339,
    status_message,
)
from jupyter_workspaces.simulator.controllers.events import EventRecorder

log = logging.getLogger(__name__)

SCHEDULER_NAME = "default-scheduler"
# Seconds after which unschedulable pods are tried again even without a cluster change
# (kube-scheduler flushes its unschedulable queue after a minute).
RETRY_UNSCHEDULABLE = 60.0
_BASIC = ("cpu", "memory")
# Times (50 ms apart) a pod whose claims are not yet bound is put back before it is reported.
_CLAIM_PATIENCE = 40


def _amount(text: Any) -> float:
    try:
        return float(parse_quantity(str(text)))
    except ValueError:
        return 0.0


def pod_requests(pod: Obj) -> dict[str, float]:
    """Summed container requests (limits stand in where a request is missing), plus `pods`."""
    total: dict[str, float] = {"pods": 1.0}
    for container in (pod.get("spec") or {}).get("containers") or []:
        resources = container.get("resources") or {}
        merged = {**(resources.get("limits") or {}), **(resources.get("requests") or {})}
        for name, value in merged.items():
            total[name] = total.get(name, 0.0) + _amount(value)
    return total


def _node_summary(node: Obj) -> dict[str, Any]:
    status = node.get("status") or {}
    spec = node.get("spec") or {}
    return {
        "name": node["metadata"]["name"],
        "labels": dict(node["metadata"].get("labels") or {}),
        "unschedulable": bool(spec.get("unschedulable")),
        "taints": [
            t for t in spec.get("taints") or [] if t.get("effect") in ("NoSchedule", "NoExecute")
        ],
        "allocatable": {
            k: _amount(v)
            for k, v in (status.get("allocatable") or status.get("capacity") or {}).items()
        },
    }


def _pod_summary(pod: Obj) -> dict[str, Any]:
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    scheduled = next(
        (c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"), None
    )
    return {
        "uid": meta.get("uid"),
        "node": spec.get("nodeName") or "",
        "scheduler": spec.get("schedulerName") or SCHEDULER_NAME,
        "active": status.get("phase") not in ("Succeeded", "Failed"),
        "deleting": bool(meta.get("deletionTimestamp")),
        "requests": pod_requests(pod),
        "node_selector": dict(spec.get("nodeSelector") or {}),
        "tolerations": list(spec.get("tolerations") or []),
        "claims": [
            v["persistentVolumeClaim"]["claimName"]
            for v in spec.get("volumes") or []
            if v.get("persistentVolumeClaim")
        ],
        "condition": (scheduled or {}).get("message"),
    }


def _tolerates(tolerations: list[Obj], taint: Obj) -> bool:
    for toleration in tolerations:
        if toleration.get("effect") and toleration["effect"] != taint.get("effect"):
            continue
        if toleration.get("operator") == "Exists":
            if not toleration.get("key") or toleration["key"] == taint.get("key"):
                return True
        elif toleration.get("key") == taint.get("key") and (toleration.get("value") or "") == (
            taint.get("value") or ""
        ):
            return True
    return False


class Scheduler(Controller):
    """Binds pending pods of `default-scheduler` to the nodes that fit them."""

    name = "default-scheduler"

    def __init__(self, api: client.ApiClient, speed: float = 1.0) -> None:
        super().__init__()
        self.speed = speed
        self._core = client.CoreV1Api(api)
        self._events = EventRecorder(api, SCHEDULER_NAME, legacy=False)
        self._lock = threading.Lock()
        # Resources held on each node, by pod: kept as pods come, go and end.
        self._placed: dict[str, tuple[str, dict[str, float]]] = {}
        self._used: dict[str, Counter[str]] = {}
        self._unschedulable: set[str] = set()
        self._claim_waits: dict[str, int] = {}
        self.nodes = Informer(
            "nodes", self._core.list_node, self._node_changed, transform=_node_summary
        )
        self.pods = Informer(
            "pods",
            self._core.list_pod_for_all_namespaces,
            self._pod_changed,
            transform=_pod_summary,
        )
        self.informers = [self.nodes, self.pods]

    def _node_changed(self, key: str, old: Any, new: Any) -> None:
        self._retry_unschedulable()

    def _unbound_claims(self, namespace: str, claims: list[str]) -> list[str]:
        """The pod's claims that are missing or not bound. Read afresh rather than watched:
        only pods waiting to be scheduled need them, and there are few of those."""
        unbound = []
        for name in claims:
            try:
                claim = call(self._core.read_namespaced_persistent_volume_claim, name, namespace)
            except ApiException as exc:
                if exc.status != 404:
                    raise
                claim = {}
            if (claim.get("status") or {}).get("phase") != "Bound":
                unbound.append(name)
        return unbound

    def _pod_changed(self, key: str, old: Any, new: Any) -> None:
        holds = bool(new and new["node"] and new["active"])
        freed = False
        with self._lock:
            if holds:
                self._place(key, new["node"], new["requests"])
            elif key in self._placed:
                self._unplace(key)
                freed = True
        if new is None:
            self._unschedulable.discard(key)
            self._claim_waits.pop(key, None)
        elif not new["node"] and not new["deleting"]:
            self.queue.add(key)
        if freed:
            self._retry_unschedulable()

    def _place(self, key: str, node: str, requests: dict[str, float]) -> None:
        if key in self._placed:
            if self._placed[key][0] == node:
                return
            self._unplace(key)
        self._placed[key] = (node, requests)
        self._used.setdefault(node, Counter()).update(requests)

    def _unplace(self, key: str) -> None:
        node, requests = self._placed.pop(key)
        self._used.setdefault(node, Counter()).subtract(requests)

    def _retry_unschedulable(self) -> None:
        for key in list(self._unschedulable):
            self.queue.add(key)

    def reconcile(self, key: str) -> None:
        pod = self.pods.items.get(key)
        if pod is None or pod["node"] or pod["deleting"] or pod["scheduler"] != SCHEDULER_NAME:
            self._unschedulable.discard(key)
            return
        nodes = sorted(self.nodes.items.values(), key=lambda n: n["name"])
        namespace = key.split("/", 1)[0]
        if pod["claims"] and self._unbound_claims(namespace, pod["claims"]):
            # Claims are bound right after they are made: give our cache a moment to see it.
            waited = self._claim_waits.get(key, 0)
            if waited < _CLAIM_PATIENCE:
                self._claim_waits[key] = waited + 1
                self.queue.add(key, 0.05)
                return
            reasons = Counter({"pod has unbound immediate PersistentVolumeClaims": len(nodes)})
            feasible: list[dict[str, Any]] = []
        else:
            reasons, feasible = self._filter(pod, nodes)
        if feasible:
            self._bind(key, pod, self._best(feasible, pod))
        else:
            self._refuse(key, pod, len(nodes), reasons)

    def _filter(
        self, pod: dict[str, Any], nodes: list[dict[str, Any]]
    ) -> tuple[Counter[str], list[dict[str, Any]]]:
        reasons: Counter[str] = Counter()
        feasible = []
        with self._lock:
            for node in nodes:
                failed = self._node_reasons(pod, node)
                reasons.update(failed)
                if not failed:
                    feasible.append(node)
        return reasons, feasible

    def _node_reasons(self, pod: dict[str, Any], node: dict[str, Any]) -> list[str]:
        """Why a node cannot take the pod, from the first filter it fails (none: it fits).

        The filters run in kube-scheduler's order (NodeUnschedulable, TaintToleration,
        NodeAffinity, NodeResourcesFit) with its 1.20 wording, checked against a real one.
        """
        unschedulable_taint = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
        if node["unschedulable"] and not _tolerates(pod["tolerations"], unschedulable_taint):
            return ["node(s) were unschedulable"]

        for taint in node["taints"]:
            if taint.get("effect") not in ("NoSchedule", "NoExecute"):
                continue
            if not _tolerates(pod["tolerations"], taint):
                return [
                    f"node(s) had taint {{{taint.get('key')}: {taint.get('value', '')}}}, "
                    "that the pod didn't tolerate"
                ]

        selector = pod["node_selector"]
        if any(node["labels"].get(k) != v for k, v in selector.items()):
            return ["node(s) didn't match Pod's node affinity"]

        used = self._used.get(node["name"], Counter())
        allocatable = node["allocatable"]
        insufficient = []
        if used["pods"] + 1 > allocatable.get("pods", 110):
            insufficient.append("Too many pods")
        for name in (*_BASIC, *sorted(k for k in pod["requests"] if k not in (*_BASIC, "pods"))):
            wanted = pod["requests"].get(name, 0.0)
            if wanted and used[name] + wanted > allocatable.get(name, 0.0) + 1e-9:
                insufficient.append(f"Insufficient {name}")
        return insufficient

    def _best(self, nodes: list[dict[str, Any]], pod: dict[str, Any]) -> dict[str, Any]:
        """The least allocated node (most free CPU and memory share); ties go by name."""

        def free_share(node: dict[str, Any]) -> float:
            used = self._used.get(node["name"], Counter())
            shares = [
                1 - (used[r] + pod["requests"].get(r, 0.0)) / node["allocatable"][r]
                for r in _BASIC
                if node["allocatable"].get(r)
            ]
            return sum(shares) / len(shares) if shares else 0.0

        with self._lock:
            return max(nodes, key=free_share)

    def _bind(self, key: str, pod: dict[str, Any], node: dict[str, Any]) -> None:
        namespace, name = key.split("/", 1)
        body: Obj = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": name, "namespace": namespace},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node["name"]},
        }
        try:
            call(self._core.create_namespaced_pod_binding, name, namespace, body)
        except ApiException as exc:
            if exc.status in (404, 409):
                log.info("%s: not bound (%s)", key, status_message(exc))
                return
            raise
        with self._lock:
            self._place(key, node["name"], pod["requests"])
        self._unschedulable.discard(key)
        self._events.event(
            _event_target(key, pod),
            "Normal",
            "Scheduled",
            f"Successfully assigned {namespace}/{name} to {node['name']}",
            action="Binding",
        )
        log.info("%s: bound to %s", key, node["name"])

    def _refuse(self, key: str, pod: dict[str, Any], count: int, reasons: Counter[str]) -> None:
        namespace, name = key.split("/", 1)
        histogram = sorted(f"{n} {reason}" for reason, n in reasons.items())
        message = f"0/{count} nodes are available: {', '.join(histogram)}."
        self._unschedulable.add(key)
        self.queue.add(key, RETRY_UNSCHEDULABLE / self.speed)
        self._events.event(
            _event_target(key, pod), "Warning", "FailedScheduling", message, action="Scheduling"
        )
        if pod["condition"] == message:
            return
        condition = {
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "message": message,
            "lastProbeTime": None,
            "lastTransitionTime": rfc3339(),
        }
        try:
            call(
                self._core.patch_namespaced_pod_status,
                name,
                namespace,
                {"status": {"conditions": [condition]}},
            )
        except ApiException as exc:
            if exc.status != 404:
                raise
        log.info("%s: unschedulable: %s", key, message)


def _event_target(key: str, pod: dict[str, Any]) -> Obj:
    namespace, name = key.split("/", 1)
    meta = {"name": name, "namespace": namespace, "uid": pod.get("uid")}
    return {"kind": "Pod", "apiVersion": "v1", "metadata": meta}
