"""HTTP basics: authentication, faults, path parsing, discovery and admin handlers, watch streams.

Handlers stay thin: they parse the request, call the `Store` (or a subresource helper) and
turn an `ApiError` into a `Status` answer. The resource handler and the route table are in
`handlers`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import random
from dataclasses import dataclass, field
from typing import Any

import tornado.iostream
import tornado.web

from jupyter_workspaces.simulator.apiserver import discovery
from jupyter_workspaces.simulator.apiserver.failures import (
    ApiError,
    bad_request,
    internal,
    method_not_allowed,
    no_such_path,
    unauthorized,
)
from jupyter_workspaces.simulator.apiserver.faults import Faults, RequestCounter
from jupyter_workspaces.simulator.apiserver.resources import CATALOGUE, Obj, Resource
from jupyter_workspaces.simulator.apiserver.selectors import (
    parse_field_selector,
    parse_label_selector,
)
from jupyter_workspaces.simulator.apiserver.store import Store
from jupyter_workspaces.simulator.apiserver.tables import Watcher, dump

log = logging.getLogger(__name__)


@dataclass
class ServerState:
    """What every handler shares: the store, faults, counter, token and settings."""

    store: Store
    faults: Faults
    requests: RequestCounter
    token: str
    address: str = ""
    bookmark_interval: float = 5.0
    # Open watch answers, so that a test or the admin endpoint can see how many there are.
    streams: set[WatchStream] = field(default_factory=set)


@dataclass(frozen=True)
class Route:
    resource: Resource
    namespace: str | None
    name: str | None
    subresource: str | None


def parse_route(parts: list[str]) -> Route | None:
    """Match `[namespaces/NS/]PLURAL[/NAME[/SUB]]` below a group version."""
    group_version = parts[:2] if parts[0] == "api" else parts[:3]
    group = "" if parts[0] == "api" else parts[1]
    rest = parts[len(group_version) :]
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        candidate = CATALOGUE.find(group, rest[2])
        if candidate is not None and candidate.namespaced:
            namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        return None
    resource = CATALOGUE.find(group, rest[0])
    if resource is None:
        return None
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    if resource.namespaced and namespace is None and name is not None:
        return None
    if sub is not None and sub not in resource.subresources:
        return None
    return Route(resource, namespace, name, sub)


class BaseHandler(tornado.web.RequestHandler):
    """Authentication, faults and `Status` answers shared by every path."""

    state: ServerState
    # The watch this request answers, told when its client closes the connection.
    watch: WatchStream | None = None

    def initialize(self, state: ServerState) -> None:
        self.state = state

    def on_connection_close(self) -> None:
        if self.watch is not None:
            self.watch.client_closed()

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.clear_header("Server")

    async def prepare(self) -> None:
        # The scheme is case-insensitive, as kube-apiserver reads it: the official client's
        # in-cluster loader sends "bearer <token>".
        scheme, _, supplied = self.request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            supplied.strip().encode(), self.state.token.encode()
        ):
            self.fail(unauthorized())
            return
        if self.request.path.startswith("/simulator/"):
            return
        self.arrived()
        faults = self.state.faults
        if faults.delay:
            await asyncio.sleep(faults.delay)
        failure = faults.failure()
        if failure is not None:
            self.fail(failure)

    def arrived(self) -> None:
        """Called for every authenticated request before faults act on it."""

    def fail(self, error: ApiError) -> None:
        self.set_status(error.code)
        self.finish(dump(error.status()))

    def answer(self, body: Obj | bytes, status: int = 200) -> None:
        self.set_status(status)
        self.finish(body if isinstance(body, bytes) else dump(body))

    def body_json(self) -> Any:
        try:
            return json.loads(self.request.body or b"null")
        except ValueError as error:
            raise bad_request(f"the request body is not valid JSON: {error}") from error

    def abort(self) -> None:
        """Close the connection without ending the answer; nothing more is sent."""
        connection = self.request.connection
        if connection is not None:
            connection.close()  # type: ignore[attr-defined]
        self._finished = True

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Errors tornado raises itself (an unknown method...) as a `Status` too."""
        if status_code == 405:
            error = method_not_allowed(self.request.method or "", self.request.path)
        elif status_code >= 500:
            error = internal(self._reason)
        else:
            error = ApiError(status_code, self._reason.replace(" ", ""), self._reason)
        self.finish(dump(error.status()))


class DiscoveryHandler(BaseHandler):
    """`/version`, `/api`, `/apis`, group and group-version documents, health checks."""

    def get(self, path: str) -> None:
        parts = [p for p in path.split("/") if p]
        body: Obj | None = None
        if parts == ["version"]:
            body = discovery.VERSION
        elif parts in (["healthz"], ["readyz"], ["livez"]):
            self.set_header("Content-Type", "text/plain")
            self.finish(b"ok")
            return
        elif parts == ["api"]:
            body = discovery.core_versions(self.state.address)
        elif parts == ["apis"]:
            body = discovery.group_list()
        elif len(parts) == 2 and parts[0] == "apis":
            body = discovery.group(parts[1])
        elif parts == ["api", "v1"]:
            body = discovery.resource_list("", "v1")
        elif len(parts) == 3 and parts[0] == "apis":
            body = discovery.resource_list(parts[1], parts[2])
        if body is None:
            self.fail(no_such_path())
        else:
            self.answer(body)


