"""Service figures: API requests per list, list time, memory per workspace, feed latency.

Run: `.venv/bin/python bench/bench_service.py [N]` (N workspaces, default 10000). Starts
`jupyter workspaces simulate --scenario scale:N` in its own process (so that memory measured
here is the service's alone), connects a `WorkspaceService` to it through the kubeconfig and
prints each figure beside its target. Asserts nothing.
"""

from __future__ import annotations

import gc
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client, config

from jupyter_workspaces.records import Workspace, WorkspaceDeleted
from jupyter_workspaces.service import WorkspaceService

FEED_SAMPLES = 60
# What the service reads from the API (the simulated kubelets also read nodes, for instance).
SERVICE_RESOURCES = (
    "statefulsets",
    "pods",
    "events",
    "persistentvolumeclaims",
    "resourcequotas",
    "namespaces",
)


class Simulator:
    """`jupyter workspaces simulate` in a child process, and its admin endpoint."""

    def __init__(self, scenario: str, directory: Path) -> None:
        self.kubeconfig = directory / "kubeconfig"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter_workspaces.cli",
                "simulate",
                "--kubeconfig",
                str(self.kubeconfig),
                "--scenario",
                scenario,
                "--speed",
                "10",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 600
        while not self.kubeconfig.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the simulator did not start")
            time.sleep(0.1)
        configuration = client.Configuration()
        config.load_kube_config(str(self.kubeconfig), client_configuration=configuration)
        self.url = configuration.host
        self.headers = {"Authorization": configuration.get_api_key_with_prefix("BearerToken")}
        # The admin endpoint is served like the API: trust the same certificate authority.
        self.http = urllib3.PoolManager(ca_certs=configuration.ssl_ca_cert)

    def requests(self) -> dict[str, int]:
        response = self.http.request("GET", f"{self.url}/simulator/requests", headers=self.headers)
        counts: dict[str, int] = json.loads(response.data)
        return counts

    def reset_requests(self) -> None:
        self.http.request("DELETE", f"{self.url}/simulator/requests", headers=self.headers)

    def wait_quiet(self, seconds: float = 1.0, patience: float = 60.0) -> None:
        """Wait until no client (the simulated controllers included) sends a request."""
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            self.reset_requests()
            time.sleep(seconds)
            if self.requests()["total"] == 0:
                return
        print("  (the simulated controllers never went quiet; counts include theirs)")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(60)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def memory_per_workspace(sim: Simulator) -> None:
    # Load the client's API modules first: their code is the same for 1 or 100,000 workspaces.
    client.AppsV1Api(), client.CoreV1Api()
    gc.collect()
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    service = WorkspaceService.connect(kubeconfig=sim.kubeconfig)
    try:
        service.wait_loaded(600)
        gc.collect()
        used = tracemalloc.get_traced_memory()[0] - baseline
        count = len(service.list("bench"))
    finally:
        service.close()
        tracemalloc.stop()
    print(
        f"memory of the service with {count} cached workspaces (tracemalloc): "
        f"{used / 2**20:.1f} MiB, {used / max(count, 1) / 1024:.2f} KB per workspace"
        "  (target < 10 KB)"
    )


def requests_per_list(sim: Simulator, service: WorkspaceService) -> None:
    sim.wait_quiet()
    sim.reset_requests()
    started = time.monotonic()
    for _ in range(100):
        service.list("bench")
    elapsed = time.monotonic() - started
    during = sim.requests()
    # The simulated controllers (kubelet heartbeats, their watches) talk to the API too: count
    # an idle window of the same length to tell their requests from any a list would cause.
    sim.reset_requests()
    time.sleep(elapsed)
    idle = sim.requests()
    reads = sum(
        n
        for name, n in during.items()
        if name.split(" ")[0] in ("get", "list") and name.split(" ")[-1] in SERVICE_RESOURCES
    )
    print(
        f"API requests during 100 lists once loaded: {during['total']} in all, {reads} reads of "
        f"workspace objects "
        f"(the same {elapsed:.2f} s idle: {idle['total']}); per list: {reads / 100:g}  (target 0)"
    )
    if during["total"]:
        print(f"  by verb and resource: {during}")


def list_time(service: WorkspaceService) -> None:
    for label, options in (("all", {}), ("status=Active", {"status": "Active"})):
        times = []
        for _ in range(30):
            started = time.perf_counter()
            found = service.list("bench", **options)
            times.append((time.perf_counter() - started) * 1000)
        print(
            f"in-process list of {len(found)} workspaces ({label}): median "
            f"{statistics.median(times):.1f} ms, p95 {percentile(times, 0.95):.1f} ms"
            "  (target < 100 ms)"
        )


def feed_latency(sim: Simulator, service: WorkspaceService) -> None:
    running = [w for w in service.list("bench", status="Active")][:FEED_SAMPLES]
    arrived: dict[tuple[str, str], float] = {}
    waiting: dict[tuple[str, str], threading.Event] = {}

    def on_change(change: Workspace | WorkspaceDeleted) -> None:
        key = (change.project, change.name)
        if key in waiting and key not in arrived:
            arrived[key] = time.perf_counter()
            waiting[key].set()

    service.subscribe(on_change)
    apps: Any = client.AppsV1Api(config.new_client_from_config(str(sim.kubeconfig)))
    latencies = []
    for workspace in running:
        key = (workspace.project, workspace.name)
        waiting[key] = threading.Event()
        started = time.perf_counter()
        apps.patch_namespaced_stateful_set(
            workspace.name, workspace.project, {"spec": {"replicas": 0}}, _preload_content=False
        )
        if waiting[key].wait(5):
            latencies.append((arrived[key] - started) * 1000)
    missed = len(running) - len(latencies)
    print(
        f"cluster change to change feed ({len(latencies)} stops by another client): p50 "
        f"{percentile(latencies, 0.5):.0f} ms, p95 {percentile(latencies, 0.95):.0f} ms, "
        f"max {max(latencies):.0f} ms"
        + (f", {missed} not seen in 5 s" if missed else "")
        + "  (target p95 < 1000 ms)"
    )


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as directory:
        started = time.monotonic()
        sim = Simulator(f"scale:{count}", Path(directory))
        print(f"simulator with scale:{count} started in {time.monotonic() - started:.1f} s")
        try:
            memory_per_workspace(sim)
            started = time.monotonic()
            service = WorkspaceService.connect(kubeconfig=sim.kubeconfig)
            service.wait_loaded(600)
            print(
                f"first load of {len(service.list('bench'))} workspaces (list and watch of 5 "
                f"kinds, every status derived): {time.monotonic() - started:.1f} s"
            )
            try:
                requests_per_list(sim, service)
                list_time(service)
                feed_latency(sim, service)
            finally:
                service.close()
        finally:
            sim.stop()


if __name__ == "__main__":
    main()
