"""The jupyter_server extension application and its configuration."""

from __future__ import annotations

import logging
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Float, List, TraitError, Unicode, validate

from jupyter_workspaces import table
from jupyter_workspaces.cluster.build import check_url_template
from jupyter_workspaces.errors import InvalidInput
from jupyter_workspaces.server.backend import (
    Backend,
    ClusterChoice,
    in_cluster_credentials_present,
)
from jupyter_workspaces.server.events import EventBridge
from jupyter_workspaces.server.handlers import default_handlers

log = logging.getLogger(__name__)


class WorkspacesApp(ExtensionApp):
    """Serves the workspaces REST API and emits workspace status events."""

    name = "workspaces"
    description = "See and manage your Kubernetes workspaces from JupyterLab."
    load_other_extensions = True

    kubeconfig = Unicode(
        None,
        allow_none=True,
        help="""Path of the kubeconfig file that says which cluster to use and with what
        credentials. Default: None (not used). The extension acts with exactly these
        credentials; Kubernetes RBAC stays the security boundary.""",
    ).tag(config=True)

    context = Unicode(
        None,
        allow_none=True,
        help="""Name of the kubeconfig context to use. Default: None (the kubeconfig's
        current context).""",
    ).tag(config=True)

    in_cluster = Bool(
        None,
        allow_none=True,
        help="""Use the service account credentials of the pod this server runs in.
        Default: None (use them when they are present and no kubeconfig or simulator is
        set). False: never use them.""",
    ).tag(config=True)

    simulator = Unicode(
        None,
        allow_none=True,
        help="""Name of a scenario of the embedded simulated cluster to run inside this
        server process ('demo', 'empty', 'scale:1000'...), as `make demo` does; the
        extension then talks to it over HTTP on 127.0.0.1 like to any cluster.
        Default: None (off).""",
    ).tag(config=True)

    simulator_speed = Float(
        1.0,
        help="""How much faster than real time the embedded simulator runs (a factor:
        every simulated delay is divided by it). Default: 1.0 (real time). Only used with
        `simulator`.""",
    ).tag(config=True)

    projects = List(
        Unicode(),
        help="""Namespaces that are projects, e.g. ['vision', 'nlp']. Default: [] (use
        `project_selector`, or else let the service find the namespaces that hold
        workspaces).""",
    ).tag(config=True)

    project_selector = Unicode(
        None,
        allow_none=True,
        help="""Kubernetes label selector of the namespaces that are projects, e.g.
        'workspaces.jupyter.org/project=true'. Default: None (not used). Ignored when
        `projects` is set.""",
    ).tag(config=True)

    admins = List(
        Unicode(),
        help="""User names that may act on every workspace, not only their own.
        Default: [] (everybody may act only on the workspaces they own).""",
    ).tag(config=True)

    default_columns = List(
        Unicode(),
        default_value=table.default_column_ids(),
        help=f"""Ids of the table columns shown until a user chooses, in order, and of the
        CSV columns when a download names none. Default: {table.default_column_ids()}.
        Known ids: {", ".join(table.column_ids())}.""",
    ).tag(config=True)

    url_template = Unicode(
        None,
        allow_none=True,
        help="""How Connect builds the URL of a workspace's tool, with the placeholders
        {project}, {name}, {tool} and {owner}, e.g.
        'https://hub.example.org/workspaces/{project}/{name}/{tool}/'. Default: None (no
        Connect links; with the simulator, the simulator's own tool pages).""",
    ).tag(config=True)

    demo_user = Unicode(
        None,
        allow_none=True,
        help="""Treat every Jupyter user of this server as this user name when deciding
        what they own and may do. For demos (`make demo` sets the demo scenario's
        researcher) and single-user servers whose Jupyter user name differs from the
        cluster's. Default: None (the Jupyter user's own name).""",
    ).tag(config=True)

    @validate("default_columns")
    def _check_default_columns(self, proposal: dict[str, Any]) -> list[str]:
        try:
            return table.parse_columns(list(proposal["value"]))
        except InvalidInput as error:
            raise TraitError(f"WorkspacesApp.default_columns: {error}") from error

    @validate("url_template")
    def _check_url_template(self, proposal: dict[str, Any]) -> str | None:
        try:
            return check_url_template(proposal["value"])
        except InvalidInput as error:
            raise TraitError(f"WorkspacesApp.url_template: {error}") from error

    @validate("simulator_speed")
    def _check_speed(self, proposal: dict[str, Any]) -> float:
        speed = float(proposal["value"])
        if speed <= 0:
            raise TraitError(f"WorkspacesApp.simulator_speed {speed} must be greater than 0")
        return speed

    def cluster_choice(self) -> ClusterChoice:
        """Return the configured cluster, with in-cluster credentials detected when unset."""
        in_cluster = self.in_cluster
        if in_cluster is None:
            in_cluster = not (self.kubeconfig or self.simulator) and (
                in_cluster_credentials_present()
            )
        return ClusterChoice(
            kubeconfig=self.kubeconfig,
            context=self.context,
            in_cluster=bool(in_cluster),
            simulator=self.simulator,
            simulator_speed=self.simulator_speed,
            projects=tuple(self.projects),
            project_selector=self.project_selector,
            admins=tuple(self.admins),
            url_template=self.url_template,
        )

    def initialize_settings(self) -> None:
        """Connect to the cluster and start forwarding its changes as events."""
        assert self.serverapp is not None, "jupyter_server links the app before this runs"
        self.backend = Backend(
            choice=self.cluster_choice(),
            default_columns=list(self.default_columns),
            demo_user=self.demo_user,
        )
        self.bridge = EventBridge(self.serverapp.event_logger, self.serverapp.io_loop)
        self.bridge.register_schema()
        self.backend.connect()
        if self.backend.service is not None:
            self.bridge.attach(self.backend.service.subscribe)
        self.settings["workspaces_backend"] = self.backend

    def initialize_handlers(self) -> None:
        """Add the REST routes; jupyter_server puts them under the server's base_url."""
        self.handlers.extend(default_handlers)

    async def stop_extension(self) -> None:
        """Stop forwarding events, the service's cache and the embedded simulator."""
        self.bridge.close()
        self.backend.close()
