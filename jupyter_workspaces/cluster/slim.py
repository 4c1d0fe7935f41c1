"""Keep only the fields of Kubernetes objects that records and statuses read, to save memory.

A cached object is pruned by a *shape*: a dict whose keys are the fields kept, each mapped to
`True` (keep the value whole) or to a nested shape (applied to a dict, or to every dict of a
list). Keys and short strings are interned, so ten thousand pods share one copy of "Ready".
"""

from __future__ import annotations

import sys
from typing import Any, Union

Shape = dict[str, Union[bool, "Shape"]]

_INTERN_MAX = 80

_METADATA: Shape = {
    "name": True,
    "namespace": True,
    "uid": True,
    "resourceVersion": True,
    "generation": True,
    "creationTimestamp": True,
    "deletionTimestamp": True,
    "labels": True,
    "annotations": True,
}

_CONTAINER: Shape = {
    "name": True,
    "image": True,
    "resources": True,
    "ports": {"name": True, "containerPort": True},
    "readinessProbe": True,
}

STATEFULSET: Shape = {
    "metadata": _METADATA,
    "spec": {
        "replicas": True,
        "template": {
            "spec": {
                "containers": _CONTAINER,
                "initContainers": {"name": True, "image": True},
                "nodeSelector": True,
            }
        },
        "volumeClaimTemplates": {
            "metadata": {"name": True},
            "spec": {"resources": True, "storageClassName": True},
        },
    },
    "status": True,
}

_CONTAINER_STATUS: Shape = {
    "name": True,
    "image": True,
    "ready": True,
    "started": True,
    "restartCount": True,
    "state": True,
    "lastState": True,
}

POD: Shape = {
    "metadata": {
        **_METADATA,
        "annotations": False,
        "ownerReferences": {"kind": True, "uid": True},
    },
    "spec": {
        "nodeName": True,
        "containers": {"name": True, "image": True, "resources": True},
        "initContainers": {"name": True, "image": True},
        "schedulingGates": True,
    },
    "status": {
        "phase": True,
        "reason": True,
        "message": True,
        "conditions": True,
        "containerStatuses": _CONTAINER_STATUS,
        "initContainerStatuses": _CONTAINER_STATUS,
        "startTime": True,
        "nominatedNodeName": True,
    },
}

EVENT: Shape = {
    "metadata": {"name": True, "namespace": True, "creationTimestamp": True, "uid": True},
    "involvedObject": {
        "kind": True,
        "name": True,
        "namespace": True,
        "uid": True,
        "fieldPath": True,
    },
    "reason": True,
    "message": True,
    "type": True,
    "count": True,
    "firstTimestamp": True,
    "lastTimestamp": True,
    "eventTime": True,
    "series": True,
    "source": True,
    "reportingComponent": True,
}

PVC: Shape = {
    "metadata": {"name": True, "namespace": True, "uid": True, "creationTimestamp": True},
    "spec": {"resources": True, "storageClassName": True},
    "status": {"phase": True, "capacity": True},
}

QUOTA: Shape = {
    "metadata": {"name": True, "namespace": True},
    "spec": {"hard": True},
    "status": True,
}

NAMESPACE: Shape = {"metadata": {"name": True, "labels": True, "deletionTimestamp": True}}


def intern_all(value: Any) -> Any:
    """Return `value` with every dict key and every short string interned."""
    if isinstance(value, str):
        return sys.intern(value) if len(value) <= _INTERN_MAX else value
    if isinstance(value, dict):
        return {sys.intern(k): intern_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [intern_all(v) for v in value]
    return value


def prune(obj: Any, shape: Shape) -> Any:
    """Return the part of `obj` that `shape` keeps (see the module docstring)."""
    if isinstance(obj, list):
        return [prune(item, shape) for item in obj]
    if not isinstance(obj, dict):
        return obj
    kept: dict[str, Any] = {}
    for key, rule in shape.items():
        value = obj.get(key)
        if rule is False or value is None:
            continue
        kept[sys.intern(key)] = prune(value, rule) if isinstance(rule, dict) else intern_all(value)
    return kept
