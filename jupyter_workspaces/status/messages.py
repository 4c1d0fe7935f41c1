"""Read the texts Kubernetes writes (scheduler, quota admission, image pulls) and say them plainly.

The scheduler, the quota admission plugin and the kubelet put their facts in free text. These
parsers take the numbers back out so a status message can say "needs 2 GPUs" or "4 of 4 GPUs
in use" instead of repeating the raw text; anything they cannot read is passed on unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from jupyter_workspaces.constants import GPU_RESOURCE
from jupyter_workspaces.manifests import parse_quantity

# ---- plain words ---------------------------------------------------------------------------


def plural(count: int | Decimal, word: str, many: str | None = None) -> str:
    """'1 node', '3 nodes', '0.5 CPU' ('many' for irregular plurals)."""
    one = count == 1 or (isinstance(count, Decimal) and count < 1)
    text = f"{count:f}" if isinstance(count, Decimal) else str(count)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} {word if one else (many or word + 's')}"


def duration(delta: timedelta) -> str:
    """A rounded, readable length of time: 'less than a minute', '12 minutes', '3 hours 5
    minutes', '2 days 4 hours'."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return "less than a minute"
    minutes = seconds // 60
    if minutes < 60:
        return plural(minutes, "minute")
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return plural(hours, "hour") + (f" {plural(minutes, 'minute')}" if minutes else "")
    days, hours = divmod(hours, 24)
    return plural(days, "day") + (f" {plural(hours, 'hour')}" if hours else "")


_RESOURCE_WORDS = {
    "cpu": ("CPU", "CPUs"),
    "memory": ("memory", "memory"),
    "storage": ("storage", "storage"),
    "ephemeral-storage": ("local disk", "local disk"),
    GPU_RESOURCE: ("GPU", "GPUs"),
    "pods": ("pod", "pods"),
    "persistentvolumeclaims": ("volume", "volumes"),
}


def resource_base(resource: str) -> str:
    """'requests.nvidia.com/gpu' -> 'nvidia.com/gpu', 'limits.cpu' -> 'cpu'; storage classes
    ('fast.storageclass.storage.k8s.io/requests.storage') -> 'storage'."""
    if "/requests.storage" in resource or resource.endswith("requests.storage"):
        return "storage"
    for prefix in ("requests.", "limits."):
        if resource.startswith(prefix):
            return resource[len(prefix) :]
    return resource


def amount(resource: str, quantity: str) -> str:
    """A quantity of a resource in words: '2 GPUs', '0.5 CPU', '16 GiB of memory'."""
    base = resource_base(resource)
    one, many = _RESOURCE_WORDS.get(base, (base, base))
    if base in ("memory", "storage", "ephemeral-storage"):
        return f"{bytes_text(quantity)} of {one}"
    value = _decimal(quantity)
    if value is None:
        return f"{quantity} {many}"
    return plural(value, one, many)


def resource_word(resource: str) -> str:
    """The plural word for a resource ('GPUs', 'CPUs', 'memory')."""
    base = resource_base(resource)
    return _RESOURCE_WORDS.get(base, (base, base))[1]


_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"k": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}


def bytes_text(quantity: str) -> str:
    """'16Gi' -> '16 GiB', '500M' -> '500 MB', '1073741824' -> '1 GiB'."""
    match = re.match(r"^([0-9.]+)([KMGTPE]i|[kMGTPE])?$", quantity.strip())
    if match is None:
        return quantity
    number, suffix = match.groups()
    if suffix:
        unit = suffix + "B" if suffix in _BINARY else suffix.upper().replace("K", "k") + "B"
        return f"{number} {unit}"
    value = Decimal(number)
    for name, power in sorted(_BINARY.items(), key=lambda item: -item[1]):
        scaled = value / Decimal(1024**power)
        if scaled >= 1:
            return f"{scaled.quantize(Decimal('0.1')).normalize():f} {name}B"
    return f"{number} bytes"


def _decimal(quantity: str) -> Decimal | None:
    match = re.match(r"^([0-9.]+)(m|k|M|G)?$", quantity.strip())
    if match is None:
        return None
    factor = {"m": Decimal("0.001"), "k": Decimal(1000), "M": Decimal(10**6)}
    factor["G"] = Decimal(10**9)
    return Decimal(match[1]) * factor.get(match[2] or "", Decimal(1))


# ---- the scheduler -------------------------------------------------------------------------

# "0/3 nodes are available: 1 Insufficient cpu, 2 Insufficient nvidia.com/gpu." followed, on
# newer schedulers, by " preemption: 0/3 nodes are available: 3 No preemption victims ...".
_SCHEDULER = re.compile(r"^0/(?P<nodes>\d+) nodes are available: (?P<reasons>.*)$", re.DOTALL)
_COUNTED = re.compile(r"^(?P<count>\d+) (?P<text>.+)$", re.DOTALL)


@dataclass(frozen=True)
class Blocker:
    """One reason the scheduler gave, with how many nodes it ruled out (None: all, or n/a)."""

    kind: str  # gpu, cpu, memory, selector, taint, cordoned, volume, pods, other
    nodes: int | None
    text: str


@dataclass(frozen=True)
class SchedulerVerdict:
    """What a FailedScheduling message says: how many nodes were looked at and why none fit."""

    nodes: int | None
    blockers: tuple[Blocker, ...]

    def kinds(self) -> set[str]:
        return {b.kind for b in self.blockers}

    def count(self, kind: str) -> int:
        return sum(b.nodes or 0 for b in self.blockers if b.kind == kind)


