"""The plumbing every simulated controller shares: raw JSON calls, informers and a work queue.

Controllers talk to the API over HTTP with the official client, the way real controllers do,
but skip its model classes: `_preload_content=False` and plain dicts are several times faster
and keep unknown fields intact.
"""

from __future__ import annotations

import heapq
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.watch.watch import iter_resp_lines

log = logging.getLogger(__name__)

Obj = dict[str, Any]
# Called with (key, old, new); old is None for an addition, new is None for a deletion.
ChangeHandler = Callable[[str, Any, Any], None]

MERGE_PATCH = "application/merge-patch+json"
# Objects per page when an informer lists.
_PAGE = 500


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def rfc3339(moment: datetime | None = None) -> str:
    """A Kubernetes `Time`: UTC to the second."""
    return (moment or now_utc()).strftime("%Y-%m-%dT%H:%M:%SZ")


def micro_time(moment: datetime | None = None) -> str:
    """A Kubernetes `MicroTime`: UTC to the microsecond."""
    return (moment or now_utc()).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def key_of(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace")
    return f"{namespace}/{meta.get('name')}" if namespace else str(meta.get("name"))


def api_client(kubeconfig: str) -> client.ApiClient:
    """A client configured from a kubeconfig file, with a pool big enough for watches."""
    configuration = client.Configuration()
    config.load_kube_config(  # type: ignore[no-untyped-call]
        config_file=str(kubeconfig), client_configuration=configuration
    )
    configuration.connection_pool_maxsize = 16
    return client.ApiClient(configuration)


def call(method: Callable[..., Any], *args: Any, **kwargs: Any) -> Obj:
    """Call an official client method and return the decoded JSON body."""
    response = method(*args, _preload_content=False, **kwargs)
    data = response.data
    return json.loads(data) if data else {}


def status_reason(exc: ApiException) -> str:
    """The Kubernetes reason (`NotFound`, `Conflict`...) of an API error, else ''."""
    try:
        return str(json.loads(exc.body or "{}").get("reason") or "")
    except ValueError:
        return ""


def status_message(exc: ApiException) -> str:
    """The Kubernetes message of an API error, else the HTTP phrase."""
    try:
        return str(json.loads(exc.body or "{}").get("message") or exc.reason)
    except ValueError:
        return str(exc.reason)


class Informer:
    """Keeps a cache of one resource: list, then watch from the list's version.

    Re-lists on 410 Gone, backs off on other errors, restarts the watch when the server ends
    it. `transform` may shrink each object before it is cached and handed to `on_change`.
    """

    def __init__(
        self,
        name: str,
        list_method: Callable[..., Any],
        on_change: ChangeHandler,
        *,
        transform: Callable[[Obj], Any] | None = None,
        watch_timeout: int = 60,
        **list_kwargs: Any,
    ) -> None:
        self.name = name
        self.items: dict[str, Any] = {}
        self.synced = threading.Event()
        self._list = list_method
        self._on_change = on_change
        self._transform = transform or (lambda obj: obj)
        self._kwargs = list_kwargs
        self._watch_timeout = watch_timeout
        self._stopping = threading.Event()
        self._response: Any = None
        self._thread = threading.Thread(target=self._run, name=f"informer-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        response = self._response
        if response is not None:
            try:
                response.shutdown() if hasattr(response, "shutdown") else response.close()
            except (OSError, urllib3.exceptions.HTTPError) as exc:
                log.debug("informer %s: closing its watch raised %s", self.name, exc)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        backoff = 0.2
        version: str | None = None
        while not self._stopping.is_set():
            try:
                if version is None:
                    version = self._relist()
                version = self._watch(version)
                backoff = 0.2
            except ApiException as exc:
                if exc.status == 410:
                    log.info("informer %s: history expired (410), listing again", self.name)
                    version = None
                    continue
                self._pause(backoff, f"API error {exc.status} {status_reason(exc)}")
                backoff = min(backoff * 2, 5.0)
                version = None
            except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
                if self._stopping.is_set():
                    return
                self._pause(backoff, f"{type(exc).__name__}: {exc}")
                backoff = min(backoff * 2, 5.0)

    def _pause(self, seconds: float, why: str) -> None:
        log.debug("informer %s: %s; retrying in %.1fs", self.name, why, seconds)
        self._stopping.wait(seconds * (0.5 + random.random()))

    def _relist(self) -> str:
        # In pages: one 10,000-object answer would cost a peak of memory never given back.
        fresh: dict[str, Any] = {}
        token: str | None = None
        while True:
            page = call(self._list, limit=_PAGE, _continue=token, **self._kwargs)
            for obj in page.get("items") or []:
                fresh[key_of(obj)] = self._transform(obj)
            meta = page.get("metadata") or {}
            token = meta.get("continue")
            if not token:
                break
        old = self.items
        self.items = fresh
        for key, value in fresh.items():
            if old.get(key) != value:
                self._on_change(key, old.get(key), value)
        for key in set(old) - set(fresh):
            self._on_change(key, old[key], None)
        self.synced.set()
        return str(meta.get("resourceVersion") or "")

    def _watch(self, version: str) -> str | None:
        """Follow the watch stream; return the version to resume from (None: re-list)."""
        response = self._list(
            watch=True,
            resource_version=version,
            allow_watch_bookmarks=True,
            timeout_seconds=self._watch_timeout,
            _preload_content=False,
            **self._kwargs,
        )
        self._response = response
        try:
            for event in self._events(response):
                kind = event.get("type")
                obj = event.get("object") or {}
                if kind == "ERROR":
                    if obj.get("code") == 410:
                        log.info("informer %s: watch history expired, listing again", self.name)
                        return None
                    raise ApiException(status=obj.get("code") or 500, reason=obj.get("message"))
                version = str((obj.get("metadata") or {}).get("resourceVersion") or version)
                if kind == "BOOKMARK":
                    continue
                key = key_of(obj)
                old = self.items.get(key)
                if kind == "DELETED":
                    self.items.pop(key, None)
                    if old is not None:
                        self._on_change(key, old, None)
                else:
                    new = self._transform(obj)
                    self.items[key] = new
                    if old != new:
                        self._on_change(key, old, new)
        finally:
            self._response = None
            response.release_conn()
        return version

    def _events(self, response: Any) -> Iterator[Obj]:
        for line in iter_resp_lines(response):  # type: ignore[no-untyped-call]
            if self._stopping.is_set():
                return
            if line:
                yield json.loads(line)


class WorkQueue:
    """Keys to reconcile, each at most once in the queue, some after a delay."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, str]] = []
        self._due: dict[str, float] = {}
        self._cond = threading.Condition()
        self._closed = False

    def add(self, key: str, delay: float = 0.0) -> None:
        """Queue `key` to run after `delay` seconds (sooner if it was queued sooner)."""
        due = time.monotonic() + max(0.0, delay)
        with self._cond:
            if key in self._due and self._due[key] <= due:
                return
            self._due[key] = due
            heapq.heappush(self._heap, (due, key))
            self._cond.notify()

    def get(self) -> str | None:
        """Block until a key is due; None once the queue is closed."""
        with self._cond:
            while not self._closed:
                if self._heap:
                    due, key = self._heap[0]
                    if self._due.get(key) != due:
                        heapq.heappop(self._heap)
                        continue
                    wait = due - time.monotonic()
                    if wait <= 0:
                        heapq.heappop(self._heap)
                        del self._due[key]
                        return key
                    self._cond.wait(wait)
                else:
                    self._cond.wait()
            return None

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class Controller:
    """A worker that reconciles keys from a queue, fed by informers."""

    name = "controller"

    def __init__(self) -> None:
        self.queue = WorkQueue()
        self.informers: list[Informer] = []
        self._failures: dict[str, int] = {}
        self._worker = threading.Thread(target=self._work, name=self.name, daemon=True)

    def start(self) -> None:
        for informer in self.informers:
            informer.start()
        self._worker.start()

    def wait_synced(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        return all(i.synced.wait(max(0.0, deadline - time.monotonic())) for i in self.informers)

    def stop(self) -> None:
        self.queue.close()
        for informer in self.informers:
            informer.stop()
        self._worker.join(timeout=5)

    def reconcile(self, key: str) -> None:
        raise NotImplementedError

    def _work(self) -> None:
        # Acting on a half-loaded cache would, say, create a pod that exists but is not yet seen.
        for informer in self.informers:
            while not informer.synced.wait(0.5):
                if self.queue.closed:
                    return
        while (key := self.queue.get()) is not None:
            try:
                self.reconcile(key)
                self._failures.pop(key, None)
            except ApiException as exc:
                self._retry(key, f"API error {exc.status}: {status_message(exc)}")
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                self._retry(key, f"{type(exc).__name__}: {exc}")

    def _retry(self, key: str, why: str) -> None:
        count = self._failures.get(key, 0) + 1
        self._failures[key] = count
        delay = min(0.05 * 2**count, 5.0)
        log.info("%s: %s failed (%s); retrying in %.2fs", self.name, key, why, delay)
        self.queue.add(key, delay)
