"""Describe a workspace (`WorkspaceSpec`) and build the StatefulSet and Service that run it.

Pure: no I/O. The cluster layer sends what these functions return; `spec_from_statefulset`
reads a spec back from what the cluster holds, so every face shows what is really running.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from jupyter_workspaces import constants as c
from jupyter_workspaces.errors import InvalidInput

# Tool name -> the container port it listens on. The first tool of a spec is the one the
# readiness probe checks: a workspace is usable when its main tool answers.
TOOL_PORTS: dict[str, int] = {
    "jupyterlab": 8888,
    "vscode": 8080,
    "tensorboard": 6006,
    "rstudio": 8787,
}

CONTAINER_NAME = "workspace"
# Where the home volume is mounted; the Jupyter Docker Stacks images use this home.
HOME_MOUNT_PATH = "/home/jovyan"
# Group id of those images' user; fsGroup makes a fresh volume writable for it.
HOME_FS_GROUP = 100

# The longest workspace name that still fits every name Kubernetes derives from it:
# - the StatefulSet controller labels each pod with `controller-revision-hash=<name>-<hash>`,
#   where <hash> is a 32-bit hash encoded in up to 10 characters; a label value holds at most
#   63 characters, so 63 - len("-") - 10 = 52. A longer name is accepted by the API server
#   but its pod is never created (the controller's revision cannot be labelled).
# - the pod `<name>-0` is also its hostname (a DNS-1123 label, 63): needs <= 61.
# - the PVC `home-<name>-0` is a DNS-1123 subdomain (253): needs <= 246.
# The Service carries the name too, and a Service name is a DNS-1035 label: it must start
# with a letter, which is why NAME_PATTERN does not allow a leading digit.
MAX_NAME_LENGTH = 52
NAME_PATTERN = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
# Projects are namespaces: DNS-1123 labels of at most 63 characters.
PROJECT_PATTERN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
MAX_PROJECT_LENGTH = 63
MAX_DISPLAY_NAME_LENGTH = 200

# An image reference as container runtimes parse it: [registry[:port]/]path[:tag][@digest].
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?)"
_PATH_COMPONENT = r"(?:[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)"
_IMAGE_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
IMAGE_PATTERN = re.compile(
    rf"^(?P<name>{_IMAGE_NAME})(?::(?P<tag>[\w][\w.-]{{0,127}}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$"
)
MAX_IMAGE_NAME_LENGTH = 255

# A Kubernetes resource quantity: a signed decimal number and a suffix (binary SI, decimal SI
# or a decimal exponent), as apimachinery's resource.Quantity parses it.
QUANTITY_PATTERN = re.compile(
    r"^(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$"
)
_SUFFIX_FACTORS: dict[str, Decimal] = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}


def parse_quantity(value: str) -> Decimal:
    """Return the value of a Kubernetes quantity ("500m" -> 0.5, "2Gi" -> 2147483648).

    Raises ValueError naming the text if it is not a quantity.
    """
    match = QUANTITY_PATTERN.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{value!r} is not a Kubernetes quantity")
    number = Decimal(match["number"])
    suffix = match["suffix"] or ""
    if suffix[:1] in ("e", "E"):
        try:
            return number.scaleb(int(suffix[1:]))
        except (InvalidOperation, ValueError) as exc:
            raise ValueError(f"{value!r} is not a Kubernetes quantity") from exc
    return number * _SUFFIX_FACTORS[suffix]


@dataclass(frozen=True)
class WorkspaceSpec:
    """What a researcher asks for: a named container with tools, resources and a home volume.

    `gpu` is a count of whole GPUs (0 = none). `cpu`, `memory` and `volume_size` are
    Kubernetes quantities ("2", "500m", "8Gi"). `tools` name keys of TOOL_PORTS; the first is
    the main tool.
    """

    name: str
    project: str
    owner: str
    image: str
    cpu: str = "1"
    memory: str = "2Gi"
    gpu: int = 0
    tools: tuple[str, ...] = ("jupyterlab",)
    volume_size: str = "10Gi"
    display_name: str = ""

    def __post_init__(self) -> None:
        # Callers often pass a list; keep the spec hashable and immutable.
        if isinstance(self.tools, list):
            object.__setattr__(self, "tools", tuple(self.tools))

    def validate(self) -> WorkspaceSpec:
        """Return self if every field is allowed; else raise InvalidInput naming the field."""
        _check_name(self.name)
        _check_project(self.project)
        if not isinstance(self.owner, str) or not self.owner.strip():
            raise InvalidInput(f"owner {self.owner!r} is not allowed: give a non-empty user name")
        _check_image(self.image)
        _check_quantity("cpu", self.cpu, example="2 or 500m")
        _check_quantity("memory", self.memory, example="8Gi or 512Mi")
        _check_quantity("volume_size", self.volume_size, example="10Gi")
        if isinstance(self.gpu, bool) or not isinstance(self.gpu, int) or self.gpu < 0:
            raise InvalidInput(
                f"gpu {self.gpu!r} is not allowed: give a whole number of GPUs, 0 for none"
            )
        _check_tools(self.tools)
        _check_display_name(self.display_name)
        return self

    @property
    def main_port(self) -> int:
        """The port of the first tool: the one the readiness probe checks."""
        return TOOL_PORTS[self.tools[0]]


_SPEC_FIELDS = (
    "name",
    "project",
    "owner",
    "image",
    "cpu",
    "memory",
    "gpu",
    "tools",
    "volume_size",
    "display_name",
)


def spec_from_request(data: Mapping[str, Any], *, owner: str) -> WorkspaceSpec:
    """Build and validate a spec from loosely typed input (REST body, CLI options).

    Accepts `volumeSize`/`displayName` as well as the snake_case names, numbers for cpu and gpu
    ("2" or 2), and tools as a list or a comma-separated string. The owner is the caller,
    never taken from the input.
    """
    values = {_snake(key): value for key, value in data.items()}
    unknown = sorted(set(values) - set(_SPEC_FIELDS) - {"owner"})
    if unknown:
        raise InvalidInput(
            f"unknown field(s) {', '.join(unknown)}: allowed are {', '.join(_SPEC_FIELDS)}"
        )
    for required in ("name", "project", "image"):
        if values.get(required) in (None, ""):
            raise InvalidInput(f"{required} is required: give the workspace's {required}")
    kwargs: dict[str, Any] = {key: values[key] for key in _SPEC_FIELDS if key in values}
    kwargs["owner"] = owner
    for key in ("cpu", "memory", "volume_size"):
        if isinstance(kwargs.get(key), int | float) and not isinstance(kwargs[key], bool):
            kwargs[key] = str(kwargs[key])
    if "gpu" in kwargs:
        kwargs["gpu"] = _coerce_gpu(kwargs["gpu"])
    if "tools" in kwargs:
        kwargs["tools"] = _coerce_tools(kwargs["tools"])
    for key in ("name", "project", "image", "cpu", "memory", "volume_size", "display_name"):
        if key in kwargs and not isinstance(kwargs[key], str):
            raise InvalidInput(f"{key} {kwargs[key]!r} is not allowed: give a string")
    if "display_name" in kwargs and kwargs["display_name"] is None:
        kwargs["display_name"] = ""
    return WorkspaceSpec(**kwargs).validate()


def workspace_labels(spec: WorkspaceSpec) -> dict[str, str]:
    """The labels every object of a workspace carries (and its pod selector's superset)."""
    return {
        c.MANAGED_BY_LABEL: c.MANAGED_BY_VALUE,
        c.WORKSPACE_LABEL: spec.name,
        c.OWNER_LABEL: c.owner_slug(spec.owner),
    }


def selector_labels(name: str) -> dict[str, str]:
    """The labels that select a workspace's pod; never change for the workspace's life."""
    return {c.MANAGED_BY_LABEL: c.MANAGED_BY_VALUE, c.WORKSPACE_LABEL: name}


def workspace_annotations(spec: WorkspaceSpec) -> dict[str, str]:
    """Owner, tools and display name, kept in full where labels cannot hold them."""
    return {
        c.OWNER_ANNOTATION: spec.owner,
        c.TOOLS_ANNOTATION: ",".join(spec.tools),
        c.DISPLAY_NAME_ANNOTATION: spec.display_name,
    }


def resources(spec: WorkspaceSpec) -> dict[str, dict[str, str]]:
    """Requests equal to limits: the pod gets Guaranteed QoS and is evicted last."""
    amounts = {"cpu": spec.cpu, "memory": spec.memory}
    if spec.gpu:
        amounts[c.GPU_RESOURCE] = str(spec.gpu)
    return {"requests": dict(amounts), "limits": dict(amounts)}


def build_statefulset(spec: WorkspaceSpec, *, replicas: int = 1) -> dict[str, Any]:
    """Return the StatefulSet manifest that runs the workspace (replicas 1 runs, 0 stops)."""
    spec.validate()
    labels = workspace_labels(spec)
    annotations = workspace_annotations(spec)
    container: dict[str, Any] = {
        "name": CONTAINER_NAME,
        "image": spec.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [
            {"name": _port_name(tool), "containerPort": TOOL_PORTS[tool], "protocol": "TCP"}
            for tool in spec.tools
        ],
        "env": [
            {"name": "WORKSPACE_NAME", "value": spec.name},
            {"name": "WORKSPACE_PROJECT", "value": spec.project},
            {"name": "WORKSPACE_TOOLS", "value": ",".join(spec.tools)},
        ],
        "resources": resources(spec),
        "readinessProbe": {
            "tcpSocket": {"port": spec.main_port},
            "initialDelaySeconds": 2,
            "periodSeconds": 5,
            "failureThreshold": 3,
        },
        "volumeMounts": [{"name": c.HOME_VOLUME, "mountPath": HOME_MOUNT_PATH}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {
            "name": spec.name,
            "namespace": spec.project,
            "labels": dict(labels),
            "annotations": dict(annotations),
        },
        "spec": {
            "replicas": replicas,
            "serviceName": spec.name,
            "selector": {"matchLabels": selector_labels(spec.name)},
            "podManagementPolicy": "OrderedReady",
            "updateStrategy": {"type": "RollingUpdate"},
            # Stop (scale to 0) and delete both keep the home volume; deleting it is a
            # separate, explicit action of the user.
            "persistentVolumeClaimRetentionPolicy": {
                "whenDeleted": "Retain",
                "whenScaled": "Retain",
            },
            "template": {
                "metadata": {"labels": dict(labels), "annotations": dict(annotations)},
                "spec": {
                    "containers": [container],
                    "securityContext": {"fsGroup": HOME_FS_GROUP},
                    # A workspace needs no Kubernetes credentials, and thousands of Services
                    # in a namespace would otherwise flood its environment.
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "terminationGracePeriodSeconds": 30,
                },
            },
            "volumeClaimTemplates": [
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": {"name": c.HOME_VOLUME, "labels": dict(labels)},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": spec.volume_size}},
                    },
                }
            ],
        },
    }


