"""List, then watch, one kind of Kubernetes object, and hand every change to a sink.

One `Reflector` runs one background thread for one kind in one namespace (or in all). It
lists (in pages), then watches from the list's resourceVersion with bookmarks, advancing the
version on every event, bookmarks included. Only a 410 Gone (the version left the server's
history) makes it list again; any other failure is retried from the same version after a
back-off that doubles up to a cap. A watch that stays silent longer than `quiet_timeout`
(no event, no bookmark) is assumed half-dead and restarted. While requests fail, the sink's
data stays as it was and `stale_since` says since when it has not been confirmed.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

import urllib3.exceptions
from kubernetes.client.exceptions import ApiException

from jupyter_workspaces import errors
from jupyter_workspaces.cluster.slim import Shape, prune
from jupyter_workspaces.cluster.translate import kube_message

log = logging.getLogger(__name__)

KubeDict = dict[str, Any]


class Sink(Protocol):
    """Where a reflector puts what it learns; the cache implements it."""

    def replace(self, kind: str, namespace: str | None, objects: list[KubeDict]) -> None: ...

    def upsert(self, kind: str, obj: KubeDict) -> None: ...

    def remove(self, kind: str, obj: KubeDict) -> None: ...


@dataclass(frozen=True)
class WatchSettings:
    """Timing of lists and watches; the defaults suit a real cluster, tests shorten them."""

    # Asked of the server: end the watch after this many seconds (it is then resumed).
    watch_timeout: int = 240
    # A watch that sends nothing (no event, no bookmark) for this long is restarted.
    quiet_timeout: float = 90.0
    # First wait after a failure, doubled per failure up to `backoff_max` (seconds).
    backoff_initial: float = 0.2
    backoff_max: float = 5.0
    # Items per page of a list request.
    page_size: int = 500
    # Connect and read timeout of a list request (seconds).
    request_timeout: float = 30.0


class _Expired(Exception):
    """The resourceVersion we watch from has left the server's history (410 Gone)."""


