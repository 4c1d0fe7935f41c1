"""The resource handler (every verb on every served resource) and the route table."""

from __future__ import annotations

import json
import logging
from typing import Any

import tornado.web

from jupyter_workspaces.simulator.apiserver import printing, subresources
from jupyter_workspaces.simulator.apiserver.failures import (
    ApiError,
    bad_request,
    internal,
    method_not_allowed,
    no_such_path,
)
from jupyter_workspaces.simulator.apiserver.http import (
    AdminHandler,
    BaseHandler,
    DiscoveryHandler,
    Route,
    ServerState,
    WatchStream,
    parse_route,
)
from jupyter_workspaces.simulator.apiserver.patch import STRATEGIC
from jupyter_workspaces.simulator.apiserver.resources import Obj
from jupyter_workspaces.simulator.apiserver.selectors import (
    parse_field_selector,
    parse_label_selector,
)
from jupyter_workspaces.simulator.apiserver.store import check_continue

log = logging.getLogger(__name__)


class ResourceHandler(BaseHandler):
    """Every verb on `/api/v1/...` and `/apis/apps/v1/...`."""

    route: Route | None = None

    def arrived(self) -> None:
        # Counted even when a fault then fails it: tests see a client's retries.
        parts = [p for p in self.request.path.split("/") if p]
        self.route = parse_route(parts) if len(parts) >= 3 else None
        if self.route is not None:
            self.state.requests.add(self._verb(), self._resource_name())

    async def prepare(self) -> None:
        await super().prepare()
        if not self._finished and self.route is None:
            self.fail(no_such_path())

    def _verb(self) -> str:
        route, method = self.route, self.request.method
        assert route is not None
        collection = route.name is None
        if method == "GET":
            if collection:
                return "watch" if self._query("watch") in ("true", "1") else "list"
            return "get"
        if method == "DELETE":
            return "deletecollection" if collection else "delete"
        return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method or "", "unknown")

    def _resource_name(self) -> str:
        assert self.route is not None
        sub = f"/{self.route.subresource}" if self.route.subresource else ""
        return self.route.resource.plural + sub

    def _query(self, name: str) -> str | None:
        value = self.get_query_argument(name, None)
        return value if value is None else str(value)

    async def _serve(self, action: Any) -> None:
        try:
            result = action()
            if hasattr(result, "__await__"):
                await result
        except ApiError as error:
            self.fail(error)
        except Exception as error:
            log.exception("%s %s failed", self.request.method, self.request.path)
            self.fail(internal(f"{type(error).__name__}: {error}"))

    async def get(self) -> None:
        await self._serve(self._get)

    async def post(self) -> None:
        await self._serve(self._post)

    async def put(self) -> None:
        await self._serve(self._put)

    async def patch(self) -> None:
        await self._serve(self._patch)

    async def delete(self) -> None:
        await self._serve(self._delete)

    # Verbs

    async def _get(self) -> None:
        route = self.route
        assert route is not None
        store = self.state.store
        if route.name is None:
            if self._verb() == "watch":
                await WatchStream(self).run(route, self._queries())
            else:
                self._list(route)
            return
        if route.subresource == "scale":
            self.answer(subresources.get_scale(store, route.name, route.namespace or ""))
        elif route.subresource in (None, "status"):
            obj = store.get(route.resource, route.name, route.namespace)
            if printing.wants_table(self.request.headers.get("Accept", "")):
                meta = {"resourceVersion": obj["metadata"]["resourceVersion"]}
                obj = printing.table(route.resource, [obj], meta, store.clock())
            self.answer(obj)
        else:
            raise method_not_allowed("GET", self._resource_name())

    def _queries(self) -> dict[str, str]:
        return {key: self.get_query_argument(key) for key in self.request.query_arguments}

    def _list(self, route: Route) -> None:
        store, query = self.state.store, self._queries()
        labels = parse_label_selector(query.get("labelSelector"))
        fields = parse_field_selector(query.get("fieldSelector"), route.resource)
        try:
            limit = int(query.get("limit") or 0)
        except ValueError:
            raise bad_request(f"limit must be a whole number, got {query['limit']!r}") from None
        token = query.get("continue") or None
        if token:
            check_continue(store, token, route.resource)
        listed = store.list_bytes(route.resource, route.namespace, labels, fields, limit, token)
        if printing.wants_table(self.request.headers.get("Accept", "")):
            body = json.loads(listed)
            now = store.clock()
            self.answer(printing.table(route.resource, body["items"], body["metadata"], now))
            return
        self.answer(listed)

    def _prepared_body(self) -> Obj:
        route = self.route
        assert route is not None
        body = self.body_json()
        if not isinstance(body, dict):
            raise bad_request("the request body must be a JSON object")
        body.setdefault("apiVersion", route.resource.api_version)
        body.setdefault("kind", route.resource.kind)
        meta = body.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise bad_request(f"metadata must be a JSON object, got {type(meta).__name__}")
        if route.namespace is not None:
            if meta.get("namespace") and meta["namespace"] != route.namespace:
                raise bad_request(
                    "the namespace of the provided object does not match the namespace sent on "
                    "the request"
                )
            meta["namespace"] = route.namespace
        return body

    def _post(self) -> None:
        route, store = self.route, self.state.store
        assert route is not None
        if route.subresource == "binding" or route.resource.plural == "bindings":
            binding = self.body_json()
            if not isinstance(binding, dict):
                raise bad_request("the binding must be a JSON object")
            name = route.name or (binding.get("metadata") or {}).get("name", "")
            self.answer(subresources.bind(store, name, route.namespace or "", binding), 201)
            return
        if route.name is not None:
            raise method_not_allowed("POST", self._resource_name())
        body = self._prepared_body()
        if self._query("dryRun"):
            raise bad_request("dryRun is not supported by the simulator")
        self.answer(store.create(body), 201)

    def _put(self) -> None:
        route, store = self.route, self.state.store
        assert route is not None
        if route.name is None:
            raise method_not_allowed("PUT", self._resource_name())
        if route.subresource == "scale":
            body = self.body_json()
            self.answer(
                subresources.update_scale(store, route.name, route.namespace or "", body, None)
            )
            return
        body = self._prepared_body()
        if body["metadata"].get("name") not in (None, route.name):
            raise bad_request(
                f"the name of the object ({body['metadata']['name']}) does not match the name "
                f"on the URL ({route.name})"
            )
        body["metadata"]["name"] = route.name
        self.answer(store.update(body, subresource=route.subresource))

    def _patch(self) -> None:
        route, store = self.route, self.state.store
        assert route is not None
        if route.name is None:
            raise method_not_allowed("PATCH", self._resource_name())
        content_type = self.request.headers.get("Content-Type", STRATEGIC)
        body = self.body_json()
        if route.subresource == "scale":
            self.answer(
                subresources.update_scale(
                    store, route.name, route.namespace or "", body, content_type
                )
            )
            return
        self.answer(
            store.patch(
                route.resource,
                route.name,
                route.namespace,
                body,
                content_type,
                subresource=route.subresource,
            )
        )

    def _delete_options(self) -> dict[str, Any]:
        options = self.body_json() if self.request.body else {}
        if not isinstance(options, dict):
            raise bad_request("the delete options must be a JSON object")
        propagation = options.get("propagationPolicy") or self._query("propagationPolicy")
        grace = options.get("gracePeriodSeconds")
        if grace is None and self._query("gracePeriodSeconds") is not None:
            grace = self._query("gracePeriodSeconds")
        try:
            grace_seconds = None if grace is None else int(grace)
        except ValueError:
            raise bad_request(f"gracePeriodSeconds must be whole seconds, got {grace!r}") from None
        return {
            "propagation": propagation,
            "grace_seconds": grace_seconds,
            "preconditions": options.get("preconditions") or {},
        }

    def _delete(self) -> None:
        route, store = self.route, self.state.store
        assert route is not None
        options = self._delete_options()
        if route.name is None:
            self._delete_collection(route, options)
            return
        if route.subresource is not None:
            raise method_not_allowed("DELETE", self._resource_name())
        obj, present = store.delete(route.resource, route.name, route.namespace, **options)
        resource = route.resource
        if not resource.delete_answers_status and (present or resource.returns_deleted_object):
            self.answer(obj)
            return
        details: dict[str, Any] = {"name": route.name}
        if route.resource.group:
            details["group"] = route.resource.group
        details["kind"] = route.resource.plural
        details["uid"] = obj["metadata"]["uid"]
        self.answer(
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "details": details,
            }
        )

    def _delete_collection(self, route: Route, options: dict[str, Any]) -> None:
        store, query = self.state.store, self._queries()
        items = store.list(
            route.resource, route.namespace, query.get("labelSelector"), query.get("fieldSelector")
        )
        deleted = []
        for item in items:
            meta = item["metadata"]
            try:
                obj, _ = store.delete(
                    route.resource, meta["name"], meta.get("namespace"), **options
                )
            except ApiError as error:
                if error.code != 404:
                    raise
                continue
            deleted.append(obj)
        self.answer(
            {
                "kind": route.resource.list_kind,
                "apiVersion": route.resource.api_version,
                "metadata": {"resourceVersion": str(store.tables.rv)},
                "items": deleted,
            }
        )


def make_app(state: ServerState) -> tornado.web.Application:
    """The tornado application: discovery, admin and resource paths."""
    arguments = {"state": state}
    routes: list[Any] = [
        (
            r"/(version|healthz|readyz|livez|api|apis|api/v1|apis/[^/]+|apis/[^/]+/[^/]+)/?",
            DiscoveryHandler,
            arguments,
        ),
        (r"/simulator/(faults|requests)", AdminHandler, arguments),
        (r"/(?:api|apis)/.*", ResourceHandler, arguments),
        (r"/(.*)", DiscoveryHandler, arguments),
    ]
    return tornado.web.Application(routes, log_function=_log_request, compress_response=False)


def _log_request(handler: tornado.web.RequestHandler) -> None:
    # The path and status only: headers (which carry the token) are never logged.
    log.debug(
        "%s %s -> %d (%.1f ms)",
        handler.request.method,
        handler.request.path,
        handler.get_status(),
        1000 * handler.request.request_time(),
    )
