"""Answers for the tools of every Active workspace, on 127.0.0.1, so Connect can be tried.

`GET /{project}/{name}/{tool}/` returns a small page naming the workspace and the tool;
`GET /{project}/{name}/{tool}/api/status` returns Jupyter's status document, whose
`last_activity` is the pod's `LAST_ACTIVITY_ANNOTATION` (set by scenarios) or else the moment
its container started. A workspace that is not Active answers 503, an unknown workspace or a
tool it does not have 404, each with a message that says so.
"""

from __future__ import annotations

import html
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from kubernetes import client

from jupyter_workspaces import constants as c
from jupyter_workspaces.simulator.controllers.base import Informer, Obj
from jupyter_workspaces.simulator.registry import LAST_ACTIVITY_ANNOTATION

log = logging.getLogger(__name__)


def _set_summary(sts: Obj) -> dict[str, Any]:
    annotations = (sts.get("metadata") or {}).get("annotations") or {}
    tools = [t for t in (annotations.get(c.TOOLS_ANNOTATION) or "").split(",") if t]
    return {"tools": tools or ["jupyterlab"], "replicas": (sts.get("spec") or {}).get("replicas")}


def _pod_summary(pod: Obj) -> dict[str, Any]:
    status = pod.get("status") or {}
    ready = any(
        cond.get("type") == "Ready" and cond.get("status") == "True"
        for cond in status.get("conditions") or []
    )
    started = next(
        (
            (s.get("state") or {}).get("running", {}).get("startedAt")
            for s in status.get("containerStatuses") or []
            if (s.get("state") or {}).get("running")
        ),
        None,
    )
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    return {
        "ready": ready and not (pod.get("metadata") or {}).get("deletionTimestamp"),
        "phase": status.get("phase"),
        "started": started,
        "last_activity": annotations.get(LAST_ACTIVITY_ANNOTATION) or started,
    }


class ToolsServer:
    """The HTTP server behind `SimulatedCluster.tools_url_template`."""

    def __init__(self, port: int = 0) -> None:
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.sets: Informer | None = None
        self.pods: Informer | None = None
        self._lock = threading.Lock()
        self._watching = False

    @property
    def url_template(self) -> str:
        port = self._server.server_address[1] if self._server else self._port
        return f"http://127.0.0.1:{port}/{{project}}/{{name}}/{{tool}}/"

    def start(self, api: client.ApiClient) -> None:
        apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
        self.sets = Informer(
            "tools-statefulsets",
            apps.list_stateful_set_for_all_namespaces,
            lambda *_: None,
            transform=_set_summary,
            label_selector=c.MANAGED_SELECTOR,
        )
        self.pods = Informer(
            "tools-pods",
            core.list_pod_for_all_namespaces,
            lambda *_: None,
            transform=_pod_summary,
            label_selector=c.MANAGED_SELECTOR,
        )
        tools = self

        class Handler(_Handler):
            server_tools = tools

        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="tools-server", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._watching:
            for informer in (self.sets, self.pods):
                if informer is not None:
                    informer.stop()

    def _watch(self) -> None:
        """Start following workspaces at the first request: a cluster nobody connects to
        (a benchmark of 10,000 workspaces) pays nothing for it."""
        with self._lock:
            if not self._watching and self.sets and self.pods:
                self.sets.start()
                self.pods.start()
                self._watching = True
        for informer in (self.sets, self.pods):
            if informer is not None:
                informer.synced.wait(30)

    def answer(self, path: str) -> tuple[int, str, str]:
        """(HTTP status, content type, body) for a request path."""
        self._watch()
        parts = [p for p in path.split("?", 1)[0].split("/") if p]
        if len(parts) < 3:
            return _text(404, "give /{project}/{workspace}/{tool}/ to reach a workspace's tool")
        project, name, tool, rest = parts[0], parts[1], parts[2], parts[3:]
        where = f"{project}/{name}"
        sts = (self.sets.items if self.sets else {}).get(where)
        if sts is None:
            return _text(404, f"workspace {where} does not exist in the simulated cluster")
        if tool not in sts["tools"]:
            return _text(
                404,
                f"workspace {where} has no tool {tool!r}; its tools are {', '.join(sts['tools'])}",
            )
        pod = (self.pods.items if self.pods else {}).get(f"{project}/{c.pod_name(name)}")
        if pod is None or not pod["ready"]:
            why = "it is stopped" if not sts["replicas"] else "its pod is not ready yet"
            return _text(503, f"workspace {where} is not Active ({why}): {tool} cannot answer")
        if rest[-2:] == ["api", "status"]:
            body = {
                "started": pod["started"],
                "last_activity": pod["last_activity"],
                "connections": 0,
                "kernels": 0,
            }
            return 200, "application/json", json.dumps(body)
        page = (
            f"<!doctype html><title>{html.escape(tool)} · {html.escape(where)}</title>"
            f"<h1>{html.escape(tool)}</h1><p>Simulated {html.escape(tool)} of workspace "
            f"<b>{html.escape(where)}</b>.</p>"
        )
        return 200, "text/html; charset=utf-8", page


def _text(status: int, message: str) -> tuple[int, str, str]:
    return status, "application/json", json.dumps({"message": message})


class _Handler(BaseHTTPRequestHandler):
    server_tools: ToolsServer

    def do_GET(self) -> None:
        status, content_type, body = self.server_tools.answer(self.path)
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("tools: " + format, *args)