class AdminHandler(BaseHandler):
    """`/simulator/faults` (GET, POST) and `/simulator/requests` (GET, DELETE resets)."""

    def get(self, what: str) -> None:
        if what == "faults":
            self.answer({**self.state.faults.describe(), "open_watches": len(self.state.streams)})
        elif what == "requests":
            self.answer({"total": self.state.requests.total, **self.state.requests.snapshot()})
        else:
            self.fail(no_such_path())

    def post(self, what: str) -> None:
        if what != "faults":
            self.fail(no_such_path())
            return
        try:
            request = self.body_json()
            if not isinstance(request, dict):
                raise bad_request("the fault request must be a JSON object")
            self.answer(self.state.faults.apply(request))
        except ValueError as error:
            self.fail(bad_request(str(error)))
        except ApiError as error:
            self.fail(error)

    def delete(self, what: str) -> None:
        if what != "requests":
            self.fail(no_such_path())
            return
        self.state.requests.reset()
        self.answer({"total": 0})


class WatchStream:
    """One open watch answer: forwards queued events, sends bookmarks, ends on timeout.

    A client closing its connection is the normal end of a watch: the stream ends quietly
    (a DEBUG line naming what was watched), whether tornado reports the close while the watch
    waits or a write finds the connection gone.
    """

    def __init__(self, handler: BaseHandler) -> None:
        self.handler = handler
        self.loop = asyncio.get_running_loop()
        self.wakeup = asyncio.Event()
        self.gone = False
        self.what = ""

    def wake(self) -> None:
        self.loop.call_soon_threadsafe(self.wakeup.set)

    def client_closed(self) -> None:
        """Called on the server's loop when the client has closed the connection."""
        self.gone = True
        self.wakeup.set()

    async def run(self, route: Route, query: dict[str, str]) -> None:
        handler, state = self.handler, self.handler.state
        self.what = route.resource.plural + (f" in {route.namespace}" if route.namespace else "")
        since = _watch_version(query.get("resourceVersion", ""))
        labels = parse_label_selector(query.get("labelSelector"))
        fields = parse_field_selector(query.get("fieldSelector"), route.resource)
        timeout = _timeout(query.get("timeoutSeconds"))
        bookmarks = query.get("allowWatchBookmarks") == "true"
        try:
            watcher = state.store.tables.watch(
                route.resource, route.namespace, labels, fields, since, self.wake
            )
        except ApiError as error:
            # Past authentication and parsing, a real server reports this as an event.
            handler.answer(b'{"type":"ERROR","object":' + dump(error.status()) + b"}\n")
            return
        state.streams.add(self)
        handler.watch = self
        try:
            await self._pump(watcher, route.resource, timeout, bookmarks)
        finally:
            handler.watch = None
            state.streams.discard(self)
            state.store.tables.unwatch(watcher)

    async def _pump(
        self, watcher: Watcher, resource: Resource, timeout: float, bookmarks: bool
    ) -> None:
        handler, tables = self.handler, self.handler.state.store.tables
        start = self.loop.time()
        deadline = start + timeout
        # Like a real server, a bookmark about 2 s before the deadline; also one per interval.
        next_bookmark = min(start + self.handler.state.bookmark_interval, deadline - 2)
        handler.set_status(200)
        if not await self._send(b""):
            return
        while True:
            wake_at = min(deadline, next_bookmark) if bookmarks else deadline
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wakeup.wait(), max(0.0, wake_at - self.loop.time()))
            self.wakeup.clear()
            if self.gone:
                self._end_quietly()
                return
            lines, rv = tables.drain(watcher)
            if watcher.closed:
                # Abruptly, as a broken connection looks to a client.
                handler.abort()
                return
            now = self.loop.time()
            if bookmarks and now >= next_bookmark:
                lines.append(_bookmark(resource, rv))
                next_bookmark = min(now + self.handler.state.bookmark_interval, deadline - 2)
                if next_bookmark <= now:
                    next_bookmark = deadline
            if lines and not await self._send(b"".join(lines)):
                return
            if now >= deadline:
                handler.finish()
                return

    async def _send(self, chunk: bytes) -> bool:
        """Write and flush `chunk`; False (the watch ended) if the client has gone."""
        try:
            if chunk:
                self.handler.write(chunk)
            await self.handler.flush()
        except tornado.iostream.StreamClosedError:
            self._end_quietly()
            return False
        return True

    def _end_quietly(self) -> None:
        log.debug("watch of %s: the client closed the connection, watch ended", self.what)
        self.handler.abort()


def _bookmark(resource: Resource, rv: int) -> bytes:
    obj = {
        "kind": resource.kind,
        "apiVersion": resource.api_version,
        "metadata": {"resourceVersion": str(rv), "creationTimestamp": None},
    }
    return b'{"type":"BOOKMARK","object":' + dump(obj) + b"}\n"


def _watch_version(text: str) -> int | None:
    if text in ("", "0"):
        return None
    try:
        return int(text)
    except ValueError:
        raise bad_request(f"invalid resource version: {text!r}") from None


def _timeout(text: str | None) -> float:
    if text is None:
        # A real server ends a watch after a random 30 to 60 minutes.
        return random.uniform(1800, 3600)
    try:
        return max(0.0, float(text))
    except ValueError:
        raise bad_request(f"timeoutSeconds must be a number of seconds, got {text!r}") from None
