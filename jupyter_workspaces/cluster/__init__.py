"""The layer that knows the cluster: connection, watch-backed cache of workspaces, actions.

Nothing above this package talks to Kubernetes. `WorkspaceCache` answers every read from
memory; `Actions` writes; both raise only the project's errors (`jupyter_workspaces.errors`).
"""

from __future__ import annotations

from jupyter_workspaces.cluster.actions import Actions
from jupyter_workspaces.cluster.cache import Freshness, Scope, WorkspaceCache
from jupyter_workspaces.cluster.connection import api_client
from jupyter_workspaces.cluster.reflector import WatchSettings

__all__ = ["Actions", "Freshness", "Scope", "WatchSettings", "WorkspaceCache", "api_client"]
