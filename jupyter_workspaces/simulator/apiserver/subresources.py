"""Subresources: a StatefulSet's autoscaling/v1 `Scale`, and a pod's `binding` to a node."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jupyter_workspaces.simulator.apiserver import patch as patching
from jupyter_workspaces.simulator.apiserver.failures import FieldError, conflict, invalid
from jupyter_workspaces.simulator.apiserver.resources import CATALOGUE, Obj, Resource
from jupyter_workspaces.simulator.apiserver.selectors import format_selector, selector_from_spec

if TYPE_CHECKING:
    from jupyter_workspaces.simulator.apiserver.store import Store

STATEFULSETS = CATALOGUE.by_plural["statefulsets"]
PODS = CATALOGUE.by_plural["pods"]
# How errors about a pod's binding name the resource: `pods/binding`.
POD_BINDING = Resource("", "v1", "pods/binding", "binding", "Binding", True)
# How a refused scale names what it refused: `Scale.autoscaling`, not the StatefulSet.
SCALE = Resource("autoscaling", "v1", "statefulsets/scale", "scale", "Scale", True)


def scale_of(statefulset: Obj) -> Obj:
    meta = statefulset["metadata"]
    replicas = statefulset["spec"].get("replicas", 1)
    selector = selector_from_spec((statefulset.get("spec") or {}).get("selector"))
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            key: meta[key]
            for key in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if key in meta
        },
        # autoscaling/v1 leaves out a zero replica count.
        "spec": {"replicas": replicas} if replicas else {},
        "status": {
            "replicas": (statefulset.get("status") or {}).get("replicas", 0),
            "selector": format_selector(selector),
        },
    }


def get_scale(store: Store, name: str, namespace: str) -> Obj:
    return scale_of(store.get(STATEFULSETS, name, namespace))


def update_scale(
    store: Store, name: str, namespace: str, body: Any, content_type: str | None
) -> Obj:
    """Replace (content_type None) or patch the Scale; only spec.replicas is taken."""
    with store.tables.lock:
        current = store.get(STATEFULSETS, name, namespace)
        scale = scale_of(current)
        if content_type is None:
            wanted = body
        else:
            wanted = patching.apply(scale, body, content_type, STATEFULSETS)
        rv = (wanted.get("metadata") or {}).get("resourceVersion")
        if rv and rv != current["metadata"]["resourceVersion"]:
            raise conflict(STATEFULSETS, name)
        replicas = (wanted.get("spec") or {}).get("replicas", 0)
        if not isinstance(replicas, int) or replicas < 0:
            raise invalid(
                SCALE,
                name,
                [
                    FieldError(
                        "spec.replicas", "Invalid", "must be greater than or equal to 0", replicas
                    )
                ],
            )
        current["spec"]["replicas"] = replicas
        updated = store.replace(
            STATEFULSETS, store.get(STATEFULSETS, name, namespace), current, None
        )
        return scale_of(updated)


def bind(store: Store, name: str, namespace: str, binding: Obj) -> Obj:
    """Assign a pod to a node, as the scheduler's binding does; 409 if already assigned."""
    target = (binding.get("target") or {}).get("name") or ""
    if not target:
        raise invalid(
            CATALOGUE.by_plural["bindings"], name, [FieldError("target.name", "Required")]
        )
    with store.tables.lock:
        pod = store.get(PODS, name, namespace)
        assigned = (pod.get("spec") or {}).get("nodeName")
        if assigned:
            raise conflict(
                POD_BINDING,
                name,
                f'pod {name} is already assigned to node "{assigned}"',
            )
        if pod["metadata"].get("deletionTimestamp"):
            raise conflict(
                PODS, name, f"pod {name} is being deleted, cannot be assigned to a host"
            )
        pod["spec"]["nodeName"] = target
        conditions = [
            c
            for c in (pod.get("status") or {}).get("conditions") or []
            if c.get("type") != "PodScheduled"
        ]
        conditions.append(
            {
                "type": "PodScheduled",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": store.now(),
            }
        )
        pod.setdefault("status", {})["conditions"] = conditions
        store.tables.write(PODS, pod, "MODIFIED")
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
