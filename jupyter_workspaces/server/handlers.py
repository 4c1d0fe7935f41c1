"""REST handlers under {base_url}workspaces/api/; thin: authenticate, parse, call the service.

Every handler is authenticated (`@web.authenticated`) and authorized by jupyter_server's
authorizer on the resource "workspaces" (GET is "read", POST and DELETE are "write"). The
service's own errors become JSON `{"message", "reason"}` answers with their HTTP status;
blocking service calls run on a worker thread so the IOLoop keeps serving.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web
from tornado.ioloop import IOLoop

from jupyter_workspaces import table
from jupyter_workspaces.constants import STATUSES
from jupyter_workspaces.errors import InvalidInput, WorkspaceError
from jupyter_workspaces.manifests import spec_from_request
from jupyter_workspaces.records import Workspace
from jupyter_workspaces.server.backend import Backend
from jupyter_workspaces.server.encoding import RecordJson, RecordMemo, dumps

if TYPE_CHECKING:
    from jupyter_workspaces.service import WorkspaceService

AUTH_RESOURCE = "workspaces"
MAX_STOP_REASON = 500

T = TypeVar("T")

# JSON text of the current records, shared by every request of this server.
RECORDS = RecordJson()
# CSV cells of the current records (every column, formulas neutralised).
CELLS: RecordMemo[tuple[Any, ...]] = RecordMemo(table.csv_cells)


class ApiError(web.HTTPError):
    """An error answered as JSON with the project's message and reason, verbatim."""

    def __init__(self, status: int, message: str, reason: str) -> None:
        # tornado %-formats log_message when it logs; keep a literal '%' literal.
        super().__init__(status, log_message=message.replace("%", "%%"), reason=reason)
        self.message = message
        self.error_reason = reason

    @classmethod
    def from_error(cls, error: WorkspaceError) -> ApiError:
        return cls(error.http_status, error.message, error.reason)


def invalid(message: str) -> ApiError:
    """Return a 400 InvalidInput answer with `message`."""
    return ApiError.from_error(InvalidInput(message))


class WorkspacesApiHandler(APIHandler):
    """Base of every route: error format, the acting user, the service off the IOLoop."""

    auth_resource = AUTH_RESOURCE

    @property
    def backend(self) -> Backend:
        backend: Backend = self.settings["workspaces_backend"]
        return backend

    @property
    def user_name(self) -> str:
        """The user the service acts for (the Jupyter user, or the configured demo user)."""
        return self.backend.acting_user(self.current_user.username)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        error = exc_info[1] if exc_info else None
        if isinstance(error, ApiError):
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"message": error.message, "reason": error.error_reason}))
            return
        super().write_error(status_code, **kwargs)

    async def call(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking service method on a worker thread; its errors become answers."""
        try:
            return await IOLoop.current().run_in_executor(None, partial(method, *args, **kwargs))
        except WorkspaceError as error:
            raise ApiError.from_error(error) from error

    def service(self) -> WorkspaceService:
        """Return the service, or answer 503 with why there is none and how to fix it."""
        try:
            return self.backend.require_service()
        except WorkspaceError as error:
            raise ApiError.from_error(error) from error

    def reply(self, body: Any, status: int = 200) -> None:
        """Answer with `body`: JSON text as it is, anything else encoded as JSON."""
        self.set_status(status)
        self.finish(body if isinstance(body, str) else dumps(body))

    def reply_record(self, record: Workspace, status: int = 200) -> None:
        self.reply(RECORDS.text(record), status)

    def json_object(self, *, required: bool) -> dict[str, Any]:
        """Return the request body as a JSON object ({} when optional and empty)."""
        raw = self.request.body
        if not raw or not raw.strip():
            if required:
                raise invalid("the request body is empty: send a JSON object")
            return {}
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise invalid(
                f"the request body is not valid JSON ({error}): send a JSON object"
            ) from error
        if not isinstance(body, dict):
            raise invalid(f"the request body is a JSON {type(body).__name__}: send an object")
        return body

    def filters(self) -> dict[str, str | None]:
        """Return the list filters project, owner and status, checked."""
        status = self.get_query_argument("status", None)
        if status is not None and status not in STATUSES:
            raise invalid(f"status {status!r} is not a status; use one of: {', '.join(STATUSES)}")
        return {
            "project": self.get_query_argument("project", None) or None,
            "owner": self.get_query_argument("owner", None) or None,
            "status": status,
        }


class WorkspacesHandler(WorkspacesApiHandler):
    """GET the workspaces the user may see (filtered); POST a new one."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        service = self.service()
        found: list[Workspace] = await self.call(service.list, self.user_name, **self.filters())
        body = await IOLoop.current().run_in_executor(None, RECORDS.list_body, "workspaces", found)
        self.reply(body)

    @web.authenticated
    @authorized
    async def post(self) -> None:
        service = self.service()
        body = self.json_object(required=True)
        try:
            spec = spec_from_request(body, owner=self.user_name)
        except WorkspaceError as error:
            raise ApiError.from_error(error) from error
        created: Workspace = await self.call(service.create, self.user_name, spec)
        base = self.settings.get("base_url", "/")
        self.set_header(
            "Location", f"{base}workspaces/api/workspaces/{created.project}/{created.name}"
        )
        self.reply_record(created, status=201)


class WorkspaceHandler(WorkspacesApiHandler):
    """GET one workspace; DELETE it (its volume only with deleteVolume=true)."""

    @web.authenticated
    @authorized
    async def get(self, project: str, name: str) -> None:
        service = self.service()
        found: Workspace = await self.call(service.get, self.user_name, project, name)
        self.reply_record(found)

    @web.authenticated
    @authorized
    async def delete(self, project: str, name: str) -> None:
        service = self.service()
        choice = self.get_query_argument("deleteVolume", "false")
        if choice not in ("true", "false"):
            raise invalid(
                f"deleteVolume {choice!r} is not allowed: use true (also delete the home "
                "volume and its data) or false (keep it; the default)"
            )
        await self.call(
            service.delete, self.user_name, project, name, delete_volume=choice == "true"
        )
        self.set_status(204)
        self.finish()


class ActivateHandler(WorkspacesApiHandler):
    """POST: ask a workspace to run."""

    @web.authenticated
    @authorized
    async def post(self, project: str, name: str) -> None:
        service = self.service()
        found: Workspace = await self.call(service.activate, self.user_name, project, name)
        self.reply_record(found)


class StopHandler(WorkspacesApiHandler):
    """POST: stop a workspace, keeping its data; an optional JSON body gives the reason."""

    @web.authenticated
    @authorized
    async def post(self, project: str, name: str) -> None:
        service = self.service()
        body = self.json_object(required=False)
        unknown = sorted(set(body) - {"reason"})
        if unknown:
            raise invalid(f"unknown field(s) {', '.join(unknown)}: a stop takes only 'reason'")
        reason = body.get("reason")
        if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_STOP_REASON):
            raise invalid(
                f"reason {reason!r:.80} is not allowed: give text of at most "
                f"{MAX_STOP_REASON} characters"
            )
        found: Workspace = await self.call(
            service.stop, self.user_name, project, name, reason=reason or None
        )
        self.reply_record(found)


