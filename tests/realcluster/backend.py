"""Start the real control plane as a test backend: the hook other test suites import.

`start_real(directory)` returns the kubeconfig of a fresh etcd + kube-apiserver +
controller-manager + scheduler (1.20.2, see `controlplane`) with a default StorageClass, and a
function that stops it all. It has no nodes: a suite adds Node objects and runs the simulator's
`Kubelet` for each, exactly as it does against the simulator's API server.

Tests using it carry the `realcluster` marker; `make test-real` runs them after building (once
per machine) the binaries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from tests.realcluster.controlplane import ControlPlane, build_binaries

log = logging.getLogger(__name__)


def start_real(directory: Path) -> tuple[Path, Callable[[], None]]:
    """Start a control plane working in `directory`; return (kubeconfig, stop)."""
    directory.mkdir(parents=True, exist_ok=True)
    plane = ControlPlane(build_binaries(), directory)
    plane.start()
    log.info("realcluster/backend: control plane at %s for %s", plane.url, directory)
    return plane.kubeconfig, plane.stop
