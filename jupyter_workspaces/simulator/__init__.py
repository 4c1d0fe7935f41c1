"""A Kubernetes cluster simulated on 127.0.0.1: API server, controllers, nodes and scenarios."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jupyter_workspaces.simulator.cluster import SimulatedCluster

__all__ = ["SimulatedCluster"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so `jupyter workspaces --help` does not load the whole simulator.
    if name == "SimulatedCluster":
        from jupyter_workspaces.simulator.cluster import SimulatedCluster

        return SimulatedCluster
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
