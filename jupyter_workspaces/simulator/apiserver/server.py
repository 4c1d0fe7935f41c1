"""`ApiServer`: the simulated Kubernetes API server, served by tornado on a background thread."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tornado.httpserver
import tornado.netutil
import yaml

from jupyter_workspaces.simulator.apiserver.faults import Faults, RequestCounter
from jupyter_workspaces.simulator.apiserver.handlers import make_app
from jupyter_workspaces.simulator.apiserver.http import ServerState
from jupyter_workspaces.simulator.apiserver.store import Store
from jupyter_workspaces.simulator.apiserver.tls import Certificate, self_signed

log = logging.getLogger(__name__)


class ApiServer:
    """A Kubernetes API server on 127.0.0.1 with a bearer token, over plain HTTP or HTTPS.

    Plain HTTP (the default) suits the official Python client and is fastest; `tls=True`
    serves HTTPS with a fresh self-signed certificate (in the kubeconfig), which kubectl needs
    because it sends no token over plain HTTP.

    `start()` returns once it accepts connections; `write_kubeconfig(path)` gives clients a
    kubeconfig for it. `store` holds the objects (seed it directly for speed), `faults`
    injects failures and `requests` counts what clients asked for.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token: str | None = None,
        history_size: int = 2000,
        bookmark_interval: float = 5.0,
        clock: Callable[[], float] | None = None,
        tls: bool = False,
    ) -> None:
        self.host = host
        self.tls = tls
        self._certificate: Certificate | None = None
        self.port = port
        self.token = token or secrets.token_urlsafe(24)
        self.store = Store(clock=clock or time.time, history_size=history_size)
        self.faults = Faults()
        self.requests = RequestCounter()
        self._state = ServerState(
            self.store,
            self.faults,
            self.requests,
            self.token,
            bookmark_interval=bookmark_interval,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: tornado.httpserver.HTTPServer | None = None
        self._stopped: asyncio.Event | None = None
        self.faults.on_drop_watches = self.store.tables.drop_watches
        self.faults.on_expire_history = self.store.tables.expire_history
        self.faults.on_outage = self._on_outage
        self.faults.on_recover = self._on_recover

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def start(self) -> None:
        """Serve on a background thread; returns once the port accepts connections."""
        if self._thread is not None:
            raise RuntimeError(f"the API server at {self.url} is already running")
        if self.tls and self._certificate is None:
            self._certificate = self_signed()
        sockets = tornado.netutil.bind_sockets(self.port, self.host, family=socket.AF_INET)
        self.port = sockets[0].getsockname()[1]
        self._state.address = f"{self.host}:{self.port}"
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(sockets, ready), name=f"apiserver-{self.port}", daemon=True
        )
        self._thread.start()
        ready.wait()
        log.info("API server listening on %s", self.url)

    def _run(self, sockets: list[socket.socket], ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop

        async def serve() -> None:
            self._stopped = asyncio.Event()
            self._server = self._http_server()
            self._server.add_sockets(sockets)
            ready.set()
            await self._stopped.wait()
            self._server.stop()
            self.store.tables.drop_watches()
            await asyncio.sleep(0.05)
            await self._server.close_all_connections()

        try:
            loop.run_until_complete(serve())
        finally:
            loop.close()

    def _http_server(self) -> tornado.httpserver.HTTPServer:
        context = self._certificate.server_context() if self._certificate else None
        return tornado.httpserver.HTTPServer(make_app(self._state), ssl_options=context)

    def stop(self) -> None:
        """Close every connection and stop serving."""
        if self._thread is None or self._loop is None or self._stopped is None:
            return
        stopped = self._stopped
        self._loop.call_soon_threadsafe(stopped.set)
        self._thread.join(timeout=10)
        self._thread = None
        log.info("API server on %s stopped", self.url)

    def __enter__(self) -> ApiServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def kubeconfig(self, namespace: str = "default") -> dict[str, Any]:
        """The kubeconfig, as a dict, that reaches this server with its token."""
        cluster: dict[str, Any] = {"server": self.url}
        if self._certificate is not None:
            authority = base64.b64encode(self._certificate.pem).decode()
            cluster["certificate-authority-data"] = authority
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "simulator", "cluster": cluster}],
            "users": [{"name": "simulator", "user": {"token": self.token}}],
            "contexts": [
                {
                    "name": "simulator",
                    "context": {
                        "cluster": "simulator",
                        "user": "simulator",
                        "namespace": namespace,
                    },
                }
            ],
            "current-context": "simulator",
            "preferences": {},
        }

    def write_kubeconfig(self, path: str | os.PathLike[str], namespace: str = "default") -> Path:
        """Write a kubeconfig (readable by its owner only) that reaches this server."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            yaml.safe_dump(self.kubeconfig(namespace), handle, sort_keys=False)
        return target

    # Outage by refusing connections: stop listening, listen again on recovery.

    def _on_outage(self, refuse: bool) -> None:
        if refuse and self._loop is not None:
            self._call_in_loop(lambda: self._server.stop() if self._server else None)

    def _on_recover(self) -> None:
        def listen() -> None:
            sockets = tornado.netutil.bind_sockets(self.port, self.host, family=socket.AF_INET)
            self._server = self._http_server()
            self._server.add_sockets(sockets)

        self._call_in_loop(listen)

    def _call_in_loop(self, action: Callable[[], object]) -> None:
        if self._loop is None:
            return
        done = threading.Event()

        def run() -> None:
            try:
                action()
            finally:
                done.set()

        if threading.current_thread() is self._thread:
            run()
            return
        self._loop.call_soon_threadsafe(run)
        done.wait(timeout=5)
