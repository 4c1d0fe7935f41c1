"""ResourceQuota: admission of new objects and the `status.used`/`status.hard` bookkeeping.

What a pod uses is summed as a real server does (requests of its containers, or of its
largest init container if that is more), terminal pods (Succeeded, Failed) use nothing, and a
refusal is worded exactly like a real one, so that everything reading it (events, status
messages) can be tested against the simulator.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from jupyter_workspaces.simulator.apiserver.failures import forbidden
from jupyter_workspaces.simulator.apiserver.quantity import (
    ONE,
    ZERO,
    Quantity,
    QuantityError,
    parse_quantity,
)
from jupyter_workspaces.simulator.apiserver.resources import CATALOGUE, Obj, Resource
from jupyter_workspaces.simulator.apiserver.tables import Change

if TYPE_CHECKING:
    from jupyter_workspaces.simulator.apiserver.store import Store

log = logging.getLogger(__name__)

Usage = dict[str, Quantity]

# Quota names whose resource every container must state once a quota limits them.
_MUST_SPECIFY = {
    "cpu": ("requests", "cpu"),
    "requests.cpu": ("requests", "cpu"),
    "memory": ("requests", "memory"),
    "requests.memory": ("requests", "memory"),
    "limits.cpu": ("limits", "cpu"),
    "limits.memory": ("limits", "memory"),
}


def _quantity(value: Any) -> Quantity:
    try:
        return parse_quantity(str(value))
    except QuantityError:
        return ZERO


def _container_sum(containers: list[dict[str, Any]], part: str) -> Usage:
    total: Usage = {}
    for container in containers:
        for name, value in ((container.get("resources") or {}).get(part) or {}).items():
            total[name] = total.get(name, ZERO) + _quantity(value)
    return total


def _container_max(containers: list[dict[str, Any]], part: str) -> Usage:
    biggest: Usage = {}
    for container in containers:
        for name, value in ((container.get("resources") or {}).get(part) or {}).items():
            amount = _quantity(value)
            if name not in biggest or amount.nanos > biggest[name].nanos:
                biggest[name] = amount
    return biggest


def pod_usage(pod: Obj) -> Usage:
    """Every quota resource name a pod counts against, with its amount."""
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return {}
    spec = pod.get("spec") or {}
    usage: Usage = {"pods": ONE, "count/pods": ONE}
    for part in ("requests", "limits"):
        summed = _container_sum(spec.get("containers") or [], part)
        for name, amount in _container_max(spec.get("initContainers") or [], part).items():
            if amount.nanos > summed.get(name, ZERO).nanos:
                summed[name] = amount
        for name, amount in summed.items():
            usage[f"{part}.{name}"] = amount
            if part == "requests" and name in ("cpu", "memory", "ephemeral-storage"):
                usage[name] = amount
    return usage


# Resources whose objects quotas count (pods also by their requests, claims by storage).
TRACKED = ("pods", "services", "persistentvolumeclaims", "statefulsets")


def usage_of(resource: Resource, obj: Obj) -> Usage:
    """Every quota resource name `obj` counts against, with its amount."""
    if resource.plural == "pods":
        return pod_usage(obj)
    usage: Usage = {f"count/{resource.qualified}": ONE}
    if resource.plural in ("services", "persistentvolumeclaims"):
        usage[resource.plural] = ONE
    if resource.plural == "persistentvolumeclaims":
        requests = ((obj.get("spec") or {}).get("resources") or {}).get("requests") or {}
        if "storage" in requests:
            usage["requests.storage"] = _quantity(requests["storage"])
    return usage


def _pretty(usage: Usage) -> str:
    return ",".join(f"{name}={usage[name]}" for name in sorted(usage))


class QuotaKeeper:
    """Admits new objects against their namespace's quotas and keeps quota status current."""

    def __init__(self, store: Store) -> None:
        self.store = store
        # Usage of every counted pod, by namespace then name, and each namespace's total.
        self.usage: dict[str, dict[str, Usage]] = {}
        self.totals: dict[str, Usage] = {}
        # While seeding, namespaces whose quotas need a refresh once it is done.
        self.deferred: set[str] | None = None

    def _quotas(self, namespace: str) -> list[Obj]:
        table = self.store.tables.table(CATALOGUE.by_plural["resourcequotas"])
        return [entry.load() for _, _, entry in table.entries(namespace)]

    def used(self, namespace: str, names: list[str]) -> Usage:
        totals = self.totals.get(namespace, {})
        return {name: totals.get(name, ZERO) for name in names}

    def _account(self, namespace: str, usage: Usage | None, sign: int) -> None:
        totals = self.totals.setdefault(namespace, {})
        for name, amount in (usage or {}).items():
            current = totals.get(name, ZERO)
            totals[name] = Quantity(
                current.nanos + sign * amount.nanos, current.binary or amount.binary
            )

    def defer(self) -> None:
        """Hold quota status writes (while seeding many objects) until `flush()`."""
        self.deferred = set()

    def flush(self) -> None:
        namespaces, self.deferred = self.deferred or set(), None
        for namespace in sorted(namespaces):
            self.refresh(namespace)

    def admit(self, resource: Resource, obj: Obj) -> None:
        """Refuse `obj` with a real server's 403 if it would exceed a quota."""
        meta = obj["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        requested = usage_of(resource, obj)
        for quota in self._quotas(namespace):
            quota_name = quota["metadata"]["name"]
            hard = {
                k: _quantity(v) for k, v in (quota.get("status", {}).get("hard") or {}).items()
            }
            missing = self._missing(obj, hard) if resource.plural == "pods" else []
            if missing:
                raise forbidden(
                    resource,
                    name,
                    f"failed quota: {quota_name}: must specify " + ",".join(missing),
                )
            used = {
                k: _quantity(v) for k, v in (quota.get("status", {}).get("used") or {}).items()
            }
            exceeded = [
                key
                for key in hard
                if key in requested
                and (used.get(key, ZERO) + requested[key]).nanos > hard[key].nanos
            ]
            if exceeded:
                log.info(
                    "%s %s/%s: refused by quota %s (%s)",
                    resource.singular,
                    namespace,
                    name,
                    quota_name,
                    ",".join(exceeded),
                )
                raise forbidden(
                    resource,
                    name,
                    f"exceeded quota: {quota_name}, "
                    f"requested: {_pretty({k: requested[k] for k in exceeded})}, "
                    f"used: {_pretty({k: used.get(k, ZERO) for k in exceeded})}, "
                    f"limited: {_pretty({k: hard[k] for k in exceeded})}",
                )

    def _missing(self, pod: Obj, hard: Usage) -> list[str]:
        missing = set()
        for container in (pod.get("spec") or {}).get("containers") or []:
            resources = container.get("resources") or {}
            for quota_name, (part, resource) in _MUST_SPECIFY.items():
                if quota_name in hard and resource not in (resources.get(part) or {}):
                    missing.add(quota_name)
        return sorted(missing)

    def on_change(self, resource: Resource, change: Change) -> None:
        """Keep usage and every affected quota's status up to date."""
        if resource.plural in TRACKED:
            namespace = change.new.fields["metadata.namespace"]
            key = f"{resource.plural}/{change.new.fields['metadata.name']}"
            counted = self.usage.setdefault(namespace, {})
            before = counted.get(key)
            usage = {} if change.type == "DELETED" else usage_of(resource, change.new.load())
            if usage == before:
                return
            self._account(namespace, before, -1)
            self._account(namespace, usage, +1)
            if usage:
                counted[key] = usage
            else:
                counted.pop(key, None)
            if self.deferred is not None:
                self.deferred.add(namespace)
            else:
                self.refresh(namespace)
        elif resource.plural == "resourcequotas" and change.type != "DELETED":
            if self.deferred is not None:
                self.deferred.add(change.new.fields["metadata.namespace"])
            else:
                self._refresh_one(change.new.load())

    def refresh(self, namespace: str) -> None:
        for quota in self._quotas(namespace):
            self._refresh_one(quota)

    def _refresh_one(self, quota: Obj) -> None:
        hard = dict((quota.get("spec") or {}).get("hard") or {})
        namespace = quota["metadata"]["namespace"]
        used = self.used(namespace, list(hard))
        status = {
            "hard": {k: str(_quantity(v)) for k, v in hard.items()},
            "used": {k: str(v) for k, v in used.items()},
        }
        if quota.get("status") != status:
            quota["status"] = status
            self.store.tables.write(CATALOGUE.by_plural["resourcequotas"], quota, "MODIFIED")
