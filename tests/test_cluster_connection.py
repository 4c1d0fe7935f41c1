"""Connecting to a cluster: in-cluster credentials reach the API as a pod's service account."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from jupyter_workspaces import errors
from jupyter_workspaces.cluster.connection import api_client
from jupyter_workspaces.service import WorkspaceService
from jupyter_workspaces.simulator.cluster import SimulatedCluster
from tests.conftest import SIM_SPEED
from tests.service_support import FAST, make_namespace, seed_stopped


@pytest.fixture
def https_sim() -> Iterator[SimulatedCluster]:
    """A simulated cluster served over HTTPS, as in-cluster credentials require."""
    with SimulatedCluster("empty", speed=SIM_SPEED, tls=True) as cluster:
        yield cluster


def mount_service_account(sim: SimulatedCluster, directory: Path) -> None:
    """Lay out the token and CA certificate as Kubernetes mounts them into a pod."""
    kubeconfig = yaml.safe_load(Path(sim.kubeconfig).read_text())
    authority = kubeconfig["clusters"][0]["cluster"]["certificate-authority-data"]
    (directory / "ca.crt").write_bytes(base64.b64decode(authority))
    (directory / "token").write_text(kubeconfig["users"][0]["user"]["token"])


def test_in_cluster_credentials_list_the_workspaces_of_a_project(
    https_sim: SimulatedCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_namespace(https_sim, "lab")
    seed_stopped(https_sim, "lab", 3)
    mount_service_account(https_sim, tmp_path)
    address = urlsplit(https_sim.url)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", str(address.hostname))
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(address.port))

    service = WorkspaceService(
        api_client(in_cluster=True, service_account_dir=tmp_path), projects=["lab"], settings=FAST
    )
    service.start()
    try:
        assert service.wait_loaded(15), service.freshness()
        names = [w.name for w in service.list("alice")]
    finally:
        service.close()

    assert names == ["ws-00000", "ws-00001", "ws-00002"]


def test_in_cluster_outside_a_pod_says_how_to_configure_a_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_PORT", raising=False)

    with pytest.raises(errors.NotConfigured) as raised:
        api_client(in_cluster=True, service_account_dir=tmp_path)

    assert "in-cluster credentials" in raised.value.message
    assert "--kubeconfig" in raised.value.message


def test_a_wrong_token_in_the_mounted_account_is_refused_without_showing_it(
    https_sim: SimulatedCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_namespace(https_sim, "lab")
    mount_service_account(https_sim, tmp_path)
    (tmp_path / "token").write_text("not-the-token-0123456789")
    address = urlsplit(https_sim.url)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", str(address.hostname))
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(address.port))

    service = WorkspaceService(
        api_client(in_cluster=True, service_account_dir=tmp_path), projects=["lab"], settings=FAST
    )
    service.start()
    try:
        loaded = service.wait_loaded(3)
        freshness = service.freshness()
    finally:
        service.close()

    assert not loaded
    assert "401" in str(freshness.error)
    assert "not-the-token-0123456789" not in str(freshness.error)
