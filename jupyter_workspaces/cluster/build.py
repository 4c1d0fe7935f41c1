"""Build a `Workspace` record from the cached StatefulSet, pod, PVC and events of one workspace."""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from jupyter_workspaces import constants as c
from jupyter_workspaces.errors import InvalidInput
from jupyter_workspaces.manifests import spec_from_statefulset
from jupyter_workspaces.records import Workspace
from jupyter_workspaces.status import derive_status

URL_PLACEHOLDERS = ("project", "name", "tool", "owner")


def check_url_template(template: str | None) -> str | None:
    """Return `template` if it uses only the known placeholders; else raise InvalidInput."""
    if template is None:
        return None
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise InvalidInput(f"url_template {template!r} is not a format string: {exc}") from None
    unknown = sorted(fields - set(URL_PLACEHOLDERS))
    if unknown:
        raise InvalidInput(
            f"url_template {template!r} uses unknown placeholder(s) {', '.join(unknown)}: "
            f"allowed are {', '.join('{' + p + '}' for p in URL_PLACEHOLDERS)}"
        )
    return template


def parse_time(text: Any) -> datetime | None:
    """Parse a Kubernetes timestamp ("2024-05-01T10:00:00Z") to an aware datetime, or None."""
    if not text or not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def tool_urls(
    template: str | None, *, project: str, name: str, owner: str, tools: Sequence[str]
) -> dict[str, str]:
    """Return tool -> URL from the template, each placeholder URL-quoted."""
    if not template:
        return {}
    values = {"project": quote(project), "name": quote(name), "owner": quote(owner, safe="")}
    return {tool: template.format(tool=quote(tool), **values) for tool in tools}


def build_workspace(
    statefulset: Mapping[str, Any],
    pod: Mapping[str, Any] | None,
    events: Sequence[Mapping[str, Any]],
    *,
    now: datetime,
    pvc: Mapping[str, Any] | None = None,
    url_template: str | None = None,
) -> Workspace:
    """Return the record of one workspace: who, what, where, and its status at `now`."""
    spec = spec_from_statefulset(statefulset)
    metadata = statefulset.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    report = derive_status(statefulset, pod, list(events), now)

    volume_size = spec.volume_size
    capacity = ((pvc or {}).get("status") or {}).get("capacity") or {}
    if capacity.get("storage"):
        volume_size = str(capacity["storage"])

    node = ((pod or {}).get("spec") or {}).get("nodeName") or report.node
    urls: dict[str, str] = {}
    if report.status == "Active":
        urls = tool_urls(
            url_template, project=spec.project, name=spec.name, owner=spec.owner, tools=spec.tools
        )
    return Workspace(
        name=spec.name,
        project=spec.project,
        owner=spec.owner,
        status=report,
        image=spec.image,
        display_name=spec.display_name,
        tools=spec.tools,
        cpu=spec.cpu,
        memory=spec.memory,
        gpu=spec.gpu,
        volume_size=volume_size,
        node=node,
        created=parse_time(metadata.get("creationTimestamp")),
        last_activated=parse_time(annotations.get(c.ACTIVATED_AT_ANNOTATION)),
        stopped_at=parse_time(annotations.get(c.STOPPED_AT_ANNOTATION)),
        stopped_by=annotations.get(c.STOPPED_BY_ANNOTATION) or None,
        stop_reason=annotations.get(c.STOP_REASON_ANNOTATION) or None,
        urls=urls,
    )
