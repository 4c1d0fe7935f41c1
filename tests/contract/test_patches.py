"""Strategic-merge (lists merged by key), JSON merge and JSON patches, and their failures."""

from __future__ import annotations

import pytest
from kubernetes import client

from tests.contract.conftest import statefulset, status_body

MERGE = "application/merge-patch+json"


def _containers(sts: client.V1StatefulSet) -> dict[str, client.V1Container]:
    return {container.name: container for container in sts.spec.template.spec.containers}


def test_strategic_merge_changes_one_container_and_keeps_the_others(
    apps: client.AppsV1Api, namespace: str
) -> None:
    apps.create_namespaced_stateful_set(namespace, statefulset("ws"))

    patched = apps.patch_namespaced_stateful_set(
        "ws",
        namespace,
        {
            "spec": {
                "template": {"spec": {"containers": [{"name": "workspace", "image": "new:2"}]}}
            }
        },
    )

    containers = _containers(patched)
    assert containers["workspace"].image == "new:2"
    assert containers["workspace"].ports[0].container_port == 8888
    assert containers["sidecar"].image == "busybox:1.36"


def test_strategic_merge_merges_env_by_name_and_deletes_with_a_directive(
    apps: client.AppsV1Api, namespace: str
) -> None:
    apps.create_namespaced_stateful_set(namespace, statefulset("ws"))
    env_patch = [{"name": "B", "value": "changed"}, {"name": "A", "$patch": "delete"},
                 {"name": "C", "value": "3"}]  # fmt: skip

    patched = apps.patch_namespaced_stateful_set(
        "ws",
        namespace,
        {
            "spec": {
                "template": {"spec": {"containers": [{"name": "workspace", "env": env_patch}]}}
            }
        },
    )

    env = {item.name: item.value for item in _containers(patched)["workspace"].env}
    assert env == {"B": "changed", "C": "3"}


def test_strategic_merge_null_removes_a_key(apps: client.AppsV1Api, namespace: str) -> None:
    body = statefulset("ws", labels={"extra": "yes"})
    apps.create_namespaced_stateful_set(namespace, body)

    patched = apps.patch_namespaced_stateful_set(
        "ws", namespace, {"metadata": {"labels": {"extra": None}}}
    )

    assert "extra" not in patched.metadata.labels
    assert patched.metadata.labels["app"] == "ws"


def test_merge_patch_replaces_lists_whole(apps: client.AppsV1Api, namespace: str) -> None:
    apps.create_namespaced_stateful_set(namespace, statefulset("ws"))
    current = apps.read_namespaced_stateful_set("ws", namespace)
    template = client.ApiClient().sanitize_for_serialization(current.spec.template)
    template["spec"]["containers"] = [template["spec"]["containers"][1]]

    patched = apps.patch_namespaced_stateful_set(
        "ws", namespace, {"spec": {"template": template}}, _content_type=MERGE
    )

    assert list(_containers(patched)) == ["sidecar"]


def test_json_patch_applies_operations_in_order(apps: client.AppsV1Api, namespace: str) -> None:
    apps.create_namespaced_stateful_set(namespace, statefulset("ws"))

    patched = apps.patch_namespaced_stateful_set(
        "ws",
        namespace,
        [
            {"op": "replace", "path": "/spec/replicas", "value": 0},
            {"op": "add", "path": "/metadata/annotations", "value": {"note": "stopped"}},
        ],
    )

    assert patched.spec.replicas == 0
    assert patched.metadata.annotations == {"note": "stopped"}


def test_json_patch_with_failing_test_operation_changes_nothing(
    apps: client.AppsV1Api, namespace: str
) -> None:
    created = apps.create_namespaced_stateful_set(namespace, statefulset("ws"))

    with pytest.raises(client.ApiException) as raised:
        apps.patch_namespaced_stateful_set(
            "ws",
            namespace,
            [
                {"op": "test", "path": "/spec/replicas", "value": 5},
                {"op": "replace", "path": "/spec/replicas", "value": 0},
            ],
        )

    assert raised.value.status == 422
    after = apps.read_namespaced_stateful_set("ws", namespace)
    assert after.spec.replicas == 1
    assert after.metadata.generation == created.metadata.generation


def test_patch_with_a_stale_resource_version_answers_409(
    apps: client.AppsV1Api, namespace: str
) -> None:
    created = apps.create_namespaced_stateful_set(namespace, statefulset("ws"))
    apps.patch_namespaced_stateful_set("ws", namespace, {"spec": {"replicas": 2}})

    with pytest.raises(client.ApiException) as raised:
        apps.patch_namespaced_stateful_set(
            "ws",
            namespace,
            {"metadata": {"resourceVersion": created.metadata.resource_version},
             "spec": {"replicas": 0}},
        )  # fmt: skip

    assert raised.value.status == 409
    assert status_body(raised.value)["reason"] == "Conflict"


def test_finalizers_merge_as_a_set(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_service(
        namespace,
        {"metadata": {"name": "svc", "finalizers": ["example.com/a"]},
         "spec": {"ports": [{"port": 80}]}},
    )  # fmt: skip

    patched = core.patch_namespaced_service(
        "svc", namespace, {"metadata": {"finalizers": ["example.com/b"]}}
    )
    core.patch_namespaced_service("svc", namespace, {"metadata": {"finalizers": None}})

    # A real server puts the patch's values first.
    assert patched.metadata.finalizers == ["example.com/b", "example.com/a"]


def test_patch_that_makes_the_object_invalid_answers_422(
    apps: client.AppsV1Api, namespace: str
) -> None:
    apps.create_namespaced_stateful_set(namespace, statefulset("ws"))

    with pytest.raises(client.ApiException) as raised:
        apps.patch_namespaced_stateful_set("ws", namespace, {"spec": {"replicas": -1}})

    assert raised.value.status == 422
    body = status_body(raised.value)
    assert body["reason"] == "Invalid"
    assert body["message"] == (
        'StatefulSet.apps "ws" is invalid: spec.replicas: Invalid value: -1: must be greater '
        "than or equal to 0"
    )
