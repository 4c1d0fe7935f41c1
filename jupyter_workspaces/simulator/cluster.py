"""`SimulatedCluster`: the API server, its controllers and nodes, a scenario, tools, in one.

```python
with SimulatedCluster("demo", speed=10) as sim:
    run_anything_with(sim.kubeconfig)
```

Everything but the scenario's bulk seeding goes through the API over HTTP, as in a real
cluster: the StatefulSet controller, the scheduler and one kubelet per node are clients of the
API server like any other.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from jupyter_workspaces.simulator.apiserver import ApiServer
from jupyter_workspaces.simulator.controllers.base import api_client, call, status_message
from jupyter_workspaces.simulator.controllers.kubelet import Kubelet, mark_node_lost
from jupyter_workspaces.simulator.controllers.scheduler import Scheduler
from jupyter_workspaces.simulator.controllers.statefulset import StatefulSetController
from jupyter_workspaces.simulator.registry import Registry
from jupyter_workspaces.simulator.scenarios import NodeSpec, Scenario, load
from jupyter_workspaces.simulator.tools import ToolsServer

log = logging.getLogger(__name__)


class SimulatedCluster:
    """A Kubernetes cluster on 127.0.0.1, reached through `kubeconfig` like a real one.

    `speed` divides every simulated delay (image pulls, readiness, back-offs): tests use a high
    speed so lifecycles finish in a fraction of a second. `scenario` is a name for
    `scenarios.load` or a `Scenario`. `tls=True` serves HTTPS with a self-signed certificate
    (in the kubeconfig), which kubectl needs: it never sends its token over plain HTTP.
    """

    def __init__(
        self,
        scenario: str | Scenario = "empty",
        *,
        port: int = 0,
        speed: float = 1.0,
        kubeconfig: str | Path | None = None,
        tools_port: int = 0,
        registry: Registry | None = None,
        tls: bool = False,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed {speed!r} is not allowed: give a number above 0")
        self.scenario = load(scenario) if isinstance(scenario, str) else scenario
        self.speed = speed
        self.registry = registry or Registry()
        self.api = ApiServer(host="127.0.0.1", port=port, tls=tls)
        self.tools = ToolsServer(port=tools_port)
        self.kubelets: dict[str, Kubelet] = {}
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if kubeconfig is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="jupyter-workspaces-sim-")
            kubeconfig = Path(self._tmp.name) / "kubeconfig"
        self.kubeconfig = Path(kubeconfig)
        self._controllers: list[Any] = []
        self._stopping = threading.Event()
        self._timeline: threading.Thread | None = None
        self.seeded = 0
        self.seed_seconds = 0.0

    # Lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> SimulatedCluster:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return str(self.api.url)

    @property
    def tools_url_template(self) -> str:
        """Where each workspace's tools answer: fill in project, name and tool."""
        return self.tools.url_template

    def api_client(self) -> client.ApiClient:
        """A fresh official client configured from this cluster's kubeconfig."""
        return api_client(str(self.kubeconfig))

    def start(self) -> SimulatedCluster:
        """Start the API server, write the kubeconfig, start the controllers and the scenario."""
        started = time.monotonic()
        self.api.start()
        # Written aside, then renamed: whoever waits for the file never reads half of it.
        partial = self.kubeconfig.with_name(f".{self.kubeconfig.name}.partial")
        self.api.write_kubeconfig(partial)
        os.replace(partial, self.kubeconfig)
        self._client = self.api_client()
        for node in self.scenario.nodes:
            self.add_node(node, start_kubelet=False)
        if self.scenario.seed_store is not None:
            seeding = time.monotonic()
            self.seeded = self.scenario.seed_store(self.api.store)
            self.seed_seconds = time.monotonic() - seeding
            log.info("scenario %s: seeded %d objects", self.scenario.name, self.seeded)

        self._controllers = [
            StatefulSetController(self.api_client(), self.speed),
            Scheduler(self.api_client(), self.speed),
        ]
        for controller in self._controllers:
            controller.start()
        for node in self.scenario.nodes:
            self._start_kubelet(node)
        self.tools.start(self.api_client())
        for controller in [*self._controllers, *self.kubelets.values()]:
            controller.wait_synced(timeout=60)

        self._create_objects()
        if self.scenario.timeline:
            self._timeline = threading.Thread(target=self._play, name="timeline", daemon=True)
            self._timeline.start()
        log.info(
            "simulated cluster ready at %s (scenario %s, speed %g) in %.1fs",
            self.url,
            self.scenario.name,
            self.speed,
            time.monotonic() - started,
        )
        return self

    def stop(self) -> None:
        """Stop everything started; safe to call twice."""
        self._stopping.set()
        for kubelet in self.kubelets.values():
            kubelet.stop()
        for controller in self._controllers:
            controller.stop()
        self.tools.stop()
        self.api.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    # Nodes -----------------------------------------------------------------------------------

    def add_node(self, node: NodeSpec, *, start_kubelet: bool = True) -> None:
        """Create a Node (and by default start its kubelet)."""
        core = client.CoreV1Api(self._client)
        manifest = node.manifest()
        call(core.create_node, manifest)
        call(core.patch_node_status, node.name, {"status": manifest["status"]})
        if start_kubelet:
            self._start_kubelet(node)

    def _start_kubelet(self, node: NodeSpec) -> None:
        kubelet = Kubelet(None, node.name, self.registry, self.speed, api=self.api_client())
        kubelet.images.update(node.images)
        kubelet.start()
        self.kubelets[node.name] = kubelet

    def lose_node(self, name: str) -> int:
        """Make a node go away: its kubelet stops, its pods become Unknown (NodeLost)."""
        kubelet = self.kubelets.pop(name)
        kubelet.stop()
        return mark_node_lost(self._client, name)

    # Scenario --------------------------------------------------------------------------------

    def _create_objects(self) -> None:
        core = client.CoreV1Api(self._client)
        apps = client.AppsV1Api(self._client)
        for obj in self.scenario.objects:
            kind = obj.get("kind")
            namespace = (obj.get("metadata") or {}).get("namespace")
            try:
                if kind == "Namespace":
                    call(core.create_namespace, obj)
                elif kind == "ResourceQuota":
                    call(core.create_namespaced_resource_quota, namespace, obj)
                elif kind == "StatefulSet":
                    call(apps.create_namespaced_stateful_set, namespace, obj)
                elif kind == "Service":
                    call(core.create_namespaced_service, namespace, obj)
                else:
                    raise ValueError(f"scenario object of kind {kind!r} is not supported")
            except ApiException as exc:
                log.warning(
                    "scenario %s: could not create %s %s/%s: %s",
                    self.scenario.name,
                    kind,
                    namespace,
                    obj["metadata"].get("name"),
                    status_message(exc),
                )

    def _play(self) -> None:
        apps = client.AppsV1Api(self._client)
        started = time.monotonic()
        for at, what, action in sorted(self.scenario.timeline, key=lambda step: step[0]):
            wait = at / self.speed - (time.monotonic() - started)
            if self._stopping.wait(max(0.0, wait)):
                return
            log.info("scenario %s: %s", self.scenario.name, what)
            try:
                action(apps)
            except ApiException as exc:
                log.warning(
                    "scenario %s: %s failed: %s", self.scenario.name, what, status_message(exc)
                )
