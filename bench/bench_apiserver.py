"""API server figures: start to a usable kubeconfig, listing 10,000 StatefulSets, memory.

Run: `.venv/bin/python bench/bench_apiserver.py [N]` (N workspaces, default 10000). Each
workspace is a StatefulSet, its pod, Service, PVC and three events, seeded in-process across
N/100 projects with a quota each. Prints figures against the targets; asserts nothing.
"""

from __future__ import annotations

import gc
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from kubernetes import client, config

from jupyter_workspaces.manifests import WorkspaceSpec, build_service, build_statefulset
from jupyter_workspaces.simulator.apiserver import ApiServer


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def workspace_objects(index: int, project: str) -> list[dict[str, Any]]:
    """The objects one running workspace has on a cluster."""
    spec = WorkspaceSpec(
        name=f"ws-{index:05d}", project=project, owner=f"user{index % 300}",
        image="jupyter/scipy-notebook:2024-01-01", gpu=index % 2,
    )  # fmt: skip
    sts = build_statefulset(spec)
    sts["metadata"]["namespace"] = project
    sts["status"] = {"replicas": 1, "readyReplicas": 1, "currentReplicas": 1}
    service = build_service(spec)
    service["metadata"]["namespace"] = project
    pod_name = f"{spec.name}-0"
    template = sts["spec"]["template"]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {**template["metadata"], "name": pod_name, "namespace": project},
        "spec": {**template["spec"], "nodeName": f"node-{index % 40}"},
        "status": {
            "phase": "Running",
            "conditions": [{"type": kind, "status": "True"} for kind in
                           ("Initialized", "Ready", "ContainersReady", "PodScheduled")],
            "containerStatuses": [{"name": "workspace", "ready": True, "restartCount": 0,
                                   "image": spec.image, "state": {"running": {}}}],
        },
    }  # fmt: skip
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": f"home-{pod_name}", "namespace": project},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}},
    }
    events = [
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{pod_name}.{reason.lower()}", "namespace": project},
            "involvedObject": {"kind": "Pod", "name": pod_name, "namespace": project},
            "reason": reason,
            "message": f"{reason} for {pod_name}",
            "type": "Normal",
            "count": 1,
        }
        for reason in ("Scheduled", "Pulled", "Started")
    ]
    return [sts, service, pod, claim, *events]


def warm_up_client(directory: Path) -> None:
    """The official client builds each API method's validator on its first call (seconds on
    a busy machine, against any cluster); do that before the clock starts."""
    started = time.monotonic()
    with ApiServer() as scratch:
        api = config.new_client_from_config(str(scratch.write_kubeconfig(directory / "warm")))
        client.CoreV1Api(api).list_namespace()
        api.close()
    print(f"(the client's first call in this process took {time.monotonic() - started:.2f} s)")


def seed(server: ApiServer, count: int) -> float:
    started = time.monotonic()
    projects = [f"project-{number:03d}" for number in range(max(1, count // 100))]
    for project in projects:
        server.store.create(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": project}}
        )
        server.store.create({"apiVersion": "v1", "kind": "ResourceQuota",
                             "metadata": {"name": "gpus", "namespace": project},
                             "spec": {"hard": {"requests.nvidia.com/gpu": "1000"}}})  # fmt: skip
    server.store.seed(
        obj
        for index in range(count)
        for obj in workspace_objects(index, projects[index % len(projects)])
    )
    return time.monotonic() - started


def timed(action: Any, repeat: int = 3) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.monotonic()
        result = action()
        best = min(best, time.monotonic() - started)
    return best, result


def main(count: int) -> None:
    directory = Path(tempfile.mkdtemp())
    warm_up_client(directory)
    baseline = rss_mib()

    started = time.monotonic()
    server = ApiServer()
    server.start()
    path = server.write_kubeconfig(directory / "kubeconfig")
    api = config.new_client_from_config(str(path))
    client.CoreV1Api(api).list_namespace()
    startup = time.monotonic() - started
    print(f"start to usable kubeconfig: {startup:.3f} s (target < 3 s)")

    seconds = seed(server, count)
    gc.collect()
    stored = rss_mib() - baseline
    totals = server.store.tables.stats()
    print(f"seeded {count} workspaces ({sum(totals.values())} objects) in {seconds:.1f} s")
    print(f"memory at {count} workspaces: {stored:.0f} MiB above start (target < 1024 MiB)")

    apps = client.AppsV1Api(api)
    bytes_time, data = timed(
        lambda: apps.list_stateful_set_for_all_namespaces(_preload_content=False).data
    )
    print(f"list {count} StatefulSets, bytes received ({len(data) / 2**20:.0f} MiB): "
          f"{bytes_time:.2f} s")  # fmt: skip
    del data
    raw_time, raw = timed(
        lambda: json.loads(apps.list_stateful_set_for_all_namespaces(_preload_content=False).data)
    )
    print(f"list {len(raw['items'])} StatefulSets as dicts (_preload_content=False, json.loads): "
          f"{raw_time:.2f} s (target < 3 s)")  # fmt: skip

    def decode_without_gc() -> dict[str, Any]:
        data = apps.list_stateful_set_for_all_namespaces(_preload_content=False).data
        gc.disable()
        try:
            return dict(json.loads(data))
        finally:
            gc.enable()

    quiet_time, _ = timed(decode_without_gc)
    print(f"list {count} StatefulSets as dicts, collector paused while decoding: "
          f"{quiet_time:.2f} s (the cyclic GC runs many times during one big decode)")  # fmt: skip
    model_time, models = timed(apps.list_stateful_set_for_all_namespaces, repeat=1)
    print(f"list {len(models.items)} StatefulSets as client models: {model_time:.2f} s "
          "(the client's model building; same bytes on the wire)")  # fmt: skip
    del models
    paged_started = time.monotonic()
    token, seen = None, 0
    while True:
        page = apps.list_stateful_set_for_all_namespaces(limit=500, _continue=token,
                                                         _preload_content=False)  # fmt: skip
        body = json.loads(page.data)
        seen += len(body["items"])
        token = body["metadata"].get("continue")
        if not token:
            break
    paged = time.monotonic() - paged_started
    print(f"list {seen} StatefulSets in pages of 500 as dicts: {paged:.2f} s")
    pods_time, pods = timed(
        lambda: (
            client.CoreV1Api(api)
            .list_pod_for_all_namespaces(
                label_selector="app.kubernetes.io/managed-by=jupyter-workspaces",
                _preload_content=False,
            )
            .data
        )
    )
    print(
        f"list {len(json.loads(pods)['items'])} pods by label selector, bytes: {pods_time:.2f} s"
    )
    gc.collect()
    print(f"memory after listing: {rss_mib() - baseline:.0f} MiB above start")

    api.close()
    server.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