def build_service(spec: WorkspaceSpec) -> dict[str, Any]:
    """Return the headless Service that governs the StatefulSet and names each tool's port."""
    spec.validate()
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": spec.name,
            "namespace": spec.project,
            "labels": workspace_labels(spec),
            "annotations": workspace_annotations(spec),
        },
        "spec": {
            "clusterIP": "None",
            "selector": selector_labels(spec.name),
            "ports": [
                {
                    "name": _port_name(tool),
                    "port": TOOL_PORTS[tool],
                    "targetPort": TOOL_PORTS[tool],
                    "protocol": "TCP",
                }
                for tool in spec.tools
            ],
        },
    }


def spec_from_statefulset(statefulset: Mapping[str, Any]) -> WorkspaceSpec:
    """Read back the spec a StatefulSet runs; tolerant of hand-edited objects (not validated).

    Values missing from the object fall back to the spec's defaults, except the image, which is
    "" when no container named "workspace" (or no container at all) is found.
    """
    metadata = statefulset.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    labels = metadata.get("labels") or {}
    sts_spec = statefulset.get("spec") or {}
    pod_spec = ((sts_spec.get("template") or {}).get("spec")) or {}
    container = workspace_container(pod_spec)
    requests = _requests_of(container)

    tools = tuple(t for t in (annotations.get(c.TOOLS_ANNOTATION) or "").split(",") if t)
    volume_size = WorkspaceSpec.volume_size
    for template in sts_spec.get("volumeClaimTemplates") or []:
        if (template.get("metadata") or {}).get("name") == c.HOME_VOLUME:
            storage = (((template.get("spec") or {}).get("resources") or {}).get("requests")) or {}
            volume_size = str(storage.get("storage", volume_size))
    return WorkspaceSpec(
        name=str(metadata.get("name", "")),
        project=str(metadata.get("namespace", "")),
        owner=str(annotations.get(c.OWNER_ANNOTATION) or labels.get(c.OWNER_LABEL) or ""),
        image=str(container.get("image", "")),
        cpu=str(requests.get("cpu", WorkspaceSpec.cpu)),
        memory=str(requests.get("memory", WorkspaceSpec.memory)),
        gpu=gpu_count(container),
        tools=tools or WorkspaceSpec.tools,
        volume_size=volume_size,
        display_name=str(annotations.get(c.DISPLAY_NAME_ANNOTATION) or ""),
    )


