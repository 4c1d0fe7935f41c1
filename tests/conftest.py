"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jupyter_workspaces.simulator import SimulatedCluster

# Fixtures of the lifecycle contract tests (`kube`, `project`, `nodes`), which need `backend`.
pytest_plugins = ["tests.contract.lifecycle"]

# Simulated seconds per real second in tests: pulls, readiness and back-offs are 100x faster
# (a warm image is Ready in ~0.05 s, a 2 GB pull takes 0.4 s, a first crash back-off 0.1 s).
SIM_SPEED = 100.0


@pytest.fixture
def sim() -> Iterator[SimulatedCluster]:
    """A fresh simulated cluster per test, scenario `empty`, at `SIM_SPEED`.

    Its nodes are `scenarios.STANDARD_NODES`: `node-cpu-1` (16 CPU, 64 GiB, no GPU),
    `node-gpu-1` and `node-gpu-2` (32 CPU, 128 GiB, 1 nvidia.com/gpu each, label gpu=a100); all
    have the images of `scenarios.WARM_IMAGES` pulled already. No namespace but the system ones.
    Use `sim.kubeconfig`, `sim.api_client()`, `sim.api.faults`, `sim.api.requests`,
    `sim.tools_url_template`, `sim.lose_node(name)`.
    """
    with SimulatedCluster("empty", speed=SIM_SPEED) as cluster:
        yield cluster
