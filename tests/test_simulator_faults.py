"""The simulated controllers and nodes ride out the faults tests inject into the API server."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from kubernetes.client.exceptions import ApiException

from jupyter_workspaces.simulator import SimulatedCluster
from tests.conftest import SIM_SPEED
from tests.contract.lifecycle import Kube, is_ready


@pytest.fixture
def kube_sim(sim: SimulatedCluster) -> Kube:
    return Kube(sim.api_client(), SIM_SPEED)


def test_workspace_starts_after_watches_are_dropped_and_history_expires(
    sim: SimulatedCluster, kube_sim: Kube
) -> None:
    project = kube_sim.new_project()
    sim.api.faults.expire_history()
    sim.api.faults.drop_watches()

    kube_sim.create_workspace(project, "steady")

    kube_sim.wait_pod(project, "steady-0", is_ready)


def test_workspace_starts_after_an_outage_ends(sim: SimulatedCluster, kube_sim: Kube) -> None:
    project = kube_sim.new_project()
    sim.api.faults.outage()
    time.sleep(0.5)  # controllers and kubelets meet the outage while it lasts
    sim.api.faults.recover()

    kube_sim.create_workspace(project, "after-outage")

    kube_sim.wait_pod(project, "after-outage-0", is_ready)


def test_workspace_starts_and_stops_while_a_share_of_requests_fail(
    sim: SimulatedCluster, kube_sim: Kube
) -> None:
    project = kube_sim.new_project()
    kube_sim.create_workspace(project, "bumpy")
    sim.api.faults.error_rate(0.2, seed=7)
    try:
        kube_sim.wait("pod ready despite errors", lambda: _ready(kube_sim, project, "bumpy-0"), 60)
        _retry(lambda: kube_sim.scale(project, "bumpy", 0))
        kube_sim.wait("pod gone despite errors", lambda: _gone(kube_sim, project, "bumpy-0"), 60)
    finally:
        sim.api.faults.clear()
    assert kube_sim.pod(project, "bumpy-0") is None


def _retry(action: Callable[[], None]) -> None:
    for _ in range(20):
        try:
            action()
            return
        except ApiException:
            time.sleep(0.05)
    raise AssertionError("the action failed 20 times in a row")


def _ready(kube: Kube, project: str, name: str) -> bool:
    try:
        pod = kube.pod(project, name)
    except ApiException:
        return False
    return pod is not None and is_ready(pod)


def _gone(kube: Kube, project: str, name: str) -> bool:
    try:
        return kube.pod(project, name) is None
    except ApiException:
        return False
