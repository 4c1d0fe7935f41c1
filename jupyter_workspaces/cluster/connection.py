"""Open a Kubernetes API client from a kubeconfig (and context) or in-cluster credentials."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from kubernetes import client as k8s
from kubernetes import config as _kube_config
from kubernetes.config.config_exception import ConfigException

from jupyter_workspaces import errors

log = logging.getLogger(__name__)

# The loaders carry no type hints.
kube_config: Any = _kube_config

# Connections kept open at once: every watch holds one for its whole life.
DEFAULT_POOL_SIZE = 64


def api_client(
    *,
    kubeconfig: str | os.PathLike[str] | None = None,
    context: str | None = None,
    in_cluster: bool = False,
    pool_size: int = DEFAULT_POOL_SIZE,
) -> Any:
    """Return a `kubernetes.client.ApiClient`; NotConfigured (saying how to fix it) if none.

    With neither `kubeconfig` nor `in_cluster`, the kubeconfig is found as kubectl finds it
    ($KUBECONFIG, then ~/.kube/config).
    """
    configuration = k8s.Configuration()
    try:
        if in_cluster:
            kube_config.load_incluster_config(client_configuration=configuration)
            source = "in-cluster service account"
        else:
            path = str(Path(kubeconfig).expanduser()) if kubeconfig else None
            kube_config.load_kube_config(
                config_file=path,
                context=context,
                client_configuration=configuration,
                persist_config=False,
            )
            source = f"kubeconfig {path or '(default location)'}"
            if context:
                source += f", context {context}"
    except (ConfigException, OSError) as exc:
        where = (
            "in-cluster credentials" if in_cluster else f"kubeconfig {kubeconfig or '(default)'}"
        )
        raise errors.NotConfigured(
            f"cannot use {where}"
            + (f" with context {context!r}" if context else "")
            + f": {exc}. Give a kubeconfig (--kubeconfig or $KUBECONFIG) and, if needed, its "
            "context, or run inside the cluster with in-cluster credentials"
        ) from exc
    configuration.connection_pool_maxsize = pool_size
    log.info("connecting to %s through %s", configuration.host, source)
    return k8s.ApiClient(configuration)
