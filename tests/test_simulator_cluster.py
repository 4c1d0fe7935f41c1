"""The simulated cluster as a whole: nodes going away, tools answering, scenarios loading."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from kubernetes import client

from jupyter_workspaces.simulator import SimulatedCluster
from jupyter_workspaces.simulator.registry import LAST_ACTIVITY_ANNOTATION
from jupyter_workspaces.simulator.scenarios import load
from tests.conftest import SIM_SPEED
from tests.contract.lifecycle import Kube, condition, is_ready


@pytest.fixture
def kube_sim(sim: SimulatedCluster) -> Kube:
    return Kube(sim.api_client(), SIM_SPEED)


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_pods_on_a_lost_node_become_unknown_with_reason_node_lost(
    sim: SimulatedCluster, kube_sim: Kube
) -> None:
    project = kube_sim.new_project()
    kube_sim.create_workspace(project, "remote")
    pod = kube_sim.wait_pod(project, "remote-0", is_ready)
    node = pod["spec"]["nodeName"]

    assert sim.lose_node(node) == 1

    pod = kube_sim.wait_pod(project, "remote-0", lambda p: p["status"]["phase"] == "Unknown")
    assert pod["status"]["reason"] == "NodeLost"
    assert (
        pod["status"]["message"] == f"Node {node} which was running pod remote-0 is unresponsive"
    )
    assert condition(pod, "Ready")["status"] == "False"
    node_obj = kube_sim.call(kube_sim.core.read_node, node)
    ready = next(c for c in node_obj["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("Unknown", "NodeStatusUnknown")


def test_new_pods_avoid_a_lost_node(sim: SimulatedCluster, kube_sim: Kube) -> None:
    sim.lose_node("node-gpu-1")
    sim.lose_node("node-gpu-2")
    project = kube_sim.new_project()

    kube_sim.create_workspace(project, "elsewhere")

    pod = kube_sim.wait_pod(project, "elsewhere-0", is_ready)
    assert pod["spec"]["nodeName"] == "node-cpu-1"


def test_tools_of_an_active_workspace_answer_with_a_page_and_jupyter_status(
    sim: SimulatedCluster, kube_sim: Kube
) -> None:
    project = kube_sim.new_project()
    kube_sim.create_workspace(
        project, "lab", pod_annotations={LAST_ACTIVITY_ANNOTATION: "2026-01-02T03:04:05Z"}
    )
    kube_sim.wait_pod(project, "lab-0", is_ready)
    url = sim.tools_url_template.format(project=project, name="lab", tool="jupyterlab")

    status, page = kube_sim.wait("tool page", lambda: (s := fetch(url))[0] == 200 and s, 10)
    assert f"{project}/lab" in page
    assert "jupyterlab" in page
    status, body = fetch(url + "api/status")
    assert status == 200
    assert json.loads(body)["last_activity"] == "2026-01-02T03:04:05Z"


@pytest.mark.parametrize(
    ("workspace", "tool", "expected_status", "words"),
    [
        pytest.param("sleeping", "jupyterlab", 503, "is not Active (it is stopped)", id="stopped"),
        pytest.param("nobody", "jupyterlab", 404, "does not exist", id="unknown-workspace"),
        pytest.param("sleeping", "rstudio", 404, "has no tool 'rstudio'", id="unknown-tool"),
    ],
)
def test_tools_of_a_workspace_that_is_not_active_refuse_with_a_clear_message(
    sim: SimulatedCluster,
    kube_sim: Kube,
    workspace: str,
    tool: str,
    expected_status: int,
    words: str,
) -> None:
    project = kube_sim.new_project()
    kube_sim.create_workspace(project, "sleeping", replicas=0)
    url = sim.tools_url_template.format(project=project, name=workspace, tool=tool)

    def answered() -> Any:
        status, body = fetch(url)
        message = json.loads(body)["message"]
        return status == expected_status and words in message and message

    message = kube_sim.wait("tools answer", answered, 10)
    assert words in message
    assert f"{project}/{workspace}" in message


def test_scale_scenario_is_seeded_in_end_states_the_controllers_keep() -> None:
    with SimulatedCluster("scale:50", speed=SIM_SPEED) as sim:
        apps = client.AppsV1Api(sim.api_client())
        core = client.CoreV1Api(sim.api_client())
        sets = json.loads(apps.list_stateful_set_for_all_namespaces(_preload_content=False).data)[
            "items"
        ]
        pods = json.loads(core.list_pod_for_all_namespaces(_preload_content=False).data)["items"]
        time.sleep(0.5)  # let the controllers take over: they must find nothing to change

        assert len(sets) == 50
        assert len(pods) == 30
        assert all(is_ready(p) for p in pods)
        assert sum(s["status"].get("readyReplicas", 0) for s in sets) == 30
        assert sim.api.requests.count(verb="patch", resource="pods/status") == 0
        assert sim.api.requests.count(verb="patch", resource="statefulsets/status") == 0
        assert sim.api.requests.count(verb="create", resource="pods") == 0


@pytest.mark.parametrize(
    "name", [pytest.param("busy", id="unknown"), pytest.param("scale:0", id="zero")]
)
def test_unknown_scenario_names_the_choices(name: str) -> None:
    with pytest.raises(ValueError, match="choose 'empty', 'demo' or 'scale:N'"):
        load(name)
