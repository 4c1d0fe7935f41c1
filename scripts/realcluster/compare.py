"""Make the same requests to the simulator and to a real control plane; print every difference.

Diagnostic for keeping the simulator honest (not a test): it starts both backends the way the
workspace-flow tests do, sends each request below to both, and prints, per request, the JSON
paths found only on one side and the values that differ. Volatile values (uids, times,
resourceVersions, generated names, IPs) are masked so only differences in kind remain.

    .venv/bin/python scripts/realcluster/compare.py
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from jupyter_workspaces.manifests import WorkspaceSpec, build_service, build_statefulset
from tests.realcluster.conftest import FlowCluster, _real, _simulator

VOLATILE = re.compile(
    r"^(\d{4}-\d\d-\d\dT[\d:.]+Z|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|\d+\.\d+\.\d+\.\d+)$"
)
VOLATILE_KEYS = {
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "managedFields",
    "clusterIP",
    "clusterIPs",
    "volumeName",
    "controller-revision-hash",
    "currentRevision",
    "updateRevision",
    "podIP",
    "hostIP",
    "startedAt",
    "lastHeartbeatTime",
}
WARM = "quay.io/jupyter/scipy-notebook:2024-05-27"
SPEC = WorkspaceSpec(name="cmp", project="cmp", owner="ada", image=WARM, cpu="500m")


def flatten(value: Any, path: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            if key in VOLATILE_KEYS:
                out[f"{path}.{key}"] = "<volatile>"
            else:
                out.update(flatten(item, f"{path}.{key}"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out.update(flatten(item, f"{path}[{index}]"))
    else:
        if isinstance(value, str) and VOLATILE.match(value):
            value = "<volatile>"
        out[path or "."] = value
    return out


def answer(call: Callable[[], Any]) -> Any:
    try:
        response = call()
        return json.loads(response.data or b"null")
    except ApiException as exc:
        body = json.loads(exc.body or "null")
        return {"httpStatus": exc.status, "body": body}


def requests(cluster: FlowCluster) -> dict[str, Any]:
    api = cluster.api_client()
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    p = {"_preload_content": False}
    out: dict[str, Any] = {}
    answer(lambda: core.create_namespace({"metadata": {"name": "cmp"}}, **p))
    out["create namespace again (409)"] = answer(
        lambda: core.create_namespace({"metadata": {"name": "cmp"}}, **p)
    )
    out["get missing statefulset (404)"] = answer(
        lambda: apps.read_namespaced_stateful_set("nope", "cmp", **p)
    )
    out["create statefulset"] = answer(
        lambda: apps.create_namespaced_stateful_set("cmp", build_statefulset(SPEC), **p)
    )
    out["create service"] = answer(
        lambda: core.create_namespaced_service("cmp", build_service(SPEC), **p)
    )
    out["create statefulset again (409)"] = answer(
        lambda: apps.create_namespaced_stateful_set("cmp", build_statefulset(SPEC), **p)
    )
    bad = build_statefulset(SPEC)
    bad["metadata"]["name"] = "Bad_Name"
    out["create statefulset with invalid name (422)"] = answer(
        lambda: apps.create_namespaced_stateful_set("cmp", bad, **p)
    )
    stale = json.loads(apps.read_namespaced_stateful_set("cmp", "cmp", **p).data)
    stale["metadata"]["resourceVersion"] = "1"
    out["replace statefulset with a stale resourceVersion (409)"] = answer(
        lambda: apps.replace_namespaced_stateful_set("cmp", "cmp", stale, **p)
    )
    out["create statefulset in a missing namespace (404)"] = answer(
        lambda: apps.create_namespaced_stateful_set("nowhere", build_statefulset(SPEC), **p)
    )
    out["patch statefulset replicas to -1 (422)"] = answer(
        lambda: apps.patch_namespaced_stateful_set("cmp", "cmp", {"spec": {"replicas": -1}}, **p)
    )
    out["delete missing statefulset (404)"] = answer(
        lambda: apps.delete_namespaced_stateful_set("nope", "cmp", **p)
    )
    out["read statefulset scale"] = answer(
        lambda: apps.read_namespaced_stateful_set_scale("cmp", "cmp", **p)
    )
    out["merge-patch with a bad body (400)"] = answer(
        lambda: apps.patch_namespaced_stateful_set(
            "cmp", "cmp", [{"op": "replace", "path": "/spec/nope/x", "value": 1}], **p
        )
    )
    out["list pods with unsupported field selector (400)"] = answer(
        lambda: core.list_namespaced_pod("cmp", field_selector="spec.restartPolicy=Always", **p)
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pod = answer(lambda: core.read_namespaced_pod("cmp-0", "cmp", **p))
        ready = [
            c
            for c in (pod.get("status") or {}).get("conditions") or []
            if c["type"] == "Ready" and c["status"] == "True"
        ]
        if ready:
            break
        time.sleep(0.1)
    out["the workspace's ready pod"] = pod
    out["statefulset once ready"] = answer(
        lambda: apps.read_namespaced_stateful_set("cmp", "cmp", **p)
    )
    out["home claim"] = answer(
        lambda: core.read_namespaced_persistent_volume_claim("home-cmp-0", "cmp", **p)
    )
    out["service"] = answer(lambda: core.read_namespaced_service("cmp", "cmp", **p))
    events = answer(lambda: core.list_namespaced_event("cmp", **p))["items"]
    for event in sorted(events, key=lambda e: (e["involvedObject"]["kind"], e["reason"])):
        label = f"event {event['involvedObject']['kind']} {event['reason']}"
        out.setdefault(label, event)
    quota = {"metadata": {"name": "q"}, "spec": {"hard": {"requests.cpu": "1", "pods": "5"}}}
    answer(lambda: core.create_namespace({"metadata": {"name": "cmpq"}}, **p))
    answer(lambda: core.create_namespaced_resource_quota("cmpq", quota, **p))
    while not answer(lambda: core.read_namespaced_resource_quota("q", "cmpq", **p)).get("status"):
        time.sleep(0.05)
    big = {
        "metadata": {"name": "big"},
        "spec": {
            "containers": [{"name": "c", "image": WARM, "resources": {"requests": {"cpu": "2"}}}]
        },
    }
    out["pod over quota (403)"] = answer(lambda: core.create_namespaced_pod("cmpq", big, **p))
    nocpu = {"metadata": {"name": "nocpu"}, "spec": {"containers": [{"name": "c", "image": WARM}]}}
    out["pod without cpu request under a cpu quota (403)"] = answer(
        lambda: core.create_namespaced_pod("cmpq", nocpu, **p)
    )
    out["quota status"] = answer(lambda: core.read_namespaced_resource_quota("q", "cmpq", **p))
    return out


def main() -> int:
    results = {}
    for name, starter in (("simulator", _simulator), ("real", _real)):
        cluster, stop = starter(Path(tempfile.mkdtemp(prefix=f"cmp-{name}-")))
        try:
            results[name] = requests(cluster)
        finally:
            stop()
    sim, real = results["simulator"], results["real"]
    for request in sorted(set(sim) | set(real)):
        if request not in sim or request not in real:
            sys.stdout.write(
                f"\n## {request}: only on {'simulator' if request in sim else 'real'}" + "\n"
            )
            continue
        a, b = flatten(real[request]), flatten(sim[request])
        lines = []
        for path in sorted(set(a) | set(b)):
            if path not in b:
                lines.append(f"  only real: {path} = {a[path]!r}")
            elif path not in a:
                lines.append(f"  only sim:  {path} = {b[path]!r}")
            elif a[path] != b[path]:
                lines.append(f"  differs:   {path}: real {a[path]!r} | sim {b[path]!r}")
        sys.stdout.write(
            f"\n## {request}: {'same' if not lines else f'{len(lines)} differences'}" + "\n"
        )
        sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
