"""Collection-wide behaviour: generated names, delete-collection, cluster-wide watches."""

from __future__ import annotations

import threading

from kubernetes import client, watch

from tests.contract.conftest import eventually, pod


def test_generate_name_gets_a_unique_suffix(core: client.CoreV1Api, namespace: str) -> None:
    body = {
        "metadata": {"generateName": "ws-0."},
        "involvedObject": {"kind": "Pod", "name": "ws-0", "namespace": namespace},
        "reason": "Pulling",
        "message": "m",
    }

    first = core.create_namespaced_event(namespace, body)
    second = core.create_namespaced_event(namespace, body)

    assert first.metadata.name.startswith("ws-0.")
    assert len(first.metadata.name) == len("ws-0.") + 5
    assert first.metadata.name != second.metadata.name


def test_delete_collection_removes_only_the_selected_objects(
    core: client.CoreV1Api, namespace: str
) -> None:
    for name, tier in [("a", "gpu"), ("b", "gpu"), ("c", "cpu")]:
        core.create_namespaced_pod(namespace, pod(name, labels={"tier": tier}))

    core.delete_collection_namespaced_pod(namespace, label_selector="tier=gpu")

    remaining = eventually(
        lambda: (
            (names := [p.metadata.name for p in core.list_namespaced_pod(namespace).items])
            == ["c"]
            and names
        )
    )
    assert remaining == ["c"]


def test_listing_a_namespace_that_does_not_exist_is_empty(core: client.CoreV1Api) -> None:
    listed = core.list_namespaced_pod("contract-no-such-namespace")

    assert listed.items == []


def test_cluster_wide_watch_with_a_field_selector_sees_only_matching_pods(
    core: client.CoreV1Api, namespace: str
) -> None:
    start = core.list_pod_for_all_namespaces().metadata.resource_version
    core.create_namespaced_pod(namespace, pod("other"))
    threading.Timer(0.2, lambda: core.create_namespaced_pod(namespace, pod("wanted"))).start()

    seen = []
    watcher = watch.Watch()
    for event in watcher.stream(
        core.list_pod_for_all_namespaces,
        field_selector=f"metadata.namespace={namespace},metadata.name=wanted",
        resource_version=start,
        timeout_seconds=10,
    ):
        seen.append((event["type"], event["object"].metadata.name))
        break
    watcher.stop()

    assert seen == [("ADDED", "wanted")]


def test_pod_that_finished_frees_its_quota(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_resource_quota(
        namespace, {"metadata": {"name": "q"}, "spec": {"hard": {"pods": "1"}}}
    )
    eventually(lambda: core.read_namespaced_resource_quota("q", namespace).status.hard)
    core.create_namespaced_pod(namespace, pod("done"))
    eventually(
        lambda: (
            (core.read_namespaced_resource_quota("q", namespace).status.used or {}).get("pods")
            == "1"
        )
    )

    core.patch_namespaced_pod_status("done", namespace, {"status": {"phase": "Succeeded"}})

    assert eventually(
        lambda: (
            (core.read_namespaced_resource_quota("q", namespace).status.used or {}).get("pods")
            == "0"
        ),
        timeout=60,
    )
    core.create_namespaced_pod(namespace, pod("next"))
