"""Names shared by everything that reads or writes workspace objects in Kubernetes."""

from __future__ import annotations

import re

DOMAIN = "workspaces.jupyter.org"

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "jupyter-workspaces"
WORKSPACE_LABEL = f"{DOMAIN}/workspace"
OWNER_LABEL = f"{DOMAIN}/owner"

OWNER_ANNOTATION = f"{DOMAIN}/owner"
TOOLS_ANNOTATION = f"{DOMAIN}/tools"
DISPLAY_NAME_ANNOTATION = f"{DOMAIN}/display-name"
STOPPED_AT_ANNOTATION = f"{DOMAIN}/stopped-at"
STOPPED_BY_ANNOTATION = f"{DOMAIN}/stopped-by"
STOP_REASON_ANNOTATION = f"{DOMAIN}/stop-reason"
ACTIVATED_AT_ANNOTATION = f"{DOMAIN}/activated-at"

# Selects every object this project manages, in any namespace.
MANAGED_SELECTOR = f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}"

# Extended resource name of NVIDIA GPUs, as the device plugin registers it.
GPU_RESOURCE = "nvidia.com/gpu"

# Name of the volumeClaimTemplate that holds a workspace's home data; its PVC is
# `<HOME_VOLUME>-<workspace>-0`, as the StatefulSet controller names it.
HOME_VOLUME = "home"

STATUSES = ("Pending", "Initializing", "Active", "Stopped", "Failed")

_SLUG_UNSAFE = re.compile(r"[^a-z0-9.-]+")


def owner_slug(owner: str) -> str:
    """Return a label-safe form of a user name (at most 63 characters, alphanumeric ends)."""
    slug = _SLUG_UNSAFE.sub("-", owner.lower()).strip("-.")
    return slug[:63].rstrip("-.") or "unknown"


def home_claim_name(workspace: str) -> str:
    """Return the name of the PVC the StatefulSet controller creates for a workspace's home."""
    return f"{HOME_VOLUME}-{workspace}-0"


def pod_name(workspace: str) -> str:
    """Return the name of a workspace's only pod."""
    return f"{workspace}-0"
