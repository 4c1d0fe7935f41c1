"""The Workspace record: what every face of the product shows about one workspace."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jupyter_workspaces.status import StatusReport


def iso(value: datetime | None) -> str | None:
    """Return an aware datetime as ISO-8601 UTC with a trailing Z, or None."""
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Workspace:
    """One workspace as the service sees it, built from the cache by the cluster layer."""

    name: str
    project: str
    owner: str
    status: StatusReport
    image: str
    display_name: str = ""
    tools: tuple[str, ...] = ()
    cpu: str | None = None
    memory: str | None = None
    gpu: int = 0
    volume_size: str | None = None
    node: str | None = None
    created: datetime | None = None
    last_activated: datetime | None = None
    stopped_at: datetime | None = None
    stopped_by: str | None = None
    stop_reason: str | None = None
    urls: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        """(project, name): unique across the cluster."""
        return (self.project, self.name)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict with camelCase keys, as the REST API serves it."""
        return {
            "name": self.name,
            "project": self.project,
            "owner": self.owner,
            "displayName": self.display_name or self.name,
            "status": self.status.to_dict(),
            "image": self.image,
            "tools": list(self.tools),
            "cpu": self.cpu,
            "memory": self.memory,
            "gpu": self.gpu,
            "volumeSize": self.volume_size,
            "node": self.node,
            "created": iso(self.created),
            "lastActivated": iso(self.last_activated),
            "stoppedAt": iso(self.stopped_at),
            "stoppedBy": self.stopped_by,
            "stopReason": self.stop_reason,
            "urls": dict(self.urls),
        }


@dataclass(frozen=True)
class WorkspaceDeleted:
    """Change-feed entry for a workspace that no longer exists."""

    project: str
    name: str


@dataclass(frozen=True)
class ProjectUsage:
    """A project (namespace) and how much of its quota is in use."""

    name: str
    # resource name -> (used, hard), as Kubernetes quantities in strings
    quota: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    workspaces: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "workspaces": self.workspaces,
            "quota": {k: {"used": u, "hard": h} for k, (u, h) in self.quota.items()},
        }
