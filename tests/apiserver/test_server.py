"""The server as other parts of the simulator use it: kubeconfig, TLS, seeding, counting."""

from __future__ import annotations

import logging
import shutil
import stat
import subprocess
import threading
from pathlib import Path

import pytest
import yaml
from kubernetes import client, config, watch

from jupyter_workspaces.simulator.apiserver import ApiServer


def _sts(name: str, namespace: str) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "serviceName": name,
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "i:1"}]},
            },
        },
    }


def test_kubeconfig_is_private_and_names_the_server_and_token(
    server: ApiServer, kubeconfig: Path
) -> None:
    content = yaml.safe_load(kubeconfig.read_text())

    assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
    assert content["clusters"][0]["cluster"]["server"] == server.url
    assert server.url.startswith("http://127.0.0.1:")
    assert content["users"][0]["user"]["token"] == server.token


def test_seeded_objects_are_listed_through_the_client(
    server: ApiServer, apps: client.AppsV1Api
) -> None:
    server.store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "p1"}})
    running = _sts("ready", "p1")
    running["status"] = {"replicas": 1, "readyReplicas": 1}

    count = server.store.seed([_sts(f"ws-{i:03d}", "p1") for i in range(200)] + [running])
    listed = apps.list_namespaced_stateful_set("p1")

    assert count == 201
    assert len(listed.items) == 201
    assert apps.read_namespaced_stateful_set("ready", "p1").status.ready_replicas == 1
    assert all(item.metadata.uid for item in listed.items)


def test_request_counter_counts_by_verb_and_resource(
    server: ApiServer, core: client.CoreV1Api, apps: client.AppsV1Api
) -> None:
    server.requests.reset()
    core.list_namespace()
    apps.create_namespaced_stateful_set("default", _sts("ws", "default"))
    apps.patch_namespaced_stateful_set_scale("ws", "default", {"spec": {"replicas": 0}})
    apps.read_namespaced_stateful_set("ws", "default")

    assert server.requests.count(verb="list", resource="namespaces") == 1
    assert server.requests.count(verb="create", resource="statefulsets") == 1
    assert server.requests.count(verb="patch", resource="statefulsets/scale") == 1
    assert server.requests.count(resource="statefulsets") == 2
    assert server.requests.total == 4


def test_bookmarks_come_every_interval_on_a_quiet_watch(
    server: ApiServer, apps: client.AppsV1Api
) -> None:
    listed = apps.list_namespaced_stateful_set("default")

    events = list(
        watch.Watch().stream(
            apps.list_namespaced_stateful_set,
            "default",
            resource_version=listed.metadata.resource_version,
            allow_watch_bookmarks=True,
            timeout_seconds=2,
        )
    )

    assert len(events) >= 2
    assert {event["type"] for event in events} == {"BOOKMARK"}


def test_watch_sees_changes_made_directly_in_the_store(
    server: ApiServer, apps: client.AppsV1Api
) -> None:
    listed = apps.list_namespaced_stateful_set("default")
    threading.Timer(0.2, lambda: server.store.create(_sts("direct", "default"))).start()

    for event in watch.Watch().stream(
        apps.list_namespaced_stateful_set,
        "default",
        resource_version=listed.metadata.resource_version,
        timeout_seconds=5,
    ):
        assert (event["type"], event["object"].metadata.name) == ("ADDED", "direct")
        break
    else:
        pytest.fail("no event for an object created in the store")


def test_token_never_appears_in_the_logs(
    server: ApiServer, core: client.CoreV1Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    core.list_namespace()
    server.faults.latency(0.01)
    server.faults.clear()

    assert caplog.records, "expected request logs at DEBUG"
    assert server.token not in caplog.text


def test_https_server_works_with_the_client_and_kubectl(tmp_path: Path) -> None:
    with ApiServer(tls=True) as secure:
        path = secure.write_kubeconfig(tmp_path / "kubeconfig")
        secure.store.create(_sts("ws", "default"))
        api = config.new_client_from_config(str(path))
        names = [
            s.metadata.name
            for s in client.AppsV1Api(api).list_namespaced_stateful_set("default").items
        ]
        api.close()
        kubectl = shutil.which("kubectl")
        shown = ""
        if kubectl:
            shown = subprocess.run(
                [kubectl, "--kubeconfig", str(path), "get", "statefulsets", "-A"],
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            ).stdout

    assert secure.url.startswith("https://127.0.0.1:")
    assert names == ["ws"]
    if kubectl:
        # kubectl asks for a server-side Table: the READY column comes from it.
        assert shown.split("\n")[0].split() == ["NAMESPACE", "NAME", "READY", "AGE"]
        assert shown.split("\n")[1].split()[:3] == ["default", "ws", "0/1"]
