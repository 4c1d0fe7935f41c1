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


def two_context_kubeconfig(sim: SimulatedCluster, path: Path) -> str:
    """Write a kubeconfig whose current context has a wrong token; return the good context."""
    config = yaml.safe_load(Path(sim.kubeconfig).read_text())
    good = config["contexts"][0]["name"]
    config["users"].append({"name": "stale", "user": {"token": "expired-token-98765"}})
    stale_context = dict(config["contexts"][0]["context"], user="stale")
    config["contexts"].append({"name": "stale", "context": stale_context})
    config["current-context"] = "stale"
    path.write_text(yaml.safe_dump(config))
    return str(good)


def test_the_named_context_is_used_instead_of_the_current_one(
    sim: SimulatedCluster, tmp_path: Path
) -> None:
    make_namespace(sim, "lab")
    seed_stopped(sim, "lab", 2)
    kubeconfig = tmp_path / "kubeconfig"
    good = two_context_kubeconfig(sim, kubeconfig)

    named = WorkspaceService.connect(
        kubeconfig=kubeconfig, context=good, projects=["lab"], settings=FAST
    )
    current = WorkspaceService.connect(kubeconfig=kubeconfig, projects=["lab"], settings=FAST)
    try:
        assert named.wait_loaded(15), named.freshness()
        names = [w.name for w in named.list("alice")]
        current_loaded = current.wait_loaded(2)
        current_error = str(current.freshness().error)
    finally:
        named.close()
        current.close()

    assert names == ["ws-00000", "ws-00001"]
    assert not current_loaded
    assert "401" in current_error
    assert "expired-token-98765" not in current_error


def test_an_unknown_context_names_itself_and_how_to_fix_it(
    sim: SimulatedCluster, tmp_path: Path
) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    two_context_kubeconfig(sim, kubeconfig)

    with pytest.raises(errors.NotConfigured) as raised:
        api_client(kubeconfig=kubeconfig, context="no-such-context")

    assert "'no-such-context'" in raised.value.message
    assert "context" in raised.value.message
