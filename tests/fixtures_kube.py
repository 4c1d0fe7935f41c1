"""Builders of Kubernetes JSON shaped as a real API server returns it, for the status tests.

Field names, nesting, null timestamps and message texts follow what kube-apiserver, the
scheduler, the StatefulSet controller, quota admission and the kubelet write.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from typing import Any

from jupyter_workspaces import constants as c
from jupyter_workspaces.manifests import WorkspaceSpec, build_statefulset

T0 = datetime(2026, 5, 4, 9, 0, 0, tzinfo=timezone.utc)
NAME = "bert"
NS = "nlp-lab"
STS_UID = "5d0c6a3e-1111-4c1e-9d7a-000000000001"
POD_UID = "7f3b2c1d-2222-4c1e-9d7a-000000000002"
OLD_POD_UID = "0a9e8d7c-3333-4c1e-9d7a-000000000003"
IMAGE = "quay.io/jupyter/pytorch-notebook:cuda12-2024-05-27"
NODE = "gpu-node-2"


def at(minutes: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ts(minutes: float = 0) -> str:
    """A Kubernetes Time (seconds, Z) `minutes` after T0."""
    return at(minutes).strftime("%Y-%m-%dT%H:%M:%SZ")


def micro(minutes: float = 0) -> str:
    """A Kubernetes MicroTime, as newer events carry in eventTime."""
    return at(minutes).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def statefulset(
    *,
    replicas: int = 1,
    created: float = 0,
    gpu: int = 1,
    memory: str = "16Gi",
    annotations: dict[str, str] | None = None,
    deleting: float | None = None,
    owner: str = "Ada Lovelace",
    uid: str = STS_UID,
) -> dict[str, Any]:
    spec = WorkspaceSpec(
        name=NAME,
        project=NS,
        owner=owner,
        image=IMAGE,
        cpu="4",
        memory=memory,
        gpu=gpu,
        tools=("jupyterlab", "tensorboard"),
        volume_size="50Gi",
    )
    sts = build_statefulset(spec, replicas=replicas)
    sts["metadata"].update(
        {
            "uid": uid,
            "resourceVersion": "48213",
            "generation": 3,
            "creationTimestamp": ts(created),
        }
    )
    sts["metadata"]["annotations"].update(annotations or {})
    if deleting is not None:
        sts["metadata"]["deletionTimestamp"] = ts(deleting)
        sts["metadata"]["deletionGracePeriodSeconds"] = 0
        sts["metadata"]["finalizers"] = ["foregroundDeletion"]
    sts["status"] = {
        "observedGeneration": 3,
        "replicas": replicas,
        "currentReplicas": replicas,
        "updatedReplicas": replicas,
        "currentRevision": f"{NAME}-6b8f7c9d5f",
        "updateRevision": f"{NAME}-6b8f7c9d5f",
        "collisionCount": 0,
        "availableReplicas": 0,
    }
    return sts


def condition(
    kind: str, status: str, minutes: float, reason: str | None = None, message: str | None = None
) -> dict[str, Any]:
    cond: dict[str, Any] = {
        "type": kind,
        "status": status,
        "lastProbeTime": None,
        "lastTransitionTime": ts(minutes),
    }
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message
    return cond


def container(
    *,
    name: str = "workspace",
    image: str = IMAGE,
    waiting: tuple[str, str | None] | None = None,
    running: float | None = None,
    terminated: dict[str, Any] | None = None,
    last: dict[str, Any] | None = None,
    restarts: int = 0,
    ready: bool = False,
) -> dict[str, Any]:
    """A containerStatuses entry; `waiting` is (reason, message or None)."""
    state: dict[str, Any] = {}
    if waiting is not None:
        state["waiting"] = {"reason": waiting[0]}
        if waiting[1] is not None:
            state["waiting"]["message"] = waiting[1]
    elif running is not None:
        state["running"] = {"startedAt": ts(running)}
    elif terminated is not None:
        state["terminated"] = terminated
    started = running is not None
    status: dict[str, Any] = {
        "name": name,
        "state": state,
        "lastState": {"terminated": last} if last else {},
        "ready": ready,
        "restartCount": restarts,
        "image": image,
        "imageID": "" if not started else f"{image.split(':')[0]}@sha256:{'ab' * 32}",
        "started": started,
    }
    if started:
        status["containerID"] = "containerd://" + "c0ffee" * 10 + "beef"
    return status


def terminated(
    code: int, reason: str, started: float, finished: float, *, signal: int | None = None
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "exitCode": code,
        "reason": reason,
        "startedAt": ts(started),
        "finishedAt": ts(finished),
        "containerID": "containerd://" + "dead" * 16,
    }
    if signal is not None:
        record["signal"] = signal
    return record


def pod(
    sts: dict[str, Any],
    *,
    created: float = 0.1,
    phase: str = "Pending",
    node: str | None = NODE,
    conditions: list[dict[str, Any]] | None = None,
    containers: list[dict[str, Any]] | None = None,
    init: list[dict[str, Any]] | None = None,
    init_specs: list[str] | None = None,
    reason: str | None = None,
    message: str | None = None,
    deleting: float | None = None,
    gates: list[str] | None = None,
    uid: str = POD_UID,
) -> dict[str, Any]:
    template = copy.deepcopy(sts["spec"]["template"])
    labels = dict(template["metadata"]["labels"])
    labels["controller-revision-hash"] = f"{NAME}-6b8f7c9d5f"
    labels["statefulset.kubernetes.io/pod-name"] = c.pod_name(NAME)
    metadata: dict[str, Any] = {
        "name": c.pod_name(NAME),
        "generateName": f"{NAME}-",
        "namespace": NS,
        "uid": uid,
        "resourceVersion": "48230",
        "creationTimestamp": ts(created),
        "labels": labels,
        "annotations": template["metadata"]["annotations"],
        "ownerReferences": [
            {
                "apiVersion": "apps/v1",
                "kind": "StatefulSet",
                "name": NAME,
                "uid": sts["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
    }
    if deleting is not None:
        metadata["deletionTimestamp"] = ts(deleting)
        metadata["deletionGracePeriodSeconds"] = 30
    spec = template["spec"]
    spec.update(
        {
            "hostname": c.pod_name(NAME),
            "subdomain": NAME,
            "restartPolicy": "Always",
            "dnsPolicy": "ClusterFirst",
            "schedulerName": "default-scheduler",
            "volumes": [
                {
                    "name": c.HOME_VOLUME,
                    "persistentVolumeClaim": {"claimName": c.home_claim_name(NAME)},
                }
            ],
        }
    )
    if init_specs:
        spec["initContainers"] = [{"name": n, "image": "busybox:1.36"} for n in init_specs]
    if node is not None:
        spec["nodeName"] = node
    if gates:
        spec["schedulingGates"] = [{"name": g} for g in gates]
    status: dict[str, Any] = {"phase": phase, "qosClass": "Guaranteed"}
    if conditions is not None:
        status["conditions"] = conditions
    if node is not None and phase != "Pending":
        status.update({"hostIP": "10.0.3.12", "podIP": "10.244.2.17", "startTime": ts(created)})
    elif node is not None:
        status.update({"hostIP": "10.0.3.12", "startTime": ts(created)})
    if containers is not None:
        status["containerStatuses"] = containers
    if init is not None:
        status["initContainerStatuses"] = init
    if reason:
        status["reason"] = reason
    if message:
        status["message"] = message
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": spec,
        "status": status,
    }


def scheduled_conditions(minutes: float, *, ready_since: float | None = None) -> list[dict]:
    """Conditions of a pod on a node whose containers are (or are not yet) ready."""
    ready = "True" if ready_since is not None else "False"
    when = ready_since if ready_since is not None else minutes
    reason = None if ready_since is not None else "ContainersNotReady"
    message = None if ready_since is not None else "containers with unready status: [workspace]"
    return [
        condition("PodReadyToStartContainers", "True", minutes),
        condition("Initialized", "True", minutes),
        condition("Ready", ready, when, reason, message),
        condition("ContainersReady", ready, when, reason, message),
        condition("PodScheduled", "True", minutes),
    ]


_EVENT_COUNTER = [0]


def event(
    kind: str,
    name: str,
    reason: str,
    message: str,
    *,
    first: float,
    last: float | None = None,
    count: int = 1,
    uid: str | None = None,
    warning: bool = False,
    component: str = "kubelet",
    host: str | None = NODE,
    new_style: bool = False,
    field_path: str | None = None,
) -> dict[str, Any]:
    """A core/v1 Event. `new_style` gives the shape events.k8s.io writers produce: eventTime
    and series set, firstTimestamp/lastTimestamp null."""
    _EVENT_COUNTER[0] += 1
    involved: dict[str, Any] = {
        "kind": kind,
        "namespace": NS,
        "name": name,
        "apiVersion": "apps/v1" if kind == "StatefulSet" else "v1",
        "resourceVersion": "48210",
    }
    if uid:
        involved["uid"] = uid
    if field_path:
        involved["fieldPath"] = field_path
    last = first if last is None else last
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{name}.18a{_EVENT_COUNTER[0]:013x}",
            "namespace": NS,
            "uid": f"e0e0e0e0-0000-4000-8000-{_EVENT_COUNTER[0]:012d}",
            "resourceVersion": str(50000 + _EVENT_COUNTER[0]),
            "creationTimestamp": ts(first),
        },
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "type": "Warning" if warning else "Normal",
        "source": {"component": component, **({"host": host} if component == "kubelet" else {})},
    }
    if new_style:
        body.update(
            {
                "firstTimestamp": None,
                "lastTimestamp": None,
                "eventTime": micro(first),
                "reportingComponent": component,
                "reportingInstance": f"{component}-{host or 'control-plane'}",
                "action": "Scheduling" if reason == "FailedScheduling" else reason,
                "source": {},
            }
        )
        if count > 1:
            body["series"] = {"count": count, "lastObservedTime": micro(last)}
    else:
        body.update(
            {
                "firstTimestamp": ts(first),
                "lastTimestamp": ts(last),
                "count": count,
                "eventTime": None,
                "reportingComponent": "",
                "reportingInstance": "",
            }
        )
    return body


def pod_event(reason: str, message: str, *, first: float, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("uid", POD_UID)
    kwargs.setdefault("field_path", "spec.containers{workspace}")
    return event("Pod", c.pod_name(NAME), reason, message, first=first, **kwargs)


def set_event(reason: str, message: str, *, first: float, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("uid", STS_UID)
    kwargs.setdefault("component", "statefulset-controller")
    kwargs.setdefault("host", None)
    return event("StatefulSet", NAME, reason, message, first=first, **kwargs)


def claim_event(reason: str, message: str, *, first: float, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("component", "persistentvolume-controller")
    kwargs.setdefault("host", None)
    return event(
        "PersistentVolumeClaim", c.home_claim_name(NAME), reason, message, first=first, **kwargs
    )
