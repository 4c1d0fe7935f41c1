"""Scale and status subresources (each ignores the other half), and pod binding."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from kubernetes import client

from tests.contract.conftest import pod, statefulset, status_body


def test_scale_reads_replicas_and_selector(apps: client.AppsV1Api, namespace: str) -> None:
    apps.create_namespaced_stateful_set(namespace, statefulset("ws", replicas=1))

    scale = apps.read_namespaced_stateful_set_scale("ws", namespace)

    assert scale.kind == "Scale" and scale.api_version == "autoscaling/v1"
    assert scale.spec.replicas == 1
    assert scale.status.selector == "app=ws"


def test_patching_scale_changes_replicas_only(apps: client.AppsV1Api, namespace: str) -> None:
    created = apps.create_namespaced_stateful_set(namespace, statefulset("ws", replicas=1))

    scale = apps.patch_namespaced_stateful_set_scale("ws", namespace, {"spec": {"replicas": 0}})
    after = apps.read_namespaced_stateful_set("ws", namespace)

    # autoscaling/v1 leaves out a zero replica count, so the client reads None.
    assert not scale.spec.replicas
    assert after.spec.replicas == 0
    assert after.metadata.generation == created.metadata.generation + 1
    assert after.spec.template.spec.containers[0].image == "jupyter/base-notebook:2024-01-01"


def _replace_scale(apps: client.AppsV1Api, namespace: str, replicas: int) -> None:
    apps.replace_namespaced_stateful_set_scale(
        "ws",
        namespace,
        {"apiVersion": "autoscaling/v1", "kind": "Scale",
         "metadata": {"name": "ws", "namespace": namespace}, "spec": {"replicas": replicas}},
    )  # fmt: skip


def _patch_scale(apps: client.AppsV1Api, namespace: str, replicas: int) -> None:
    apps.patch_namespaced_stateful_set_scale("ws", namespace, {"spec": {"replicas": replicas}})


@pytest.mark.parametrize(
    "change", [pytest.param(_patch_scale, id="patch"), pytest.param(_replace_scale, id="replace")]
)
def test_negative_scale_is_refused_as_an_invalid_scale_and_replicas_stay(
    apps: client.AppsV1Api, namespace: str, change: Callable[[client.AppsV1Api, str, int], None]
) -> None:
    apps.create_namespaced_stateful_set(namespace, statefulset("ws", replicas=1))

    with pytest.raises(client.ApiException) as raised:
        change(apps, namespace, -2)

    assert raised.value.status == 422
    assert status_body(raised.value) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'Scale.autoscaling "ws" is invalid: spec.replicas: Invalid value: -2: '
        "must be greater than or equal to 0",
        "reason": "Invalid",
        "details": {
            "name": "ws",
            "group": "autoscaling",
            "kind": "Scale",
            "causes": [
                {
                    "reason": "FieldValueInvalid",
                    "message": "Invalid value: -2: must be greater than or equal to 0",
                    "field": "spec.replicas",
                }
            ],
        },
        "code": 422,
    }
    assert apps.read_namespaced_stateful_set("ws", namespace).spec.replicas == 1


def test_replacing_scale_with_a_stale_version_answers_409(
    apps: client.AppsV1Api, namespace: str
) -> None:
    apps.create_namespaced_stateful_set(namespace, statefulset("ws"))
    scale = apps.read_namespaced_stateful_set_scale("ws", namespace)
    apps.patch_namespaced_stateful_set("ws", namespace, {"metadata": {"labels": {"x": "1"}}})

    with pytest.raises(client.ApiException) as raised:
        apps.replace_namespaced_stateful_set_scale(
            "ws",
            namespace,
            {
                "apiVersion": "autoscaling/v1",
                "kind": "Scale",
                "metadata": {
                    "name": "ws",
                    "namespace": namespace,
                    "resourceVersion": scale.metadata.resource_version,
                },
                "spec": {"replicas": 3},
            },
        )

    assert raised.value.status == 409
    assert status_body(raised.value)["message"].startswith(
        'Operation cannot be fulfilled on statefulsets.apps "ws": the object has been modified'
    )


def test_status_update_ignores_spec_changes(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, pod("p"))

    updated = core.patch_namespaced_pod_status(
        "p",
        namespace,
        {
            "spec": {"activeDeadlineSeconds": 5},
            "status": {"phase": "Running", "podIP": "10.1.2.3"},
        },
    )

    assert updated.status.phase == "Running"
    assert updated.status.pod_ip == "10.1.2.3"
    assert updated.spec.active_deadline_seconds is None


def test_main_resource_update_ignores_status_changes(
    apps: client.AppsV1Api, namespace: str
) -> None:
    apps.create_namespaced_stateful_set(namespace, statefulset("ws", replicas=0))

    updated = apps.patch_namespaced_stateful_set(
        "ws", namespace, {"status": {"replicas": 7}, "metadata": {"labels": {"seen": "yes"}}}
    )

    assert updated.metadata.labels["seen"] == "yes"
    assert (updated.status.replicas or 0) == 0


def test_binding_assigns_a_node_once(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, pod("p", bound_by_test=True))
    binding = {"metadata": {"name": "p"}, "target": {"kind": "Node", "name": "n1"}}

    answer = core.create_namespaced_pod_binding("p", namespace, binding, _preload_content=False)
    bound = core.read_namespaced_pod("p", namespace)
    with pytest.raises(client.ApiException) as raised:
        core.create_namespaced_pod_binding(
            "p",
            namespace,
            {"metadata": {"name": "p"}, "target": {"kind": "Node", "name": "n2"}},
            _preload_content=False,
        )
    core.delete_namespaced_pod("p", namespace, grace_period_seconds=0)

    assert answer.status == 201
    assert bound.spec.node_name == "n1"
    assert raised.value.status == 409
    assert status_body(raised.value)["message"] == (
        'Operation cannot be fulfilled on pods/binding "p": pod p is already assigned to node "n1"'
    )
