"""The watch cache against the simulator: no requests per read, fast changes, recovery."""

from __future__ import annotations

import json
import queue
import time
from datetime import datetime, timezone
from typing import Any

import pytest
from kubernetes import client

from jupyter_workspaces import errors
from jupyter_workspaces.cluster import WatchSettings, slim
from jupyter_workspaces.cluster.store import event_time, event_workspace
from jupyter_workspaces.manifests import build_statefulset
from jupyter_workspaces.records import Workspace, WorkspaceDeleted
from jupyter_workspaces.service import WorkspaceService
from jupyter_workspaces.simulator.cluster import SimulatedCluster
from jupyter_workspaces.status import derive_status
from tests.service_support import (
    api_names,
    connect,
    eventually,
    make_namespace,
    seed_stopped,
    spec,
)


def statefulset_lists(service: WorkspaceService) -> int:
    """How many times the cache listed StatefulSets (each list after the first is a re-list)."""
    reflectors = service.cache.reflectors
    return sum(r.lists for r in reflectors if r.kind == "statefulsets")


def wait_until_quiet(sim: SimulatedCluster) -> None:
    """Let the simulated controllers finish writing what seeding left them to do."""

    def quiet() -> bool:
        sim.api.requests.reset()
        time.sleep(0.3)
        return sim.api.requests.total == 0

    eventually(quiet, timeout=10, what="the simulated controllers are idle")


def cached_names(service: WorkspaceService) -> list[str]:
    return [w.name for w in service.list("alice", project="demo")]


def test_listing_a_thousand_workspaces_after_the_first_load_costs_no_api_request(
    sim: SimulatedCluster,
) -> None:
    make_namespace(sim, "demo")
    seed_stopped(sim, "demo", 1000)
    service = connect(sim)
    try:
        assert len(service.list("alice")) == 1000
        wait_until_quiet(sim)

        for _ in range(20):
            assert len(service.list("alice", project="demo", status="Stopped")) == 1000
            assert service.get("alice", "demo", "ws-00999").status.status == "Stopped"
            service.projects("alice")

        assert sim.api.requests.snapshot() == {}
    finally:
        service.close()


def test_a_change_made_by_another_client_reaches_the_change_feed_within_one_second(
    sim: SimulatedCluster,
) -> None:
    make_namespace(sim, "demo")
    service = connect(sim)
    changes: queue.Queue[Workspace | WorkspaceDeleted] = queue.Queue()
    service.subscribe(changes.put)
    apps = client.AppsV1Api(sim.api_client())
    try:
        started = time.monotonic()
        apps.create_namespaced_stateful_set(
            "demo", build_statefulset(spec("shared", owner="bob"), replicas=0)
        )
        created = changes.get(timeout=1.0)
        assert isinstance(created, Workspace)
        assert (created.name, created.owner, created.status.status) == ("shared", "bob", "Stopped")
        assert time.monotonic() - started < 1.0

        started = time.monotonic()
        apps.delete_namespaced_stateful_set("shared", "demo")
        deleted = changes.get(timeout=1.0)
        assert deleted == WorkspaceDeleted(project="demo", name="shared")
        assert time.monotonic() - started < 1.0
        assert service.list("alice") == []
    finally:
        service.close()


def test_dropped_watches_resume_from_their_version_without_a_new_list(
    sim: SimulatedCluster,
) -> None:
    make_namespace(sim, "demo")
    seed_stopped(sim, "demo", 5)
    service = connect(sim)
    apps = client.AppsV1Api(sim.api_client())
    try:
        lists = statefulset_lists(service)
        assert sim.api.faults.drop_watches() > 0

        apps.create_namespaced_stateful_set("demo", build_statefulset(spec("late"), replicas=0))
        apps.delete_namespaced_stateful_set("ws-00001", "demo")

        expected = api_names(sim, "demo")
        eventually(lambda: cached_names(service) == expected, what="the cache matches the API")
        assert statefulset_lists(service) == lists
    finally:
        service.close()


def test_an_expired_watch_history_makes_the_cache_list_again_and_lose_nothing(
    sim: SimulatedCluster,
) -> None:
    make_namespace(sim, "demo")
    seed_stopped(sim, "demo", 5)
    service = connect(sim)
    changes: queue.Queue[Workspace | WorkspaceDeleted] = queue.Queue()
    service.subscribe(changes.put)
    try:
        lists = statefulset_lists(service)
        # Changes the watches never see as events: they happen while no watch is open and the
        # history that would replay them is gone, so only a new list can find them.
        sim.api.faults.outage()
        sim.api.store.seed([build_statefulset(spec("while-away"), replicas=0)])
        sim.api.store.delete("statefulsets", "ws-00002", "demo")
        sim.api.faults.expire_history()
        sim.api.faults.recover()

        expected = api_names(sim, "demo")
        assert "while-away" in expected and "ws-00002" not in expected
        eventually(lambda: cached_names(service) == expected, what="the cache matches the API")
        assert statefulset_lists(service) == lists + 1
        seen = []
        while not changes.empty():
            seen.append(changes.get())
        assert WorkspaceDeleted(project="demo", name="ws-00002") in seen
        assert any(isinstance(c, Workspace) and c.name == "while-away" for c in seen)
    finally:
        service.close()


