"""Open a Kubernetes API client from a kubeconfig (and context) or in-cluster credentials."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from kubernetes import client as k8s
from kubernetes import config as _kube_config
from kubernetes.config import incluster_config as _incluster_config
from kubernetes.config.config_exception import ConfigException

from jupyter_workspaces import errors

log = logging.getLogger(__name__)

# The loaders carry no type hints.
kube_config: Any = _kube_config
incluster_config: Any = _incluster_config

# Connections kept open at once: every watch holds one for its whole life.
DEFAULT_POOL_SIZE = 64

# Where Kubernetes mounts a pod's service-account token and the cluster's CA certificate.
SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


def api_client(
    *,
    kubeconfig: str | os.PathLike[str] | None = None,
    context: str | None = None,
    in_cluster: bool = False,
    service_account_dir: str | os.PathLike[str] = SERVICE_ACCOUNT_DIR,
    pool_size: int = DEFAULT_POOL_SIZE,
) -> Any:
    """Return a `kubernetes.client.ApiClient`; NotConfigured (saying how to fix it) if none.

    With neither `kubeconfig` nor `in_cluster`, the kubeconfig is found as kubectl finds it
    ($KUBECONFIG, then ~/.kube/config). In-cluster, the API is found from the
    KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT variables, and the token and CA
    certificate are read from `service_account_dir` (the token is re-read as it rotates).
    """
    configuration = k8s.Configuration()
    try:
        if in_cluster:
            account = Path(service_account_dir)
            incluster_config.InClusterConfigLoader(
                token_filename=str(account / "token"), cert_filename=str(account / "ca.crt")
            ).load_and_set(configuration)
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
