"""The in-memory objects of the watch cache, indexed by workspace, with bounded events.

`ObjectStore` is the `Sink` every reflector writes into. It keeps StatefulSets, pods and PVCs
keyed by `(namespace, workspace)`, quotas and namespaces by name, and per workspace only the
most recent events about its StatefulSet, its pod or its home PVC. Events about a name that is
not (yet) a known workspace wait in a small bounded pool, because a watch on events may
deliver them a moment before the StatefulSet watch delivers the workspace they belong to.
Every change that can alter a workspace's record is reported through `on_dirty(key)`.

Objects are stored packed (`Packed`: compact JSON bytes plus the uid and resourceVersion that
are compared often): a pruned pod takes about 1 KB so, against about 4 KB as nested dicts. They
are unpacked only when a record is recomputed.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from jupyter_workspaces import constants as c
from jupyter_workspaces.status.objects import workspace_of_event

log = logging.getLogger(__name__)

Key = tuple[str, str]
KubeDict = dict[str, Any]

# Events kept per workspace (the newest win); the status reads only the recent ones.
EVENTS_PER_WORKSPACE = 10
# Workspaces whose events are kept while their StatefulSet is not yet known.
ORPHAN_KEYS = 256


class Packed:
    """One cached object as compact JSON, with the fields compared without unpacking it."""

    __slots__ = ("data", "time", "uid", "version")

    def __init__(self, obj: KubeDict, *, time: str = "") -> None:
        meta = _meta(obj)
        self.uid = str(meta.get("uid") or "")
        self.version = str(meta.get("resourceVersion") or "")
        self.time = time
        self.data = json.dumps(obj, separators=(",", ":")).encode()

    def unpack(self) -> KubeDict:
        obj: KubeDict = json.loads(self.data)
        return obj


def _meta(obj: KubeDict) -> KubeDict:
    meta: KubeDict = obj.get("metadata") or {}
    return meta


def event_time(event: KubeDict) -> str:
    """The latest time an event speaks of, as sortable text (ISO-8601)."""
    series = event.get("series") or {}
    return str(
        series.get("lastObservedTime")
        or event.get("lastTimestamp")
        or event.get("eventTime")
        or event.get("firstTimestamp")
        or _meta(event).get("creationTimestamp")
        or ""
    )


def event_workspace(event: KubeDict) -> Key | None:
    """The (namespace, workspace) an event may be about, by the rule the status engine reads."""
    workspace = workspace_of_event(event)
    if workspace is None:
        return None
    involved = event.get("involvedObject") or {}
    return (involved.get("namespace") or _meta(event).get("namespace") or "", workspace)


class ObjectStore:
    """Objects by workspace; see the module docstring."""

    def __init__(self, on_dirty: Callable[[Key], None]) -> None:
        self.lock = threading.RLock()
        self._on_dirty = on_dirty
        self.statefulsets: dict[Key, Packed] = {}
        self.pods: dict[Key, Packed] = {}
        self.pvcs: dict[Key, Packed] = {}
        self.quotas: dict[Key, Packed] = {}
        self.namespaces: dict[str, KubeDict] = {}
        self.events: dict[Key, dict[str, Packed]] = {}
        self._orphans: OrderedDict[Key, dict[str, Packed]] = OrderedDict()
        self.namespace_listeners: list[Callable[[str], None]] = []

    # Keys.

    def key_of(self, kind: str, obj: KubeDict) -> Key | None:
        meta = _meta(obj)
        namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        if kind == "statefulsets" or kind == "quotas":
            return (namespace, name)
        if kind == "pods":
            workspace = (meta.get("labels") or {}).get(c.WORKSPACE_LABEL)
            return (namespace, workspace) if workspace and name == c.pod_name(workspace) else None
        if kind == "pvcs":
            if not (name.startswith(c.HOME_VOLUME + "-") and name.endswith("-0")):
                return None
            return (namespace, name[len(c.HOME_VOLUME) + 1 : -2])
        if kind == "events":
            return event_workspace(obj)
        if kind == "namespaces":
            return ("", name)
        raise ValueError(f"unknown kind {kind!r}")

    def _table(self, kind: str) -> dict[Key, Packed]:
        tables = {
            "statefulsets": self.statefulsets,
            "pods": self.pods,
            "pvcs": self.pvcs,
            "quotas": self.quotas,
        }
        return tables[kind]

    # The Sink protocol.

    def upsert(self, kind: str, obj: KubeDict) -> None:
        key = self.key_of(kind, obj)
        if key is None:
            return
        with self.lock:
            if kind == "events":
                self._add_event(key, obj)
            elif kind == "namespaces":
                self.namespaces[key[1]] = obj
                self._namespace_changed(key[1])
            else:
                self._table(kind)[key] = Packed(obj)
                if kind == "statefulsets":
                    self._adopt_orphans(key)
                if kind != "quotas":
                    self._on_dirty(key)

    def remove(self, kind: str, obj: KubeDict) -> None:
        key = self.key_of(kind, obj)
        if key is None:
            return
        with self.lock:
            if kind == "events":
                name = str(_meta(obj).get("name"))
                for pool in (self.events, self._orphans):
                    if name in pool.get(key, {}):
                        del pool[key][name]
                        self._on_dirty(key)
            elif kind == "namespaces":
                self.namespaces.pop(key[1], None)
                self._namespace_changed(key[1])
            else:
                table = self._table(kind)
                current = table.get(key)
                # A DELETED for an older incarnation (another uid) must not drop the new one.
                if current is not None and current.uid == _meta(obj).get("uid"):
                    del table[key]
                    if kind == "statefulsets":
                        self.events.pop(key, None)
                    if kind != "quotas":
                        self._on_dirty(key)

    def replace(self, kind: str, namespace: str | None, objects: list[KubeDict]) -> None:
        """Make the objects of `kind` in `namespace` (None: all) exactly `objects`."""
        with self.lock:
            if kind == "events":
                self._replace_events(namespace, objects)
            elif kind == "namespaces":
                before = set(self.namespaces)
                self.namespaces = {str(_meta(o).get("name")): o for o in objects}
                for name in before ^ set(self.namespaces):
                    self._namespace_changed(name)
            else:
                self._replace_table(kind, namespace, objects)

    def _replace_table(self, kind: str, namespace: str | None, objects: list[KubeDict]) -> None:
        table = self._table(kind)
        fresh: dict[Key, Packed] = {}
        for obj in objects:
            key = self.key_of(kind, obj)
            if key is not None:
                fresh[key] = Packed(obj)
        previous = {k: table.pop(k) for k in list(table) if namespace is None or k[0] == namespace}
        changed = {k for k in previous if k not in fresh}
        for key, packed in fresh.items():
            if kind == "statefulsets":
                self._adopt_orphans(key)
            table[key] = packed
            before = previous.get(key)
            if before is None or before.version != packed.version:
                changed.add(key)
        if kind != "quotas":
            for key in changed:
                self._on_dirty(key)
        if kind == "statefulsets":
            for key in [k for k in self.events if k not in table]:
                del self.events[key]

    def _replace_events(self, namespace: str | None, objects: list[KubeDict]) -> None:
        for pool in (self.events, self._orphans):
            for key in [k for k in pool if namespace is None or k[0] == namespace]:
                del pool[key]
                self._on_dirty(key)
        for obj in sorted(objects, key=event_time):
            about = event_workspace(obj)
            if about is not None:
                self._add_event(about, obj)

    # Events: bounded per workspace, orphans while the workspace is unknown.

    def _add_event(self, key: Key, event: KubeDict) -> None:
        if key in self.statefulsets:
            pool = self.events.setdefault(key, {})
            self._on_dirty(key)
        else:
            pool = self._orphans.setdefault(key, {})
            self._orphans.move_to_end(key)
            while len(self._orphans) > ORPHAN_KEYS:
                self._orphans.popitem(last=False)
        pool[str(_meta(event).get("name"))] = Packed(event, time=event_time(event))
        if len(pool) > EVENTS_PER_WORKSPACE:
            oldest = min(pool, key=lambda name: pool[name].time)
            del pool[oldest]

    def _adopt_orphans(self, key: Key) -> None:
        waiting = self._orphans.pop(key, None)
        if waiting:
            self.events.setdefault(key, {}).update(waiting)

    def _namespace_changed(self, namespace: str) -> None:
        for key in [k for k in self.statefulsets if k[0] == namespace]:
            self._on_dirty(key)
        for listener in self.namespace_listeners:
            listener(namespace)

    # Reads (callers hold `lock` when they need several reads to agree).

    def objects_of(self, key: Key) -> tuple[KubeDict | None, KubeDict | None, list[KubeDict]]:
        """The StatefulSet, pod and events of one workspace (events oldest first), unpacked."""
        with self.lock:
            statefulset, pod = self.statefulsets.get(key), self.pods.get(key)
            events = sorted((self.events.get(key) or {}).values(), key=lambda e: e.time)
        return (
            statefulset.unpack() if statefulset else None,
            pod.unpack() if pod else None,
            [e.unpack() for e in events],
        )

    def events_of(self, key: Key) -> list[KubeDict]:
        """The kept events of one workspace, oldest first."""
        return self.objects_of(key)[2]

    def pvc_of(self, key: Key) -> KubeDict | None:
        """The home PVC of a workspace, if the cache has it."""
        packed = self.pvcs.get(key)
        return packed.unpack() if packed else None

    def version_of(self, key: Key) -> str | None:
        """The resourceVersion of a workspace's cached StatefulSet; None if there is none."""
        packed = self.statefulsets.get(key)
        return packed.version if packed else None

    def quotas_in(self, namespace: str) -> list[KubeDict]:
        with self.lock:
            packed = [q for k, q in self.quotas.items() if k[0] == namespace]
        return [q.unpack() for q in packed]
