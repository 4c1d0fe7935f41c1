"""The object store: create, read, list, update, patch and delete, as a real API server does.

The HTTP handlers call it, and so may code in the same process (scenarios seed thousands of
objects directly with `seed`, which skips quota admission but keeps every other rule).
Resources are named by plural (`"statefulsets"`) or kind (`"StatefulSet"`).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import itertools
import json
import secrets
import string
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

from jupyter_workspaces.simulator.apiserver import defaults, gc, patch, quota
from jupyter_workspaces.simulator.apiserver.failures import (
    already_exists,
    bad_request,
    conflict,
    forbidden,
    gone,
    not_found,
)
from jupyter_workspaces.simulator.apiserver.resources import CATALOGUE, Obj, Resource
from jupyter_workspaces.simulator.apiserver.selectors import (
    FieldSelector,
    LabelSelector,
    parse_field_selector,
    parse_label_selector,
)
from jupyter_workspaces.simulator.apiserver.tables import Tables, dump
from jupyter_workspaces.simulator.apiserver.validation import validate, validate_update

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
_NAMES = string.ascii_lowercase + string.digits
_IMMUTABLE_META = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds")


@functools.lru_cache(maxsize=64)
def _timestamp(whole_seconds: int) -> str:
    return datetime.fromtimestamp(whole_seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def timestamp(seconds: float) -> str:
    """RFC 3339 in whole seconds, as Kubernetes writes metadata times."""
    return _timestamp(int(seconds))


class Store:
    """Every object the simulated cluster holds, with the rules a real server applies."""

    def __init__(self, clock: Callable[[], float] = time.time, history_size: int = 2000) -> None:
        self.tables = Tables(history_size)
        self.clock = clock
        self.quota = quota.QuotaKeeper(self)
        self.collector = gc.Collector(self)
        self.tables.listeners.append(self.quota.on_change)
        self.tables.listeners.append(self.collector.on_change)
        for name in SYSTEM_NAMESPACES:
            self.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})

    # Reading

    def resource(self, name: str | Resource) -> Resource:
        return name if isinstance(name, Resource) else CATALOGUE.resolve(name)

    def now(self) -> str:
        return timestamp(self.clock())

    def get(self, resource: str | Resource, name: str, namespace: str | None = None) -> Obj:
        """The stored object, or a 404 `ApiError`."""
        found = self.resource(resource)
        entry = self.tables.table(found).get(namespace or "", name)
        if entry is None:
            raise not_found(found, name)
        return entry.load()

    def find(
        self, resource: str | Resource, name: str, namespace: str | None = None
    ) -> Obj | None:
        found = self.resource(resource)
        entry = self.tables.table(found).get(namespace or "", name)
        return entry.load() if entry is not None else None

    def list(
        self,
        resource: str | Resource,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[Obj]:
        found = self.resource(resource)
        labels = parse_label_selector(label_selector)
        fields = parse_field_selector(field_selector, found)
        with self.tables.lock:
            return [
                entry.load()
                for _, _, entry in self.tables.table(found).entries(namespace)
                if labels.matches(entry.labels) and fields.matches(entry.fields)
            ]

    def list_bytes(
        self,
        resource: Resource,
        namespace: str | None,
        labels: LabelSelector,
        fields: FieldSelector,
        limit: int = 0,
        token: str | None = None,
    ) -> bytes:
        """A whole list answer, joined from the stored bytes; `limit`/`continue` page it."""
        start = _decode_continue(token) if token else None
        with self.tables.lock:
            rv = start[0] if start else self.tables.rv
            items: list[bytes] = []
            remaining, last = 0, None
            after = start[1] if start else None
            for ns, name, entry in self.tables.table(resource).entries(namespace, after):
                if not (labels.matches(entry.labels) and fields.matches(entry.fields)):
                    continue
                if limit and len(items) >= limit:
                    remaining += 1
                    continue
                items.append(entry.raw)
                last = (ns, name)
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        if remaining and last is not None:
            meta["continue"] = _encode_continue(rv, last)
            meta["remainingItemCount"] = remaining
        head = {"kind": resource.list_kind, "apiVersion": resource.api_version, "metadata": meta}
        return dump(head)[:-1] + b',"items":[' + b",".join(items) + b"]}"

    # Writing

    def create(
        self, obj: Obj, *, admit: bool = True, keep_status: bool = False, copy: bool = True
    ) -> Obj:
        """Create `obj` as a POST would; `admit=False` skips quota admission."""
        resource = self._resource_of(obj)
        if copy:
            obj = json.loads(dump(obj))
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            suffix = "".join(secrets.choice(_NAMES) for _ in range(5))
            meta["name"] = meta["generateName"] + suffix
        with _decoding(resource):
            validate(resource, obj)
        namespace = self._check_namespace(resource, meta)
        with self.tables.lock:
            if self.tables.table(resource).get(namespace, meta["name"]) is not None:
                raise already_exists(resource, meta["name"])
            status = obj.get("status")
            with _decoding(resource):
                defaults.apply(resource, obj, creating=True)
            if keep_status and status is not None:
                obj["status"] = status
            for key in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds"):
                meta.pop(key, None)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = self.now()
            if resource.tracks_generation:
                meta["generation"] = 1
            if admit and resource.plural in quota.TRACKED:
                self.quota.admit(resource, obj)
            self.tables.write(resource, obj, "ADDED")
            return obj

    def seed(self, objs: Iterable[Obj]) -> int:
        """Create many objects fast, keeping any status given (no quota admission).

        The dicts given become the stored objects' drafts (they are changed, not copied). The
        lock is let go every few hundred objects so that requests are still served meanwhile;
        quota status catches up at the end.
        """
        count = 0
        with self.tables.lock:
            self.quota.defer()
        try:
            iterator = iter(objs)
            while chunk := list(itertools.islice(iterator, 500)):
                with self.tables.lock:
                    for obj in chunk:
                        self.create(obj, admit=False, keep_status=True, copy=False)
                count += len(chunk)
        finally:
            with self.tables.lock:
                self.quota.flush()
        return count

    def update(self, obj: Obj, *, subresource: str | None = None) -> Obj:
        """Replace an object as a PUT would; a stale resourceVersion gets 409 Conflict."""
        resource = self._resource_of(obj)
        meta = obj.get("metadata") or {}
        with self.tables.lock:
            current = self.get(resource, meta.get("name", ""), meta.get("namespace"))
            wanted = meta.get("resourceVersion")
            if wanted and wanted != current["metadata"]["resourceVersion"]:
                raise conflict(resource, meta["name"])
            return self.replace(resource, current, json.loads(dump(obj)), subresource)

    def patch(
        self,
        resource: str | Resource,
        name: str,
        namespace: str | None,
        body: Any,
        content_type: str = patch.STRATEGIC,
        *,
        subresource: str | None = None,
    ) -> Obj:
        """Apply a strategic-merge, merge or JSON patch to the stored object."""
        found = self.resource(resource)
        with self.tables.lock:
            current = self.get(found, name, namespace)
            # A second fresh copy to patch: decoding is cheaper than a deep copy.
            working = self.get(found, name, namespace)
            patched = patch.apply(working, body, content_type, found, copy_first=False)
            wanted = patched.get("metadata", {}).get("resourceVersion")
            if wanted and wanted != current["metadata"]["resourceVersion"]:
                raise conflict(found, name)
            return self.replace(found, current, patched, subresource)

    def replace(self, resource: Resource, current: Obj, new: Obj, subresource: str | None) -> Obj:
        """Write `new` over `current`, keeping what the request may not change."""
        meta, old_meta = new.setdefault("metadata", {}), current["metadata"]
        if meta.get("name", old_meta["name"]) != old_meta["name"]:
            raise bad_request(
                f"the name of the object ({meta.get('name')}) does not match the name on the "
                f"URL ({old_meta['name']})"
            )
        meta["name"] = old_meta["name"]
        if resource.namespaced:
            meta["namespace"] = old_meta["namespace"]
        for key in _IMMUTABLE_META:
            if key in old_meta:
                meta[key] = old_meta[key]
            else:
                meta.pop(key, None)
        new["apiVersion"], new["kind"] = resource.api_version, resource.kind
        if subresource == "status":
            for key in list(new):
                if key not in ("apiVersion", "kind", "metadata", "status"):
                    del new[key]
            for key, value in current.items():
                if key not in ("apiVersion", "kind", "metadata", "status"):
                    new[key] = value
        elif resource.has_status:
            if "status" in current:
                new["status"] = current["status"]
            else:
                new.pop("status", None)
        with _decoding(resource):
            defaults.apply(resource, new, creating=False)
            validate(resource, new)
            if subresource is None:
                validate_update(resource, current, new)
        if resource.tracks_generation:
            generation = old_meta.get("generation", 1)
            changed = new.get("spec") != current.get("spec")
            meta["generation"] = generation + 1 if changed else generation
        meta["resourceVersion"] = old_meta["resourceVersion"]
        if dump(new) == dump(current):
            return current
        if (
            old_meta.get("deletionTimestamp")
            and old_meta.get("finalizers")
            and not meta.get("finalizers")
            and not old_meta.get("deletionGracePeriodSeconds")
        ):
            self.tables.remove(resource, new)
            return new
        self.tables.write(resource, new, "MODIFIED")
        return new

    def delete(
        self,
        resource: str | Resource,
        name: str,
        namespace: str | None = None,
        *,
        propagation: str | None = None,
        grace_seconds: int | None = None,
        preconditions: dict[str, str] | None = None,
    ) -> tuple[Obj, bool]:
        """Delete as a DELETE would; returns the object and whether it is still present."""
        found = self.resource(resource)
        with self.tables.lock:
            current = self.get(found, name, namespace)
            return self.collector.delete(
                found, current, propagation, grace_seconds, preconditions or {}
            )

    # Helpers

    def _resource_of(self, obj: Obj) -> Resource:
        kind = obj.get("kind") or ""
        resource = CATALOGUE.by_kind.get(kind)
        if resource is None or resource.api_version != obj.get("apiVersion"):
            raise bad_request(
                f"Object 'Kind' is missing or not served here: {kind!r} "
                f"({obj.get('apiVersion')!r})"
            )
        return resource

    def _check_namespace(self, resource: Resource, meta: dict[str, Any]) -> str:
        if not resource.namespaced:
            meta.pop("namespace", None)
            return ""
        namespace = meta.get("namespace")
        if not namespace:
            raise bad_request("an empty namespace may not be set during creation")
        ns_resource = CATALOGUE.by_plural["namespaces"]
        entry = self.tables.table(ns_resource).get("", namespace)
        if entry is None:
            raise not_found(ns_resource, namespace)
        if entry.fields.get("status.phase") == "Terminating":
            error = forbidden(
                resource,
                meta.get("name", ""),
                f"unable to create new content in namespace {namespace} because it is being "
                "terminated",
            )
            assert error.details is not None
            error.details["causes"] = [
                {
                    "reason": "NamespaceTerminating",
                    "message": f"namespace {namespace} is being terminated",
                    "field": "metadata.namespace",
                }
            ]
            raise error
        return str(namespace)

    def raise_unless_namespace(self, namespace: str) -> None:
        if self.find("namespaces", namespace) is None:
            raise not_found(CATALOGUE.by_plural["namespaces"], namespace)


@contextlib.contextmanager
def _decoding(resource: Resource) -> Iterator[None]:
    """Turn a body of the wrong shape (a list where an object belongs...) into a 400."""
    try:
        yield
    except (TypeError, AttributeError, KeyError, ValueError) as error:
        raise bad_request(
            f'{resource.kind} in version "{resource.version}" cannot be handled as a '
            f"{resource.kind}: {type(error).__name__}: {error}"
        ) from error


def _encode_continue(rv: int, key: tuple[str, str]) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": list(key)})
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_continue(token: str) -> tuple[int, tuple[str, str]]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        return int(data["rv"]), (str(data["start"][0]), str(data["start"][1]))
    except (ValueError, KeyError, IndexError, TypeError, binascii.Error) as error:
        raise bad_request(f"invalid continue token: continue key is not valid: {error}") from error


def check_continue(store: Store, token: str, resource: Resource) -> None:
    """A continue token from before the history window is expired, as on a real server."""
    rv, _ = _decode_continue(token)
    if rv < store.tables.table(resource).oldest:
        raise gone(
            "The provided continue parameter is too old to display a consistent list result. "
            "You can start a new list without the continue parameter, or use the continue "
            "token in this response to retrieve the remainder of the results. Continuing "
            "with the provided token results in an inconsistent list - objects that were "
            "created, modified, or deleted between the time the first chunk was returned and "
            "now may show up in the list."
        )
