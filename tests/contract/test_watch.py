"""Watch semantics: replay from a resourceVersion, selectors, bookmarks and timeouts."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

from kubernetes import client, watch

from tests.contract.conftest import statefulset


def _each(stream: Any) -> Iterator[tuple[str, Any]]:
    for event in stream:
        if event["type"] != "BOOKMARK":
            yield event["type"], event["object"]


def _collect(
    stream: Any, count: int, deadline: float = 10.0, skip: tuple[str, ...] = ("BOOKMARK",)
) -> list[tuple[str, Any]]:
    events = []
    started = time.monotonic()
    for event in stream:
        if event["type"] in skip:
            continue
        events.append((event["type"], event["object"]))
        if len(events) >= count or time.monotonic() - started > deadline:
            break
    return events


def test_watch_from_a_list_version_replays_changes_in_order(
    apps: client.AppsV1Api, namespace: str
) -> None:
    listed = apps.list_namespaced_stateful_set(namespace)
    apps.create_namespaced_stateful_set(namespace, statefulset("ws"))
    apps.patch_namespaced_stateful_set("ws", namespace, {"spec": {"replicas": 0}})
    apps.delete_namespaced_stateful_set("ws", namespace)

    watcher = watch.Watch()
    stream = watcher.stream(
        apps.list_namespaced_stateful_set,
        namespace,
        resource_version=listed.metadata.resource_version,
        timeout_seconds=5,
    )
    events = []
    for kind, obj in _each(stream):
        events.append((kind, obj))
        if kind == "DELETED":
            break
    watcher.stop()

    # A real cluster's controller may add MODIFIED events of its own between ours.
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "ADDED" and kinds[-1] == "DELETED"
    assert set(kinds[1:-1]) == {"MODIFIED"}
    assert any(obj.spec.replicas == 0 for kind, obj in events if kind == "MODIFIED")
    versions = [int(obj.metadata.resource_version) for _, obj in events]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)


def test_objects_entering_and_leaving_a_label_selector_are_added_and_deleted(
    apps: client.AppsV1Api, namespace: str
) -> None:
    apps.create_namespaced_stateful_set(namespace, statefulset("ws", labels={"tier": "gpu"}))
    listed = apps.list_namespaced_stateful_set(namespace, label_selector="tier=gpu")
    apps.patch_namespaced_stateful_set("ws", namespace, {"metadata": {"labels": {"tier": "cpu"}}})
    apps.patch_namespaced_stateful_set("ws", namespace, {"metadata": {"labels": {"tier": "gpu"}}})

    watcher = watch.Watch()
    stream = watcher.stream(
        apps.list_namespaced_stateful_set,
        namespace,
        label_selector="tier=gpu",
        resource_version=listed.metadata.resource_version,
        timeout_seconds=5,
    )
    # The StatefulSet controller may write the set's status meanwhile (MODIFIED while it
    # still matches); only the selector transitions are this test's business.
    events = _collect(stream, 2, skip=("BOOKMARK", "MODIFIED"))
    watcher.stop()

    assert [kind for kind, _ in events] == ["DELETED", "ADDED"]
    # The object leaving the selection is shown as it was when it last matched.
    assert events[0][1].metadata.labels["tier"] == "gpu"
    assert events[1][1].metadata.labels["tier"] == "gpu"


def test_watch_without_a_version_starts_with_every_current_object(
    apps: client.AppsV1Api, namespace: str
) -> None:
    for name in ("a", "b"):
        apps.create_namespaced_stateful_set(namespace, statefulset(name))

    watcher = watch.Watch()
    events = _collect(
        watcher.stream(apps.list_namespaced_stateful_set, namespace, timeout_seconds=5), 2
    )
    watcher.stop()

    assert sorted((kind, obj.metadata.name) for kind, obj in events) == [
        ("ADDED", "a"),
        ("ADDED", "b"),
    ]


def test_live_changes_reach_an_open_watch(apps: client.AppsV1Api, namespace: str) -> None:
    listed = apps.list_namespaced_stateful_set(namespace)
    watcher = watch.Watch()
    stream = watcher.stream(
        apps.list_namespaced_stateful_set,
        namespace,
        resource_version=listed.metadata.resource_version,
        timeout_seconds=10,
    )
    threading.Timer(
        0.3, lambda: apps.create_namespaced_stateful_set(namespace, statefulset("late"))
    ).start()

    events = _collect(stream, 1)
    watcher.stop()

    assert [(kind, obj.metadata.name) for kind, obj in events] == [("ADDED", "late")]


def test_watch_with_bookmarks_ends_at_its_timeout_and_bookmarks_carry_a_version(
    apps: client.AppsV1Api, namespace: str
) -> None:
    # Bookmarks are never guaranteed (a real 1.20 server often sends none in a short watch);
    # the simulator's own tests check that it sends them.
    listed = apps.list_namespaced_stateful_set(namespace)
    watcher = watch.Watch()
    started = time.monotonic()

    events = list(
        watcher.stream(
            apps.list_namespaced_stateful_set,
            namespace,
            resource_version=listed.metadata.resource_version,
            allow_watch_bookmarks=True,
            timeout_seconds=3,
        )
    )
    elapsed = time.monotonic() - started

    assert 2.5 <= elapsed < 8
    for event in events:
        assert event["type"] == "BOOKMARK"
        version = event["raw_object"]["metadata"]["resourceVersion"]
        assert int(version) >= int(listed.metadata.resource_version)
