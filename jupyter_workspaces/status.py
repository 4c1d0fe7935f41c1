"""Turn what Kubernetes says about a workspace into one of five statuses, with the reason why.

(The rules are written down here by the status-engine work; see `derive_status`.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Status = Literal["Pending", "Initializing", "Active", "Stopped", "Failed"]
KubeObject = Mapping[str, Any]


@dataclass(frozen=True)
class StatusReport:
    """One workspace's status, why it has it, and the facts behind it."""

    status: Status
    reason: str
    message: str
    since: datetime | None = None
    kube_reason: str | None = None
    node: str | None = None
    image: str | None = None
    restarts: int = 0
    last_exit_code: int | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict; times as ISO-8601 UTC strings."""
        return {
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
            "since": self.since.isoformat().replace("+00:00", "Z") if self.since else None,
            "kubeReason": self.kube_reason,
            "node": self.node,
            "image": self.image,
            "restarts": self.restarts,
            "lastExitCode": self.last_exit_code,
            "facts": dict(self.facts),
        }


def derive_status(
    statefulset: KubeObject,
    pod: KubeObject | None,
    events: Sequence[KubeObject],
    now: datetime,
) -> StatusReport:
    """Return the status of the workspace behind `statefulset` at time `now`."""
    raise NotImplementedError("being written by the status-engine work")
