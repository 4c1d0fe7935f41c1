"""The resource types the simulated API server serves, and what each one allows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]


@dataclass(frozen=True)
class Resource:
    """One served resource type: where it lives on the wire and how it behaves."""

    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    subresources: tuple[str, ...] = ()
    short_names: tuple[str, ...] = ()
    # Field selector labels beyond metadata.name and metadata.namespace.
    field_labels: tuple[str, ...] = ()
    # Core types reject unknown field labels with their own wording; others use the default.
    core_field_wording: bool = False
    # Whether metadata.generation is kept and bumped on spec changes.
    tracks_generation: bool = False
    # Whether an update of the main resource keeps the stored status (it has a status half).
    has_status: bool = True
    # A DELETE answers with the object (pods) rather than a Status of success.
    returns_deleted_object: bool = False
    # A DELETE always answers with a Status, even while finalizers hold the object (services).
    delete_answers_status: bool = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """The name used in error messages: `statefulsets.apps`, `pods`."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified_kind(self) -> str:
        """The kind as error messages for invalid objects spell it: `StatefulSet.apps`."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def prefix(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"


def _text(obj: Obj, *path: str) -> str:
    value: Any = obj
    for part in path:
        if not isinstance(value, dict):
            return ""
        value = value.get(part)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _pod_fields(obj: Obj) -> dict[str, str]:
    return {
        "spec.nodeName": _text(obj, "spec", "nodeName"),
        "spec.restartPolicy": _text(obj, "spec", "restartPolicy"),
        "spec.schedulerName": _text(obj, "spec", "schedulerName"),
        "spec.serviceAccountName": _text(obj, "spec", "serviceAccountName"),
        "status.phase": _text(obj, "status", "phase"),
        "status.podIP": _text(obj, "status", "podIP"),
        "status.nominatedNodeName": _text(obj, "status", "nominatedNodeName"),
    }


def _event_fields(obj: Obj) -> dict[str, str]:
    fields = {
        f"involvedObject.{key}": _text(obj, "involvedObject", key)
        for key in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion")
    }
    fields["involvedObject.fieldPath"] = _text(obj, "involvedObject", "fieldPath")
    fields["reason"] = _text(obj, "reason")
    fields["source"] = _text(obj, "source", "component") or _text(obj, "reportingComponent")
    fields["type"] = _text(obj, "type")
    return fields


_EXTRA_FIELDS: dict[str, Callable[[Obj], dict[str, str]]] = {
    "pods": _pod_fields,
    "events": _event_fields,
    "namespaces": lambda obj: {"status.phase": _text(obj, "status", "phase")},
    "nodes": lambda obj: {"spec.unschedulable": _text(obj, "spec", "unschedulable") or "false"},
}


def field_values(resource: Resource, obj: Obj) -> dict[str, str]:
    """The values a field selector can test on `obj`."""
    meta = obj.get("metadata", {})
    values = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
    }
    extra = _EXTRA_FIELDS.get(resource.plural)
    if extra is not None:
        values.update(extra(obj))
    return values


@dataclass(frozen=True)
class Catalogue:
    """Every served resource, found by plural name, kind or path."""

    resources: tuple[Resource, ...]
    by_plural: dict[str, Resource] = field(default_factory=dict)
    by_kind: dict[str, Resource] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for resource in self.resources:
            self.by_plural[resource.plural] = resource
            self.by_kind[resource.kind] = resource

    def find(self, group: str, plural: str) -> Resource | None:
        resource = self.by_plural.get(plural)
        if resource is None or resource.group != group:
            return None
        return resource

    def resolve(self, name: str) -> Resource:
        """A resource from a plural name or a kind, for callers inside the process."""
        resource = self.by_plural.get(name) or self.by_kind.get(name)
        if resource is None:
            allowed = ", ".join(sorted(self.by_plural))
            raise KeyError(f"unknown resource {name!r}: use one of {allowed}")
        return resource


_POD_FIELDS = tuple(_pod_fields({}))
_EVENT_FIELDS = tuple(_event_fields({}))

CATALOGUE = Catalogue(
    (
        Resource("", "v1", "namespaces", "namespace", "Namespace", False, ("status", "finalize"),
                 ("ns",), ("status.phase",), core_field_wording=True),
        Resource("", "v1", "nodes", "node", "Node", False, ("status",), ("no",),
                 ("spec.unschedulable",), core_field_wording=True),
        Resource("", "v1", "pods", "pod", "Pod", True, ("status", "binding"), ("po",),
                 _POD_FIELDS, core_field_wording=True, returns_deleted_object=True),
        Resource("", "v1", "bindings", "binding", "Binding", True, has_status=False),
        Resource("", "v1", "services", "service", "Service", True, ("status",), ("svc",),
                 delete_answers_status=True),
        Resource("", "v1", "persistentvolumeclaims", "persistentvolumeclaim",
                 "PersistentVolumeClaim", True, ("status",), ("pvc",)),
        Resource("", "v1", "events", "event", "Event", True, (), ("ev",), _EVENT_FIELDS,
                 core_field_wording=True, has_status=False),
        Resource("", "v1", "resourcequotas", "resourcequota", "ResourceQuota", True,
                 ("status",), ("quota",)),
        Resource("apps", "v1", "statefulsets", "statefulset", "StatefulSet", True,
                 ("status", "scale"), ("sts",), tracks_generation=True),
    )
)  # fmt: skip