class _WatchFailed(Exception):
    """The server ended the watch with an ERROR event other than 410."""


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Reflector:
    """Keeps a sink up to date with one kind of object; see the module docstring."""

    def __init__(
        self,
        kind: str,
        list_call: Callable[..., Any],
        sink: Sink,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        shape: Shape | None = None,
        settings: WatchSettings | None = None,
    ) -> None:
        self.kind = kind
        self.namespace = namespace
        self._list_call = list_call
        self._sink = sink
        self._label_selector = label_selector
        self._shape = shape
        self._settings = settings or WatchSettings()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._response: Any = None
        self.loaded = threading.Event()
        self.resource_version: str | None = None
        self.stale_since: datetime | None = None
        self.last_error: str | None = None
        self.lists = 0
        self.watches = 0

    @property
    def where(self) -> str:
        """Names what this reflector watches, for log lines and errors."""
        return f"{self.kind} in {self.namespace or 'all namespaces'}"

    def start(self) -> None:
        """Start the background thread (list, then watch, until `stop`)."""
        self._thread = threading.Thread(
            target=self._run, name=f"reflector-{self.kind}-{self.namespace or 'all'}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread, cutting an open watch short."""
        self._stop.set()
        response = self._response
        if response is not None:
            self._close(response, interrupt=True)
        if self._thread is not None:
            self._thread.join(timeout)

    def _call(self, **kwargs: Any) -> Any:
        if self._label_selector:
            kwargs["label_selector"] = self._label_selector
        if self.namespace is None:
            return self._list_call(_preload_content=False, **kwargs)
        return self._list_call(self.namespace, _preload_content=False, **kwargs)

    # The loop: list when we have no version, watch from it, recover from what goes wrong.

    def _run(self) -> None:
        backoff = self._settings.backoff_initial
        while not self._stop.is_set():
            try:
                if self.resource_version is None:
                    self._relist()
                started = time.monotonic()
                delivered = self._watch()
                if delivered or time.monotonic() - started > 1.0:
                    backoff = self._settings.backoff_initial
                    continue
                # A watch that ends at once with nothing in it: do not spin on it.
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self._settings.backoff_max)
            except _Expired:
                log.info(
                    "%s: resourceVersion %s expired (410), listing again",
                    self.where,
                    self.resource_version,
                )
                self.resource_version = None
            except (
                ApiException,
                _WatchFailed,
                urllib3.exceptions.HTTPError,
                OSError,
                ValueError,
            ) as exc:
                if self._stop.is_set():
                    break
                if isinstance(exc, ApiException) and exc.status == 410:
                    log.info(
                        "%s: resourceVersion %s expired (HTTP 410), listing again",
                        self.where,
                        self.resource_version,
                    )
                    self.resource_version = None
                    continue
                self._failed(exc, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self._settings.backoff_max)
            except Exception:
                # A closed stream read on stop, or a bug: never let the cache freeze silently.
                if self._stop.is_set():
                    break
                log.exception("%s: unexpected failure, retrying in %.1f s", self.where, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self._settings.backoff_max)
        log.debug("%s: reflector stopped", self.where)

    def _failed(self, exc: Exception, backoff: float) -> None:
        if isinstance(exc, ApiException):
            text = f"HTTP {exc.status}: {kube_message(exc)}"
        else:
            text = errors.redact(f"{type(exc).__name__}: {exc}")
        if self.stale_since is None:
            self.stale_since = _utcnow()
            log.warning(
                "%s: cannot reach the Kubernetes API (%s); serving the last known "
                "state, retrying in %.1f s",
                self.where,
                text,
                backoff,
            )
        else:
            log.debug("%s: still failing (%s), retrying in %.1f s", self.where, text, backoff)
        self.last_error = text

    def _healthy(self) -> None:
        if self.stale_since is not None:
            log.info(
                "%s: the Kubernetes API answers again (stale since %s)",
                self.where,
                self.stale_since.isoformat(),
            )
        self.stale_since = None
        self.last_error = None

    # The two requests.

    def _relist(self) -> None:
        objects: list[KubeDict] = []
        token: str | None = None
        timeout = (self._settings.request_timeout, self._settings.request_timeout)
        while True:
            kwargs: dict[str, Any] = {"limit": self._settings.page_size}
            if token:
                kwargs["_continue"] = token
            response = self._call(_request_timeout=timeout, **kwargs)
            try:
                body = json.loads(response.data)
            finally:
                response.release_conn()
            for item in body.get("items") or []:
                objects.append(prune(item, self._shape) if self._shape else item)
            metadata = body.get("metadata") or {}
            token = metadata.get("continue")
            if not token:
                break
        self._sink.replace(self.kind, self.namespace, objects)
        self.resource_version = str(metadata.get("resourceVersion") or "")
        self.lists += 1
        self._healthy()
        self.loaded.set()
        log.info(
            "%s: listed %d objects at resourceVersion %s",
            self.where,
            len(objects),
            self.resource_version,
        )

    def _watch(self) -> int:
        """Watch from the current version until the stream ends; return the events seen."""
        settings = self._settings
        response = self._call(
            watch=True,
            allow_watch_bookmarks=True,
            resource_version=self.resource_version,
            timeout_seconds=settings.watch_timeout,
            _request_timeout=(settings.request_timeout, settings.quiet_timeout),
        )
        self._response = response
        self.watches += 1
        self._healthy()
        seen = 0
        try:
            for line in self._lines(response):
                self._handle(json.loads(line))
                seen += 1
        except urllib3.exceptions.ReadTimeoutError:
            log.info(
                "%s: watch quiet for %.0f s, restarting it", self.where, settings.quiet_timeout
            )
        except urllib3.exceptions.ProtocolError as exc:
            if self._stop.is_set():
                return seen
            log.info(
                "%s: watch connection closed (%s), resuming from %s",
                self.where,
                type(exc).__name__,
                self.resource_version,
            )
        finally:
            self._response = None
            self._close(response)
        return seen

    def _handle(self, event: KubeDict) -> None:
        kind = event.get("type")
        obj = event.get("object") or {}
        if kind == "ERROR":
            if obj.get("code") == 410:
                raise _Expired
            raise _WatchFailed(f"watch error {obj.get('code')}: {obj.get('message')}")
        version = (obj.get("metadata") or {}).get("resourceVersion")
        if kind in ("ADDED", "MODIFIED"):
            self._sink.upsert(self.kind, prune(obj, self._shape) if self._shape else obj)
        elif kind == "DELETED":
            self._sink.remove(self.kind, prune(obj, self._shape) if self._shape else obj)
        elif kind != "BOOKMARK":
            log.warning("%s: ignoring watch event of unknown type %r", self.where, kind)
        if version:
            self.resource_version = str(version)

    def _lines(self, response: Any) -> Iterator[bytes]:
        buffer = b""
        for chunk in response.stream(amt=None, decode_content=False):
            if self._stop.is_set():
                return
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                if line.strip():
                    yield line
        if buffer.strip():
            yield buffer

    @staticmethod
    def _close(response: Any, *, interrupt: bool = False) -> None:
        """Close a watch response; `interrupt` also unblocks a thread reading it."""
        try:
            if interrupt and getattr(response, "shutdown", None) is not None:
                response.shutdown()
            response.close()
        except (OSError, RuntimeError, urllib3.exceptions.HTTPError) as exc:
            # RuntimeError: urllib3 already gave the connection back to its pool.
            log.debug("closing a watch response: %s", exc)
