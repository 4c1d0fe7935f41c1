"""derive_status in every situation a real cluster produces, one readable case each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from jupyter_workspaces import constants as c
from jupyter_workspaces.status import derive_status, events_for, workspace_of_event
from jupyter_workspaces.status.messages import parse_scheduler_message
from tests.fixtures_kube import (
    IMAGE,
    NAME,
    NODE,
    NS,
    OLD_POD_UID,
    POD_UID,
    at,
    claim_event,
    condition,
    container,
    event,
    pod,
    pod_event,
    scheduled_conditions,
    set_event,
    statefulset,
    terminated,
    ts,
)

Objects = tuple[dict[str, Any], dict[str, Any] | None, list[dict[str, Any]], datetime]


@dataclass
class Expect:
    status: str
    reason: str
    words: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    since: datetime | None = None
    kube_reason: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)


def stop_annotations(by: str, minutes: float, reason: str | None = None) -> dict[str, str]:
    notes = {c.STOPPED_BY_ANNOTATION: by, c.STOPPED_AT_ANNOTATION: ts(minutes)}
    if reason:
        notes[c.STOP_REASON_ANNOTATION] = reason
    return notes


def ready_pod(sts: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return pod(
        sts,
        phase="Running",
        conditions=scheduled_conditions(0.2, ready_since=3),
        containers=[container(running=2, ready=True)],
        **kwargs,
    )


def waiting_pod(sts: dict[str, Any], reason: str, message: str | None, **kw: Any) -> dict:
    return pod(
        sts,
        conditions=scheduled_conditions(0.2),
        containers=[container(waiting=(reason, message), **kw)],
    )


def unscheduled(sts: dict[str, Any], message: str, minutes: float = 0.2) -> dict[str, Any]:
    return pod(
        sts,
        node=None,
        conditions=[condition("PodScheduled", "False", minutes, "Unschedulable", message)],
    )


QUOTA_GPU = (
    'create Pod bert-0 in StatefulSet bert failed error: pods "bert-0" is forbidden: exceeded '
    "quota: gpu-quota, requested: requests.nvidia.com/gpu=1, used: requests.nvidia.com/gpu=4, "
    "limited: requests.nvidia.com/gpu=4"
)
PREEMPTION = (
    " preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.."
)


# ---- the cases ----------------------------------------------------------------------------


def stopped_by_owner() -> Objects:
    notes = stop_annotations("user:Ada Lovelace", 30, "done for today")
    return statefulset(replicas=0, annotations=notes), None, [], at(95)


def stopped_by_idle_policy() -> Objects:
    notes = stop_annotations("policy:idle-4h", 300, "no activity for 4 hours")
    return statefulset(replicas=0, annotations=notes), None, [], at(310)


def stopped_by_admin() -> Objects:
    notes = stop_annotations("user:ops-oncall", 30, "node maintenance")
    return statefulset(replicas=0, annotations=notes), None, [], at(40)


def stopped_outside_the_tool() -> Objects:
    return statefulset(replicas=0), None, [], at(40)


def stopped_with_annotations_of_an_earlier_stop() -> Objects:
    notes = stop_annotations("policy:idle-4h", 30)
    notes[c.ACTIVATED_AT_ANNOTATION] = ts(60)
    return statefulset(replicas=0, annotations=notes), None, [], at(90)


def stop_requested_pod_terminating() -> Objects:
    sts = statefulset(replicas=0, annotations=stop_annotations("user:Ada Lovelace", 100))
    return sts, ready_pod(sts, deleting=100.5), [], at(100.2)


def stop_requested_pod_not_yet_deleted() -> Objects:
    sts = statefulset(replicas=0, annotations=stop_annotations("policy:idle-4h", 100))
    return sts, ready_pod(sts), [], at(100.1)


def stop_requested_pod_stuck_terminating() -> Objects:
    sts = statefulset(replicas=0, annotations=stop_annotations("user:Ada Lovelace", 100))
    return sts, ready_pod(sts, deleting=100.5), [], at(112)


def deleting_without_pod() -> Objects:
    return statefulset(deleting=200), None, [], at(200.2)


def deleting_with_pod_still_running() -> Objects:
    sts = statefulset(deleting=200)
    return sts, ready_pod(sts, deleting=200.5), [], at(200.1)


def queued_just_created() -> Objects:
    return statefulset(), None, [], at(0.05)


def queued_for_long() -> Objects:
    return statefulset(), None, [], at(15)


def quota_exceeded_gpus() -> Objects:
    events = [set_event("FailedCreate", QUOTA_GPU, first=0.1, last=12, count=9, warning=True)]
    return statefulset(), None, events, at(12.5)


def quota_exceeded_storage_for_the_home_volume() -> Objects:
    text = (
        "create Claim home-bert-0 for Pod bert-0 in StatefulSet bert failed error: "
        'persistentvolumeclaims "home-bert-0" is forbidden: exceeded quota: storage, '
        "requested: requests.storage=50Gi, used: requests.storage=80Gi, "
        "limited: requests.storage=100Gi"
    )
    events = [set_event("FailedCreate", text, first=0.1, last=3, count=4, warning=True)]
    return statefulset(), None, events, at(3)


def pod_rejected_by_policy() -> Objects:
    text = (
        'create Pod bert-0 in StatefulSet bert failed error: pods "bert-0" is forbidden: '
        "failed quota: compute: must specify limits.ephemeral-storage for: workspace"
    )
    events = [set_event("FailedCreate", text, first=0.1, last=2, count=3, warning=True)]
    return statefulset(), None, events, at(2)


def quota_status_not_yet_counted() -> Objects:
    text = (
        'create Pod bert-0 in StatefulSet bert failed error: pods "bert-0" is forbidden: '
        "status unknown for quota: gpu-quota, resources: requests.nvidia.com/gpu"
    )
    events = [set_event("FailedCreate", text, first=0.1, last=0.3, count=2, warning=True)]
    return statefulset(), None, events, at(0.4)


def request_larger_than_the_whole_quota() -> Objects:
    text = (
        'create Pod bert-0 in StatefulSet bert failed error: pods "bert-0" is forbidden: '
        "exceeded quota: gpu-quota, requested: requests.nvidia.com/gpu=8, "
        "used: requests.nvidia.com/gpu=0, limited: requests.nvidia.com/gpu=4"
    )
    events = [set_event("FailedCreate", text, first=0.1, last=3, count=4, warning=True)]
    return statefulset(gpu=8), None, events, at(3)


def quota_event_from_before_the_last_activation() -> Objects:
    sts = statefulset(annotations={c.ACTIVATED_AT_ANNOTATION: ts(60)})
    events = [set_event("FailedCreate", QUOTA_GPU, first=5, last=20, count=6, warning=True)]
    return sts, None, events, at(60.1)


def quota_event_of_a_recreated_workspace() -> Objects:
    sts = statefulset(created=100)
    old = set_event(
        "FailedCreate", QUOTA_GPU, first=10, last=50, warning=True, uid="old-sts-uid-0000"
    )
    return sts, None, [old], at(100.1)


def unschedulable_no_gpus_free() -> Objects:
    sts = statefulset(gpu=2)
    text = "0/3 nodes are available: 3 Insufficient nvidia.com/gpu." + PREEMPTION
    events = [
        pod_event(
            "FailedScheduling",
            text,
            first=0.2,
            last=7,
            count=5,
            warning=True,
            component="default-scheduler",
            host=None,
            new_style=True,
            field_path=None,
        )
    ]
    return sts, unscheduled(sts, text), events, at(7)


def unschedulable_cpu_and_memory() -> Objects:
    sts = statefulset(gpu=0)
    text = "0/3 nodes are available: 1 Insufficient cpu, 2 Insufficient memory." + PREEMPTION
    return sts, unscheduled(sts, text), [], at(4)


def unschedulable_node_selector_old_wording() -> Objects:
    sts = statefulset(gpu=0)
    text = "0/3 nodes are available: 3 node(s) didn't match node selector."
    return sts, unscheduled(sts, text), [], at(4)


def unschedulable_taint_and_affinity() -> Objects:
    sts = statefulset(gpu=0)
    text = (
        "0/3 nodes are available: 1 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match Pod's node "
        "affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful "
        "for scheduling.."
    )
    return sts, unscheduled(sts, text), [], at(4)


def unschedulable_taint_old_wording() -> Objects:
    sts = statefulset(gpu=0)
    text = (
        "0/3 nodes are available: 3 node(s) had taint {dedicated: training}, that the pod "
        "didn't tolerate."
    )
    return sts, unscheduled(sts, text), [], at(4)


def unbound_home_volume() -> Objects:
    sts = statefulset()
    text = (
        "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. "
        "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.."
    )
    return sts, unscheduled(sts, text), [], at(2)


def unbound_home_volume_old_wording() -> Objects:
    sts = statefulset()
    text = "0/3 nodes are available: 3 pod has unbound immediate PersistentVolumeClaims."
    return sts, unscheduled(sts, text), [], at(2)


def scheduling_gated() -> Objects:
    sts = statefulset()
    gated = pod(
        sts,
        node=None,
        gates=["kueue.x-k8s.io/admission"],
        conditions=[
            condition(
                "PodScheduled",
                "False",
                0.1,
                "SchedulingGated",
                "Scheduling is blocked due to non-empty scheduling gates",
            )
        ],
    )
    return sts, gated, [], at(6)


def unschedulable_known_only_from_a_new_style_event() -> Objects:
    sts = statefulset(gpu=1)
    text = "0/3 nodes are available: 3 Insufficient nvidia.com/gpu." + PREEMPTION
    events = [
        pod_event(
            "FailedScheduling",
            text,
            first=0.2,
            last=3,
            count=2,
            warning=True,
            component="default-scheduler",
            host=None,
            new_style=True,
            field_path=None,
        )
    ]
    return sts, pod(sts, node=None), events, at(3)


def waiting_for_the_scheduler() -> Objects:
    sts = statefulset()
    return sts, pod(sts, node=None), [], at(0.15)


def pulling_the_image() -> Objects:
    sts = statefulset()
    events = [
        pod_event(
            "Scheduled",
            f"Successfully assigned {NS}/bert-0 to {NODE}",
            first=0.2,
            component="default-scheduler",
            host=None,
            new_style=True,
            field_path=None,
        ),
        pod_event("Pulling", f'Pulling image "{IMAGE}"', first=1),
    ]
    return sts, waiting_pod(sts, "ContainerCreating", None), events, at(4)


def creating_the_container() -> Objects:
    sts = statefulset()
    events = [
        pod_event("Pulling", f'Pulling image "{IMAGE}"', first=1),
        pod_event(
            "Pulled",
            f'Successfully pulled image "{IMAGE}" in 58.3s (58.3s including waiting). '
            "Image size: 8123456789 bytes.",
            first=2,
        ),
    ]
    return sts, waiting_pod(sts, "ContainerCreating", None), events, at(2.5)


def creating_the_container_with_mount_trouble() -> Objects:
    sts = statefulset()
    events = [
        pod_event(
            "FailedMount",
            'MountVolume.MountDevice failed for volume "pvc-5e1f" : rpc error: code = '
            "Internal desc = mount failed: exit status 32",
            first=1,
            last=6,
            count=4,
            warning=True,
            field_path=None,
        ),
    ]
    return sts, waiting_pod(sts, "ContainerCreating", None), events, at(6)


def init_containers_one_of_two() -> Objects:
    sts = statefulset()
    starting = pod(
        sts,
        init_specs=["fetch-data", "fix-permissions"],
        conditions=[
            condition("PodReadyToStartContainers", "True", 0.3),
            condition(
                "Initialized",
                "False",
                0.2,
                "ContainersNotInitialized",
                "containers with incomplete status: [fetch-data fix-permissions]",
            ),
            condition(
                "Ready",
                "False",
                0.2,
                "ContainersNotReady",
                "containers with unready status: [workspace]",
            ),
            condition("PodScheduled", "True", 0.2),
        ],
        init=[
            container(name="fetch-data", image="busybox:1.36", running=0.5),
            container(
                name="fix-permissions", image="busybox:1.36", waiting=("PodInitializing", None)
            ),
        ],
        containers=[container(waiting=("PodInitializing", None))],
    )
    return sts, starting, [], at(3)


def running_but_not_ready() -> Objects:
    sts = statefulset()
    running = pod(
        sts,
        phase="Running",
        conditions=scheduled_conditions(0.2),
        containers=[container(running=2)],
    )
    events = [
        pod_event(
            "Unhealthy",
            "Readiness probe failed: dial tcp 10.244.2.17:8888: connect: connection refused",
            first=2.1,
            last=2.5,
            count=3,
            warning=True,
        )
    ]
    return sts, running, events, at(2.6)


def pod_being_replaced() -> Objects:
    sts = statefulset()
    return sts, ready_pod(sts, deleting=50.5), [], at(50.2)


def exited_and_about_to_restart() -> Objects:
    sts = statefulset()
    exited = pod(
        sts,
        phase="Running",
        conditions=scheduled_conditions(0.2),
        containers=[container(terminated=terminated(2, "Error", 2, 9), restarts=0)],
    )
    return sts, exited, [], at(9.05)


def active() -> Objects:
    sts = statefulset()
    events = [pod_event("Started", "Started container workspace", first=2)]
    return sts, ready_pod(sts), events, at(63)


def active_after_an_out_of_memory_restart() -> Objects:
    sts = statefulset()
    restarted = pod(
        sts,
        phase="Running",
        conditions=scheduled_conditions(0.2, ready_since=42),
        containers=[
            container(
                running=41,
                ready=True,
                restarts=1,
                last=terminated(137, "OOMKilled", 2, 40),
            )
        ],
    )
    return sts, restarted, [], at(100)


def image_not_found() -> Objects:
    sts = statefulset()
    text = (
        'rpc error: code = NotFound desc = failed to pull and unpack image "quay.io/jupyter/'
        'pytorch-notebook:cuda12-2024-05-27": failed to resolve reference "quay.io/jupyter/'
        'pytorch-notebook:cuda12-2024-05-27": quay.io/jupyter/pytorch-notebook:'
        "cuda12-2024-05-27: not found"
    )
    events = [
        pod_event("Pulling", f'Pulling image "{IMAGE}"', first=0.5),
        pod_event("Failed", f'Failed to pull image "{IMAGE}": {text}', first=0.6, warning=True),
        pod_event("Failed", "Error: ErrImagePull", first=0.6, warning=True),
    ]
    return sts, waiting_pod(sts, "ErrImagePull", text), events, at(1)


def image_pull_unauthorized_back_off() -> Objects:
    sts = statefulset()
    text = (
        f'Failed to pull image "{IMAGE}": failed to pull and unpack image "{IMAGE}": failed '
        f'to resolve reference "{IMAGE}": failed to authorize: failed to fetch anonymous '
        "token: unexpected status from GET request to https://quay.io/v2/auth?scope="
        "repository%3Ajupyter%2Fpytorch-notebook%3Apull&service=quay.io: 401 Unauthorized"
    )
    events = [
        pod_event("Pulling", f'Pulling image "{IMAGE}"', first=0.5, last=6, count=4),
        pod_event("Failed", text, first=0.6, last=6, count=4, warning=True),
        pod_event("Failed", "Error: ErrImagePull", first=0.6, last=6, count=4, warning=True),
        pod_event("BackOff", f'Back-off pulling image "{IMAGE}"', first=0.7, last=8, count=30),
        pod_event("Failed", "Error: ImagePullBackOff", first=0.7, last=8, count=30, warning=True),
    ]
    pulling = waiting_pod(sts, "ImagePullBackOff", f'Back-off pulling image "{IMAGE}"')
    return sts, pulling, events, at(8)


def invalid_image_name() -> Objects:
    sts = statefulset()
    bad = "Quay.io/Jupyter//img"
    text = (
        f'Failed to apply default image tag "{bad}": couldn\'t parse image reference "{bad}": '
        "invalid reference format"
    )
    events = [pod_event("InspectFailed", text, first=0.5, warning=True)]
    return sts, waiting_pod(sts, "InvalidImageName", text, image=bad), events, at(1)


def missing_secret() -> Objects:
    sts = statefulset()
    events = [
        pod_event(
            "Failed",
            'Error: secret "wandb-token" not found',
            first=0.5,
            last=3,
            count=9,
            warning=True,
        ),
    ]
    waiting = waiting_pod(sts, "CreateContainerConfigError", 'secret "wandb-token" not found')
    return sts, waiting, events, at(3)


def missing_config_map_key() -> Objects:
    sts = statefulset()
    text = "couldn't find key API_URL in ConfigMap nlp-lab/settings"
    return sts, waiting_pod(sts, "CreateContainerConfigError", text), [], at(3)


def crash_loop() -> Objects:
    sts = statefulset()
    crashing = pod(
        sts,
        phase="Running",
        conditions=scheduled_conditions(0.2),
        containers=[
            container(
                waiting=(
                    "CrashLoopBackOff",
                    "back-off 40s restarting failed container=workspace "
                    f"pod=bert-0_nlp-lab({POD_UID})",
                ),
                restarts=4,
                last=terminated(1, "Error", 5, 5.2),
            )
        ],
    )
    events = [
        pod_event(
            "BackOff",
            f"Back-off restarting failed container workspace in pod bert-0_nlp-lab({POD_UID})",
            first=1.5,
            last=5.3,
            count=12,
            warning=True,
        ),
    ]
    return sts, crashing, events, at(5.5)


def out_of_memory_crash_loop() -> Objects:
    sts = statefulset()
    crashing = pod(
        sts,
        phase="Running",
        conditions=scheduled_conditions(0.2),
        containers=[
            container(
                waiting=(
                    "CrashLoopBackOff",
                    "back-off 20s restarting failed container="
                    f"workspace pod=bert-0_nlp-lab({POD_UID})",
                ),
                restarts=2,
                last=terminated(137, "OOMKilled", 8, 11),
            )
        ],
    )
    return sts, crashing, [], at(12)


def evicted() -> Objects:
    sts = statefulset()
    message = (
        "The node was low on resource: memory. Threshold quantity: 100Mi, available: 42Mi. "
        "Container workspace was using 15Gi, request is 16Gi, has larger consumption of memory."
    )
    gone = pod(
        sts,
        phase="Failed",
        reason="Evicted",
        message=message,
        conditions=[
            condition("DisruptionTarget", "True", 30, "TerminationByKubelet", message),
            condition("Ready", "False", 30, "PodFailed"),
            condition("PodScheduled", "True", 0.2),
        ],
        containers=[container(terminated=terminated(137, "ContainerStatusUnknown", 2, 30))],
    )
    events = [pod_event("Evicted", message, first=30, warning=True, field_path=None)]
    return sts, gone, events, at(31)


def node_lost_phase_unknown() -> Objects:
    sts = statefulset()
    lost = pod(
        sts,
        phase="Unknown",
        reason="NodeLost",
        message=f"Node {NODE} which was running pod bert-0 is unresponsive",
        conditions=[
            *scheduled_conditions(0.2, ready_since=3)[:2],
            condition("Ready", "False", 30),
            condition("PodScheduled", "True", 0.2),
        ],
        containers=[container(running=2, ready=True)],
    )
    return sts, lost, [], at(40)


def node_not_ready() -> Objects:
    sts = statefulset()
    lost = pod(
        sts,
        phase="Running",
        conditions=[
            condition("Initialized", "True", 0.2),
            condition("Ready", "False", 30),
            condition("ContainersReady", "True", 3),
            condition("PodScheduled", "True", 0.2),
        ],
        containers=[container(running=2, ready=True)],
    )
    events = [
        pod_event(
            "NodeNotReady",
            "Node is not ready",
            first=30,
            warning=True,
            component="node-controller",
            host=None,
            field_path=None,
        )
    ]
    return sts, lost, events, at(33)


def volume_provisioning_failed() -> Objects:
    sts = statefulset()
    text = "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims." + (
        " preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.."
    )
    events = [
        claim_event(
            "ProvisioningFailed",
            'storageclass.storage.k8s.io "fast-ssd" not found',
            first=0.1,
            last=9,
            count=12,
            warning=True,
        ),
    ]
    return sts, unscheduled(sts, text), events, at(9)


def volume_provisioned_after_a_failure() -> Objects:
    sts = statefulset()
    text = "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims."
    events = [
        claim_event(
            "ProvisioningFailed",
            "failed to provision volume with StorageClass "
            '"standard": rpc error: code = Unavailable desc = connection refused',
            first=0.1,
            warning=True,
            component="rancher.io/local-path",
        ),
        claim_event(
            "ProvisioningSucceeded",
            "Successfully provisioned volume pvc-5e1f",
            first=0.6,
            component="rancher.io/local-path",
        ),
    ]
    return sts, unscheduled(sts, text), events, at(0.7)


def stale_warnings_of_a_previous_pod() -> Objects:
    sts = statefulset()
    current = ready_pod(sts, created=20)
    events = [
        pod_event(
            "BackOff",
            "Back-off restarting failed container workspace",
            first=5,
            last=18,
            count=20,
            warning=True,
            uid=OLD_POD_UID,
        ),
        pod_event(
            "Failed",
            'Error: secret "wandb-token" not found',
            first=5,
            last=18,
            warning=True,
            uid=OLD_POD_UID,
        ),
        pod_event(
            "NodeNotReady",
            "Node is not ready",
            first=19,
            warning=True,
            component="node-controller",
            host=None,
            uid=OLD_POD_UID,
        ),
    ]
    return sts, current, events, at(60)


def stale_scheduling_failure_of_a_previous_pod() -> Objects:
    sts = statefulset()
    current = pod(sts, node=None, created=20)
    old = pod_event(
        "FailedScheduling",
        "0/3 nodes are available: 3 Insufficient nvidia.com/gpu.",
        first=5,
        last=12,
        warning=True,
        component="default-scheduler",
        host=None,
        uid=None,
        new_style=True,
        count=3,
    )
    return sts, current, [old], at(20.1)


def stale_provisioning_failure_of_a_recreated_workspace() -> Objects:
    sts = statefulset(created=100)
    text = "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims."
    old = claim_event(
        "ProvisioningFailed",
        'storageclass.storage.k8s.io "fast-ssd" not found',
        first=10,
        last=60,
        warning=True,
    )
    return sts, unscheduled(sts, text, minutes=100.1), [old], at(100.5)


def pod_failed_at_admission() -> Objects:
    sts = statefulset()
    message = (
        "Allocate failed due to requested number of devices unavailable for nvidia.com/gpu. "
        "Requested: 1, Available: 0, which is unexpected"
    )
    failed = pod(
        sts,
        phase="Failed",
        reason="UnexpectedAdmissionError",
        message=message,
        conditions=[condition("PodScheduled", "True", 0.2)],
    )
    return sts, failed, [], at(1)


def pod_succeeded() -> Objects:
    sts = statefulset()
    done = pod(
        sts,
        phase="Succeeded",
        conditions=[
            condition("Ready", "False", 9, "PodCompleted"),
            condition("PodScheduled", "True", 0.2),
        ],
        containers=[container(terminated=terminated(0, "Completed", 2, 9))],
    )
    return sts, done, [], at(10)


def start_command_not_found() -> Objects:
    sts = statefulset()
    text = (
        "failed to create containerd task: failed to create shim task: OCI runtime create "
        "failed: runc create failed: unable to start container process: exec: "
        '"start-notebook.py": executable file not found in $PATH: unknown'
    )
    failing = waiting_pod(
        sts, "RunContainerError", text, restarts=3, last=terminated(128, "StartError", 1, 1)
    )
    return sts, failing, [], at(2)


def setup_step_crash_loop() -> Objects:
    sts = statefulset()
    crashing = pod(
        sts,
        init_specs=["fetch-data"],
        conditions=[
            condition(
                "Initialized",
                "False",
                0.2,
                "ContainersNotInitialized",
                "containers with incomplete status: [fetch-data]",
            ),
            condition("PodScheduled", "True", 0.2),
        ],
        init=[
            container(
                name="fetch-data",
                image="busybox:1.36",
                waiting=(
                    "CrashLoopBackOff",
                    "back-off 1m20s restarting failed container="
                    f"fetch-data pod=bert-0_nlp-lab({POD_UID})",
                ),
                restarts=5,
                last=terminated(127, "Error", 6, 6),
            )
        ],
        containers=[container(waiting=("PodInitializing", None))],
    )
    return sts, crashing, [], at(7)


def readiness_never_passes() -> Objects:
    sts, running, events, _ = running_but_not_ready()
    return sts, running, events, at(25)


def stop_requested_on_a_lost_node() -> Objects:
    sts = statefulset(replicas=0, annotations=stop_annotations("user:Ada Lovelace", 50))
    lost = pod(
        sts,
        phase="Unknown",
        reason="NodeLost",
        message=f"Node {NODE} which was running pod bert-0 is unresponsive",
        conditions=[condition("Ready", "False", 30), condition("PodScheduled", "True", 0.2)],
        containers=[container(running=2, ready=True)],
        deleting=50.5,
    )
    return sts, lost, [], at(60)


def replaced_pod_stuck_terminating() -> Objects:
    sts = statefulset()
    return sts, ready_pod(sts, deleting=50.5), [], at(58)


def creating_the_container_without_a_network() -> Objects:
    sts = statefulset()
    events = [
        pod_event(
            "FailedCreatePodSandBox",
            "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup "
            'network for sandbox "5f1c": plugin type="calico" failed (add): error getting '
            "ClusterInformation: connection is unauthorized: Unauthorized",
            first=0.5,
            last=4,
            count=9,
            warning=True,
            field_path=None,
        ),
    ]
    return sts, waiting_pod(sts, "ContainerCreating", None), events, at(4)


CASES = [
    # stopped
    pytest.param(
        stopped_by_owner,
        Expect(
            "Stopped",
            "StoppedByUser",
            ["Ada Lovelace", "1 hour 5 minutes ago", "done for today", "home volume is kept"],
            since=at(30),
        ),
        id="stopped-by-owner",
    ),
    pytest.param(
        stopped_by_idle_policy,
        Expect(
            "Stopped",
            "StoppedIdle",
            ['idleness policy "idle-4h"', "no activity for 4 hours", "10 minutes ago"],
            since=at(300),
        ),
        id="stopped-by-idleness-policy",
    ),
    pytest.param(
        stopped_by_admin,
        Expect(
            "Stopped",
            "StoppedByAdmin",
            ["ops-oncall", "administrator", "not its owner Ada Lovelace", "node maintenance"],
        ),
        id="stopped-by-admin",
    ),
    pytest.param(
        stopped_outside_the_tool,
        Expect("Stopped", "Stopped", ["outside this tool", "home volume is kept"]),
        id="stopped-without-annotations",
    ),
    pytest.param(
        stopped_with_annotations_of_an_earlier_stop,
        Expect("Stopped", "Stopped", ["outside this tool"], absent=["idle-4h"]),
        id="stopped-annotations-out-of-date",
    ),
    pytest.param(
        stop_requested_pod_terminating,
        Expect(
            "Active",
            "Stopping",
            ["stop was requested by Ada Lovelace", "shutting down"],
            since=at(100),
            kube_reason="Running",
        ),
        id="stop-requested-pod-terminating",
    ),
    pytest.param(
        stop_requested_pod_not_yet_deleted,
        Expect("Active", "Stopping", ['idleness policy "idle-4h"', "holds its resources"]),
        id="stop-requested-pod-not-yet-deleted",
    ),
    pytest.param(
        stop_requested_pod_stuck_terminating,
        Expect(
            "Failed",
            "StuckTerminating",
            [
                "Its old pod on node gpu-node-2 has not shut down 11 minutes after its deadline",
                NODE,
                "administrator",
            ],
        ),
        id="stop-requested-pod-stuck",
    ),
    pytest.param(
        deleting_without_pod,
        Expect("Stopped", "Deleting", ["Being deleted", "volume is kept"]),
        id="deleting-no-pod",
    ),
    pytest.param(
        deleting_with_pod_still_running,
        Expect("Active", "Deleting", ["Deletion was requested", "shutting down"]),
        id="deleting-pod-still-running",
    ),
    # pending
    pytest.param(
        queued_just_created,
        Expect(
            "Pending",
            "Queued",
            ["Waiting for Kubernetes to create", "less than a minute so far"],
            since=at(0),
        ),
        id="queued-no-pod-yet",
    ),
    pytest.param(
        queued_for_long,
        Expect("Pending", "Queued", ["15 minutes so far", "usually takes seconds"]),
        id="queued-for-long",
    ),
    pytest.param(
        quota_exceeded_gpus,
        Expect(
            "Pending",
            "QuotaExceeded",
            [
                'quota "gpu-quota"',
                "Project nlp-lab",
                "needs 1 GPU",
                "4 of 4 GPUs are already in use",
                "stop a workspace",
                "Waiting for 12 minutes",
            ],
            since=at(0.1),
            kube_reason="FailedCreate",
            facts={
                "quota": {
                    "name": "gpu-quota",
                    "resources": [
                        {
                            "resource": "requests.nvidia.com/gpu",
                            "requested": "1",
                            "used": "4",
                            "hard": "4",
                        }
                    ],
                }
            },
        ),
        id="quota-exceeded-gpus",
    ),
    pytest.param(
        quota_exceeded_storage_for_the_home_volume,
        Expect(
            "Pending",
            "QuotaExceeded",
            ["needs 50 GiB of storage", "80 GiB of 100 GiB of storage are in use"],
        ),
        id="quota-exceeded-storage",
    ),
    pytest.param(
        pod_rejected_by_policy,
        Expect(
            "Failed",
            "PodRejected",
            ["refuses to create", "must specify limits.ephemeral-storage", "administrator"],
            absent=["create Pod bert-0"],
        ),
        id="pod-rejected-by-quota-policy",
    ),
    pytest.param(
        quota_status_not_yet_counted,
        Expect(
            "Pending",
            "Queued",
            ["still counting", "quota", "retries by itself"],
            absent=["refuses", "does not resolve"],
        ),
        id="quota-not-yet-counted-is-transient",
    ),
    pytest.param(
        request_larger_than_the_whole_quota,
        Expect(
            "Pending",
            "QuotaExceeded",
            [
                "alone needs 8 GPUs",
                'quota "gpu-quota" allows in all (4 GPUs)',
                "will not make room",
                "raises the quota",
                "fewer resources",
            ],
            absent=["already in use", "starts by itself"],
        ),
        id="request-larger-than-the-whole-quota",
    ),
    pytest.param(
        unschedulable_no_gpus_free,
        Expect(
            "Pending",
            "Unschedulable",
            [
                "none of the 3 nodes fits",
                "needs 2 GPUs",
                "3 nodes have fewer than that free",
                "stop a GPU workspace",
                "Waiting for 6 minutes",
            ],
            absent=["preemption"],
            since=at(0.2),
            facts={"gpusRequested": 2, "nodes": 3},
        ),
        id="unschedulable-gpus",
    ),
    pytest.param(
        unschedulable_cpu_and_memory,
        Expect(
            "Pending",
            "Unschedulable",
            [
                "It needs 4 CPUs; 1 node has less CPU free",
                "It needs 16 GiB of memory; 2 nodes have less memory free",
                "ask for less",
            ],
        ),
        id="unschedulable-cpu-and-memory",
    ),
    pytest.param(
        unschedulable_node_selector_old_wording,
        Expect(
            "Pending", "Unschedulable", ["3 nodes do not match its node selector", "administrator"]
        ),
        id="unschedulable-node-selector",
    ),
    pytest.param(
        unschedulable_taint_and_affinity,
        Expect(
            "Pending",
            "Unschedulable",
            [
                "1 node is reserved for other work",
                '(taint "node-role.kubernetes.io/control-plane")',
                "2 nodes do not match its node selector",
            ],
        ),
        id="unschedulable-taint-and-affinity",
    ),
    pytest.param(
        unschedulable_taint_old_wording,
        Expect(
            "Pending",
            "Unschedulable",
            ["3 nodes are reserved for other work", "dedicated=training"],
        ),
        id="unschedulable-taint-1.20-wording",
    ),
    pytest.param(
        unbound_home_volume,
        Expect("Pending", "VolumeNotBound", ["home-bert-0", "storage class"]),
        id="unbound-home-volume",
    ),
    pytest.param(
        unbound_home_volume_old_wording,
        Expect("Pending", "VolumeNotBound", ["home-bert-0"]),
        id="unbound-home-volume-1.20-wording",
    ),
    pytest.param(
        scheduling_gated,
        Expect(
            "Pending",
            "SchedulingGated",
            ['"kueue.x-k8s.io/admission"', "Waiting for 5 minutes"],
            since=at(0.1),
        ),
        id="scheduling-gated",
    ),
    pytest.param(
        unschedulable_known_only_from_a_new_style_event,
        Expect("Pending", "Unschedulable", ["needs 1 GPU", "3 nodes have fewer"]),
        id="unschedulable-from-event-with-eventTime",
    ),
    pytest.param(
        waiting_for_the_scheduler,
        Expect("Pending", "Scheduling", ["choose a node"]),
        id="waiting-for-scheduler",
    ),
    # initializing
    pytest.param(
        pulling_the_image,
        Expect(
            "Initializing",
            "PullingImage",
            [IMAGE, NODE, "3 minutes so far", "Large images"],
            since=at(1),
            kube_reason="Pulling",
        ),
        id="pulling-image",
    ),
    pytest.param(
        creating_the_container,
        Expect("Initializing", "ContainerCreating", ["Starting the workspace's container", NODE]),
        id="container-creating",
    ),
    pytest.param(
        creating_the_container_with_mount_trouble,
        Expect("Initializing", "ContainerCreating", ["trouble with its volumes", "mount failed"]),
        id="container-creating-mount-trouble",
    ),
    pytest.param(
        init_containers_one_of_two,
        Expect(
            "Initializing",
            "InitContainers",
            ["setup step 1 of 2 (fetch-data) has been running for 2 minutes"],
            facts={"initDone": 0, "initTotal": 2},
        ),
        id="init-containers-1-of-2",
    ),
    pytest.param(
        running_but_not_ready,
        Expect(
            "Initializing",
            "WaitingForReadiness",
            ["jupyterlab to answer on port 8888", "3 readiness checks have failed"],
            since=at(2),
        ),
        id="running-not-ready",
    ),
    pytest.param(
        pod_being_replaced,
        Expect(
            "Initializing",
            "Replacing",
            ["being restarted", "old pod is shutting down", "files on the home volume are kept"],
            since=at(50),
        ),
        id="pod-being-replaced",
    ),
    pytest.param(
        exited_and_about_to_restart,
        Expect("Initializing", "Restarting", ["exit code 2 (Error)", "starting it again"]),
        id="exited-restarting",
    ),
    # active
    pytest.param(
        active,
        Expect("Active", "Ready", [NODE, "ready for 1 hour"], absent=["restarted"], since=at(3)),
        id="active",
    ),
    pytest.param(
        active_after_an_out_of_memory_restart,
        Expect(
            "Active", "Ready", ["restarted 1 time", "exit code 137 (OOMKilled)", "out of memory"]
        ),
        id="active-after-oom-restart",
    ),
    # failed
    pytest.param(
        image_not_found,
        Expect(
            "Failed",
            "ImagePullBackOff",
            [IMAGE, "does not exist", "check the image name"],
            kube_reason="ErrImagePull",
        ),
        id="err-image-pull-not-found",
    ),
    pytest.param(
        image_pull_unauthorized_back_off,
        Expect(
            "Failed",
            "ImagePullBackOff",
            ["refused access", "pull secret", "7 minutes so far"],
            kube_reason="ImagePullBackOff",
            since=at(0.6),
        ),
        id="image-pull-backoff-unauthorized",
    ),
    pytest.param(
        invalid_image_name,
        Expect(
            "Failed", "InvalidImageName", ["Quay.io/Jupyter//img", "not a valid image reference"]
        ),
        id="invalid-image-name",
    ),
    pytest.param(
        missing_secret,
        Expect(
            "Failed",
            "ContainerConfigError",
            ['secret "wandb-token"', "does not exist in project nlp-lab", "starts by itself"],
            kube_reason="CreateContainerConfigError",
        ),
        id="missing-secret",
    ),
    pytest.param(
        missing_config_map_key,
        Expect("Failed", "ContainerConfigError", ['key "API_URL"', "config map nlp-lab/settings"]),
        id="missing-config-map-key",
    ),
    pytest.param(
        crash_loop,
        Expect(
            "Failed",
            "CrashLoopBackOff",
            ["keeps crashing", "exit code 1 (Error)", "restarted 4 times", "waits 40s", "log"],
            since=at(1.5),
            facts={"exitCode": 1, "restarts": 4},
        ),
        id="crash-loop",
    ),
    pytest.param(
        out_of_memory_crash_loop,
        Expect(
            "Failed",
            "OOMKilled",
            ["ran out of memory", "16 GiB", "exit code 137", "restarted 2 times", "more memory"],
            since=at(11),
        ),
        id="oom-killed",
    ),
    pytest.param(
        evicted,
        Expect(
            "Failed",
            "Evicted",
            [
                "evicted",
                NODE,
                "the node ran low on memory",
                "the workspace was using 15Gi (it requested 16Gi)",
                "home volume are kept",
            ],
            since=at(30),
        ),
        id="evicted",
    ),
    pytest.param(
        node_lost_phase_unknown,
        Expect(
            "Failed",
            "NodeLost",
            [NODE, "stopped responding", "files on the home volume are kept", "administrator"],
            kube_reason="NodeLost",
        ),
        id="node-lost-phase-unknown",
    ),
    pytest.param(
        node_not_ready,
        Expect("Failed", "NodeLost", [NODE, "stopped responding 3 minutes ago"], since=at(30)),
        id="node-not-ready-event",
    ),
    pytest.param(
        volume_provisioning_failed,
        Expect(
            "Failed",
            "VolumeProvisioningFailed",
            ["home-bert-0", '"fast-ssd" not found', "12 times", "administrator"],
            since=at(0.1),
        ),
        id="pvc-provisioning-failed",
    ),
    pytest.param(
        volume_provisioned_after_a_failure,
        Expect("Pending", "VolumeNotBound", ["home-bert-0"]),
        id="pvc-provisioned-after-failure",
    ),
    pytest.param(
        pod_failed_at_admission,
        Expect(
            "Failed",
            "PodFailed",
            ["UnexpectedAdmissionError", "devices unavailable for nvidia.com/gpu", NODE],
        ),
        id="pod-failed-admission",
    ),
    pytest.param(
        pod_succeeded, Expect("Failed", "Exited", ["finished", "activate"]), id="pod-succeeded"
    ),
    pytest.param(
        start_command_not_found,
        Expect(
            "Failed",
            "ContainerStartFailed",
            ["could not be started", "start-notebook.py", "start command"],
            kube_reason="RunContainerError",
        ),
        id="run-container-error",
    ),
    pytest.param(
        setup_step_crash_loop,
        Expect(
            "Failed",
            "CrashLoopBackOff",
            [
                'setup step "fetch-data" keeps crashing',
                "exit code 127",
                "start command was not found",
                "restarted 5 times",
            ],
        ),
        id="init-container-crash-loop",
    ),
    pytest.param(
        readiness_never_passes,
        Expect(
            "Initializing",
            "WaitingForReadiness",
            ["taking long", "check that the image starts jupyterlab on port 8888"],
        ),
        id="readiness-never-passes",
    ),
    pytest.param(
        stop_requested_on_a_lost_node,
        Expect("Failed", "NodeLost", ["stop was requested", "stopped responding"]),
        id="stop-requested-node-lost",
    ),
    pytest.param(
        replaced_pod_stuck_terminating,
        Expect("Failed", "StuckTerminating", ["being restarted", "7 minutes after its deadline"]),
        id="replaced-pod-stuck",
    ),
    pytest.param(
        creating_the_container_without_a_network,
        Expect("Initializing", "ContainerCreating", ["trouble setting up its network", "calico"]),
        id="container-creating-sandbox-trouble",
    ),
    # stale events
    pytest.param(
        stale_warnings_of_a_previous_pod,
        Expect("Active", "Ready", [NODE], absent=["secret", "crash"]),
        id="stale-warnings-of-previous-pod",
    ),
    pytest.param(
        stale_scheduling_failure_of_a_previous_pod,
        Expect("Pending", "Scheduling", [], absent=["GPU"]),
        id="stale-failed-scheduling-before-pod",
    ),
    pytest.param(
        quota_event_from_before_the_last_activation,
        Expect("Pending", "Queued", [], absent=["quota"]),
        id="stale-quota-before-activation",
    ),
    pytest.param(
        quota_event_of_a_recreated_workspace,
        Expect("Pending", "Queued", [], absent=["quota"]),
        id="stale-quota-of-recreated-workspace",
    ),
    pytest.param(
        stale_provisioning_failure_of_a_recreated_workspace,
        Expect("Pending", "VolumeNotBound", [], absent=["fast-ssd"]),
        id="stale-provisioning-failure-recreated",
    ),
]


@pytest.mark.parametrize(("build", "expect"), CASES)
def test_status_in_every_situation(build: Callable[[], Objects], expect: Expect) -> None:
    sts, current_pod, events, now = build()

    report = derive_status(sts, current_pod, events, now)

    assert (report.status, report.reason) == (expect.status, expect.reason), report.message
    for word in expect.words:
        assert word in report.message, f"{word!r} not in {report.message!r}"
    for word in expect.absent:
        assert word not in report.message, f"{word!r} in {report.message!r}"
    if expect.since is not None:
        assert report.since == expect.since
    if expect.kube_reason is not None:
        assert report.kube_reason == expect.kube_reason
    for key, value in expect.facts.items():
        assert report.facts.get(key) == value, report.facts
    # The hover text is prose: never raw JSON, never a Python repr of a dict.
    assert "{'" not in report.message and '{"' not in report.message
    assert report.message.strip().endswith((".", "…")), report.message


def test_every_reason_in_the_docstring_is_exercised() -> None:
    from jupyter_workspaces import status

    doc = status.__doc__ or ""
    tested = {p.values[1].reason for p in CASES}
    for line in doc.splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) == 5 and cells[3] and cells[3][0].isupper() and cells[3] != "reason":
            assert cells[3] in tested, f"rule {cells[3]} has no test case"


def test_a_report_serialises_to_json_ready_values() -> None:
    sts, current_pod, events, now = quota_exceeded_gpus()
    data = derive_status(sts, current_pod, events, now).to_dict()
    assert data["status"] == "Pending"
    assert data["since"] == "2026-05-04T09:00:06Z"
    assert data["kubeReason"] == "FailedCreate"
    assert data["image"] == IMAGE


def test_a_credential_in_a_kubernetes_message_never_reaches_the_report() -> None:
    sts = statefulset()
    text = (
        'failed to pull image "reg.example.org/team/img:1": failed to authorize: Get '
        '"https://reg.example.org/token?account=ci": authorization: Bearer abc.def-SECRET-42'
    )
    report = derive_status(sts, waiting_pod(sts, "ErrImagePull", text), [], at(1))
    assert report.reason == "ImagePullBackOff"
    assert "SECRET" not in report.message
    assert "SECRET" not in str(report.to_dict())


def test_the_pod_facts_name_node_restarts_and_exit_code() -> None:
    sts, current_pod, events, now = crash_loop()
    report = derive_status(sts, current_pod, events, now)
    assert (report.node, report.restarts, report.last_exit_code) == (NODE, 4, 1)


def test_status_reads_no_clock() -> None:
    sts, current_pod, events, _ = pulling_the_image()
    early = derive_status(sts, current_pod, events, at(2))
    late = derive_status(sts, current_pod, events, at(30))
    assert "1 minute so far" in early.message
    assert "29 minutes so far" in late.message


def test_events_for_picks_the_set_its_pod_and_its_home_claim_only() -> None:
    mine = [
        set_event("SuccessfulCreate", "create Pod bert-0 in StatefulSet bert successful", first=0),
        pod_event("Pulling", "Pulling image", first=1),
        claim_event("ProvisioningSucceeded", "Successfully provisioned volume", first=0.5),
    ]
    others = [
        event("Pod", "bert-2-0", "Pulling", "Pulling image", first=1),
        event("StatefulSet", "bert-2", "SuccessfulCreate", "create Pod", first=0),
        event("PersistentVolumeClaim", "home-bert-2-0", "ProvisioningSucceeded", "ok", first=0),
        event("Service", NAME, "Created", "created", first=0),
    ]
    assert events_for(NAME, mine + others) == mine
    assert events_for(NAME, mine, namespace="other-project") == []


@pytest.mark.parametrize(
    ("kind", "name", "workspace"),
    [
        pytest.param("StatefulSet", "bert", "bert", id="statefulset"),
        pytest.param("Pod", "bert-2-0", "bert-2", id="pod"),
        pytest.param("PersistentVolumeClaim", "home-bert-0", "bert", id="home-claim"),
        pytest.param("PersistentVolumeClaim", "data-bert-0", None, id="other-claim"),
        pytest.param("Node", "gpu-node-2", None, id="node"),
    ],
)
def test_workspace_of_event_names_the_workspace(
    kind: str, name: str, workspace: str | None
) -> None:
    assert workspace_of_event(event(kind, name, "Any", "text", first=0)) == workspace


def test_scheduler_message_is_split_by_node_count_even_with_commas_inside() -> None:
    verdict = parse_scheduler_message(
        "0/5 nodes are available: 1 node(s) had taint {a: b}, that the pod didn't tolerate, "
        "4 Insufficient nvidia.com/gpu." + PREEMPTION
    )
    assert verdict.nodes == 5
    assert [(b.kind, b.nodes) for b in verdict.blockers] == [("taint", 1), ("gpu", 4)]
