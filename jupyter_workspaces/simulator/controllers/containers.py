"""One container's life on a simulated node: pull, create, start, get ready, crash, back off.

A `ContainerRun` is a small state machine driven by its kubelet: `step()` does whatever is due
and says when to be called again. It reports events through a callback with the reasons and
messages the kubelet of Kubernetes 1.20 writes, and renders its own `containerStatuses` entry.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jupyter_workspaces.simulator.controllers.base import rfc3339
from jupyter_workspaces.simulator.registry import Image, PullError, Registry, behaviour_of

# (type, reason, message): an event about the container's pod.
Emit = Callable[[str, str, str], None]

# Kubelet back-off: starts at 10 s, doubles, caps at 5 minutes (image pulls and restarts).
BACKOFF_START = 10.0
BACKOFF_CAP = 300.0
# Seconds from a failed pull to the back-off, and from an exit to the restart (simulated).
SETTLE = 1.0


def go_duration(seconds: float) -> str:
    """A duration as Go prints it: 10s, 1m20s, 5m0s, 1.5s."""
    if seconds < 60:
        return f"{seconds:g}s" if seconds == int(seconds) else f"{seconds:.3g}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest}s"


@dataclass
class ContainerRun:
    """The simulated runtime state of one container of a pod."""

    spec: dict[str, Any]
    pod_label: str  # name_namespace(uid), as the kubelet names pods in messages
    annotations: dict[str, str]
    registry: Registry
    node_images: set[str]
    restart_policy: str = "Always"
    # Current state: "waiting", "running" or "terminated", with its details.
    state: str = "waiting"
    reason: str = "ContainerCreating"
    message: str = ""
    started_at: str = ""
    finished: dict[str, Any] = field(default_factory=dict)
    last_state: dict[str, Any] = field(default_factory=dict)
    ready: bool = False
    ever_started: bool = False
    restarts: int = 0
    crashes: int = 0
    pull_backoff: float = 0.0
    container_id: str = ""
    next_step: str = "pull"
    due: float = 0.0  # simulated seconds since the pod's start, when next_step runs

    @property
    def name(self) -> str:
        return str(self.spec.get("name"))

    @property
    def image_ref(self) -> str:
        return str(self.spec.get("image"))

    def adopt(self, status: dict[str, Any], now: float) -> None:
        """Take over a container that is already running (a seeded or restarted cluster)."""
        running = (status.get("state") or {}).get("running")
        if not running:
            self.restarts = int(status.get("restartCount") or 0)
            return
        self.state, self.ever_started = "running", True
        self.started_at = running.get("startedAt") or rfc3339()
        self.ready = bool(status.get("ready"))
        self.restarts = int(status.get("restartCount") or 0)
        self.last_state = dict(status.get("lastState") or {})
        self.container_id = status.get("containerID") or self._new_id()
        self.node_images.add(self.image_ref)
        self.next_step, self.due = ("idle", float("inf")) if self.ready else ("start", now)
        if self.ready:
            self._after_ready(now)

    def step(self, now: float, emit: Emit, probe_target: str) -> None:
        """Run every step due at simulated time `now`."""
        while self.due <= now:
            action = getattr(self, f"_do_{self.next_step.replace('-', '_')}")
            action(now, emit, probe_target)

    def _then(self, step: str, at: float) -> None:
        self.next_step, self.due = step, at

    # Image pull ------------------------------------------------------------------------------

    def _do_pull(self, now: float, emit: Emit, probe_target: str) -> None:
        found = self.registry.lookup(self.image_ref)
        policy = self.spec.get("imagePullPolicy") or "IfNotPresent"
        if isinstance(found, Image) and self.image_ref in self.node_images and policy != "Always":
            emit(
                "Normal",
                "Pulled",
                f'Container image "{self.image_ref}" already present on machine',
            )
            self._then("create", now)
            return
        emit("Normal", "Pulling", f'Pulling image "{self.image_ref}"')
        self._set_waiting(
            "ImagePullBackOff" if self.reason == "ImagePullBackOff" else "ContainerCreating", ""
        )
        if isinstance(found, PullError):
            self._then("pull-failed", now + SETTLE)
        else:
            self._then("pulled", now + self.registry.pull_seconds(found))

    def _do_pulled(self, now: float, emit: Emit, probe_target: str) -> None:
        found = self.registry.lookup(self.image_ref)
        seconds = self.registry.pull_seconds(found) if isinstance(found, Image) else 0.0
        self.node_images.add(self.image_ref)
        self.pull_backoff = 0.0
        took = f"{seconds:.9f}".rstrip("0").rstrip(".") + "s"  # as Go prints a Duration
        emit("Normal", "Pulled", f'Successfully pulled image "{self.image_ref}" in {took}')
        self._then("create", now)

    def _do_pull_failed(self, now: float, emit: Emit, probe_target: str) -> None:
        found = self.registry.lookup(self.image_ref)
        error = found.message if isinstance(found, PullError) else "unknown error"
        emit("Warning", "Failed", f'Failed to pull image "{self.image_ref}": {error}')
        emit("Warning", "Failed", "Error: ErrImagePull")
        self._set_waiting("ErrImagePull", error)
        self._then("pull-backoff", now + SETTLE)

    def _do_pull_backoff(self, now: float, emit: Emit, probe_target: str) -> None:
        self.pull_backoff = min(self.pull_backoff * 2 or BACKOFF_START, BACKOFF_CAP)
        message = f'Back-off pulling image "{self.image_ref}"'
        emit("Normal", "BackOff", message)
        emit("Warning", "Failed", "Error: ImagePullBackOff")
        self._set_waiting("ImagePullBackOff", message)
        self._then("pull", now + self.pull_backoff)

    # Running ---------------------------------------------------------------------------------

    def _do_create(self, now: float, emit: Emit, probe_target: str) -> None:
        self.container_id = self._new_id()
        emit("Normal", "Created", f"Created container {self.name}")
        self._then("start", now)

    def _do_start(self, now: float, emit: Emit, probe_target: str) -> None:
        if self.state != "running":  # else adopted: it is running already
            emit("Normal", "Started", f"Started container {self.name}")
            self.state, self.reason, self.message = "running", "", ""
            self.started_at = rfc3339()
            self.ever_started = True
            self.ready = False
        image = self.registry.lookup(self.image_ref)
        image = image if isinstance(image, Image) else Image(size=0)
        behaviour, _ = behaviour_of(image, self.annotations)
        if behaviour in ("crash-loop", "oom") or (behaviour == "crash-later" and self.crashes):
            self._then("exit", now + image.runs_for)
        elif behaviour == "never-ready":
            self._then("probe-failed", now + image.ready_after)
        else:
            self._then("ready", now + image.ready_after)

    def _do_ready(self, now: float, emit: Emit, probe_target: str) -> None:
        self.ready = True
        self._after_ready(now)

    def _after_ready(self, now: float) -> None:
        image = self.registry.lookup(self.image_ref)
        image = image if isinstance(image, Image) else Image(size=0)
        behaviour, crash_after = behaviour_of(image, self.annotations)
        if behaviour == "crash-later" and not self.crashes:
            self._then("exit", now + crash_after)
        else:
            self._then("idle", float("inf"))

    def _do_probe_failed(self, now: float, emit: Emit, probe_target: str) -> None:
        emit(
            "Warning",
            "Unhealthy",
            f"Readiness probe failed: dial tcp {probe_target}: connect: connection refused",
        )
        period = float((self.spec.get("readinessProbe") or {}).get("periodSeconds") or 10)
        self._then("probe-failed", now + period)

    def _do_exit(self, now: float, emit: Emit, probe_target: str) -> None:
        image = self.registry.lookup(self.image_ref)
        oom = isinstance(image, Image) and behaviour_of(image, self.annotations)[0] == "oom"
        self.finished = {
            "exitCode": 137 if oom else 1,
            "reason": "OOMKilled" if oom else "Error",
            "startedAt": self.started_at,
            "finishedAt": rfc3339(),
            "containerID": self.container_id,
        }
        self.state, self.ready = "terminated", False
        self.crashes += 1
        if self.restart_policy == "Never":
            self._then("idle", float("inf"))
        elif self.crashes == 1:
            # The kubelet restarts a container at once the first time it dies.
            self._then("restart", now + SETTLE)
        else:
            self._then("crash-wait", now + SETTLE / 2)

    def _do_crash_wait(self, now: float, emit: Emit, probe_target: str) -> None:
        delay = min(BACKOFF_START * 2 ** (self.crashes - 2), BACKOFF_CAP)
        self.last_state = {"terminated": self.finished}
        self._set_waiting(
            "CrashLoopBackOff",
            f"back-off {go_duration(delay)} restarting failed container={self.name} "
            f"pod={self.pod_label}",
        )
        emit("Warning", "BackOff", "Back-off restarting failed container")
        self._then("restart", now + delay)

    def _do_restart(self, now: float, emit: Emit, probe_target: str) -> None:
        self.restarts += 1
        self.last_state = {"terminated": self.finished}
        emit("Normal", "Pulled", f'Container image "{self.image_ref}" already present on machine')
        self._then("create", now)

    def _do_idle(self, now: float, emit: Emit, probe_target: str) -> None:
        self.due = float("inf")

    # Status ----------------------------------------------------------------------------------

    def _set_waiting(self, reason: str, message: str) -> None:
        if self.state == "terminated":
            self.last_state = {"terminated": self.finished}
        self.state, self.reason, self.message, self.ready = "waiting", reason, message, False

    def _new_id(self) -> str:
        return "containerd://" + uuid.uuid4().hex + uuid.uuid4().hex

    def failed(self) -> bool:
        """The container ended for good (restart policy Never) with a non-zero exit."""
        return (
            self.state == "terminated"
            and self.restart_policy == "Never"
            and self.finished.get("exitCode") != 0
        )

    def status(self) -> dict[str, Any]:
        """This container's entry of `status.containerStatuses`."""
        if self.state == "running":
            state: dict[str, Any] = {"running": {"startedAt": self.started_at}}
        elif self.state == "terminated":
            state = {"terminated": dict(self.finished)}
        else:
            waiting = {"reason": self.reason}
            if self.message:
                waiting["message"] = self.message
            state = {"waiting": waiting}
        pulled = self.image_ref in self.node_images
        digest = hashlib.sha256(self.image_ref.encode()).hexdigest()
        entry: dict[str, Any] = {
            "name": self.name,
            "state": state,
            "lastState": dict(self.last_state),
            "ready": self.ready,
            "restartCount": self.restarts,
            "image": self.image_ref,
            "imageID": f"{self.image_ref.split(':')[0]}@sha256:{digest}" if pulled else "",
            "started": self.state == "running",
        }
        if self.container_id and (self.state != "waiting" or self.last_state):
            entry["containerID"] = self.container_id
        return entry
