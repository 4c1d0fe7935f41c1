"""ResourceQuota admission of pods, worded as a real server, and quota status kept current."""

from __future__ import annotations

import pytest
from kubernetes import client

from tests.contract.conftest import eventually, pod, status_body


@pytest.fixture
def quota(core: client.CoreV1Api, namespace: str) -> str:
    """A namespace with quota `q` (2 GPUs, 2 CPUs, 1Gi, 5 pods), ready to admit pods."""
    core.create_namespaced_resource_quota(
        namespace,
        {
            "metadata": {"name": "q"},
            "spec": {
                "hard": {
                    "requests.nvidia.com/gpu": "2",
                    "requests.cpu": "2",
                    "requests.memory": "1Gi",
                    "pods": "5",
                }
            },
        },
    )
    # A real cluster's quota controller fills in status.hard shortly after.
    eventually(lambda: core.read_namespaced_resource_quota("q", namespace).status.hard)
    return namespace


def _used(core: client.CoreV1Api, namespace: str) -> dict[str, str]:
    return dict(core.read_namespaced_resource_quota("q", namespace).status.used or {})


def test_pod_over_the_gpu_quota_is_refused_with_the_real_message(
    core: client.CoreV1Api, quota: str
) -> None:
    core.create_namespaced_pod(quota, pod("ws-0", gpu=2))
    eventually(lambda: _used(core, quota).get("requests.nvidia.com/gpu") == "2")

    with pytest.raises(client.ApiException) as raised:
        core.create_namespaced_pod(quota, pod("x-0", gpu=1))

    assert raised.value.status == 403
    body = status_body(raised.value)
    assert body["reason"] == "Forbidden"
    assert body["message"] == (
        'pods "x-0" is forbidden: exceeded quota: q, requested: requests.nvidia.com/gpu=1, '
        "used: requests.nvidia.com/gpu=2, limited: requests.nvidia.com/gpu=2"
    )
    assert body["details"] == {"name": "x-0", "kind": "pods"}


def test_quota_message_names_only_the_exceeded_resource(
    core: client.CoreV1Api, quota: str
) -> None:
    core.create_namespaced_pod(quota, pod("small", cpu="500m"))
    eventually(lambda: _used(core, quota).get("requests.cpu") == "500m")

    with pytest.raises(client.ApiException) as raised:
        core.create_namespaced_pod(quota, pod("big", cpu="3"))

    assert status_body(raised.value)["message"] == (
        'pods "big" is forbidden: exceeded quota: q, requested: requests.cpu=3, '
        "used: requests.cpu=500m, limited: requests.cpu=2"
    )


def test_pod_without_requests_is_refused_when_quota_limits_cpu_and_memory(
    core: client.CoreV1Api, quota: str
) -> None:
    bare = pod("bare")
    del bare["spec"]["containers"][0]["resources"]

    with pytest.raises(client.ApiException) as raised:
        core.create_namespaced_pod(quota, bare)

    assert raised.value.status == 403
    assert status_body(raised.value)["message"] == (
        'pods "bare" is forbidden: failed quota: q: must specify requests.cpu,requests.memory'
    )


def test_quota_status_counts_pods_and_frees_them_on_delete(
    core: client.CoreV1Api, quota: str
) -> None:
    core.create_namespaced_pod(quota, pod("a", gpu=1, cpu="250m", memory="256Mi"))
    core.create_namespaced_pod(quota, pod("b", gpu=1, cpu="250m", memory="256Mi"))

    full = eventually(lambda: (u := _used(core, quota)).get("pods") == "2" and u)
    core.delete_namespaced_pod("a", quota)
    freed = eventually(lambda: (u := _used(core, quota)).get("pods") == "1" and u)

    assert full == {
        "pods": "2",
        "requests.cpu": "500m",
        "requests.memory": "512Mi",
        "requests.nvidia.com/gpu": "2",
    }
    assert freed["requests.nvidia.com/gpu"] == "1"
    status = core.read_namespaced_resource_quota("q", quota).status
    assert status.hard == {
        "pods": "5",
        "requests.cpu": "2",
        "requests.memory": "1Gi",
        "requests.nvidia.com/gpu": "2",
    }


def test_claim_over_the_claim_count_quota_is_refused(
    core: client.CoreV1Api, namespace: str
) -> None:
    core.create_namespaced_resource_quota(
        namespace,
        {"metadata": {"name": "q"},
         "spec": {"hard": {"persistentvolumeclaims": "1", "requests.storage": "15Gi"}}},
    )  # fmt: skip
    eventually(lambda: core.read_namespaced_resource_quota("q", namespace).status.hard)

    def claim(name: str, size: str) -> dict:
        return {"metadata": {"name": name},
                "spec": {"accessModes": ["ReadWriteOnce"],
                         "resources": {"requests": {"storage": size}}}}  # fmt: skip

    core.create_namespaced_persistent_volume_claim(namespace, claim("home-a-0", "10Gi"))
    eventually(
        lambda: (
            (core.read_namespaced_resource_quota("q", namespace).status.used or {}).get(
                "persistentvolumeclaims"
            )
            == "1"
        )
    )
    with pytest.raises(client.ApiException) as raised:
        core.create_namespaced_persistent_volume_claim(namespace, claim("home-b-0", "1Gi"))

    assert raised.value.status == 403
    assert status_body(raised.value)["message"] == (
        'persistentvolumeclaims "home-b-0" is forbidden: exceeded quota: q, requested: '
        "persistentvolumeclaims=1, used: persistentvolumeclaims=1, limited: "
        "persistentvolumeclaims=1"
    )
    used = core.read_namespaced_resource_quota("q", namespace).status.used
    assert used == {"persistentvolumeclaims": "1", "requests.storage": "10Gi"}
