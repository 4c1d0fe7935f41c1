"""Validation of names and specs: what a real server refuses with 422 Invalid."""

from __future__ import annotations

import re
from typing import Any

from jupyter_workspaces.simulator.apiserver.failures import FieldError, invalid
from jupyter_workspaces.simulator.apiserver.quantity import QuantityError, parse_quantity
from jupyter_workspaces.simulator.apiserver.resources import Obj, Resource
from jupyter_workspaces.simulator.apiserver.selectors import selector_from_spec

_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = rf"{_LABEL}(\.{_LABEL})*"
_DNS1035 = "[a-z]([-a-z0-9]*[a-z0-9])?"

_SUBDOMAIN_TEXT = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    f"for validation is '{_SUBDOMAIN}')"
)
_LABEL_TEXT = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    f"used for validation is '{_LABEL}')"
)
_DNS1035_TEXT = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    f"'abc-123', regex used for validation is '{_DNS1035}')"
)

# (pattern, explanation, longest allowed) of each resource's names.
_NAME_RULES = {
    "subdomain": (re.compile(f"^{_SUBDOMAIN}$"), _SUBDOMAIN_TEXT, 253),
    "label": (re.compile(f"^{_LABEL}$"), _LABEL_TEXT, 63),
    "dns1035": (re.compile(f"^{_DNS1035}$"), _DNS1035_TEXT, 63),
}
_NAME_KIND = {"namespaces": "label", "services": "dns1035"}

_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def name_errors(resource: Resource, name: str, path: str = "metadata.name") -> list[FieldError]:
    pattern, text, longest = _NAME_RULES[_NAME_KIND.get(resource.plural, "subdomain")]
    errors = []
    if len(name) > longest:
        errors.append(
            FieldError(path, "Invalid", f"must be no more than {longest} characters", name)
        )
    if not pattern.match(name):
        errors.append(FieldError(path, "Invalid", text, name))
    return errors


def _shape_errors(meta: dict[str, Any]) -> list[FieldError]:
    errors = []
    for key in ("labels", "annotations"):
        value = meta.get(key)
        if value is not None and not (
            isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
        ):
            errors.append(
                FieldError(
                    f"metadata.{key}",
                    "Invalid",
                    "must map names to strings",
                    value if isinstance(value, str) else str(value),
                )
            )
    finalizers = meta.get("finalizers")
    if finalizers is not None and not (
        isinstance(finalizers, list) and all(isinstance(f, str) for f in finalizers)
    ):
        errors.append(
            FieldError(
                "metadata.finalizers", "Invalid", "must be a list of names", str(finalizers)
            )
        )
    return errors


def _metadata_errors(resource: Resource, obj: Obj) -> list[FieldError]:
    meta = obj.get("metadata") or {}
    shape = _shape_errors(meta)
    if shape:
        return shape
    name = meta.get("name") or ""
    if not name:
        return [FieldError("metadata.name", "Required", "name or generateName is required")]
    errors = name_errors(resource, name)
    for key, value in (meta.get("labels") or {}).items():
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
            errors.append(
                FieldError(
                    "metadata.labels",
                    "Invalid",
                    "a valid label must be an empty string or consist of alphanumeric "
                    "characters, '-', '_' or '.', and must start and end with an alphanumeric "
                    "character",
                    value,
                )
            )
        if not key or len(key.rsplit("/", 1)[-1]) > 63:
            errors.append(
                FieldError(
                    "metadata.labels",
                    "Invalid",
                    "name part must be no more than 63 characters",
                    key,
                )
            )
    return errors


def _quantity_errors(resources: dict[str, Any], path: str) -> list[FieldError]:
    errors = []
    for part in ("requests", "limits"):
        for name, value in (resources.get(part) or {}).items():
            try:
                parse_quantity(str(value))
            except QuantityError:
                errors.append(
                    FieldError(
                        f"{path}.{part}[{name}]", "Invalid", "must be a valid quantity", value
                    )
                )
    return errors


def pod_spec_errors(spec: dict[str, Any], path: str) -> list[FieldError]:
    containers = spec.get("containers") or []
    if not containers:
        return [FieldError(f"{path}.containers", "Required")]
    errors: list[FieldError] = []
    seen: set[str] = set()
    for index, container in enumerate(containers):
        where = f"{path}.containers[{index}]"
        name = container.get("name") or ""
        if not name:
            errors.append(FieldError(f"{where}.name", "Required"))
        elif name in seen:
            errors.append(FieldError(f"{where}.name", "Duplicate", "", name))
        else:
            errors.extend(_label_name_errors(name, f"{where}.name"))
        seen.add(name)
        if not container.get("image"):
            errors.append(FieldError(f"{where}.image", "Required"))
        errors.extend(_quantity_errors(container.get("resources") or {}, f"{where}.resources"))
        for number, port in enumerate(container.get("ports") or []):
            value = port.get("containerPort")
            if not isinstance(value, int) or not 0 < value < 65536:
                errors.append(
                    FieldError(
                        f"{where}.ports[{number}].containerPort",
                        "Invalid",
                        "must be between 1 and 65535, inclusive",
                        value,
                    )
                )
    return errors


def _label_name_errors(name: str, path: str) -> list[FieldError]:
    pattern, text, _ = _NAME_RULES["label"]
    return [] if pattern.match(name) else [FieldError(path, "Invalid", text, name)]


