"""Simulator figures: start to a usable kubeconfig, scale:10000 load, list of 10,000, memory.

Run: `.venv/bin/python bench/bench_simulator.py [N]` (N workspaces, default 10000). Prints
figures against the targets; asserts nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from jupyter_workspaces.simulator import SimulatedCluster


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_to_kubeconfig() -> float:
    """Seconds from launching `jupyter workspaces simulate` to a kubeconfig whose API answers."""
    client.CoreV1Api  # noqa: B018  (load the client's models before the clock starts)
    with tempfile.TemporaryDirectory() as directory:
        kubeconfig = Path(directory) / "kubeconfig"
        started = time.monotonic()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter_workspaces.cli",
                "simulate",
                "--kubeconfig",
                str(kubeconfig),
                "--scenario",
                "empty",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while True:
                if kubeconfig.exists():
                    try:
                        api = config.new_client_from_config(str(kubeconfig))
                        client.CoreV1Api(api).list_namespace(_preload_content=False)
                        break
                    except (ApiException, ConfigException, OSError, urllib3.exceptions.HTTPError):
                        pass
                time.sleep(0.02)
            return time.monotonic() - started
        finally:
            process.terminate()
            process.wait(30)


_LIST = """
import json, sys, time
from kubernetes import client, config
apps = client.AppsV1Api(config.new_client_from_config(sys.argv[1]))
wall, cpu = time.monotonic(), time.process_time()
items = json.loads(apps.list_stateful_set_for_all_namespaces(_preload_content=False).data)["items"]
raw = time.monotonic() - wall, time.process_time() - cpu
wall, cpu = time.monotonic(), time.process_time()
models = apps.list_stateful_set_for_all_namespaces().items
typed = time.monotonic() - wall, time.process_time() - cpu
print(f"{raw[0]:.2f} s as JSON dicts ({len(items)} items; client CPU {raw[1]:.2f} s), "
      f"{typed[0]:.2f} s as models ({len(models)}; client CPU {typed[1]:.2f} s)")
"""


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    print("load average before: {:.1f} {:.1f} {:.1f} (2 cores, shared)".format(*os.getloadavg()))
    print(
        f"start to a usable kubeconfig (CLI, scenario empty): {start_to_kubeconfig():.2f} s"
        "  (target < 3 s)"
    )

    before = rss_mib()
    started = time.monotonic()
    with SimulatedCluster(f"scale:{count}") as sim:
        loaded = time.monotonic() - started
        print(
            f"scale:{count} loaded ({sim.seeded} objects seeded, controllers synced): "
            f"{loaded:.1f} s, of which seeding the store {sim.seed_seconds:.1f} s  (target < 60 s)"
        )

        # The client runs in its own process, as kubectl or the extension would.
        result = subprocess.run(
            [sys.executable, "-c", _LIST, str(sim.kubeconfig)],
            capture_output=True,
            text=True,
            check=True,
        )
        print(
            f"list of {count} StatefulSets through the official client: {result.stdout.strip()}"
            "  (target < 3 s)"
        )

        time.sleep(2)  # controllers settle
        rss = rss_mib()
        print(
            f"memory (RSS, API server + controllers + kubelets in one process): {rss:.0f} MiB"
            f" ({rss - before:.0f} MiB for the cluster)  (target < 1024 MiB)"
        )
        print(f"requests served while loading: {sim.api.requests.snapshot()}")
    print("load average after: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
