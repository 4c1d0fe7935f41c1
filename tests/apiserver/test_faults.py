"""Injected faults, seen through the official client as a real outage would look."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from typing import Any

import pytest
import urllib3
from kubernetes import client, config, watch

from jupyter_workspaces.simulator.apiserver import ApiServer


def _namespace_names(core: client.CoreV1Api) -> list[str]:
    return [item.metadata.name for item in core.list_namespace().items]


def test_latency_delays_every_answer(server: ApiServer, core: client.CoreV1Api) -> None:
    server.faults.latency(1.0)
    started = time.monotonic()
    core.list_namespace()
    slow = time.monotonic() - started

    server.faults.clear()
    started = time.monotonic()
    core.list_namespace()
    fast = time.monotonic() - started

    assert slow >= 1.0
    assert fast < 1.0


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        pytest.param(503, "ServiceUnavailable", id="503"),
        pytest.param(500, "InternalError", id="500"),
    ],
)
def test_error_rate_answers_that_share_with_a_5xx_status(
    server: ApiServer, core: client.CoreV1Api, status: int, reason: str
) -> None:
    server.faults.error_rate(0.5, status, seed=7)
    outcomes: list[Any] = []
    for _ in range(40):
        try:
            core.read_namespace("default")
            outcomes.append("ok")
        except client.ApiException as error:
            outcomes.append((error.status, json.loads(error.body)["reason"]))

    failures = [o for o in outcomes if o != "ok"]
    assert set(failures) == {(status, reason)}
    assert 8 <= len(failures) <= 32
    # Refused requests are counted too, so a client's retries show.
    assert server.requests.count(verb="get", resource="namespaces") == 40


def test_outage_answers_503_until_recovery(server: ApiServer, core: client.CoreV1Api) -> None:
    server.faults.outage()
    with pytest.raises(client.ApiException) as raised:
        core.list_namespace()
    server.faults.recover()

    assert raised.value.status == 503
    assert "default" in _namespace_names(core)


def test_outage_can_refuse_connections_and_recover_on_the_same_port(
    server: ApiServer, core: client.CoreV1Api
) -> None:
    server.faults.outage(refuse=True)
    with pytest.raises(urllib3.exceptions.MaxRetryError):
        core.list_namespace()
    server.faults.recover()

    assert "default" in _namespace_names(core)


def test_dropped_watch_breaks_the_stream_mid_way(
    server: ApiServer, apps: client.AppsV1Api
) -> None:
    listed = apps.list_namespaced_stateful_set("default")
    watcher = watch.Watch()
    threading.Timer(0.3, server.faults.drop_watches).start()
    started = time.monotonic()

    with pytest.raises(urllib3.exceptions.ProtocolError):
        for _ in watcher.stream(
            apps.list_namespaced_stateful_set,
            "default",
            resource_version=listed.metadata.resource_version,
            timeout_seconds=30,
        ):
            pass

    assert time.monotonic() - started < 5


def test_expired_history_makes_the_next_watch_from_an_old_version_fail_with_410(
    server: ApiServer, apps: client.AppsV1Api
) -> None:
    old = apps.list_namespaced_stateful_set("default").metadata.resource_version
    server.store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "later"}})
    server.faults.expire_history()

    with pytest.raises(client.ApiException) as raised:
        list(
            watch.Watch().stream(
                apps.list_namespaced_stateful_set,
                "default",
                resource_version=old,
                timeout_seconds=2,
            )
        )
    fresh = apps.list_namespaced_stateful_set("default").metadata.resource_version
    resumed = list(
        watch.Watch().stream(
            apps.list_namespaced_stateful_set, "default", resource_version=fresh, timeout_seconds=1
        )
    )

    assert raised.value.status == 410
    assert f"too old resource version: {old}" in raised.value.reason
    assert resumed == []


def test_continuing_a_list_after_history_expired_answers_410(
    server: ApiServer, core: client.CoreV1Api
) -> None:
    for index in range(3):
        core.create_namespaced_service(
            "default", {"metadata": {"name": f"s{index}"}, "spec": {"ports": [{"port": 80}]}}
        )
    first = core.list_namespaced_service("default", limit=2)
    core.create_namespaced_service(
        "default", {"metadata": {"name": "later"}, "spec": {"ports": [{"port": 80}]}}
    )
    server.faults.expire_history()

    with pytest.raises(client.ApiException) as raised:
        core.list_namespaced_service("default", limit=2, _continue=first.metadata._continue)

    assert raised.value.status == 410
    assert json.loads(raised.value.body)["reason"] == "Expired"


def test_history_window_is_bounded(core: client.CoreV1Api, tmp_path: Any) -> None:
    small = ApiServer(history_size=3)
    small.start()
    try:
        api = config.new_client_from_config(str(small.write_kubeconfig(tmp_path / "k")))
        small_core = client.CoreV1Api(api)
        start = small_core.list_namespaced_service("default").metadata.resource_version
        for index in range(5):
            small_core.create_namespaced_service(
                "default", {"metadata": {"name": f"s{index}"}, "spec": {"ports": [{"port": 80}]}}
            )
        with pytest.raises(client.ApiException) as raised:
            list(
                watch.Watch().stream(
                    small_core.list_namespaced_service,
                    "default",
                    resource_version=start,
                    timeout_seconds=1,
                )
            )
        api.close()
    finally:
        small.stop()

    assert raised.value.status == 410


def test_admin_endpoint_injects_and_clears_faults_with_the_token(server: ApiServer) -> None:
    def post(body: dict[str, Any], token: str) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(
            f"{server.url}/simulator/faults",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    refused, _ = post({"outage": True}, "not-the-token")
    injected, state = post({"latency": 0.2, "error_rate": 0.1, "status": 500}, server.token)
    unknown, problem = post({"earthquake": True}, server.token)
    cleared, after = post({"clear": True}, server.token)

    assert refused == 401 and not server.faults.down
    assert injected == 200 and state["latency"] == 0.2 and state["error_rate"] == 0.1
    assert unknown == 400 and "earthquake" in problem["message"]
    assert cleared == 200 and after["latency"] == 0 and after["error_rate"] == 0
