"""Forward the service's change feed to jupyter_server's event stream as status events."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema

from jupyter_workspaces.records import Workspace, WorkspaceDeleted
from jupyter_workspaces.server.encoding import dumps

log = logging.getLogger(__name__)

SCHEMA_ID = "https://events.jupyter.org/jupyter_workspaces/workspace-status/v1"
SCHEMA_PATH = Path(__file__).with_name("workspace-status.v1.yaml")

Change = Workspace | WorkspaceDeleted


def json_ready(value: Any) -> Any:
    """Return `value` with datetimes turned into ISO-8601 strings, ready for JSON."""
    return json.loads(dumps(value))


def event_data(change: Change) -> dict[str, Any]:
    """Return the event payload for one change, as the registered schema describes it."""
    if isinstance(change, WorkspaceDeleted):
        return {
            "action": "deleted",
            "project": change.project,
            "name": change.name,
            "status": None,
            "reason": None,
            "message": None,
            "since": None,
            "workspace": None,
        }
    record = json_ready(change.to_dict())
    return {
        "action": "updated",
        "project": change.project,
        "name": change.name,
        "status": change.status.status,
        "reason": change.status.reason,
        "message": change.status.message,
        "since": record["status"]["since"],
        "workspace": record,
    }


class EventBridge:
    """Receives changes on the service's thread and emits them on the server's IOLoop.

    jupyter_events runs its listeners as asyncio tasks, so `emit` must happen on the event
    loop's thread; the service calls back from its watch thread, hence the hop.
    """

    def __init__(self, event_logger: Any, io_loop: Any) -> None:
        self._event_logger = event_logger
        self._io_loop = io_loop
        self._unsubscribe: Callable[[], None] | None = None
        self._closed = False

    def register_schema(self) -> None:
        """Register the workspace-status schema with the server's event logger."""
        if SCHEMA_ID not in self._event_logger.schemas:
            self._event_logger.register_event_schema(SCHEMA_PATH)

    def attach(self, subscribe: Callable[[Callable[[Change], None]], Callable[[], None]]) -> None:
        """Start forwarding the changes of a service's `subscribe` feed."""
        self._unsubscribe = subscribe(self.on_change)

    def close(self) -> None:
        """Stop forwarding; changes still queued on the loop are dropped."""
        self._closed = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def on_change(self, change: Change) -> None:
        """Called from the service's thread: hand the change to the IOLoop."""
        if not self._closed:
            self._io_loop.add_callback(self.emit, change)

    def emit(self, change: Change) -> None:
        """Emit one change as an event; runs on the IOLoop thread."""
        if self._closed:
            return
        try:
            self._event_logger.emit(schema_id=SCHEMA_ID, data=event_data(change))
        except (TypeError, ValueError, jsonschema.ValidationError) as error:
            # A record the schema refuses is a bug in this package; say which one and go on,
            # so one bad record does not silence the feed for every other workspace.
            log.error(
                "%s/%s: could not emit its status event: %s", change.project, change.name, error
            )
