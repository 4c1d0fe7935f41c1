"""Create, read, list, replace and delete: metadata filled in, and the exact error answers."""

from __future__ import annotations

import pytest
from kubernetes import client

from tests.contract.conftest import Backend, statefulset, status_body


def test_create_fills_in_metadata_as_a_real_server(apps: client.AppsV1Api, namespace: str) -> None:
    created = apps.create_namespaced_stateful_set(namespace, statefulset("ws"))

    meta = created.metadata
    assert meta.namespace == namespace
    assert meta.uid and len(meta.uid) == 36
    assert int(meta.resource_version) > 0
    assert meta.creation_timestamp is not None
    assert meta.generation == 1
    assert created.spec.pod_management_policy == "OrderedReady"
    assert created.spec.template.spec.restart_policy == "Always"


def test_create_twice_answers_409_already_exists(apps: client.AppsV1Api, namespace: str) -> None:
    apps.create_namespaced_stateful_set(namespace, statefulset("ws"))

    with pytest.raises(client.ApiException) as raised:
        apps.create_namespaced_stateful_set(namespace, statefulset("ws"))

    assert raised.value.status == 409
    body = status_body(raised.value)
    assert body["kind"] == "Status" and body["status"] == "Failure"
    assert body["reason"] == "AlreadyExists"
    assert body["message"] == 'statefulsets.apps "ws" already exists'
    assert body["details"] == {"name": "ws", "group": "apps", "kind": "statefulsets"}


@pytest.mark.parametrize(
    ("read", "message"),
    [
        pytest.param(
            lambda core, apps, ns: apps.read_namespaced_stateful_set("nope", ns),
            'statefulsets.apps "nope" not found',
            id="statefulset",
        ),
        pytest.param(
            lambda core, apps, ns: core.read_namespaced_pod("nope", ns),
            'pods "nope" not found',
            id="pod",
        ),
        pytest.param(
            lambda core, apps, ns: core.read_namespaced_persistent_volume_claim("nope", ns),
            'persistentvolumeclaims "nope" not found',
            id="pvc",
        ),
    ],
)
def test_missing_object_answers_404_worded_like_a_real_server(
    core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str, read, message: str
) -> None:
    with pytest.raises(client.ApiException) as raised:
        read(core, apps, namespace)

    assert raised.value.status == 404
    body = status_body(raised.value)
    assert body["reason"] == "NotFound"
    assert body["message"] == message
    assert body["code"] == 404


def test_replace_with_stale_resource_version_answers_409_conflict(
    apps: client.AppsV1Api, namespace: str
) -> None:
    first = apps.create_namespaced_stateful_set(namespace, statefulset("ws"))
    stale = first.metadata.resource_version
    apps.patch_namespaced_stateful_set("ws", namespace, {"metadata": {"labels": {"x": "1"}}})

    body = statefulset("ws")
    body["metadata"]["resourceVersion"] = stale
    with pytest.raises(client.ApiException) as raised:
        apps.replace_namespaced_stateful_set("ws", namespace, body)

    assert raised.value.status == 409
    status = status_body(raised.value)
    assert status["reason"] == "Conflict"
    assert status["message"] == (
        'Operation cannot be fulfilled on statefulsets.apps "ws": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )


def test_generation_counts_spec_changes_only(apps: client.AppsV1Api, namespace: str) -> None:
    apps.create_namespaced_stateful_set(namespace, statefulset("ws"))

    relabelled = apps.patch_namespaced_stateful_set(
        "ws", namespace, {"metadata": {"labels": {"x": "1"}}}
    )
    scaled = apps.patch_namespaced_stateful_set("ws", namespace, {"spec": {"replicas": 0}})

    assert relabelled.metadata.generation == 1
    assert scaled.metadata.generation == 2
    assert int(scaled.metadata.resource_version) > int(relabelled.metadata.resource_version)


def test_list_carries_a_resource_version_and_every_item(
    apps: client.AppsV1Api, namespace: str
) -> None:
    for name in ("a", "b", "c"):
        apps.create_namespaced_stateful_set(namespace, statefulset(name))

    listed = apps.list_namespaced_stateful_set(namespace)

    assert [item.metadata.name for item in listed.items] == ["a", "b", "c"]
    assert int(listed.metadata.resource_version) >= max(
        int(item.metadata.resource_version) for item in listed.items
    )


def test_delete_removes_the_object(apps: client.AppsV1Api, namespace: str) -> None:
    apps.create_namespaced_stateful_set(namespace, statefulset("ws"))

    apps.delete_namespaced_stateful_set("ws", namespace)

    with pytest.raises(client.ApiException) as raised:
        apps.read_namespaced_stateful_set("ws", namespace)
    assert raised.value.status == 404


def test_create_in_missing_namespace_answers_404(core: client.CoreV1Api) -> None:
    with pytest.raises(client.ApiException) as raised:
        core.create_namespaced_service(
            "no-such-project", {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}}
        )

    assert raised.value.status == 404
    assert status_body(raised.value)["message"] == 'namespaces "no-such-project" not found'


def test_request_without_the_token_answers_401(backend: Backend) -> None:
    api_client = backend.api_client()
    api_client.configuration.refresh_api_key_hook = None
    api_client.configuration.api_key = {"BearerToken": "Bearer wrong-token"}
    core = client.CoreV1Api(api_client)

    with pytest.raises(client.ApiException) as raised:
        core.list_namespace()

    assert raised.value.status == 401
    body = status_body(raised.value)
    assert body["reason"] == "Unauthorized"
    assert "wrong-token" not in raised.value.body