def _statefulset_errors(obj: Obj) -> list[FieldError]:
    spec = obj.get("spec") or {}
    errors: list[FieldError] = []
    replicas = spec.get("replicas", 1)
    if not isinstance(replicas, int) or replicas < 0:
        errors.append(
            FieldError("spec.replicas", "Invalid", "must be greater than or equal to 0", replicas)
        )
    selector = spec.get("selector")
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        errors.append(
            FieldError(
                "spec.selector",
                "Invalid",
                "empty selector is invalid for statefulset",
                selector or {},
            )
        )
    elif not selector_from_spec(selector).matches(labels):
        errors.append(
            FieldError(
                "spec.template.metadata.labels",
                "Invalid",
                "`selector` does not match template `labels`",
                labels,
            )
        )
    errors.extend(pod_spec_errors(template.get("spec") or {}, "spec.template.spec"))
    return errors


def _service_errors(obj: Obj) -> list[FieldError]:
    spec = obj.get("spec") or {}
    errors = []
    for index, port in enumerate(spec.get("ports") or []):
        value = port.get("port")
        if not isinstance(value, int) or not 0 < value < 65536:
            errors.append(
                FieldError(
                    f"spec.ports[{index}].port",
                    "Invalid",
                    "must be between 1 and 65535, inclusive",
                    value,
                )
            )
    return errors


def _claim_errors(obj: Obj) -> list[FieldError]:
    spec = obj.get("spec") or {}
    errors = []
    if not spec.get("accessModes"):
        errors.append(
            FieldError("spec.accessModes", "Required", "at least 1 access mode is required")
        )
    storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    if storage is None:
        errors.append(FieldError("spec.resources[storage]", "Required"))
    errors.extend(_quantity_errors(spec.get("resources") or {}, "spec.resources"))
    return errors


def _pod_errors(obj: Obj) -> list[FieldError]:
    return pod_spec_errors(obj.get("spec") or {}, "spec")


def _quota_errors(obj: Obj) -> list[FieldError]:
    errors = []
    for name, value in ((obj.get("spec") or {}).get("hard") or {}).items():
        try:
            parse_quantity(str(value))
        except QuantityError:
            errors.append(
                FieldError(f"spec.hard[{name}]", "Invalid", "must be a valid quantity", value)
            )
    return errors


_SPEC_CHECKS = {
    "statefulsets": _statefulset_errors,
    "services": _service_errors,
    "persistentvolumeclaims": _claim_errors,
    "pods": _pod_errors,
    "resourcequotas": _quota_errors,
}


_POD_UPDATE = (
    "pod updates may not change fields other than `spec.containers[*].image`, "
    "`spec.initContainers[*].image`, `spec.activeDeadlineSeconds` or `spec.tolerations` (only "
    "additions to existing tolerations)"
)
_STATEFULSET_UPDATE = (
    "updates to statefulset spec for fields other than 'replicas', 'template', and "
    "'updateStrategy' are forbidden"
)


def _pod_spec_as_fixed(spec: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """`spec` with what an update may change taken from `old`, to compare the rest."""
    fixed = dict(spec)
    for part in ("containers", "initContainers"):
        olds = old.get(part) or []
        news = [dict(c) for c in spec.get(part) or []]
        for new, before in zip(news, olds, strict=False):
            new["image"] = before.get("image")
        if news:
            fixed[part] = news
    fixed["activeDeadlineSeconds"] = old.get("activeDeadlineSeconds")
    tolerations = spec.get("tolerations") or []
    before = old.get("tolerations") or []
    if tolerations[: len(before)] == before:
        fixed["tolerations"] = old.get("tolerations")
    return {k: v for k, v in fixed.items() if v is not None}


def validate_update(resource: Resource, old: Obj, new: Obj) -> None:
    """Refuse changes a real server forbids after creation (pod specs, most of a
    StatefulSet's spec)."""
    old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
    name = old["metadata"]["name"]
    if resource.plural == "pods":
        fixed = _pod_spec_as_fixed(new_spec, old_spec)
        if fixed != {k: v for k, v in old_spec.items() if v is not None}:
            changed = sorted(
                k for k in set(fixed) | set(old_spec) if fixed.get(k) != old_spec.get(k)
            )
            detail = f"{_POD_UPDATE}\n  (changed: {', '.join('spec.' + k for k in changed)})"
            raise invalid(resource, name, [FieldError("spec", "Forbidden", detail)])
    elif resource.plural == "statefulsets":
        mutable = ("replicas", "template", "updateStrategy")
        if {k: v for k, v in new_spec.items() if k not in mutable} != {
            k: v for k, v in old_spec.items() if k not in mutable
        }:
            raise invalid(resource, name, [FieldError("spec", "Forbidden", _STATEFULSET_UPDATE)])


def validate(resource: Resource, obj: Obj) -> None:
    """Raise a 422 listing every invalid field of `obj`, as a real server does."""
    errors = _metadata_errors(resource, obj)
    check = _SPEC_CHECKS.get(resource.plural)
    if check is not None:
        errors.extend(check(obj))
    if errors:
        raise invalid(resource, (obj.get("metadata") or {}).get("name") or "", errors)
