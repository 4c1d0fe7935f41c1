"""The watch-backed cache of workspaces: reflectors feed objects in, records and changes come out.

Which watches run: with an explicit list of at most `PER_NAMESPACE_LIMIT` projects, one watch
per kind per namespace, because a researcher's credentials are often a Role in each project
namespace and a cluster-wide list would be refused. With more projects, with a namespace
label selector, or with no projects configured, one cluster-wide watch per kind (StatefulSets
and pods selected by the managed-by label server-side) and a namespace filter here: a handful
of long-lived connections instead of five per project, and a namespace that starts to match
the selector shows its workspaces at once, with no new list.

Records are recomputed by one background thread from the keys the store marks dirty; bursts
are gathered for `debounce` seconds, then every changed record is published to subscribers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from kubernetes import client as k8s

from jupyter_workspaces import constants as c
from jupyter_workspaces.cluster import slim
from jupyter_workspaces.cluster.build import build_workspace
from jupyter_workspaces.cluster.reflector import Reflector, WatchSettings
from jupyter_workspaces.cluster.store import Key, ObjectStore
from jupyter_workspaces.records import Workspace, WorkspaceDeleted

log = logging.getLogger(__name__)

PER_NAMESPACE_LIMIT = 8

Change = Workspace | WorkspaceDeleted
Listener = Callable[[Change], None]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Scope:
    """Which namespaces are projects: a list, a label selector, or (neither) every namespace."""

    namespaces: tuple[str, ...] | None = None
    selector: str | None = None

    @property
    def per_namespace(self) -> bool:
        return self.namespaces is not None and len(self.namespaces) <= PER_NAMESPACE_LIMIT

    def describe(self) -> str:
        if self.namespaces is not None:
            return "projects " + ", ".join(self.namespaces)
        if self.selector:
            return f"namespaces labelled {self.selector}"
        return "all namespaces"


@dataclass(frozen=True)
class Freshness:
    """How current the cache is: `as_of` is now while watches run, else when they stopped."""

    loaded: bool
    as_of: datetime | None
    stale_since: datetime | None
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat().replace("+00:00", "Z") if value else None

        return {
            "loaded": self.loaded,
            "asOf": iso(self.as_of),
            "staleSince": iso(self.stale_since),
            "error": self.error,
        }


def version_reached(current: str, target: str) -> bool:
    """True if `current` is `target` or later (numeric versions compared as numbers)."""
    if current == target:
        return True
    if current.isdigit() and target.isdigit():
        return int(current) >= int(target)
    return False


class WorkspaceCache:
    """Workspaces of a scope, kept current by watches; see the module docstring."""

    def __init__(
        self,
        api_client: Any,
        scope: Scope,
        *,
        url_template: str | None = None,
        settings: WatchSettings | None = None,
        debounce: float = 0.05,
        refresh_interval: float = 15.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.scope = scope
        self._url_template = url_template
        self._debounce = debounce
        self._refresh_interval = refresh_interval
        self._clock = clock
        self.store = ObjectStore(self._mark)
        self._changed = threading.Condition(self.store.lock)
        self._dirty: set[Key] = set()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._records: dict[Key, Workspace] = {}
        # Every record sorted by (project, name), rebuilt on the first read after a change.
        self._sorted: list[Workspace] | None = None
        self._published: dict[Key, Workspace] = {}
        self._listeners: list[Listener] = []
        self._thread: threading.Thread | None = None
        self.reflectors = self._make_reflectors(api_client, settings or WatchSettings())

    def _make_reflectors(self, api_client: Any, settings: WatchSettings) -> list[Reflector]:
        apps, core = k8s.AppsV1Api(api_client), k8s.CoreV1Api(api_client)
        kinds: list[tuple[str, Any, Any, str | None, slim.Shape]] = [
            (
                "statefulsets",
                apps.list_namespaced_stateful_set,
                apps.list_stateful_set_for_all_namespaces,
                c.MANAGED_SELECTOR,
                slim.STATEFULSET,
            ),
            (
                "pods",
                core.list_namespaced_pod,
                core.list_pod_for_all_namespaces,
                c.MANAGED_SELECTOR,
                slim.POD,
            ),
            (
                "events",
                core.list_namespaced_event,
                core.list_event_for_all_namespaces,
                None,
                slim.EVENT,
            ),
            (
                "pvcs",
                core.list_namespaced_persistent_volume_claim,
                core.list_persistent_volume_claim_for_all_namespaces,
                None,
                slim.PVC,
            ),
            (
                "quotas",
                core.list_namespaced_resource_quota,
                core.list_resource_quota_for_all_namespaces,
                None,
                slim.QUOTA,
            ),
        ]
        reflectors: list[Reflector] = []
        for kind, namespaced, everywhere, selector, shape in kinds:
            options: dict[str, Any] = {
                "label_selector": selector,
                "shape": shape,
                "settings": settings,
            }
            if self.scope.per_namespace:
                for namespace in self.scope.namespaces or ():
                    reflectors.append(
                        Reflector(kind, namespaced, self.store, namespace=namespace, **options)
                    )
            else:
                reflectors.append(Reflector(kind, everywhere, self.store, **options))
        if self.scope.selector:
            reflectors.append(
                Reflector(
                    "namespaces",
                    core.list_namespace,
                    self.store,
                    label_selector=self.scope.selector,
                    shape=slim.NAMESPACE,
                    settings=settings,
                )
            )
        return reflectors

    # Life cycle.

    def start(self) -> None:
        """Start every watch and the thread that turns objects into records."""
        log.info(
            "watching workspaces in %s (%d watches)", self.scope.describe(), len(self.reflectors)
        )
        for reflector in self.reflectors:
            reflector.start()
        self._thread = threading.Thread(target=self._run, name="workspace-records", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the watches and the record thread; the last state stays readable."""
        self._stop.set()
        self._wake.set()
        for reflector in self.reflectors:
            reflector.stop()
        if self._thread is not None:
            self._thread.join(5)

    def wait_loaded(self, timeout: float | None = None) -> bool:
        """Wait until every kind was listed once and every record computed; True if so."""
        return self._ready.wait(timeout)

    def freshness(self) -> Freshness:
        stale = [r.stale_since for r in self.reflectors if r.stale_since is not None]
        stale_since = min(stale) if stale else None
        error = next((r.last_error for r in self.reflectors if r.last_error), None)
        loaded = self._ready.is_set()
        as_of = None
        if loaded:
            as_of = stale_since or self._clock()
        return Freshness(loaded=loaded, as_of=as_of, stale_since=stale_since, error=error)

    # Reads: no request to the API, ever.

    def visible(self, namespace: str) -> bool:
        """True if `namespace` is one of the projects of this scope."""
        if self.scope.namespaces is not None:
            return namespace in self.scope.namespaces
        if self.scope.selector:
            return namespace in self.store.namespaces
        return True

    def projects(self) -> list[str]:
        """The project names of this scope as known now."""
        if self.scope.namespaces is not None:
            return list(self.scope.namespaces)
        if self.scope.selector:
            return sorted(self.store.namespaces)
        with self.store.lock:
            names = {k[0] for k in self.store.statefulsets} | {k[0] for k in self.store.quotas}
        return sorted(names)

    def records(self) -> list[Workspace]:
        """Every visible workspace's current record, sorted by project and name."""
        with self.store.lock:
            if self._sorted is None:
                self._sorted = sorted(self._records.values(), key=lambda w: (w.project, w.name))
            return list(self._sorted)

    def record(self, project: str, name: str) -> Workspace | None:
        return self._records.get((project, name))

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` (from the record thread) with every changed or deleted record."""
        with self.store.lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self.store.lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    # After an action: wait until the watch has shown our write, then give the fresh record.

    def settle(self, key: Key, version: str | None, timeout: float = 2.0) -> Workspace | None:
        """Wait until the cached StatefulSet of `key` is at `version` (None: gone); return
        the record recomputed from it. On timeout, the record as it is."""

        def reached() -> bool:
            current = self.store.version_of(key)
            if version is None:
                return current is None
            return current is not None and version_reached(current, version)

        deadline = time.monotonic() + timeout
        with self._changed:
            while not reached():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    log.info("%s/%s: the watch has not shown version %s yet", *key, version)
                    break
                self._changed.wait(remaining)
            record = self._compute(key)
            if record is None:
                self._records.pop(key, None)
            else:
                self._records[key] = record
            self._sorted = None
            return record

    # The record thread.

    def _mark(self, key: Key) -> None:
        # Called by the store with its lock held.
        self._dirty.add(key)
        self._changed.notify_all()
        self._wake.set()

    def _run(self) -> None:
        last_refresh = time.monotonic()
        while not self._stop.is_set():
            self._wake.wait(0.1 if not self._ready.is_set() else self._refresh_interval)
            if self._stop.is_set():
                return
            if not self._ready.is_set() and not all(r.loaded.is_set() for r in self.reflectors):
                continue
            if self._wake.is_set():
                time.sleep(self._debounce)
            self._wake.clear()
            if time.monotonic() - last_refresh >= self._refresh_interval:
                self._mark_changing()
                last_refresh = time.monotonic()
            with self.store.lock:
                dirty, self._dirty = self._dirty, set()
            self._recompute(dirty)
            if not self._ready.is_set():
                log.info("loaded %d workspaces in %s", len(self._records), self.scope.describe())
                self._ready.set()

    def _mark_changing(self) -> None:
        # Statuses such as "pulling the image for 40 s" age: recompute those now and then.
        with self.store.lock:
            for key, record in self._records.items():
                if record.status.status in ("Pending", "Initializing"):
                    self._dirty.add(key)

    def _compute(self, key: Key) -> Workspace | None:
        statefulset, pod, events = self.store.objects_of(key)
        if statefulset is None or not self.visible(key[0]):
            return None
        return build_workspace(
            statefulset,
            pod,
            events,
            now=self._clock(),
            pvc=self.store.pvc_of(key),
            url_template=self._url_template,
        )

    def _recompute(self, keys: set[Key]) -> None:
        changes: list[Change] = []
        for key in keys:
            # Computing and storing is one step under the lock: otherwise a record computed
            # from older objects could overwrite a newer one stored meanwhile by settle(),
            # and the status would step back in time.
            with self.store.lock:
                try:
                    record = self._compute(key)
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    log.warning("%s/%s: cannot build the workspace record: %r", *key, exc)
                    continue
                if record is None:
                    self._sorted = None
                    self._records.pop(key, None)
                    if self._published.pop(key, None) is not None:
                        changes.append(WorkspaceDeleted(project=key[0], name=key[1]))
                    continue
                self._records[key] = record
                self._sorted = None
                if self._published.get(key) != record:
                    self._published[key] = record
                    changes.append(record)
        if changes and self._ready.is_set():
            self._publish(changes)

    def _publish(self, changes: list[Change]) -> None:
        with self.store.lock:
            listeners = list(self._listeners)
        for change in changes:
            for listener in listeners:
                try:
                    listener(change)
                except Exception:
                    log.exception(
                        "%s/%s: a change-feed subscriber failed", change.project, change.name
                    )
