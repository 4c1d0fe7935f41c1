"""See and manage your Kubernetes workspaces from JupyterLab."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    """Tell jupyter_server where the extension application lives."""
    from jupyter_workspaces.server.app import WorkspacesApp

    return [{"module": "jupyter_workspaces", "app": WorkspacesApp}]
