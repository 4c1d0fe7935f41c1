"""A client closing its watch is a normal end: the server forgets the watch and logs no error."""

from __future__ import annotations

import http.client
import json
import logging
from urllib.parse import urlsplit

import pytest
from kubernetes import client

from jupyter_workspaces.simulator.apiserver import ApiServer
from tests.contract.conftest import eventually


def _request(server: ApiServer, path: str) -> http.client.HTTPConnection:
    """Send an authenticated GET and return the connection, its answer's headers read."""
    address = urlsplit(server.url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    connection.request("GET", path, headers={"Authorization": f"Bearer {server.token}"})
    connection.sock.settimeout(10)
    return connection


def _open_watches(server: ApiServer) -> int:
    connection = _request(server, "/simulator/faults")
    answer = json.loads(connection.getresponse().read())
    connection.close()
    count: int = answer["open_watches"]
    return count


def _service(name: str) -> client.V1Service:
    return client.V1Service(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1ServiceSpec(ports=[client.V1ServicePort(port=80)]),
    )


@pytest.mark.parametrize(
    "changes_after_close",
    [
        # The server hears of the close while the watch waits with nothing to send.
        pytest.param(0, id="quiet-watch"),
        # Changes arrive for a watch whose client has gone: the write finds it closed.
        pytest.param(3, id="changes-after-close"),
    ],
)
def test_closing_a_watch_ends_it_quietly_and_the_server_forgets_it(
    server: ApiServer,
    core: client.CoreV1Api,
    caplog: pytest.LogCaptureFixture,
    changes_after_close: int,
) -> None:
    caplog.set_level(logging.DEBUG, logger="jupyter_workspaces.simulator.apiserver")
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="team")))
    watching = _request(server, "/api/v1/namespaces/team/services?watch=true")
    answer = watching.getresponse()
    opened = _open_watches(server)

    watching.close()
    for number in range(changes_after_close):
        core.create_namespaced_service("team", _service(f"web-{number}"))

    assert answer.status == 200 and opened == 1
    assert eventually(lambda: _open_watches(server) == 0, timeout=5)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert any(
        r.levelno == logging.DEBUG and "watch of services in team" in r.getMessage()
        for r in caplog.records
    )
