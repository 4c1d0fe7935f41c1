"""A simulated kubelet: runs the pods bound to one node, as a client of any API server.

It needs nothing but a kubeconfig and a Node name, so it can drive a real control plane that
has no real nodes as well as the simulator. It keeps its Node Ready, moves each pod through the
lifecycle its containers' images call for (see `registry`), writes `pods/status` through the
status subresource, records the kubelet's events, and finishes deleted pods: `Killing`, then
the final delete with grace period 0 once the containers have stopped.
"""

from __future__ import annotations

import logging
import time
import zlib
from functools import partial
from pathlib import Path

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from jupyter_workspaces.simulator.controllers.base import (
    MERGE_PATCH,
    Controller,
    Informer,
    Obj,
    api_client,
    call,
    rfc3339,
    status_message,
)
from jupyter_workspaces.simulator.controllers.containers import ContainerRun
from jupyter_workspaces.simulator.controllers.events import EventRecorder
from jupyter_workspaces.simulator.registry import Registry

log = logging.getLogger(__name__)

# Real seconds between two heartbeats of the Node's Ready condition (not scaled by speed:
# heartbeats are background noise, not part of any lifecycle).
HEARTBEAT_SECONDS = 20.0
# Simulated seconds a container takes to stop after SIGTERM.
STOP_SECONDS = 1.0
_NODE_KEY = "\x00node"


