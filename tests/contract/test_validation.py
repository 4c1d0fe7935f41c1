"""422 Invalid for bad names and specs, worded as a real server words them."""

from __future__ import annotations

import pytest
from kubernetes import client

from tests.contract.conftest import statefulset, status_body

SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
DNS1035 = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)


def _refusal(call) -> dict:
    with pytest.raises(client.ApiException) as raised:
        call()
    assert raised.value.status == 422
    body = status_body(raised.value)
    assert body["reason"] == "Invalid"
    return body


def test_statefulset_with_an_invalid_name_is_refused(
    apps: client.AppsV1Api, namespace: str
) -> None:
    body = _refusal(
        lambda: apps.create_namespaced_stateful_set(namespace, statefulset("Bad_Name"))
    )

    assert body["message"] == (
        f'StatefulSet.apps "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": '
        f"{SUBDOMAIN}"
    )
    assert body["details"]["kind"] == "StatefulSet"
    assert body["details"]["causes"][0]["field"] == "metadata.name"


def test_service_names_must_be_dns_1035_labels(core: client.CoreV1Api, namespace: str) -> None:
    body = _refusal(
        lambda: core.create_namespaced_service(
            namespace, {"metadata": {"name": "1svc"}, "spec": {"ports": [{"port": 80}]}}
        )
    )

    assert body["message"] == (
        f'Service "1svc" is invalid: metadata.name: Invalid value: "1svc": {DNS1035}'
    )


def test_statefulset_whose_selector_misses_its_template_is_refused(
    apps: client.AppsV1Api, namespace: str
) -> None:
    manifest = statefulset("ws")
    manifest["spec"]["template"]["metadata"]["labels"] = {"app": "other"}

    body = _refusal(lambda: apps.create_namespaced_stateful_set(namespace, manifest))

    assert body["message"] == (
        'StatefulSet.apps "ws" is invalid: spec.template.metadata.labels: Invalid value: '
        'map[string]string{"app":"other"}: `selector` does not match template `labels`'
    )


def test_pod_without_containers_is_refused(core: client.CoreV1Api, namespace: str) -> None:
    body = _refusal(
        lambda: core.create_namespaced_pod(
            namespace, {"metadata": {"name": "p"}, "spec": {"containers": []}}
        )
    )

    assert body["message"] == 'Pod "p" is invalid: spec.containers: Required value'
    assert body["details"]["causes"] == [
        {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers"}
    ]


def test_statefulset_spec_outside_replicas_template_and_strategy_is_immutable(
    apps: client.AppsV1Api, namespace: str
) -> None:
    apps.create_namespaced_stateful_set(namespace, statefulset("ws"))

    body = _refusal(
        lambda: apps.patch_namespaced_stateful_set(
            "ws", namespace, {"spec": {"serviceName": "other"}}
        )
    )

    assert body["message"] == (
        'StatefulSet.apps "ws" is invalid: spec: Forbidden: updates to statefulset spec for '
        "fields other than 'replicas', 'template', and 'updateStrategy' are forbidden"
    )


def test_pod_spec_accepts_an_image_change_but_not_a_node_name(
    core: client.CoreV1Api, namespace: str
) -> None:
    core.create_namespaced_pod(
        namespace,
        {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "a:1"}]}},
    )

    changed = core.patch_namespaced_pod(
        "p", namespace, {"spec": {"containers": [{"name": "c", "image": "b:2"}]}}
    )
    body = _refusal(
        lambda: core.patch_namespaced_pod("p", namespace, {"spec": {"nodeName": "n1"}})
    )

    assert changed.spec.containers[0].image == "b:2"
    assert body["message"].startswith(
        'Pod "p" is invalid: spec: Forbidden: pod updates may not change fields other than '
        "`spec.containers[*].image`, `spec.initContainers[*].image`, "
        "`spec.activeDeadlineSeconds` or `spec.tolerations` (only additions to existing "
        "tolerations)\n"
    )
