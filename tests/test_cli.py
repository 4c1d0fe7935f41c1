"""`jupyter workspaces ...` run as a separate process against a simulated cluster's kubeconfig."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_workspaces.simulator.cluster import SimulatedCluster
from tests.conftest import SIM_SPEED
from tests.service_support import make_namespace, seed_stopped

ROOT = Path(__file__).resolve().parent.parent


def run(kubeconfig: Path, *args: str, user: str = "alice") -> subprocess.CompletedProcess[str]:
    """Run the CLI the way a user does, with a kubeconfig and nothing else in common."""
    env = {**os.environ, "USER": user, "PYTHONPATH": str(ROOT)}
    env.pop("KUBECONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "jupyter_workspaces.cli", *args, "--kubeconfig", str(kubeconfig)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


@pytest.fixture(scope="module")
def demo() -> Iterator[SimulatedCluster]:
    with SimulatedCluster("demo", speed=SIM_SPEED) as cluster:
        yield cluster


@pytest.fixture
def kubeconfig(sim: SimulatedCluster) -> Path:
    make_namespace(sim, "demo")
    return sim.kubeconfig


def test_list_prints_every_demo_workspace_with_its_status_and_reason(
    demo: SimulatedCluster,
) -> None:
    result = run(demo.kubeconfig, "list")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "PROJECT",
        "NAME",
        "OWNER",
        "STATUS",
        "REASON",
        "GPU",
        "NODE",
        "SINCE",
    ]
    rows = {tuple(line.split()[:2]): line.split() for line in lines[1:]}
    assert len(rows) >= 10
    statuses = {row[3] for row in rows.values()}
    assert {"Active", "Stopped", "Pending"} <= statuses
    assert rows[("teaching", "intro-python")][3:5] == ["Stopped", "StoppedByUser"]


def test_list_as_json_and_csv_carry_the_same_workspaces(demo: SimulatedCluster) -> None:
    as_json = run(demo.kubeconfig, "list", "--project", "vision-lab", "-o", "json")
    as_csv = run(demo.kubeconfig, "list", "--project", "vision-lab", "-o", "csv")

    assert as_json.returncode == 0 and as_csv.returncode == 0, as_json.stderr + as_csv.stderr
    from_json = sorted(w["name"] for w in json.loads(as_json.stdout))
    from_csv = sorted(row["name"] for row in csv.DictReader(io.StringIO(as_csv.stdout)))
    assert from_json == from_csv and len(from_json) >= 3
    assert all(w["project"] == "vision-lab" for w in json.loads(as_json.stdout))


def test_get_explains_the_status_in_plain_words(demo: SimulatedCluster) -> None:
    result = run(demo.kubeconfig, "get", "intro-python", "--project", "teaching")

    assert result.returncode == 0, result.stderr
    fields = dict(line.split(":", 1) for line in result.stdout.splitlines())
    assert fields["Status"].strip() == "Stopped (StoppedByUser)"
    assert "Stopped by alice" in fields["Why"]
    assert fields["Owner"].strip() == "alice"


def test_export_writes_the_chosen_columns_in_order(demo: SimulatedCluster, tmp_path: Path) -> None:
    target = tmp_path / "table.csv"

    result = run(
        demo.kubeconfig, "export", "--columns", "status,name,owner", "--file", str(target)
    )

    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(target.open(encoding="utf-8")))
    assert rows[0] == ["status", "name", "owner"]
    assert len(rows) >= 11


def test_create_then_stop_wait_then_activate_wait(kubeconfig: Path) -> None:
    created = run(
        kubeconfig,
        "create",
        "ws1",
        "--project",
        "demo",
        "--image",
        "quay.io/jupyter/scipy-notebook:2024-05-27",
        "--gpu",
        "1",
    )
    assert created.returncode == 0, created.stderr
    assert "demo/ws1" in created.stdout

    stopped = run(kubeconfig, "stop", "ws1", "--project", "demo", "--reason", "done", "--wait")
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.splitlines()[-1].startswith("demo/ws1: Stopped (StoppedByUser)")

    activated = run(kubeconfig, "activate", "ws1", "--project", "demo", "--wait")
    assert activated.returncode == 0, activated.stderr
    progress = activated.stdout.splitlines()
    assert progress[-1].startswith("demo/ws1: Active (Ready)")
    assert len(progress) >= 2, "the steps before Active are shown too"

    fetched = json.loads(run(kubeconfig, "get", "ws1", "--project", "demo", "-o", "json").stdout)
    assert fetched[0]["status"]["status"] == "Active"
    assert fetched[0]["stoppedBy"] == "user:alice" and fetched[0]["stopReason"] == "done"


def test_activate_wait_ends_with_the_reason_when_the_workspace_fails(kubeconfig: Path) -> None:
    created = run(
        kubeconfig,
        "create",
        "broken",
        "--project",
        "demo",
        "--image",
        "registry.example.org/no/such-image:1",
    )
    assert created.returncode == 0, created.stderr

    result = run(
        kubeconfig, "activate", "broken", "--project", "demo", "--wait", "--wait-timeout", "60"
    )

    assert result.returncode == 1
    assert "error: demo/broken is Failed" in result.stderr
    assert "Image" in result.stderr


def test_delete_says_the_volume_is_kept(kubeconfig: Path) -> None:
    run(
        kubeconfig,
        "create",
        "ws1",
        "--project",
        "demo",
        "--image",
        "quay.io/jupyter/scipy-notebook:2024-05-27",
    )

    result = run(kubeconfig, "delete", "ws1", "--project", "demo")

    assert result.returncode == 0, result.stderr
    assert "kept its home volume home-ws1-0" in result.stdout
    assert run(kubeconfig, "list", "--project", "demo").stdout.strip() == "No workspaces."


@pytest.mark.parametrize(
    ("args", "user", "message"),
    [
        pytest.param(
            ("stop", "ghost", "--project", "teaching"),
            "alice",
            "workspace 'ghost' does not exist in project 'teaching'",
            id="not-found",
        ),
        pytest.param(
            ("activate", "intro-python", "--project", "teaching"),
            "bob",
            "user 'bob' may not activate workspace teaching/intro-python",
            id="forbidden",
        ),
        pytest.param(
            ("create", "intro-python", "--project", "teaching", "--image", "quay.io/x/y:1"),
            "alice",
            "'intro-python' already exists",
            id="already-exists",
        ),
        pytest.param(
            ("list", "--status", "Running"),
            "alice",
            "status 'Running' is not one of",
            id="invalid-status",
        ),
        pytest.param(
            ("create", "ws2", "--project", "teaching", "--image", "Not An Image"),
            "alice",
            "image 'Not An Image' is not a valid image reference",
            id="invalid-image",
        ),
    ],
)
def test_errors_exit_non_zero_naming_what_was_wrong(
    demo: SimulatedCluster, args: tuple[str, ...], user: str, message: str
) -> None:
    result = run(demo.kubeconfig, *args, user=user)

    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_cluster_is_a_clear_error(sim: SimulatedCluster) -> None:
    sim.api.faults.outage(refuse=True)

    result = run(sim.kubeconfig, "list", "--load-timeout", "1")

    assert result.returncode == 1
    assert "did not load within 1 s" in result.stderr
    assert sim.api.token not in result.stderr


def test_refused_credentials_fail_at_once_without_showing_the_token(
    sim: SimulatedCluster, tmp_path: Path
) -> None:
    wrong = tmp_path / "kubeconfig"
    wrong.write_text(sim.kubeconfig.read_text().replace(sim.api.token, "not-the-token"))

    result = run(wrong, "list", "--load-timeout", "60")

    assert result.returncode == 1
    assert "refused to list the workspaces: HTTP 401" in result.stderr
    assert "not-the-token" not in result.stderr and sim.api.token not in result.stderr


def test_context_picks_the_kubeconfig_context_to_use(
    sim: SimulatedCluster, tmp_path: Path
) -> None:
    from tests.test_cluster_connection import two_context_kubeconfig

    make_namespace(sim, "demo")
    seed_stopped(sim, "demo", 1)
    kubeconfig = tmp_path / "kubeconfig"
    good = two_context_kubeconfig(sim, kubeconfig)

    chosen = run(kubeconfig, "list", "--project", "demo", "--context", good)
    current = run(kubeconfig, "list", "--project", "demo")

    assert chosen.returncode == 0, chosen.stderr
    assert chosen.stdout.splitlines()[1].split()[:2] == ["demo", "ws-00000"]
    assert current.returncode != 0
    assert "401" in current.stderr or "credentials" in current.stderr
    assert "expired-token-98765" not in current.stderr