def workspace_container(pod_spec: Mapping[str, Any]) -> Mapping[str, Any]:
    """The container named "workspace" in a pod spec, else its first container, else {}."""
    containers = pod_spec.get("containers") or []
    for container in containers:
        if container.get("name") == CONTAINER_NAME:
            return dict(container)
    return dict(containers[0]) if containers else {}


def gpu_count(container: Mapping[str, Any]) -> int:
    """Whole GPUs a container asks for (requests, else limits); 0 if none or unreadable."""
    text = _requests_of(container).get(c.GPU_RESOURCE)
    if text is None:
        return 0
    try:
        return max(0, int(parse_quantity(str(text))))
    except ValueError:
        return 0


def _requests_of(container: Mapping[str, Any]) -> dict[str, Any]:
    # Extended resources may be given as limits only; Kubernetes copies them to requests.
    res = container.get("resources") or {}
    merged = dict(res.get("limits") or {})
    merged.update(res.get("requests") or {})
    return merged


def _port_name(tool: str) -> str:
    # Port names are IANA service names: at most 15 characters.
    return tool[:15]


def _snake(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower()


def _coerce_gpu(value: Any) -> Any:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value is None:
        return 0
    return value


def _coerce_tools(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(t.strip() for t in value.split(",") if t.strip())
    if isinstance(value, list | tuple):
        return tuple(value)
    return value


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name:
        raise InvalidInput(f"workspace name {name!r} is not allowed: give a non-empty name")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(
            f"workspace name {name!r} is {len(name)} characters long: at most "
            f"{MAX_NAME_LENGTH} are allowed, so that the names Kubernetes derives from it fit"
        )
    if not NAME_PATTERN.match(name):
        raise InvalidInput(
            f"workspace name {name!r} is not allowed: use lowercase letters, digits and '-', "
            "starting with a letter and ending with a letter or digit (e.g. 'my-analysis')"
        )


def _check_project(project: str) -> None:
    if (
        not isinstance(project, str)
        or not PROJECT_PATTERN.match(project)
        or len(project) > MAX_PROJECT_LENGTH
    ):
        raise InvalidInput(
            f"project {project!r} is not allowed: a project is a namespace name of at most "
            f"{MAX_PROJECT_LENGTH} lowercase letters, digits and '-'"
        )


def _check_image(image: str) -> None:
    match = IMAGE_PATTERN.match(image) if isinstance(image, str) else None
    if match is None or len(match["name"]) > MAX_IMAGE_NAME_LENGTH:
        raise InvalidInput(
            f"image {image!r} is not a valid image reference: give "
            "[registry/]repository[:tag][@sha256:digest] in lowercase, "
            "e.g. 'quay.io/jupyter/scipy-notebook:2024-05-27'"
        )


def _check_quantity(field_name: str, value: str, *, example: str) -> None:
    try:
        amount = parse_quantity(value)
    except ValueError:
        raise InvalidInput(
            f"{field_name} {value!r} is not a Kubernetes quantity: give e.g. {example}"
        ) from None
    if amount <= 0:
        raise InvalidInput(f"{field_name} {value!r} is not allowed: it must be more than 0")


def _check_tools(tools: Iterable[str]) -> None:
    allowed = ", ".join(TOOL_PORTS)
    if isinstance(tools, str) or not isinstance(tools, tuple):
        raise InvalidInput(f"tools {tools!r} is not allowed: give a list of tools from {allowed}")
    if not tools:
        raise InvalidInput(f"tools is empty: give at least one of {allowed}")
    for tool in tools:
        if tool not in TOOL_PORTS:
            raise InvalidInput(f"tool {tool!r} is not known: the known tools are {allowed}")
    if len(set(tools)) != len(tools):
        raise InvalidInput(f"tools {list(tools)!r} name a tool twice: give each tool once")


def _check_display_name(display_name: str) -> None:
    if not isinstance(display_name, str):
        raise InvalidInput(f"display name {display_name!r} is not allowed: give text")
    if len(display_name) > MAX_DISPLAY_NAME_LENGTH:
        raise InvalidInput(
            f"display name is {len(display_name)} characters long: at most "
            f"{MAX_DISPLAY_NAME_LENGTH} are allowed"
        )
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in display_name):
        raise InvalidInput(
            f"display name {display_name!r} contains control characters: use plain text"
        )


__all__ = [
    "CONTAINER_NAME",
    "MAX_NAME_LENGTH",
    "TOOL_PORTS",
    "WorkspaceSpec",
    "build_service",
    "build_statefulset",
    "gpu_count",
    "parse_quantity",
    "spec_from_request",
    "spec_from_statefulset",
    "workspace_container",
]
