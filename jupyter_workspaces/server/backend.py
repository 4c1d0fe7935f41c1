"""What the handlers stand on: the service (or why there is none), the acting user, settings."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_workspaces.errors import InvalidInput, NotConfigured, WorkspaceError

if TYPE_CHECKING:
    from jupyter_workspaces.service import WorkspaceService

log = logging.getLogger(__name__)

# Kubernetes mounts these into every pod; their presence means in-cluster credentials exist.
_SERVICE_ACCOUNT_TOKEN = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")

# How long server start-up waits for the first load of the cluster's workspaces.
LOAD_WAIT_SECONDS = 10.0

HOW_TO_CONFIGURE = (
    "No Kubernetes cluster is configured for jupyter-workspaces. Set one of: "
    "c.WorkspacesApp.kubeconfig = '/path/to/kubeconfig' (optionally with "
    "c.WorkspacesApp.context), c.WorkspacesApp.in_cluster = True when the server runs in a "
    "pod, or c.WorkspacesApp.simulator = 'demo' to try the embedded simulated cluster; "
    "then restart the server. The same options work on the command line, e.g. "
    "--WorkspacesApp.kubeconfig=/path/to/kubeconfig."
)


@dataclass(frozen=True)
class ClusterChoice:
    """Which cluster the extension talks to, as configured."""

    kubeconfig: str | None = None
    context: str | None = None
    in_cluster: bool = False
    simulator: str | None = None
    simulator_speed: float = 1.0
    projects: Sequence[str] = ()
    project_selector: str | None = None
    admins: Sequence[str] = ()
    url_template: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.kubeconfig or self.in_cluster or self.simulator)


def in_cluster_credentials_present() -> bool:
    """Return True when this process runs in a Kubernetes pod with a service account."""
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and _SERVICE_ACCOUNT_TOKEN.exists()


@dataclass
class Backend:
    """The extension's state shared by every handler: service, cluster choice, user override.

    `service` is None when no cluster is configured, or when connecting failed; `problem`
    then says why, and every request that needs the cluster answers with it.
    """

    choice: ClusterChoice
    default_columns: list[str]
    demo_user: str | None = None
    service: WorkspaceService | None = None
    problem: WorkspaceError | None = None
    simulator: Any = None
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def connect(self) -> None:
        """Start the simulator if asked, then connect the service; record a failure instead."""
        choice = self.choice
        if not choice.configured:
            self.problem = NotConfigured(HOW_TO_CONFIGURE)
            log.warning("no cluster configured: the workspaces API answers 503 NotConfigured")
            return

        from jupyter_workspaces.service import WorkspaceService

        kubeconfig = choice.kubeconfig
        url_template = choice.url_template
        try:
            if choice.simulator:
                self.simulator = self._start_simulator(choice.simulator, choice.simulator_speed)
                kubeconfig = str(self.simulator.kubeconfig)
                url_template = url_template or self.simulator.tools_url_template
            self.service = WorkspaceService.connect(
                kubeconfig=kubeconfig,
                context=choice.context,
                in_cluster=choice.in_cluster and not choice.simulator,
                projects=list(choice.projects) or None,
                project_selector=choice.project_selector,
                admins=tuple(choice.admins),
                url_template=url_template,
            )
            # A short wait lets the first requests find the table loaded; a slow or
            # unreachable cluster is reported by /status and by 503 answers meanwhile.
            if not self.service.wait_loaded(LOAD_WAIT_SECONDS):
                log.warning(
                    "the cluster's workspaces are not loaded after %.0f s; still trying",
                    LOAD_WAIT_SECONDS,
                )
        except InvalidInput as error:
            # A bad option (e.g. url_template) is the administrator's to fix, not the caller's.
            self.problem = NotConfigured(
                f"The jupyter-workspaces configuration is not valid: {error}. Fix the "
                "WorkspacesApp option it names and restart the server."
            )
            log.error("configuration refused: %s", error)
        except WorkspaceError as error:
            self.problem = error
            log.error("could not connect to the cluster: %s", error)

    def _start_simulator(self, scenario: str, speed: float) -> Any:
        from jupyter_workspaces.simulator import SimulatedCluster

        cluster = SimulatedCluster(scenario, speed=speed)
        self._stack.enter_context(cluster)
        log.info("simulated cluster with scenario %r answers at %s", scenario, cluster.url)
        return cluster

    def require_service(self) -> WorkspaceService:
        """Return the service, or raise the error that says why there is none."""
        if self.service is None:
            raise self.problem or NotConfigured(HOW_TO_CONFIGURE)
        return self.service

    def acting_user(self, jupyter_user_name: str) -> str:
        """Return the user name the service acts for: the demo user if one is set."""
        return self.demo_user or jupyter_user_name

    def close(self) -> None:
        """Stop the service's cache, then the simulator if this process started it."""
        if self.service is not None:
            self.service.close()
            self.service = None
        self._stack.close()
