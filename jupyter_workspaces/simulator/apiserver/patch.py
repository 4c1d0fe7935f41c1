"""The three patch formats: strategic merge (lists merged by key), JSON merge and JSON patch."""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch

from jupyter_workspaces.simulator.apiserver.failures import (
    ApiError,
    bad_request,
    unsupported_media_type,
)
from jupyter_workspaces.simulator.apiserver.resources import Obj, Resource

STRATEGIC = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"

# Lists merged element by element, by this key, rather than replaced whole.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "imagePullSecrets": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "conditions": "type",
    "ownerReferences": "uid",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
}
# Lists of plain values merged as sets.
MERGE_SETS = ("finalizers",)
_DIRECTIVE = "$patch"
_DELETE_FROM = "$deleteFromPrimitiveList/"
_ORDER = "$setElementOrder/"
_RETAIN = "$retainKeys"


def apply(
    current: Obj, body: Any, content_type: str, resource: Resource, *, copy_first: bool = True
) -> Obj:
    """The patched copy of `current` (patched in place with `copy_first=False`); a malformed
    patch gets 400, a failing one 422."""
    if copy_first:
        current = copy.deepcopy(current)
    media = content_type.split(";")[0].strip()
    if media == JSON_PATCH:
        return _json_patch(current, body)
    if not isinstance(body, dict):
        raise bad_request(f"a {media} patch must be a JSON object, got {type(body).__name__}")
    if media == MERGE:
        merged: Obj = _merge(current, body)
        return merged
    if media == STRATEGIC:
        patched: Obj = strategic_merge(current, body)
        return patched
    raise unsupported_media_type(media)


def _json_patch(current: Obj, body: Any) -> Obj:
    if not isinstance(body, list):
        raise bad_request("a JSON patch must be a list of operations")
    try:
        patched: Obj = jsonpatch.apply_patch(current, body)
    except jsonpatch.InvalidJsonPatch as error:
        raise bad_request(str(error)) from error
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as error:
        # A real server does not say which operation failed.
        raise ApiError(
            422, "Invalid", "the server rejected our request due to an error in our request", {}
        ) from error
    return patched


def _merge(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge, null deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = _merge(target.get(key), value)
    return target


def _list_key(field: str, items: list[Any]) -> str | None:
    if field == "ports":
        sample = next((item for item in items if isinstance(item, dict)), {})
        return "containerPort" if "containerPort" in sample else "port"
    return MERGE_KEYS.get(field)


def strategic_merge(target: Any, patch: dict[str, Any]) -> Any:
    """Merge `patch` into `target` the way Kubernetes' strategic merge patch does."""
    directive = patch.get(_DIRECTIVE)
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != _DIRECTIVE}
    if directive == "delete":
        return None
    if directive is not None:
        raise bad_request(f"unknown patch directive {directive!r}: use replace or delete")
    if not isinstance(target, dict):
        target = {}
    retain = patch.get(_RETAIN)
    for key, value in patch.items():
        if key in (_DIRECTIVE, _RETAIN) or key.startswith(_ORDER):
            continue
        if key.startswith(_DELETE_FROM):
            field = key[len(_DELETE_FROM) :]
            target[field] = [item for item in target.get(field) or [] if item not in value]
            continue
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            merged = strategic_merge(target.get(key), value)
            if merged is None:
                target.pop(key, None)
            else:
                target[key] = merged
        elif isinstance(value, list):
            target[key] = _merge_list(key, target.get(key), value)
        else:
            target[key] = copy.deepcopy(value)
    if isinstance(retain, list):
        for key in list(target):
            if key not in retain:
                del target[key]
    return target


def _merge_list(field: str, current: Any, patch: list[Any]) -> list[Any]:
    current = current if isinstance(current, list) else []
    if any(isinstance(item, dict) and item.get(_DIRECTIVE) == "replace" for item in patch):
        return [
            copy.deepcopy(item)
            for item in patch
            if not (isinstance(item, dict) and item.get(_DIRECTIVE) == "replace")
        ]
    if field in MERGE_SETS:
        # The patch's values come first, then the ones it did not mention, as on a real server.
        merged = list(dict.fromkeys(patch))
        merged.extend(item for item in current if item not in merged)
        return merged
    key = _list_key(field, patch + current)
    if key is None:
        return copy.deepcopy(patch)
    merged = [copy.deepcopy(item) for item in current]
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise bad_request(f"an element of {field} lacks its merge key {key!r}: {item!r}")
        index = next(
            (
                i
                for i, old in enumerate(merged)
                if isinstance(old, dict) and old.get(key) == item[key]
            ),
            None,
        )
        if item.get(_DIRECTIVE) == "delete":
            if index is not None:
                del merged[index]
        elif index is None:
            merged.append(strategic_merge({}, item))
        else:
            merged[index] = strategic_merge(merged[index], item)
    return merged
