"""Read plain Kubernetes JSON: times, conditions, container statuses and a workspace's events.

Pure helpers shared by the status engine and the watch cache, so both agree on which events
belong to a workspace and when an event happened.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from jupyter_workspaces import constants as c

KubeObject = Mapping[str, Any]

_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(Z|z|[+-]\d{2}:?\d{2})?$"
)


def parse_time(value: Any) -> datetime | None:
    """Return an aware UTC datetime from a Kubernetes Time or MicroTime string, else None."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if not isinstance(value, str):
        return None
    return _parse_text(value)


# The same few timestamps are read again on every status change of a workspace.
@lru_cache(maxsize=8192)
def _parse_text(value: str) -> datetime | None:
    text = value.strip()
    if not text:
        return None
    try:
        # Fast path; Python 3.10 wants "+00:00" for "Z" and 3 or 6 fraction digits.
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "Zz" else text)
    except ValueError:
        pass
    else:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)
    match = _TIME.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    offset = timedelta(0)
    if zone and zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micros
        )
    except ValueError:
        return None
    return (moment - offset).replace(tzinfo=timezone.utc)


def meta(obj: KubeObject | None) -> Mapping[str, Any]:
    """An object's metadata, or {}."""
    return (obj or {}).get("metadata") or {}


def created(obj: KubeObject | None) -> datetime | None:
    """An object's creationTimestamp."""
    return parse_time(meta(obj).get("creationTimestamp"))


def annotation(obj: KubeObject | None, key: str) -> str | None:
    """One annotation's value, or None."""
    value = (meta(obj).get("annotations") or {}).get(key)
    return str(value) if value is not None else None


def condition(pod: KubeObject | None, kind: str) -> Mapping[str, Any] | None:
    """The pod condition of type `kind` ("Ready", "PodScheduled", ...), or None."""
    for cond in ((pod or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return dict(cond)
    return None


def condition_is(pod: KubeObject | None, kind: str, value: str) -> bool:
    """Whether the pod's condition `kind` has status `value` ("True", "False", "Unknown")."""
    cond = condition(pod, kind)
    return cond is not None and cond.get("status") == value


def container_statuses(pod: KubeObject | None, *, init: bool = False) -> list[Mapping[str, Any]]:
    """The pod's (init) container statuses, in the order the kubelet reports them."""
    key = "initContainerStatuses" if init else "containerStatuses"
    return list(((pod or {}).get("status") or {}).get(key) or [])


def main_container_status(
    pod: KubeObject | None, name: str = "workspace"
) -> Mapping[str, Any] | None:
    """The status of the container called `name`, else the first one, else None."""
    statuses = container_statuses(pod)
    for status in statuses:
        if status.get("name") == name:
            return status
    return statuses[0] if statuses else None


# ---- events --------------------------------------------------------------------------------


def involved(event: KubeObject) -> Mapping[str, Any]:
    """The object an event is about (core/v1 `involvedObject`, events.k8s.io `regarding`)."""
    return event.get("involvedObject") or event.get("regarding") or {}


def event_message(event: KubeObject) -> str:
    """The event's text (core/v1 `message`, events.k8s.io `note`)."""
    return str(event.get("message") or event.get("note") or "")


def event_first_seen(event: KubeObject) -> datetime | None:
    """When an event first happened: firstTimestamp on older events, eventTime on newer ones."""
    return (
        parse_time(event.get("firstTimestamp"))
        or parse_time(event.get("eventTime"))
        or parse_time(event.get("deprecatedFirstTimestamp"))
        or created(event)
    )


def event_last_seen(event: KubeObject) -> datetime | None:
    """When an event last happened: lastTimestamp, else the series' last observation, else
    eventTime (newer events leave the timestamps null and count repeats in `series`)."""
    series = event.get("series") or {}
    return (
        parse_time(event.get("lastTimestamp"))
        or parse_time(series.get("lastObservedTime"))
        or parse_time(event.get("eventTime"))
        or parse_time(event.get("deprecatedLastTimestamp"))
        or event_first_seen(event)
    )


def event_count(event: KubeObject) -> int:
    """How many times the event happened (count, or the series' count)."""
    series = event.get("series") or {}
    raw = event.get("count") or series.get("count") or event.get("deprecatedCount") or 1
    try:
        return max(1, int(raw))
    except (TypeError, ValueError):
        return 1


def workspace_of_event(event: KubeObject) -> str | None:
    """The workspace an event may concern, judged by its object's kind and name, or None.

    A StatefulSet named W, a Pod named `W-0` and a PVC named `home-W-0` all belong to W. The
    caller still has to know that a workspace W exists in the event's namespace.
    """
    obj = involved(event)
    kind, name = obj.get("kind"), str(obj.get("name") or "")
    if not name:
        return None
    if kind == "StatefulSet":
        return name
    if kind == "Pod" and name.endswith("-0") and len(name) > 2:
        return name[:-2]
    prefix = f"{c.HOME_VOLUME}-"
    if kind == "PersistentVolumeClaim" and name.startswith(prefix) and name.endswith("-0"):
        workspace = name[len(prefix) : -2]
        return workspace or None
    return None


def events_for(
    workspace: str, events: Iterable[KubeObject], namespace: str | None = None
) -> list[KubeObject]:
    """The events about workspace `workspace`'s StatefulSet, its pod or its home PVC.

    With `namespace`, events of other namespaces are left out too.
    """
    wanted = {
        ("StatefulSet", workspace),
        ("Pod", c.pod_name(workspace)),
        ("PersistentVolumeClaim", c.home_claim_name(workspace)),
    }
    chosen = []
    for event in events:
        obj = involved(event)
        if (obj.get("kind"), obj.get("name")) not in wanted:
            continue
        event_ns = obj.get("namespace") or meta(event).get("namespace")
        if namespace is not None and event_ns not in (None, namespace):
            continue
        chosen.append(event)
    return chosen


def latest(events: Sequence[KubeObject], *reasons: str) -> KubeObject | None:
    """The most recently seen event with one of `reasons`, or None."""
    best: KubeObject | None = None
    best_time: datetime | None = None
    for event in events:
        if event.get("reason") not in reasons:
            continue
        seen = event_last_seen(event)
        if best is None or (seen is not None and (best_time is None or seen >= best_time)):
            best, best_time = event, seen
    return best


def earliest_seen(events: Sequence[KubeObject], *reasons: str) -> datetime | None:
    """When the first of the events with one of `reasons` happened, or None."""
    times = [
        t for e in events if e.get("reason") in reasons and (t := event_first_seen(e)) is not None
    ]
    return min(times) if times else None
