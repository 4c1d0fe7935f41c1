"""Benchmark the REST list and CSV download over real HTTP, against the naive approach.

For each size (default 1,000 and 10,000 workspaces, the simulator's `scale:N` scenarios):

- starts the simulator in this process and a real Jupyter server with the extension in a
  subprocess on 127.0.0.1, configured with the simulator's kubeconfig;
- times GET {base}workspaces/api/workspaces (median of --repeat) and
  GET {base}workspaces/api/workspaces.csv with every column (median of --csv-repeat);
- times the naive approach, as Kubeflow's Jupyter web app serves its table: each request lists
  the StatefulSets and the pods from the Kubernetes API, then reads each workspace's events
  with one more request, derives the statuses and serialises the answer (median of
  --naive-repeat; raw JSON, no client-side models, which favours the naive side);
- prints the figures and the ratio. Targets (issue 5): list < 50 ms at 1,000 and < 300 ms at
  10,000; CSV of 10,000 rows < 0.5 s. No asserts: the figures are the result.

Run: .venv/bin/python bench/bench_server.py [--sizes 1000,10000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kubernetes import client as k8s
from kubernetes import config as kube_config

from jupyter_workspaces import constants, table
from jupyter_workspaces.simulator import SimulatedCluster
from jupyter_workspaces.status import derive_status

LOAD_TIMEOUT = 600.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    """A Jupyter server subprocess with the extension, on the given kubeconfig."""

    def __init__(self, kubeconfig: Path, scratch: Path) -> None:
        self.port = free_port()
        self.token = secrets.token_hex(16)
        settings = {
            "ServerApp": {"jpserver_extensions": {"jupyter_workspaces": True}},
            "WorkspacesApp": {"kubeconfig": str(kubeconfig)},
        }
        config = scratch / "jupyter_server_config.json"
        config.write_text(json.dumps(settings))
        env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(scratch / "runtime")}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter_server",
                "--ip=127.0.0.1",
                f"--port={self.port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={self.token}",
                f"--config={config}",
                f"--ServerApp.root_dir={scratch}",
                "--ServerApp.log_level=WARN",
                *(["--allow-root"] if os.geteuid() == 0 else []),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(scratch / "server.log").open("wb"),
        )
        self.log = scratch / "server.log"
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def get(self, path: str) -> tuple[int, bytes]:
        self.connection.request(
            "GET", f"/workspaces/api/{path}", headers={"Authorization": f"token {self.token}"}
        )
        response = self.connection.getresponse()
        return response.status, response.read()

    def wait_for(self, count: int) -> None:
        """Wait until the list endpoint serves `count` workspaces."""
        deadline = time.monotonic() + LOAD_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the Jupyter server exited:\n{self.log.read_text()[-3000:]}")
            try:
                status, body = self.get("workspaces")
                if status == 200 and len(json.loads(body)["workspaces"]) >= count:
                    return
            except (ConnectionError, http.client.HTTPException, OSError):
                self.connection.close()
            time.sleep(0.5)
        raise RuntimeError(f"the server did not serve {count} workspaces in {LOAD_TIMEOUT} s")

    def stop(self) -> None:
        self.connection.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def median_seconds(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def naive_table(api: Any) -> bytes:
    """Serve the table the naive way: list, list, then one events request per workspace."""
    apps = k8s.AppsV1Api(api)
    core = k8s.CoreV1Api(api)
    selector = constants.MANAGED_SELECTOR

    def raw(response: Any) -> Any:
        return json.loads(response.data)

    statefulsets = raw(
        apps.list_stateful_set_for_all_namespaces(label_selector=selector, _preload_content=False)
    )["items"]
    pods = raw(core.list_pod_for_all_namespaces(label_selector=selector, _preload_content=False))
    pods_by_key = {(p["metadata"]["namespace"], p["metadata"]["name"]): p for p in pods["items"]}
    now = datetime.now(timezone.utc)
    rows = []
    for sts in statefulsets:
        namespace, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
        events = raw(
            core.list_namespaced_event(
                namespace,
                field_selector=f"involvedObject.name={name}",
                _preload_content=False,
            )
        )["items"]
        pod = pods_by_key.get((namespace, constants.pod_name(name)))
        report = derive_status(sts, pod, events, now)
        rows.append({"project": namespace, "name": name, "status": report.to_dict()})
    return json.dumps({"workspaces": rows}).encode()


def measure(size: int, repeat: int, csv_repeat: int, naive_repeat: int) -> None:
    print(f"\n== {size} workspaces (simulator scenario scale:{size}) ==", flush=True)
    started = time.perf_counter()
    with SimulatedCluster(f"scale:{size}") as sim, tempfile.TemporaryDirectory() as scratch:
        print(f"simulator loaded in {time.perf_counter() - started:.1f} s", flush=True)
        server = Server(sim.kubeconfig, Path(scratch))
        try:
            started = time.perf_counter()
            server.wait_for(size)
            print(f"server up and table loaded in {time.perf_counter() - started:.1f} s")

            def list_once() -> None:
                status, body = server.get("workspaces")
                assert status == 200, body[:200]

            columns = ",".join(table.column_ids())

            def csv_once() -> None:
                status, body = server.get(f"workspaces.csv?columns={columns}")
                assert status == 200, body[:200]

            list_once()  # warm up
            fast = median_seconds(list_once, repeat)
            print(f"REST list, median of {repeat}:           {fast * 1000:8.1f} ms")
            cold = median_seconds(csv_once, 1)  # the first download builds every row's cells
            print(f"CSV, first download (cells built):   {cold * 1000:8.1f} ms")
            csv_time = median_seconds(csv_once, csv_repeat)
            print(
                f"CSV, all {len(table.COLUMNS)} columns, median of {csv_repeat}: "
                f"{csv_time * 1000:8.1f} ms"
            )
        finally:
            server.stop()

        api = kube_config.new_client_from_config(config_file=str(sim.kubeconfig))
        try:
            naive = median_seconds(lambda: naive_table(api), naive_repeat)
        finally:
            api.close()
        print(
            f"naive list (2 lists + {size} event reads), median of {naive_repeat}: "
            f"{naive * 1000:8.1f} ms"
        )
        print(f"ratio naive / REST list: {naive / fast:8.1f}x", flush=True)


def main() -> int:
    # When the server subprocess stops, the simulator sees its open watches break and logs
    # each one; that is expected here and would bury the figures.
    logging.getLogger("jupyter_workspaces.simulator.apiserver.handlers").setLevel(logging.CRITICAL)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--csv-repeat", type=int, default=5)
    parser.add_argument("--naive-repeat", type=int, default=3)
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        measure(size, args.repeat, args.csv_repeat, args.naive_repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
