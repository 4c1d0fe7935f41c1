"""The `scale:N` scenario: N workspaces seeded straight into the store in consistent end states.

Creating 10,000 workspaces through the controllers would take 40,000 round trips and minutes
of simulated pulls; instead every object is written as the controllers would have left it
(StatefulSet with its status, Service, bound claim, and for running workspaces a pod bound to
a node, Running and Ready), then the controllers list them and carry on from there.
"""

from __future__ import annotations

import math
from datetime import timedelta
from functools import partial
from typing import Any

from jupyter_workspaces import constants as c
from jupyter_workspaces.manifests import WorkspaceSpec
from jupyter_workspaces.simulator.apiserver import defaults
from jupyter_workspaces.simulator.apiserver.resources import CATALOGUE
from jupyter_workspaces.simulator.controllers.base import Obj, now_utc, rfc3339
from jupyter_workspaces.simulator.controllers.statefulset import (
    claims_for,
    desired_status,
    pod_for,
    revision_hash,
)
from jupyter_workspaces.simulator.scenarios import (
    SCIPY,
    NodeSpec,
    Scenario,
    namespace,
    quota,
    stopped_annotations,
    workspace,
)

WORKSPACES_PER_PROJECT = 100
PODS_PER_NODE = 400
RUNNING_SHARE = 0.6
OWNERS = 50
_STATEFULSETS = CATALOGUE.resolve("statefulsets")


def scale(count: int) -> Scenario:
    """`count` workspaces over ceil(count/100) projects; 60 % running, the rest stopped."""
    running = math.ceil(count * RUNNING_SHARE)
    node_count = max(1, math.ceil(running / PODS_PER_NODE))
    nodes = tuple(
        NodeSpec(
            f"node-{i:03d}",
            cpu=PODS_PER_NODE,
            memory_gib=4 * PODS_PER_NODE,
            gpu=8,
            pods=PODS_PER_NODE + 10,
        )
        for i in range(1, node_count + 1)
    )
    return Scenario(
        f"scale:{count}", nodes=nodes, seed_store=partial(_seed, count=count, nodes=nodes)
    )


def _seed(store: Any, count: int, nodes: tuple[NodeSpec, ...]) -> int:
    """Write every object of the scenario into `store`; return how many were written."""
    projects = math.ceil(count / WORKSPACES_PER_PROJECT)
    written = store.seed(
        obj
        for p in range(projects)
        for obj in (namespace(_project(p)), quota(_project(p), {"pods": "500"}))
    )
    stopped_at = stopped_annotations(
        "policy:idle-culler", "idle for more than 24 hours", timedelta(hours=26)
    )
    started = rfc3339(now_utc() - timedelta(hours=1))
    with store.tables.lock:
        for i in range(count):
            runs = i % 10 < RUNNING_SHARE * 10
            spec = WorkspaceSpec(
                name=f"ws-{i:05d}",
                project=_project(i // WORKSPACES_PER_PROJECT),
                owner=f"user-{i % OWNERS:03d}",
                image=SCIPY,
                cpu="500m",
                memory="1Gi",
            )
            sts, service = workspace(
                spec, replicas=1 if runs else 0, annotations={} if runs else stopped_at
            )
            pod_name = c.pod_name(spec.name)
            # The controller hashes the template as stored, with the server's defaults in it.
            defaults.apply(_STATEFULSETS, sts, creating=True)
            revision = revision_hash(sts)
            summary = {"ready": True, "deleting": False, "revision": revision} if runs else None
            sts["status"] = desired_status({**sts, "revision": revision}, summary)
            sts = store.create(sts, admit=False, keep_status=True)
            sts["revision"] = revision
            for claim in claims_for(sts, pod_name):
                claim["spec"]["volumeName"] = f"pvc-{spec.project}-{spec.name}"
                claim["status"] = {"phase": "Bound", "capacity": {"storage": spec.volume_size}}
                store.create(claim, admit=False, keep_status=True)
            store.create(service, admit=False)
            written += 3
            if runs:
                node = nodes[i % len(nodes)].name
                pod = _running_pod(sts, pod_name, node, started)
                store.create(pod, admit=False, keep_status=True)
                written += 1
    return int(written)


def _project(index: int) -> str:
    return f"project-{index + 1:03d}"


def _running_pod(sts: Obj, pod_name: str, node: str, started: str) -> Obj:
    pod = pod_for(sts, pod_name)
    pod["spec"]["nodeName"] = node
    container = pod["spec"]["containers"][0]
    ip = f"10.{hash(pod_name) % 250}.{hash(node) % 250}.{hash(sts['metadata']['namespace']) % 250}"
    ok = {"status": "True", "lastProbeTime": None, "lastTransitionTime": started}
    pod["status"] = {
        "phase": "Running",
        "conditions": [
            {"type": kind, **ok}
            for kind in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
        ],
        "hostIP": f"10.0.{hash(node) % 250}.1",
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "startTime": started,
        "containerStatuses": [
            {
                "name": container["name"],
                "state": {"running": {"startedAt": started}},
                "lastState": {},
                "ready": True,
                "restartCount": 0,
                "image": container["image"],
                "imageID": "",
                "containerID": f"containerd://{abs(hash(pod_name)):064x}"[:77],
                "started": True,
            }
        ],
    }
    return pod