def _pod_view(pod: Obj) -> Obj:
    """What the kubelet keeps of a pod: what it runs, names in events, and its status."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    kept_meta = ("name", "namespace", "uid", "resourceVersion", "deletionTimestamp", "annotations")
    kept_container = ("name", "image", "imagePullPolicy", "readinessProbe")
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {k: meta[k] for k in kept_meta if k in meta},
        "spec": {
            "containers": [
                {k: c[k] for k in kept_container if k in c} for c in spec.get("containers") or []
            ],
            "restartPolicy": spec.get("restartPolicy"),
            "terminationGracePeriodSeconds": spec.get("terminationGracePeriodSeconds", 30),
        },
        "status": pod.get("status") or {},
    }


class PodRun:
    """What the kubelet knows of one pod it runs."""

    def __init__(self, pod: Obj, kubelet: Kubelet, now: float) -> None:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        self.uid = meta.get("uid")
        self.start_time = (pod.get("status") or {}).get("startTime") or rfc3339()
        self.ip = (pod.get("status") or {}).get("podIP") or kubelet.next_ip()
        self.stop_at: float | None = None
        conditions = (pod.get("status") or {}).get("conditions") or []
        self.transitions: dict[str, tuple[str, str]] = {
            c["type"]: (c.get("status"), c.get("lastTransitionTime")) for c in conditions
        }
        label = f"{meta.get('name')}_{meta.get('namespace')}({self.uid})"
        existing = {
            s.get("name"): s for s in (pod.get("status") or {}).get("containerStatuses") or []
        }
        self.containers: list[ContainerRun] = []
        for container in spec.get("containers") or []:
            run = ContainerRun(
                spec=container,
                pod_label=label,
                annotations=dict(meta.get("annotations") or {}),
                registry=kubelet.registry,
                node_images=kubelet.images,
                restart_policy=spec.get("restartPolicy") or "Always",
                due=now,
            )
            if container.get("name") in existing:
                run.adopt(existing[container.get("name")], now)
            self.containers.append(run)
        # A pod found running and ready (a seeded cluster, a restarted kubelet) already shows
        # what this kubelet would write: no need to write it again.
        self.adopted = bool(self.containers) and all(c.ready for c in self.containers)

    def probe_target(self, container: ContainerRun) -> str:
        probe = container.spec.get("readinessProbe") or {}
        port = (probe.get("tcpSocket") or probe.get("httpGet") or {}).get("port", 8888)
        return f"{self.ip}:{port}"

    def condition(self, kind: str, ok: bool, reason: str = "", message: str = "") -> Obj:
        status = "True" if ok else "False"
        previous = self.transitions.get(kind)
        if previous is None or previous[0] != status:
            self.transitions[kind] = (status, rfc3339())
        entry: Obj = {
            "type": kind,
            "status": status,
            "lastProbeTime": None,
            "lastTransitionTime": self.transitions[kind][1],
        }
        if not ok:
            entry.update(reason=reason, message=message)
        return entry


class Kubelet(Controller):
    """Runs the pods of Node `node_name`; delays are simulated seconds divided by `speed`."""

    def __init__(
        self,
        kubeconfig: str | Path | None,
        node_name: str,
        registry: Registry | None = None,
        speed: float = 1.0,
        *,
        api: client.ApiClient | None = None,
        heartbeat: float = HEARTBEAT_SECONDS,
    ) -> None:
        self.name = f"kubelet-{node_name}"
        super().__init__()
        if api is None:
            if kubeconfig is None:
                raise ValueError("Kubelet needs a kubeconfig path or an ApiClient")
            api = api_client(str(kubeconfig))
        self.node_name = node_name
        self.registry = registry or Registry()
        self.speed = speed
        self.heartbeat = heartbeat
        self.images: set[str] = set()
        self.runs: dict[str, PodRun] = {}
        self._core = client.CoreV1Api(api)
        self._events = EventRecorder(api, "kubelet", host=node_name)
        self._t0 = time.monotonic()
        self._ips = 0
        self._written: dict[str, Obj] = {}
        self.pods = Informer(
            f"pods-on-{node_name}",
            self._core.list_pod_for_all_namespaces,
            lambda key, old, new: self.queue.add(key),
            transform=_pod_view,
            field_selector=f"spec.nodeName={node_name}",
        )
        self.informers = [self.pods]

    def start(self) -> None:
        self._register_node()
        super().start()
        self.queue.add(_NODE_KEY, self.heartbeat)

    def sim_now(self) -> float:
        """Simulated seconds since this kubelet started."""
        return (time.monotonic() - self._t0) * self.speed

    def next_ip(self) -> str:
        self._ips += 1
        subnet = zlib.crc32(self.node_name.encode()) % 250 + 1
        return f"10.244.{subnet}.{self._ips % 250 + 2}"

    # Node ------------------------------------------------------------------------------------

    def _register_node(self) -> None:
        try:
            call(self._core.read_node, self.node_name)
        except ApiException as exc:
            if exc.status != 404:
                raise
            body = {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": self.node_name,
                    "labels": {"kubernetes.io/hostname": self.node_name},
                },
                "status": {"capacity": {"cpu": "8", "memory": "32Gi", "pods": "110"}},
            }
            call(self._core.create_node, body)
        self._post_node_status()

    def _post_node_status(self) -> None:
        stamp = rfc3339()
        ready = {
            "type": "Ready",
            "status": "True",
            "reason": "KubeletReady",
            "message": "kubelet is posting ready status",
            "lastHeartbeatTime": stamp,
            "lastTransitionTime": stamp,
        }
        node = call(self._core.read_node, self.node_name)
        for condition in (node.get("status") or {}).get("conditions") or []:
            if condition.get("type") == "Ready" and condition.get("status") == "True":
                ready["lastTransitionTime"] = condition.get("lastTransitionTime") or stamp
        address = f"10.0.{zlib.crc32(self.node_name.encode()) % 250 + 1}.1"
        call(
            self._core.patch_node_status,
            self.node_name,
            {
                "status": {
                    "conditions": [ready],
                    "addresses": [
                        {"type": "InternalIP", "address": address},
                        {"type": "Hostname", "address": self.node_name},
                    ],
                }
            },
        )

    # Pods ------------------------------------------------------------------------------------

    def reconcile(self, key: str) -> None:
        if key == _NODE_KEY:
            self._post_node_status()
            self.queue.add(_NODE_KEY, self.heartbeat)
            return
        pod = self.pods.items.get(key)
        now = self.sim_now()
        if pod is None:
            self.runs.pop(key, None)
            self._written.pop(key, None)
            return
        run = self.runs.get(key)
        if run is None or run.uid != pod["metadata"].get("uid"):
            run = self.runs[key] = PodRun(pod, self, now)
            log.info("%s: kubelet %s takes the pod", key, self.node_name)

        if pod["metadata"].get("deletionTimestamp"):
            self._terminate(key, pod, run, now)
            return

        def emit(kind: str, reason: str, message: str, container: ContainerRun) -> None:
            self._events.event(
                pod, kind, reason, message, field_path=f"spec.containers{{{container.name}}}"
            )

        for container in run.containers:
            container.step(now, partial(emit, container=container), run.probe_target(container))
        self._write_status(key, pod, run)
        due = min((c.due for c in run.containers), default=float("inf"))
        if due != float("inf"):
            self.queue.add(key, max(0.0, (due - self.sim_now()) / self.speed))

    def _terminate(self, key: str, pod: Obj, run: PodRun, now: float) -> None:
        if run.stop_at is None:
            grace = (pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
            run.stop_at = now + min(float(grace or 0), STOP_SECONDS)
            for container in run.containers:
                if container.state == "running":
                    self._events.event(
                        pod,
                        "Normal",
                        "Killing",
                        f"Stopping container {container.name}",
                        field_path=f"spec.containers{{{container.name}}}",
                    )
        if now < run.stop_at:
            self.queue.add(key, (run.stop_at - now) / self.speed)
            return
        namespace, name = key.split("/", 1)
        try:
            call(
                self._core.delete_namespaced_pod,
                name,
                namespace,
                body={"gracePeriodSeconds": 0, "preconditions": {"uid": run.uid}},
            )
        except ApiException as exc:
            if exc.status not in (404, 409):
                raise
            log.info("%s: already gone (%s)", key, status_message(exc))
        log.info("%s: containers stopped, pod removed from node %s", key, self.node_name)

    def _write_status(self, key: str, pod: Obj, run: PodRun) -> None:
        containers = run.containers
        all_ready = bool(containers) and all(c.ready for c in containers)
        unready = [c.name for c in containers if not c.ready]
        why = f"containers with unready status: [{' '.join(unready)}]"
        if any(c.failed() for c in containers):
            phase = "Failed"
        elif containers and all(c.ever_started for c in containers):
            phase = "Running"
        else:
            phase = "Pending"
        current = pod.get("status") or {}
        scheduled = [c for c in current.get("conditions") or [] if c.get("type") == "PodScheduled"]
        status: Obj = {
            "phase": phase,
            "conditions": [
                run.condition("Initialized", True),
                run.condition("Ready", all_ready, "ContainersNotReady", why),
                run.condition("ContainersReady", all_ready, "ContainersNotReady", why),
                *scheduled,
            ],
            "hostIP": self._host_ip(),
            "podIP": run.ip,
            "podIPs": [{"ip": run.ip}],
            "startTime": run.start_time,
            "containerStatuses": [c.status() for c in containers],
        }
        if current.get("qosClass"):
            status["qosClass"] = current["qosClass"]
        if self._written.get(key) == status:
            return
        if run.adopted and key not in self._written:
            self._written[key] = status
            return
        namespace, name = key.split("/", 1)
        try:
            call(
                self._core.patch_namespaced_pod_status,
                name,
                namespace,
                {"status": status},
                _content_type=MERGE_PATCH,
            )
        except ApiException as exc:
            if exc.status == 404:
                return
            raise
        self._written[key] = status

    def _host_ip(self) -> str:
        return f"10.0.{zlib.crc32(self.node_name.encode()) % 250 + 1}.1"


def mark_node_lost(api: client.ApiClient, node_name: str) -> int:
    """Play the node lifecycle controller for a node whose kubelet went away.

    The Node's Ready condition becomes Unknown and it gets the unreachable taints; each pod on
    it gets phase Unknown, reason NodeLost and Ready False. Returns the number of pods marked.
    """
    core = client.CoreV1Api(api)
    stamp = rfc3339()
    unknown = {
        "type": "Ready",
        "status": "Unknown",
        "reason": "NodeStatusUnknown",
        "message": "Kubelet stopped posting node status.",
        "lastHeartbeatTime": stamp,
        "lastTransitionTime": stamp,
    }
    call(core.patch_node_status, node_name, {"status": {"conditions": [unknown]}})
    taints = [
        {"key": "node.kubernetes.io/unreachable", "effect": effect, "timeAdded": stamp}
        for effect in ("NoSchedule", "NoExecute")
    ]
    call(core.patch_node, node_name, {"spec": {"taints": taints}}, _content_type=MERGE_PATCH)
    pods = call(core.list_pod_for_all_namespaces, field_selector=f"spec.nodeName={node_name}")
    for pod in pods.get("items") or []:
        meta = pod["metadata"]
        conditions = [
            dict(c, status="False", lastTransitionTime=stamp) if c.get("type") == "Ready" else c
            for c in (pod.get("status") or {}).get("conditions") or []
        ]
        call(
            core.patch_namespaced_pod_status,
            meta["name"],
            meta["namespace"],
            {
                "status": {
                    "phase": "Unknown",
                    "reason": "NodeLost",
                    "message": f"Node {node_name} which was running pod {meta['name']} "
                    "is unresponsive",
                    "conditions": conditions,
                }
            },
            _content_type=MERGE_PATCH,
        )
    return len(pods.get("items") or [])


__all__ = ["Kubelet", "mark_node_lost"]
