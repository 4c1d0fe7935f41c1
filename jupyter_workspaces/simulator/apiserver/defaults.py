"""Server-side defaults a real API server fills into new and updated objects."""

from __future__ import annotations

import ipaddress
import itertools
from typing import Any

from jupyter_workspaces.simulator.apiserver.resources import Obj, Resource

_service_ips = itertools.count(10)
_SERVICE_NET = ipaddress.ip_address("10.96.0.0")


def _image_pull_policy(image: str) -> str:
    tail = image.rsplit("/", 1)[-1]
    if "@" in tail:
        return "IfNotPresent"
    if ":" not in tail or tail.endswith(":latest"):
        return "Always"
    return "IfNotPresent"


def _container(container: dict[str, Any]) -> None:
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("imagePullPolicy", _image_pull_policy(str(container.get("image", ""))))
    resources = container.setdefault("resources", {})
    limits = resources.get("limits") or {}
    if limits:
        # Requests default to limits, which is what quota then counts.
        requests = resources.setdefault("requests", {})
        for name, value in limits.items():
            requests.setdefault(name, value)
    for port in container.get("ports") or []:
        port.setdefault("protocol", "TCP")


def pod_spec(spec: dict[str, Any]) -> None:
    """Defaults of a pod spec, also applied to a StatefulSet's template."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        if isinstance(container, dict):
            _container(container)


def qos_class(spec: dict[str, Any]) -> str:
    containers = spec.get("containers") or []
    requests = [c.get("resources", {}).get("requests") or {} for c in containers]
    limits = [c.get("resources", {}).get("limits") or {} for c in containers]
    if not any(requests) and not any(limits):
        return "BestEffort"
    guaranteed = all(
        all(name in lim and lim.get(name) == req.get(name) for name in ("cpu", "memory"))
        for req, lim in zip(requests, limits, strict=True)
    )
    return "Guaranteed" if guaranteed else "Burstable"


_DEFAULT_TOLERATIONS = [
    {"key": f"node.kubernetes.io/{taint}", "operator": "Exists", "effect": "NoExecute",
     "tolerationSeconds": 300}
    for taint in ("not-ready", "unreachable")
]  # fmt: skip


def _pod(obj: Obj, creating: bool) -> None:
    spec = obj.setdefault("spec", {})
    pod_spec(spec)
    if creating:
        # Admission plugins of a real server add these to every new pod.
        tolerations = spec.setdefault("tolerations", [])
        for toleration in _DEFAULT_TOLERATIONS:
            if not any(t.get("key") == toleration["key"] for t in tolerations):
                tolerations.append(dict(toleration))
        # Pods only: a real server leaves these out of a StatefulSet's template.
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("priority", 0)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    if creating:
        obj["status"] = {"phase": "Pending", "qosClass": qos_class(spec)}


def _statefulset(obj: Obj, creating: bool) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
    if spec["updateStrategy"].get("type") == "RollingUpdate":
        spec["updateStrategy"].setdefault("rollingUpdate", {"partition": 0})
    spec.setdefault("revisionHistoryLimit", 10)
    template = spec.setdefault("template", {})
    template.setdefault("metadata", {}).setdefault("creationTimestamp", None)
    pod_spec(template.setdefault("spec", {}))
    for claim in spec.get("volumeClaimTemplates") or []:
        claim.setdefault("apiVersion", "v1")
        claim.setdefault("kind", "PersistentVolumeClaim")
        claim.setdefault("metadata", {}).setdefault("creationTimestamp", None)
        claim.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
        claim.setdefault("status", {"phase": "Pending"})
    if creating:
        obj["status"] = {"replicas": 0}


def _service(obj: Obj, creating: bool) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if creating and "clusterIP" not in spec:
        spec["clusterIP"] = str(_SERVICE_NET + next(_service_ips))
    if spec.get("clusterIP"):
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    for port in spec.get("ports") or []:
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port.get("port"))
    if creating:
        obj["status"] = {"loadBalancer": {}}


CLAIM_PROTECTION = "kubernetes.io/pvc-protection"


def _claim(obj: Obj, creating: bool) -> None:
    obj.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
    if creating:
        obj["status"] = {"phase": "Pending"}
        # Added by a real server's admission: the claim outlives the pods that use it.
        finalizers = obj["metadata"].setdefault("finalizers", [])
        if CLAIM_PROTECTION not in finalizers:
            finalizers.append(CLAIM_PROTECTION)


def _namespace(obj: Obj, creating: bool) -> None:
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    if creating:
        obj["status"] = {"phase": "Active"}


def _quota(obj: Obj, creating: bool) -> None:
    if creating:
        obj["status"] = {}


_DEFAULTERS = {
    "pods": _pod,
    "statefulsets": _statefulset,
    "services": _service,
    "persistentvolumeclaims": _claim,
    "namespaces": _namespace,
    "resourcequotas": _quota,
}


def apply(resource: Resource, obj: Obj, *, creating: bool) -> None:
    """Fill in what a real server would; on create, the status starts as a real one does."""
    defaulter = _DEFAULTERS.get(resource.plural)
    if defaulter is not None:
        defaulter(obj, creating)
