"""Deletion: finalizers and deletionTimestamp, owner-reference cascades, namespace cleanup."""

from __future__ import annotations

import pytest
from kubernetes import client

from tests.contract.conftest import eventually, pod, statefulset, status_body


def _gone(read) -> bool:
    try:
        read()
    except client.ApiException as error:
        if error.status == 404:
            return True
        raise
    return False


def _owner(core: client.CoreV1Api, namespace: str) -> client.V1Service:
    # A Service owns the pod here: no controller of a real cluster acts on it but the
    # garbage collector (a StatefulSet controller would adopt or release pods itself).
    return core.create_namespaced_service(
        namespace, {"metadata": {"name": "owner"}, "spec": {"ports": [{"port": 80}]}}
    )


def _owned_pod(name: str, owner: client.V1Service) -> dict:
    body = pod(name)
    body["metadata"]["ownerReferences"] = [
        {"apiVersion": "v1", "kind": "Service", "name": owner.metadata.name,
         "uid": owner.metadata.uid}
    ]  # fmt: skip
    return body


def test_object_with_a_finalizer_waits_with_a_deletion_timestamp(
    core: client.CoreV1Api, namespace: str
) -> None:
    core.create_namespaced_service(
        namespace,
        {"metadata": {"name": "svc", "finalizers": ["example.com/hold"]},
         "spec": {"ports": [{"port": 80}]}},
    )  # fmt: skip

    # A real server answers a Status here, which the client cannot read as a Service.
    core.delete_namespaced_service("svc", namespace, _preload_content=False)
    held = core.read_namespaced_service("svc", namespace)
    core.patch_namespaced_service("svc", namespace, {"metadata": {"finalizers": None}})

    assert held.metadata.deletion_timestamp is not None
    assert held.metadata.finalizers == ["example.com/hold"]
    assert eventually(lambda: _gone(lambda: core.read_namespaced_service("svc", namespace)))