class ColumnsHandler(WorkspacesApiHandler):
    """GET the column catalogue and the columns shown by default."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(
            {
                "columns": [column.to_dict() for column in table.COLUMNS],
                "default": self.backend.default_columns,
            }
        )


class ProjectsHandler(WorkspacesApiHandler):
    """GET the projects the user may see, with their quota use."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        service = self.service()
        found = await self.call(service.projects, self.user_name)
        self.reply({"projects": [project.to_dict() for project in found]})


class CsvHandler(WorkspacesApiHandler):
    """GET the table as a CSV download: chosen columns in order, filters applied."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        service = self.service()
        requested = self.get_query_argument("columns", None)
        try:
            columns = table.parse_columns(
                requested if requested is not None else self.backend.default_columns
            )
        except WorkspaceError as error:
            raise ApiError.from_error(error) from error
        found: list[Workspace] = await self.call(service.list, self.user_name, **self.filters())
        text = await IOLoop.current().run_in_executor(None, _csv, found, columns)
        filename = table.csv_filename(datetime.now(timezone.utc).date())
        self.set_header("Content-Disposition", f'attachment; filename="{filename}"')
        self.finish(text.encode("utf-8"), set_content_type="text/csv; charset=utf-8")


def _csv(found: list[Workspace], columns: list[str]) -> str:
    return table.csv_from_cells(CELLS.values(found), columns)


class StatusHandler(WorkspacesApiHandler):
    """GET how fresh the extension's view of the cluster is."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        service = self.service()
        fresh = service.freshness().to_dict()
        self.reply({"configured": True, **fresh, "simulator": self.backend.choice.simulator})


API = "/workspaces/api"
_ONE = r"(?P<project>[^/]+)/(?P<name>[^/]+)"

# The route table; test_server_openapi keeps it and openapi.yaml in step.
default_handlers: list[tuple[str, type[WorkspacesApiHandler]]] = [
    (rf"{API}/workspaces", WorkspacesHandler),
    (rf"{API}/workspaces\.csv", CsvHandler),
    (rf"{API}/workspaces/{_ONE}", WorkspaceHandler),
    (rf"{API}/workspaces/{_ONE}/activate", ActivateHandler),
    (rf"{API}/workspaces/{_ONE}/stop", StopHandler),
    (rf"{API}/columns", ColumnsHandler),
    (rf"{API}/projects", ProjectsHandler),
    (rf"{API}/status", StatusHandler),
]