def parse_scheduler_message(message: str) -> SchedulerVerdict:
    """Split a scheduler message into its per-node reasons."""
    text = message.strip()
    # The preemption half repeats the node count and says whether evicting others would help;
    # it never helps a workspace, which has no priority over its neighbours.
    text = re.split(r"\.? preemption: ", text, maxsplit=1)[0].rstrip(".").strip()
    match = _SCHEDULER.match(text)
    if match is None:
        return SchedulerVerdict(None, (Blocker(_blocker_kind(text), None, text),) if text else ())
    nodes = int(match["nodes"])
    # Reasons are joined with ", ", but a 1.20 taint reason itself holds ", that the pod...":
    # split only where the next part starts with a node count.
    parts = re.split(r", (?=\d+ )", match["reasons"])
    blockers = []
    for part in parts:
        part = part.strip().rstrip(".")
        counted = _COUNTED.match(part)
        if counted:
            blockers.append(
                Blocker(_blocker_kind(counted["text"]), int(counted["count"]), counted["text"])
            )
        elif part:
            blockers.append(Blocker(_blocker_kind(part), None, part))
    return SchedulerVerdict(nodes, tuple(blockers))


def _blocker_kind(text: str) -> str:
    lowered = text.lower()
    if lowered.startswith("insufficient "):
        resource = text.split(" ", 1)[1].strip()
        if resource == GPU_RESOURCE or resource.endswith("/gpu"):
            return "gpu"
        if resource in ("cpu", "memory"):
            return resource
        return "other"
    if "node affinity" in lowered or "node selector" in lowered or "nodeselector" in lowered:
        return "selector"
    if "taint" in lowered:
        return "taint"
    if "were unschedulable" in lowered or "unschedulable:" in lowered:
        return "cordoned"
    if "persistentvolumeclaim" in lowered or "persistent volume" in lowered or "volume" in lowered:
        return "volume"
    if "too many pods" in lowered:
        return "pods"
    return "other"


# ---- quota admission -----------------------------------------------------------------------

_QUOTA = re.compile(
    r"exceeded quota: (?P<quota>[^,]+), requested: (?P<requested>\S*), "
    r"used: (?P<used>\S*), limited: (?P<limited>[^\s\"']*)"
)


@dataclass(frozen=True)
class QuotaShortage:
    """One resource a quota ran out of: what the pod asked for, what is used, the hard limit."""

    quota: str
    resource: str
    requested: str
    used: str
    hard: str

    @property
    def beyond_limit(self) -> bool:
        """True when the request alone is more than the quota allows, whatever else is used."""
        try:
            return parse_quantity(self.requested) > parse_quantity(self.hard)
        except ValueError:
            return False


def parse_quota_message(message: str) -> list[QuotaShortage]:
    """The shortages named by 'exceeded quota: q, requested: r=1, used: r=4, limited: r=4'."""
    match = _QUOTA.search(message)
    if match is None:
        return []
    requested, used, hard = (
        _pairs(match[key].rstrip(".,")) for key in ("requested", "used", "limited")
    )
    return [
        QuotaShortage(match["quota"].strip(), res, requested[res], used.get(res, "?"), limit)
        for res, limit in hard.items()
        if res in requested
    ]


def _pairs(text: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if sep:
            pairs[key.strip()] = value.strip()
    return pairs


# ---- image pulls ---------------------------------------------------------------------------


def pull_failure_cause(text: str) -> str:
    """Why an image pull failed, in plain words, from the runtime's error text."""
    lowered = text.lower()
    if "pull access denied" in lowered or "may require authorization" in lowered:
        return "the image does not exist, or the registry needs credentials this project lacks"
    if any(
        word in lowered
        for word in ("unauthorized", "authentication required", "access denied", "forbidden")
    ) or ("authorization failed" in lowered or "insufficient_scope" in lowered):
        return "the registry refused access: the image is private and no pull secret fits"
    if "not found" in lowered or "manifest unknown" in lowered or "does not exist" in lowered:
        return "the image or its tag does not exist in the registry"
    if any(
        word in lowered
        for word in ("no such host", "i/o timeout", "connection refused", "deadline exceeded")
    ):
        return "the registry could not be reached from the node"
    if "no match for platform" in lowered:
        return "the image is not built for this node's platform"
    return "the container runtime could not download it"


# ---- evictions -----------------------------------------------------------------------------

_EVICTED_LOW = re.compile(r"low on resource: (?P<resource>[\w.-]+)")
_EVICTED_USE = re.compile(
    r"Container (?P<container>\S+) was using (?P<used>[^,\s]+), "
    r"(?:request is|which exceeds its request of) (?P<request>[^,\s]+?)\.?(?:,|\s|$)"
)
_EVICTED_RESOURCE_WORDS = {
    "memory": "memory",
    "ephemeral-storage": "local disk space",
    "nodefs.available": "disk space",
    "imagefs.available": "image disk space",
    "pid": "process ids",
}


def eviction_cause(message: str) -> str | None:
    """What the kubelet's eviction message says, in plain words, or None if unreadable.

    "The node was low on resource: memory. ... Container workspace was using 15Gi, request is
    16Gi, ..." -> "the node ran low on memory; the workspace was using 15Gi (it requested
    16Gi)".
    """
    low = _EVICTED_LOW.search(message)
    if low is None:
        return None
    resource = low["resource"].rstrip(".")
    cause = f"the node ran low on {_EVICTED_RESOURCE_WORDS.get(resource, resource)}"
    use = _EVICTED_USE.search(message)
    if use is not None:
        cause += f"; the workspace was using {use['used']} (it requested {use['request']})"
    return cause
