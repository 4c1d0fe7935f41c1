"""`jupyter workspaces simulate`: a kubeconfig once the API answers, a clean stop on SIGTERM."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kubernetes import client, config

from jupyter_workspaces.cli import main


def test_simulate_writes_a_working_kubeconfig_logs_changes_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_workspaces.cli",
            "simulate",
            "--kubeconfig",
            str(kubeconfig),
            "--scenario",
            "demo",
            "--speed",
            "20",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not kubeconfig.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        api = config.new_client_from_config(str(kubeconfig))
        apps = client.AppsV1Api(api)
        expected = {"segmentation", "big-sweep", "llm-finetune", "old-experiment"}
        names: set[str] = set()
        while not expected <= names and time.monotonic() < deadline:
            body = apps.list_stateful_set_for_all_namespaces(_preload_content=False).data
            names = {s["metadata"]["name"] for s in json.loads(body)["items"]}
            time.sleep(0.1)
        assert expected <= names
        # HTTPS, because kubectl sends no token over plain HTTP.
        assert "server: https://127.0.0.1:" in kubeconfig.read_text()
        if shutil.which("kubectl"):
            listed = subprocess.run(
                ["kubectl", "--kubeconfig", str(kubeconfig), "get", "statefulsets", "-A"],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert listed.returncode == 0, listed.stderr
            assert "segmentation" in listed.stdout
        time.sleep(1.0)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)

    assert process.returncode == 0
    assert "workspace vision-lab/segmentation: created with 1 replica(s)" in output
    assert "FailedScheduling: 0/3 nodes are available: 3 Insufficient nvidia.com/gpu." in output
    assert " stopping\n" in output


def test_simulate_refuses_an_unknown_scenario_naming_the_choices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["simulate", "--kubeconfig", str(tmp_path / "k"), "--scenario", "huge"])

    assert status == 2
    assert (
        "scenario 'huge' is not known: choose 'empty', 'demo' or 'scale:N'"
        in capsys.readouterr().err
    )
    assert not (tmp_path / "k").exists()