def test_deleting_an_owner_collects_the_pods_it_owns(
    core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    core.create_namespaced_pod(namespace, _owned_pod("worker", _owner(core, namespace)))

    core.delete_namespaced_service(
        "owner", namespace, propagation_policy="Background", _preload_content=False
    )

    # A real garbage collector may take some seconds on a fresh cluster.
    assert eventually(
        lambda: _gone(lambda: core.read_namespaced_pod("worker", namespace)), timeout=60
    )


def test_foreground_deletion_removes_dependents_before_the_owner(
    core: client.CoreV1Api, namespace: str
) -> None:
    core.create_namespaced_pod(namespace, _owned_pod("first", _owner(core, namespace)))

    core.delete_namespaced_service(
        "owner", namespace, propagation_policy="Foreground", _preload_content=False
    )

    assert eventually(
        lambda: _gone(lambda: core.read_namespaced_service("owner", namespace)), timeout=60
    )
    assert _gone(lambda: core.read_namespaced_pod("first", namespace))


def _wait_until_collector_has_seen(core: client.CoreV1Api, namespace: str) -> None:
    """Return once the garbage collector has seen every pod created so far in `namespace`.

    A real collector learns of pods from a watch, in the order they were written. If it meets
    an owner's orphan deletion before a dependent's creation, it finds nothing to orphan, lets
    the owner go, then collects the dependent as one whose owner no longer exists. So the test
    creates one more pod, `witness` (its name sorts last, for a re-list too), owned by a
    throwaway Service, and deletes that Service: only a collector that has seen `witness`
    can delete it, and by then it has seen every pod written before it.
    """
    marker = core.create_namespaced_service(
        namespace, {"metadata": {"name": "marker"}, "spec": {"ports": [{"port": 80}]}}
    )
    witness = pod("witness", bound_by_test=True)
    witness["metadata"]["ownerReferences"] = [
        {"apiVersion": "v1", "kind": "Service", "name": "marker", "uid": marker.metadata.uid}
    ]
    core.create_namespaced_pod(namespace, witness)
    core.delete_namespaced_service(
        "marker", namespace, propagation_policy="Background", _preload_content=False
    )
    eventually(lambda: _gone(lambda: core.read_namespaced_pod("witness", namespace)), timeout=60)


def test_orphan_deletion_keeps_dependents_and_drops_their_owner_reference(
    core: client.CoreV1Api, namespace: str
) -> None:
    core.create_namespaced_pod(namespace, _owned_pod("kept-0", _owner(core, namespace)))
    _wait_until_collector_has_seen(core, namespace)

    core.delete_namespaced_service(
        "owner", namespace, propagation_policy="Orphan", _preload_content=False
    )

    assert eventually(lambda: _gone(lambda: core.read_namespaced_service("owner", namespace)))
    kept = eventually(
        timeout=60,
        check=lambda: (
            (p := core.read_namespaced_pod("kept-0", namespace)).metadata.owner_references is None
            and p
        ),
    )
    assert kept.metadata.deletion_timestamp is None


def test_unbound_pod_is_deleted_at_once_and_a_bound_one_waits_for_its_grace_period(
    core: client.CoreV1Api, namespace: str
) -> None:
    core.create_namespaced_pod(namespace, pod("unbound", bound_by_test=True))
    core.create_namespaced_pod(namespace, pod("bound", bound_by_test=True))
    core.create_namespaced_pod_binding(
        "bound",
        namespace,
        {"metadata": {"name": "bound"}, "target": {"kind": "Node", "name": "n1"}},
        _preload_content=False,
    )

    core.delete_namespaced_pod("unbound", namespace)
    terminating = core.delete_namespaced_pod("bound", namespace)
    still_there = core.read_namespaced_pod("bound", namespace)
    core.delete_namespaced_pod("bound", namespace, grace_period_seconds=0)

    assert _gone(lambda: core.read_namespaced_pod("unbound", namespace))
    assert terminating.metadata.deletion_grace_period_seconds == 30
    assert still_there.metadata.deletion_timestamp is not None
    assert eventually(lambda: _gone(lambda: core.read_namespaced_pod("bound", namespace)))


def test_claim_gets_pvc_protection_and_goes_once_unused(
    core: client.CoreV1Api, namespace: str
) -> None:
    claim = core.create_namespaced_persistent_volume_claim(
        namespace,
        {"metadata": {"name": "home"},
         "spec": {"accessModes": ["ReadWriteOnce"],
                  "resources": {"requests": {"storage": "1Gi"}}}},
    )  # fmt: skip

    core.delete_namespaced_persistent_volume_claim("home", namespace)

    assert claim.metadata.finalizers == ["kubernetes.io/pvc-protection"]
    assert eventually(
        lambda: _gone(lambda: core.read_namespaced_persistent_volume_claim("home", namespace))
    )


def test_delete_with_a_stale_uid_precondition_answers_409(
    apps: client.AppsV1Api, namespace: str
) -> None:
    apps.create_namespaced_stateful_set(namespace, statefulset("ws"))

    with pytest.raises(client.ApiException) as raised:
        apps.delete_namespaced_stateful_set(
            "ws",
            namespace,
            body={"preconditions": {"uid": "00000000-0000-0000-0000-000000000000"}},
        )

    assert raised.value.status == 409
    body = status_body(raised.value)
    assert body["reason"] == "Conflict"
    assert body["message"].startswith(
        'Operation cannot be fulfilled on StatefulSet.apps "ws": the UID in the precondition '
        "(00000000-0000-0000-0000-000000000000) does not match the UID in record ("
    )


def test_creating_in_a_terminating_namespace_is_forbidden(core: client.CoreV1Api) -> None:
    core.create_namespace({"metadata": {"name": "contract-ending"}})
    core.create_namespaced_service(
        "contract-ending",
        {"metadata": {"name": "held", "finalizers": ["example.com/hold"]},
         "spec": {"ports": [{"port": 80}]}},
    )  # fmt: skip
    core.delete_namespace("contract-ending", _preload_content=False)

    with pytest.raises(client.ApiException) as raised:
        core.create_namespaced_service(
            "contract-ending", {"metadata": {"name": "s2"}, "spec": {"ports": [{"port": 80}]}}
        )
    core.patch_namespaced_service("held", "contract-ending", {"metadata": {"finalizers": None}})

    assert raised.value.status == 403
    assert status_body(raised.value)["message"] == (
        'services "s2" is forbidden: unable to create new content in namespace contract-ending '
        "because it is being terminated"
    )
    assert eventually(lambda: _gone(lambda: core.read_namespace("contract-ending")), timeout=30)
