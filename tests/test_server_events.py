"""Status changes in the cluster reach the server's event stream without polling."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from kubernetes import client

from jupyter_workspaces.server.events import SCHEMA_ID
from tests.server_helpers import Fetch, eventually, spec_body

pytest_plugins = ["pytest_jupyter.jupyter_server", "tests.server_support"]


async def next_event(
    ws: Any, wanted: Callable[[dict[str, Any]], bool], timeout: float = 20
) -> dict[str, Any]:
    """Read the event stream until a workspace event is `wanted`; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no wanted workspace event within {timeout} s"
        message = await asyncio.wait_for(ws.read_message(), left)
        assert message is not None, "the event stream closed"
        event: dict[str, Any] = json.loads(message)
        if event.get("schema_id") == SCHEMA_ID and wanted(event):
            return event


async def test_stopping_in_the_cluster_emits_a_stopped_event(
    api: Fetch, jp_ws_fetch: Fetch, kube_client: Any
) -> None:
    await api("workspaces", method="POST", body=spec_body("alpha"))

    async def active() -> bool:
        found = json.loads((await api("workspaces", "vision", "alpha")).body)
        return bool(found["status"]["status"] == "Active")

    await eventually(active)
    ws = await jp_ws_fetch("api", "events", "subscribe")
    try:
        # Someone stops it with kubectl, behind the extension's back.
        client.AppsV1Api(kube_client).patch_namespaced_stateful_set_scale(
            "alpha", "vision", {"spec": {"replicas": 0}}
        )
        event = await next_event(ws, lambda e: e["name"] == "alpha" and e["status"] == "Stopped")
    finally:
        ws.close()
    assert event["action"] == "updated"
    assert event["project"] == "vision"
    assert event["reason"] and event["message"]
    assert event["workspace"]["status"]["status"] == "Stopped"
    assert event["workspace"]["owner"] == "ada"


async def test_deleting_emits_a_deleted_event(api: Fetch, jp_ws_fetch: Fetch) -> None:
    ws = await jp_ws_fetch("api", "events", "subscribe")
    try:
        await api("workspaces", method="POST", body=spec_body("alpha"))
        await next_event(ws, lambda e: e["name"] == "alpha" and e["action"] == "updated")
        await api("workspaces", "vision", "alpha", method="DELETE")
        event = await next_event(ws, lambda e: e["action"] == "deleted")
    finally:
        ws.close()
    assert (event["project"], event["name"]) == ("vision", "alpha")
    assert event["status"] is None and event["workspace"] is None
