"""Clusters for the workspace flows: the simulator and a real control plane, same assertions.

`flow_cluster` is parametrised: "simulator" is a `SimulatedCluster` (its API server, controllers
and kubelets), "real" is kube-apiserver + controller-manager + scheduler 1.20.2 with the same
Nodes (`scenarios.STANDARD_NODES`), each run by the simulator's `Kubelet`. Both run their
kubelets at `FLOW_SPEED`, so lifecycles take the same time on both.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from jupyter_workspaces.simulator import SimulatedCluster
from jupyter_workspaces.simulator.controllers.base import api_client
from jupyter_workspaces.simulator.controllers.kubelet import Kubelet
from jupyter_workspaces.simulator.scenarios import STANDARD_NODES
from tests.realcluster.backend import start_real

# Simulated seconds per real second: a 2 GB image (40 s) pulls in 2 s, long enough to be seen.
FLOW_SPEED = 20.0


@dataclass
class FlowCluster:
    """A cluster reached through `kubeconfig`, whatever runs behind it."""

    name: str
    kubeconfig: Path
    clients: list[client.ApiClient] = field(default_factory=list)

    def api_client(self) -> client.ApiClient:
        made = api_client(str(self.kubeconfig))
        self.clients.append(made)
        return made


def _simulator(directory: Path) -> tuple[FlowCluster, Callable[[], None]]:
    sim = SimulatedCluster("empty", speed=FLOW_SPEED, kubeconfig=directory / "kubeconfig")
    sim.start()
    return FlowCluster("simulator", sim.kubeconfig), sim.stop


def _real(directory: Path) -> tuple[FlowCluster, Callable[[], None]]:
    kubeconfig, stop_plane = start_real(directory)
    cluster = FlowCluster("real", kubeconfig)
    core = client.CoreV1Api(cluster.api_client())
    kubelets: list[Kubelet] = []
    try:
        for node in STANDARD_NODES:
            manifest = node.manifest()
            core.create_node(manifest, _preload_content=False)
            core.patch_node_status(
                node.name, {"status": manifest["status"]}, _preload_content=False
            )
        for node in STANDARD_NODES:
            kubelet = Kubelet(None, node.name, speed=FLOW_SPEED, api=cluster.api_client())
            kubelet.images.update(node.images)
            kubelet.start()
            kubelets.append(kubelet)
        for kubelet in kubelets:
            kubelet.wait_synced(30)
    except BaseException:
        stop_plane()
        raise

    def stop() -> None:
        for kubelet in kubelets:
            kubelet.stop()
        stop_plane()

    return cluster, stop


@pytest.fixture(
    scope="session",
    params=[
        pytest.param("simulator", id="simulator"),
        pytest.param("real", id="real", marks=pytest.mark.realcluster),
    ],
)
def flow_cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FlowCluster]:
    starter = {"simulator": _simulator, "real": _real}[request.param]
    cluster, stop = starter(tmp_path_factory.mktemp(f"flows-{request.param}"))
    yield cluster
    for made in cluster.clients:
        made.close()
    stop()


@pytest.fixture
def project(flow_cluster: FlowCluster) -> Iterator[str]:
    """A fresh project namespace; its workspaces are deleted afterwards to free the nodes."""
    core = client.CoreV1Api(flow_cluster.api_client())
    apps = client.AppsV1Api(flow_cluster.api_client())
    name = f"flow-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}}, _preload_content=False)
    yield name
    # The garbage collector may remove a pod before we do: a 404 here is fine.
    for sts in apps.list_namespaced_stateful_set(name).items:
        _quietly(apps.delete_namespaced_stateful_set, sts.metadata.name, name)
    for pod in core.list_namespaced_pod(name).items:
        _quietly(core.delete_namespaced_pod, pod.metadata.name, name, grace_period_seconds=0)
    _quietly(core.delete_namespace, name)


def _quietly(method: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    try:
        method(*args, _preload_content=False, **kwargs)
    except ApiException as exc:
        if exc.status != 404:
            raise


def raw(method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call an official client method and return its JSON body as plain dicts."""
    return json.loads(method(*args, _preload_content=False, **kwargs).data)