@pytest.mark.parametrize(
    "refuse",
    [pytest.param(False, id="api-answers-503"), pytest.param(True, id="connections-refused")],
)
def test_during_an_outage_the_last_state_is_served_as_stale_then_recovers(
    sim: SimulatedCluster, refuse: bool
) -> None:
    make_namespace(sim, "demo")
    seed_stopped(sim, "demo", 3)
    service = connect(sim)
    try:
        assert service.freshness().stale_since is None
        sim.api.faults.outage(refuse=refuse)

        stale = eventually(lambda: service.freshness().stale_since, what="stale_since is set")
        freshness = service.freshness()
        assert freshness.loaded and freshness.as_of == stale and freshness.error
        assert cached_names(service) == ["ws-00000", "ws-00001", "ws-00002"]
        with pytest.raises(errors.Unavailable, match="demo/ws-00000"):
            service.stop("alice", "demo", "ws-00000")

        sim.api.store.seed([build_statefulset(spec("during-outage"), replicas=0)])
        sim.api.faults.recover()

        eventually(lambda: service.freshness().stale_since is None, what="fresh again")
        expected = ["during-outage", "ws-00000", "ws-00001", "ws-00002"]
        eventually(lambda: cached_names(service) == expected, what="the cache catches up")
        assert service.freshness().error is None
    finally:
        service.close()


def test_events_of_a_workspace_are_kept_and_others_are_not(sim: SimulatedCluster) -> None:
    make_namespace(sim, "demo")
    service = connect(sim)
    core = client.CoreV1Api(sim.api_client())
    try:
        service.create("alice", spec("ws1", gpu=2))
        eventually(
            lambda: service.get("alice", "demo", "ws1").status.reason == "Unschedulable",
            what="ws1 is unschedulable (it asks for 2 GPUs, no node has 2)",
        )
        core.create_namespaced_event(
            "demo",
            {
                "metadata": {"name": "unrelated.1"},
                "involvedObject": {"kind": "Pod", "name": "someone-else", "namespace": "demo"},
                "reason": "Pulled",
                "message": "not a workspace",
                "type": "Normal",
            },
        )
        store = service.cache.store
        kept = eventually(lambda: store.events_of(("demo", "ws1")), what="ws1's events kept")
        assert any(e.get("reason") == "FailedScheduling" for e in kept)
        everything = [e for key in list(store.events) for e in store.events_of(key)]
        assert all(e["involvedObject"]["name"] != "someone-else" for e in everything)
    finally:
        service.close()


def test_a_quiet_watch_is_restarted_from_its_version_and_still_delivers(
    sim: SimulatedCluster,
) -> None:
    make_namespace(sim, "demo")
    quiet = WatchSettings(quiet_timeout=0.4, backoff_initial=0.05, backoff_max=0.3)
    service = connect(sim, settings=quiet)
    changes: queue.Queue[Workspace | WorkspaceDeleted] = queue.Queue()
    service.subscribe(changes.put)
    (reflector,) = [r for r in service.cache.reflectors if r.kind == "statefulsets"]
    try:
        watches = reflector.watches
        eventually(lambda: reflector.watches >= watches + 2, what="the silent watch restarted")
        assert reflector.lists == 1
        assert service.freshness().stale_since is None

        apps = client.AppsV1Api(sim.api_client())
        apps.create_namespaced_stateful_set("demo", build_statefulset(spec("ws1"), replicas=0))
        assert changes.get(timeout=1.0).name == "ws1"
    finally:
        service.close()


def test_the_fields_the_cache_keeps_give_the_same_status_as_whole_objects() -> None:
    """If the status rules start to read a field that `slim` drops, this test says so."""
    with SimulatedCluster("demo", speed=5) as demo:
        apps, core = client.AppsV1Api(demo.api_client()), client.CoreV1Api(demo.api_client())
        time.sleep(2)  # let the demo's workspaces move into their many states

        def items(call: Any) -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = json.loads(call(_preload_content=False).data)["items"]
            return found

        statefulsets = items(apps.list_stateful_set_for_all_namespaces)
        pods = {
            (p["metadata"]["namespace"], p["metadata"]["name"]): p
            for p in items(core.list_pod_for_all_namespaces)
        }
        events = items(core.list_event_for_all_namespaces)
    now = datetime.now(timezone.utc)
    compared = 0
    for sts in statefulsets:
        key = (sts["metadata"]["namespace"], sts["metadata"]["name"])
        pod = pods.get((key[0], f"{key[1]}-0"))
        about = sorted((e for e in events if event_workspace(e) == key), key=event_time)
        whole = derive_status(sts, pod, about, now)
        kept = derive_status(
            slim.prune(sts, slim.STATEFULSET),
            slim.prune(pod, slim.POD) if pod else None,
            [slim.prune(e, slim.EVENT) for e in about],
            now,
        )
        assert (kept.status, kept.reason, kept.message) == (
            whole.status,
            whole.reason,
            whole.message,
        ), key
        compared += 1
    assert compared >= 10
