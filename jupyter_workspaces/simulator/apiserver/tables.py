"""Raw object storage: one table per resource, a global resourceVersion, history and watchers.

Objects are kept as serialized JSON bytes (with their labels and selectable fields beside
them), which keeps 10,000 workspaces' worth of objects small and lets a list answer be joined
from stored bytes without encoding anything again. Every write gets the next resourceVersion
and is appended to its table's bounded history, from which watches replay; a watch that asks
for a version older than the history holds is told 410 Gone.
"""

from __future__ import annotations

import bisect
import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from jupyter_workspaces.simulator.apiserver.failures import gone
from jupyter_workspaces.simulator.apiserver.resources import (
    CATALOGUE,
    Obj,
    Resource,
    field_values,
)
from jupyter_workspaces.simulator.apiserver.selectors import FieldSelector, LabelSelector

# Events queued for one watch before it counts as too slow and is closed.
MAX_QUEUED = 100_000


def dump(obj: Obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


class Entry:
    """One stored version of an object."""

    __slots__ = ("fields", "labels", "owners", "raw", "rv")

    def __init__(self, resource: Resource, obj: Obj, rv: int) -> None:
        meta = obj["metadata"]
        self.raw = dump(obj)
        self.rv = rv
        self.labels: dict[str, str] = meta.get("labels") or {}
        self.fields = field_values(resource, obj)
        self.owners = tuple(ref.get("uid", "") for ref in meta.get("ownerReferences") or [])

    def load(self) -> Obj:
        loaded: Obj = json.loads(self.raw)
        return loaded


@dataclass(frozen=True)
class Change:
    """One write, as kept in history: the new version and the one it replaced."""

    rv: int
    type: str  # ADDED, MODIFIED, DELETED
    new: Entry
    old: Entry | None


class Watcher:
    """An open watch: filters changes and queues event lines for its HTTP stream."""

    def __init__(
        self,
        table: Table,
        namespace: str | None,
        labels: LabelSelector,
        fields: FieldSelector,
        wake: Callable[[], None],
    ) -> None:
        self.table = table
        self.namespace = namespace
        self.label_selector = labels
        self.field_selector = fields
        self.lines: deque[bytes] = deque()
        self.closed = False
        self._wake = wake

    def _matches(self, entry: Entry | None) -> bool:
        if entry is None:
            return False
        if self.namespace is not None and entry.fields["metadata.namespace"] != self.namespace:
            return False
        return self.label_selector.matches(entry.labels) and self.field_selector.matches(
            entry.fields
        )

    def offer(self, change: Change) -> None:
        """Queue the event this change means for this watch, if any."""
        now, before = self._matches(change.new), self._matches(change.old)
        kind, raw = change.type, change.new.raw
        if kind == "MODIFIED":
            if now and not before:
                kind = "ADDED"
            elif before and not now and change.old is not None:
                # Leaving the selection: the old content, at the new version, as a real server.
                kind = "DELETED"
                old = change.old.load()
                old["metadata"]["resourceVersion"] = str(change.rv)
                raw = dump(old)
            elif not now:
                return
        elif (kind == "ADDED" and not now) or (kind == "DELETED" and not (now or before)):
            return
        if len(self.lines) >= MAX_QUEUED:
            # A client this far behind is cut off, as a real server drops a slow watcher;
            # it re-lists or watches again from its last version.
            self.close()
            return
        self.lines.append(b'{"type":"' + kind.encode() + b'","object":' + raw + b"}\n")
        self._wake()

    def close(self) -> None:
        self.closed = True
        self._wake()


class Table:
    """The objects of one resource, its recent history and its open watches."""

    def __init__(self, resource: Resource, history_size: int) -> None:
        self.resource = resource
        self.objects: dict[str, dict[str, Entry]] = {}
        self.history: deque[Change] = deque()
        self.history_size = history_size
        # Watches from a version below this one can no longer be replayed.
        self.oldest = 0
        self.watchers: set[Watcher] = set()

    def get(self, namespace: str, name: str) -> Entry | None:
        return self.objects.get(namespace, {}).get(name)

    def entries(
        self, namespace: str | None = None, after: tuple[str, str] | None = None
    ) -> Iterator[tuple[str, str, Entry]]:
        """Every entry in key order (namespace, then name), as etcd would list them; with
        `after`, only those whose key comes after it (where a continued list resumes)."""
        namespaces = [namespace] if namespace is not None else sorted(self.objects)
        if after is not None:
            namespaces = namespaces[bisect.bisect_left(namespaces, after[0]) :]
        for ns in namespaces:
            names = self.objects.get(ns, {})
            ordered = sorted(names)
            if after is not None and ns == after[0]:
                ordered = ordered[bisect.bisect_right(ordered, after[1]) :]
            for name in ordered:
                yield ns, name, names[name]

    def count(self, namespace: str) -> int:
        return len(self.objects.get(namespace, {}))

    def record(self, change: Change) -> None:
        self.history.append(change)
        while len(self.history) > self.history_size:
            self.oldest = self.history.popleft().rv
        for watcher in list(self.watchers):
            watcher.offer(change)


class Tables:
    """Every table, the resourceVersion counter and the lock that guards them."""

    def __init__(self, history_size: int = 2000) -> None:
        self.lock = threading.RLock()
        self.rv = 0
        self.tables = {
            resource.plural: Table(resource, history_size) for resource in CATALOGUE.resources
        }
        # Dependents by owner uid, for garbage collection.
        self.dependents: dict[str, set[tuple[str, str, str]]] = {}
        self.listeners: list[Callable[[Resource, Change], None]] = []

    def table(self, resource: Resource) -> Table:
        return self.tables[resource.plural]

    def write(self, resource: Resource, obj: Obj, kind: str) -> Entry:
        """Store `obj` (ADDED or MODIFIED) under the next resourceVersion."""
        with self.lock:
            entry, namespace, name = self._stamp(resource, obj)
            names = self.table(resource).objects.setdefault(namespace, {})
            old = names.get(name)
            names[name] = entry
            self._commit(resource, kind, (namespace, name), entry, old)
            return entry

    def remove(self, resource: Resource, obj: Obj) -> Entry:
        """Delete `obj` from its table; the DELETED event carries a new resourceVersion."""
        with self.lock:
            entry, namespace, name = self._stamp(resource, obj)
            objects = self.table(resource).objects
            names = objects.get(namespace, {})
            old = names.pop(name, None)
            if not names:
                objects.pop(namespace, None)
            self._commit(resource, "DELETED", (namespace, name), entry, old)
            return entry

    def _stamp(self, resource: Resource, obj: Obj) -> tuple[Entry, str, str]:
        """Give `obj` the next resourceVersion; return its entry, namespace and name."""
        self.rv += 1
        meta = obj["metadata"]
        meta["resourceVersion"] = str(self.rv)
        return Entry(resource, obj, self.rv), meta.get("namespace", ""), meta["name"]

    def _commit(
        self,
        resource: Resource,
        kind: str,
        where: tuple[str, str],
        entry: Entry,
        old: Entry | None,
    ) -> None:
        """Re-index owners of (namespace, name) and tell history, watchers and listeners."""
        new = None if kind == "DELETED" else entry
        self._index_owners(resource, *where, old, new)
        self._publish(resource, Change(self.rv, kind, entry, old))

    def _publish(self, resource: Resource, change: Change) -> None:
        self.table(resource).record(change)
        for listener in self.listeners:
            listener(resource, change)

    def _index_owners(
        self, resource: Resource, namespace: str, name: str, old: Entry | None, new: Entry | None
    ) -> None:
        key = (resource.plural, namespace, name)
        for uid in old.owners if old else ():
            dependents = self.dependents.get(uid)
            if dependents is not None:
                dependents.discard(key)
                if not dependents:
                    del self.dependents[uid]
        for uid in new.owners if new else ():
            self.dependents.setdefault(uid, set()).add(key)

    def watch(
        self,
        resource: Resource,
        namespace: str | None,
        labels: LabelSelector,
        fields: FieldSelector,
        since: int | None,
        wake: Callable[[], None],
    ) -> Watcher:
        """Open a watch replaying changes after `since` (None: ADDED for every object now)."""
        with self.lock:
            table = self.table(resource)
            watcher = Watcher(table, namespace, labels, fields, wake)
            if since is None:
                for _, _, entry in table.entries(namespace):
                    watcher.offer(Change(entry.rv, "ADDED", entry, None))
            else:
                if since < table.oldest:
                    raise gone(f"too old resource version: {since} ({table.oldest})")
                for change in table.history:
                    if change.rv > since:
                        watcher.offer(change)
            table.watchers.add(watcher)
            return watcher

    def unwatch(self, watcher: Watcher) -> None:
        with self.lock:
            watcher.table.watchers.discard(watcher)

    def drain(self, watcher: Watcher) -> tuple[list[bytes], int]:
        """Take the queued lines and the version they bring the watch up to."""
        with self.lock:
            lines = list(watcher.lines)
            watcher.lines.clear()
            return lines, self.rv

    def drop_watches(self) -> int:
        with self.lock:
            count = 0
            for table in self.tables.values():
                for watcher in list(table.watchers):
                    watcher.close()
                    count += 1
                table.watchers.clear()
            return count

    def expire_history(self) -> None:
        """Forget all history: a watch from any version before now gets 410."""
        with self.lock:
            for table in self.tables.values():
                table.history.clear()
                table.oldest = self.rv

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                plural: sum(len(names) for names in table.objects.values())
                for plural, table in self.tables.items()
            }
