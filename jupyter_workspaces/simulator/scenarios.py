"""What a simulated cluster holds when it starts: nodes, projects, quotas and workspaces.

- `empty`: the three nodes of `STANDARD_NODES`, no project. Tests create what they need.
- `demo`: three projects with quotas, three nodes with four GPUs in all, and workspaces in
  every status, owned by `DEMO_USER` and three colleagues. Over the first minute (at speed 1)
  `notes` finishes pulling and becomes Active, `dashboard` crashes into a crash loop, and
  `detector-train` is stopped by the idleness policy at 45 s, which lets `big-sweep`, waiting
  for two GPUs, start. `huge-model` asks for 4 GPUs, more than any node has, and stays Pending.
- `scale:N`: N workspaces across N/100 projects, 60 % running, the rest stopped, seeded
  straight into the store in their end states (the controllers then take them over).

Scenario workspaces are built with `manifests.build_statefulset`/`build_service`, so they look
exactly like the ones the product makes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from jupyter_workspaces import constants as c
from jupyter_workspaces.manifests import WorkspaceSpec, build_service, build_statefulset
from jupyter_workspaces.simulator.controllers.base import Obj, now_utc, rfc3339
from jupyter_workspaces.simulator.registry import (
    BEHAVIOUR_ANNOTATION,
    CRASH_AFTER_ANNOTATION,
    LAST_ACTIVITY_ANNOTATION,
)

# The user the demo is seen as: owner of most demo workspaces. `make demo` runs JupyterLab as
# this user; set JUPYTER_WORKSPACES_DEMO_USER to see the demo as somebody else.
DEMO_USER = os.environ.get("JUPYTER_WORKSPACES_DEMO_USER") or "researcher"

GIB = "Gi"
SCIPY = "quay.io/jupyter/scipy-notebook:2024-05-27"
PYTORCH = "quay.io/jupyter/pytorch-notebook:cuda12-2024-05-27"
DATASCIENCE = "quay.io/jupyter/datascience-notebook:2024-05-27"
CODE_SERVER = "codercom/code-server:4.89.1"
BASE = "quay.io/jupyter/base-notebook:2024-05-27"
# Images every node of a scenario has already pulled (a cluster in use has a warm cache).
WARM_IMAGES = (SCIPY, PYTORCH, CODE_SERVER, BASE)


@dataclass(frozen=True)
class NodeSpec:
    """A simulated node: its capacity, labels, taints and the images it has already pulled."""

    name: str
    cpu: int = 16
    memory_gib: int = 64
    gpu: int = 0
    pods: int = 110
    labels: dict[str, str] = field(default_factory=dict)
    taints: tuple[dict[str, str], ...] = ()
    images: tuple[str, ...] = WARM_IMAGES

    def manifest(self) -> Obj:
        capacity = {"cpu": str(self.cpu), "memory": f"{self.memory_gib}Gi", "pods": str(self.pods)}
        if self.gpu:
            capacity[c.GPU_RESOURCE] = str(self.gpu)
        labels = {"kubernetes.io/hostname": self.name, "kubernetes.io/os": "linux"}
        labels.update(self.labels)
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": self.name, "labels": labels},
            "spec": {"taints": [dict(t) for t in self.taints]} if self.taints else {},
            "status": {"capacity": capacity, "allocatable": dict(capacity)},
        }


# The nodes of `empty` (and so of the tests' `sim` fixture): 3 nodes, 2 GPUs in all, one per
# GPU node. A pod asking for 2 GPUs is unschedulable with
# "0/3 nodes are available: 3 Insufficient nvidia.com/gpu.".
STANDARD_NODES = (
    NodeSpec("node-cpu-1", cpu=16, memory_gib=64),
    NodeSpec("node-gpu-1", cpu=32, memory_gib=128, gpu=1, labels={"gpu": "a100"}),
    NodeSpec("node-gpu-2", cpu=32, memory_gib=128, gpu=1, labels={"gpu": "a100"}),
)

# (simulated second, what happens, action given an AppsV1Api)
TimelineStep = tuple[float, str, Callable[[Any], None]]


@dataclass
class Scenario:
    """Nodes, objects created over HTTP at start, objects seeded into the store, a timeline."""

    name: str
    nodes: tuple[NodeSpec, ...] = STANDARD_NODES
    objects: list[Obj] = field(default_factory=list)
    # Writes objects straight into the API server's store (bulk scenarios); returns a count.
    seed_store: Callable[[Any], int] | None = None
    timeline: list[TimelineStep] = field(default_factory=list)


def namespace(name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def quota(project: str, hard: dict[str, str]) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "workspaces", "namespace": project},
        "spec": {"hard": hard},
    }


def workspace(
    spec: WorkspaceSpec,
    *,
    replicas: int = 1,
    annotations: dict[str, str] | None = None,
    pod_annotations: dict[str, str] | None = None,
) -> list[Obj]:
    """The StatefulSet and Service of a workspace, as the product makes them."""
    sts = build_statefulset(spec, replicas=replicas)
    sts["metadata"]["annotations"].update(annotations or {})
    sts["spec"]["template"]["metadata"]["annotations"].update(pod_annotations or {})
    return [sts, build_service(spec)]


def stopped_annotations(by: str, reason: str, ago: timedelta) -> dict[str, str]:
    return {
        c.STOPPED_BY_ANNOTATION: by,
        c.STOPPED_AT_ANNOTATION: rfc3339(now_utc() - ago),
        c.STOP_REASON_ANNOTATION: reason,
    }


def _activity(ago: timedelta) -> dict[str, str]:
    return {LAST_ACTIVITY_ANNOTATION: rfc3339(now_utc() - ago)}


def demo() -> Scenario:
    """A dozen workspaces in every status, some changing over the first minute."""
    gpu_labels = {"gpu": "a100", "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-40GB"}
    nodes = (
        NodeSpec("node-cpu-1", cpu=16, memory_gib=64),
        NodeSpec("node-gpu-1", cpu=32, memory_gib=128, gpu=2, labels=gpu_labels),
        NodeSpec("node-gpu-2", cpu=32, memory_gib=128, gpu=2, labels=gpu_labels),
    )
    me, alice, bob, carol = DEMO_USER, "alice", "bob", "carol"

    def spec(name: str, project: str, owner: str, image: str, **kw: Any) -> WorkspaceSpec:
        return WorkspaceSpec(name=name, project=project, owner=owner, image=image, **kw)

    objects: list[Obj] = [
        namespace("vision-lab"),
        namespace("nlp-lab"),
        namespace("teaching"),
        quota("vision-lab", {"requests.nvidia.com/gpu": "6", "pods": "10"}),
        quota("nlp-lab", {"requests.nvidia.com/gpu": "1", "requests.cpu": "24", "pods": "10"}),
        quota("teaching", {"requests.cpu": "12", "requests.memory": "48Gi", "pods": "6"}),
    ]
    # Order matters: GPUs go to the first comers, which leaves `big-sweep` waiting.
    objects += workspace(
        spec("segmentation", "vision-lab", me, SCIPY, gpu=1, display_name="Cell segmentation"),
        pod_annotations=_activity(timedelta(minutes=3)),
    )
    objects += workspace(
        spec("detector-train", "vision-lab", me, PYTORCH, cpu="8", memory="32Gi", gpu=2),
        pod_annotations=_activity(timedelta(hours=2, minutes=10)),
    )
    objects += workspace(
        spec("tokenizer-study", "nlp-lab", bob, SCIPY, gpu=1),
        pod_annotations=_activity(timedelta(minutes=12)),
    )
    objects += workspace(spec("big-sweep", "vision-lab", alice, PYTORCH, cpu="8", gpu=2))
    objects += workspace(spec("llm-finetune", "nlp-lab", me, PYTORCH, gpu=1))
    objects += workspace(
        spec("notes", "nlp-lab", me, DATASCIENCE, display_name="Reading notes"),
    )
    objects += workspace(
        spec("vscode-lab", "vision-lab", me, CODE_SERVER, tools=("vscode",)),
        pod_annotations=_activity(timedelta(seconds=40)),
    )
    objects += workspace(
        spec("typo-image", "nlp-lab", me, "quay.io/jupyter/scipy-notebok:2024-05-27")
    )
    objects += workspace(spec("flaky-trainer", "vision-lab", bob, "simulated/crash-loop:1"))
    objects += workspace(
        spec("dashboard", "teaching", me, SCIPY, tools=("jupyterlab", "tensorboard")),
        pod_annotations={BEHAVIOUR_ANNOTATION: "crash-later", CRASH_AFTER_ANNOTATION: "30"},
    )
    objects += workspace(spec("memory-hog", "teaching", carol, "simulated/oom:1", memory="1Gi"))
    # No node has 4 GPUs: stays Pending for as long as the demo runs.
    objects += workspace(spec("huge-model", "teaching", carol, PYTORCH, gpu=4))
    objects += workspace(spec("stuck-server", "nlp-lab", bob, "simulated/never-ready:1"))
    objects += workspace(
        spec("intro-python", "teaching", alice, BASE),
        replicas=0,
        annotations=stopped_annotations(f"user:{alice}", "", timedelta(days=2)),
    )
    objects += workspace(
        spec("old-experiment", "teaching", me, SCIPY),
        replicas=0,
        annotations=stopped_annotations(
            "policy:idle-culler", "idle for more than 24 hours", timedelta(hours=30)
        ),
    )

    def stop_detector(apps: Any) -> None:
        patch = {
            "metadata": {
                "annotations": stopped_annotations(
                    "policy:idle-culler", "idle for more than 2 hours", timedelta(0)
                )
            },
            "spec": {"replicas": 0},
        }
        apps.patch_namespaced_stateful_set("detector-train", "vision-lab", patch)

    timeline: list[TimelineStep] = [
        (45.0, "vision-lab/detector-train stopped by the idleness policy", stop_detector)
    ]
    return Scenario("demo", nodes=nodes, objects=objects, timeline=timeline)


def empty() -> Scenario:
    return Scenario("empty")


def load(name: str) -> Scenario:
    """The scenario called `name` (`empty`, `demo`, `scale:N`); ValueError names the choices."""
    from jupyter_workspaces.simulator.scale import scale

    if name == "empty":
        return empty()
    if name == "demo":
        return demo()
    if name.startswith("scale:"):
        count = name.split(":", 1)[1]
        if count.isdigit() and int(count) > 0:
            return scale(int(count))
    raise ValueError(
        f"scenario {name!r} is not known: choose 'empty', 'demo' or 'scale:N' "
        "(N a positive number of workspaces, e.g. scale:10000)"
    )
