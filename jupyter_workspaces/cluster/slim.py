"""Keep only the fields of Kubernetes objects that records and statuses read, to save memory.

A cached object is pruned by a *shape*: a dict whose keys are the fields kept, each mapped to
`True` (keep the value whole) or to a nested shape (applied to a dict, or to every dict of a
list). The store then packs what is kept as compact JSON.
"""

from __future__ import annotations

from typing import Any, Union

from jupyter_workspaces import constants as c

Shape = dict[str, Union[bool, "Shape"]]

_METADATA: Shape = {
    "name": True,
    "namespace": True,
    "uid": True,
    "resourceVersion": True,
    "generation": True,
    "creationTimestamp": True,
    "deletionTimestamp": True,
    # Only our own labels and annotations: others (kubectl's last-applied-configuration, say)
    # can be kilobytes each and nothing here reads them.
    "labels": {c.MANAGED_BY_LABEL: True, c.WORKSPACE_LABEL: True, c.OWNER_LABEL: True},
    "annotations": {
        key: True
        for key in (
            c.OWNER_ANNOTATION,
            c.TOOLS_ANNOTATION,
            c.DISPLAY_NAME_ANNOTATION,
            c.STOPPED_AT_ANNOTATION,
            c.STOPPED_BY_ANNOTATION,
            c.STOP_REASON_ANNOTATION,
            c.ACTIVATED_AT_ANNOTATION,
        )
    },
}

_CONTAINER: Shape = {
    "name": True,
    "image": True,
    "resources": True,
    "readinessProbe": {"tcpSocket": {"port": True}, "httpGet": {"port": True, "path": True}},
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
    "status": {"replicas": True, "readyReplicas": True, "observedGeneration": True},
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
        "containers": _CONTAINER,
        "initContainers": {"name": True, "image": True},
        "schedulingGates": True,
    },
    "status": {
        "phase": True,
        "reason": True,
        "message": True,
        "conditions": {
            "type": True,
            "status": True,
            "reason": True,
            "message": True,
            "lastTransitionTime": True,
        },
        "containerStatuses": _CONTAINER_STATUS,
        "initContainerStatuses": _CONTAINER_STATUS,
        "startTime": True,
        "nominatedNodeName": True,
    },
}

EVENT: Shape = {
    "metadata": {"name": True, "namespace": True, "creationTimestamp": True},
    "involvedObject": {"kind": True, "name": True, "namespace": True, "uid": True},
    "reason": True,
    "message": True,
    "type": True,
    "count": True,
    "firstTimestamp": True,
    "lastTimestamp": True,
    "eventTime": True,
    "series": True,
}

PVC: Shape = {
    "metadata": {"name": True, "namespace": True, "uid": True, "resourceVersion": True},
    "status": {"phase": True, "capacity": {"storage": True}},
}

QUOTA: Shape = {
    "metadata": {"name": True, "namespace": True},
    "spec": {"hard": True},
    "status": True,
}

NAMESPACE: Shape = {"metadata": {"name": True, "labels": True, "deletionTimestamp": True}}


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
        kept[key] = prune(value, rule) if isinstance(rule, dict) else value
    return kept
