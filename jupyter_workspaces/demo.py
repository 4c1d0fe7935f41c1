"""`make demo`: JupyterLab with the extension on the embedded simulator's demo scenario.

Run as `python -m jupyter_workspaces.demo [--port N]`. Starts `jupyter lab` on 127.0.0.1 with
a fresh random token, the extension enabled, the simulator running in the server process with
the `demo` scenario, and the Jupyter user treated as the scenario's researcher; prints the URL
to open once the server answers, and stops everything on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_PORT = 8888
READY_TIMEOUT = 120.0


def demo_user() -> str:
    """Return the name of the demo scenario's main researcher, who owns most workspaces."""
    from jupyter_workspaces.simulator import scenarios

    name: str = scenarios.DEMO_USER
    return name


def free_port(preferred: int) -> int:
    """Return `preferred` if nothing listens on it on 127.0.0.1, else any free port."""
    for port in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            chosen: int = probe.getsockname()[1]
            return chosen
    raise RuntimeError("no free TCP port on 127.0.0.1")


def write_config(folder: Path, user: str) -> Path:
    """Write the server configuration of the demo and return its path."""
    config = {
        "ServerApp": {"jpserver_extensions": {"jupyter_workspaces": True}},
        "WorkspacesApp": {"simulator": "demo", "demo_user": user},
    }
    path = folder / "jupyter_server_config.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def link_labextension(folder: Path) -> Path | None:
    """Make the built sidebar (if any) visible to JupyterLab through a private data folder.

    An editable install does not copy the built labextension into Jupyter's data path, so
    link it into `folder/labextensions/<package name>` and return `folder` for JUPYTER_PATH.
    """
    built = Path(__file__).resolve().parent / "labextension"
    manifest = built / "package.json"
    if not manifest.is_file():
        log.warning("the sidebar is not built (no %s): the REST API works without it", manifest)
        return None
    name = json.loads(manifest.read_text())["name"]
    target = folder / "labextensions" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(built, target_is_directory=True)
    return folder


def wait_until_ready(url: str, token: str, process: subprocess.Popen[bytes]) -> bool:
    """Poll the workspaces API until it answers (True) or the server exits or times out."""
    deadline = time.monotonic() + READY_TIMEOUT
    request = urllib.request.Request(
        f"{url}workspaces/api/status", headers={"Authorization": f"token {token}"}
    )
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(request, timeout=2):
                return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            # Not up yet, or up without the extension loaded yet (404): ask again.
            time.sleep(0.5)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("DEMO_PORT", DEFAULT_PORT)))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="demo: %(message)s")

    user = demo_user()
    port = free_port(args.port)
    token = secrets.token_hex(16)
    url = f"http://127.0.0.1:{port}/"
    root = Path(__file__).resolve().parent.parent / "notebooks"

    with tempfile.TemporaryDirectory(prefix="jupyter-workspaces-demo-") as scratch:
        folder = Path(scratch)
        config = write_config(folder, user)
        env = {
            **os.environ,
            "JUPYTER_RUNTIME_DIR": str(folder / "runtime"),
            "JUPYTER_CONFIG_DIR": str(folder / "config"),
            # In the environment rather than on the command line, where `ps` would show it.
            "JUPYTER_TOKEN": token,
        }
        data = link_labextension(folder / "data")
        if data is not None:
            env["JUPYTER_PATH"] = os.pathsep.join(
                p for p in (str(data), os.environ.get("JUPYTER_PATH", "")) if p
            )
        command = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            f"--config={config}",
            f"--LabApp.workspaces_dir={folder / 'lab-workspaces'}",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")  # containers and CI machines often run as root
        if root.is_dir():
            command.append(f"--ServerApp.root_dir={root}")
        log.info("starting JupyterLab with the simulated demo cluster, as user %r", user)
        process = subprocess.Popen(command, env=env)
        # `kill` (SIGTERM) stops the demo like Ctrl-C does, never leaving JupyterLab behind.
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            if not wait_until_ready(url, token, process):
                log.error("JupyterLab did not answer on %s; see its output above", url)
                return stop(process) or 1
            sys.stdout.write(
                f"\n  jupyter-workspaces demo is ready. Open:\n\n    {url}lab?token={token}\n\n"
                f"  You are {user!r}, a researcher on the simulated cluster. Ctrl-C stops it.\n\n"
            )
            sys.stdout.flush()
            return process.wait()
        except KeyboardInterrupt:
            log.info("stopping JupyterLab and the simulated cluster")
            return stop(process)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def stop(process: subprocess.Popen[bytes]) -> int:
    """Ask JupyterLab to shut down (SIGTERM: no confirmation prompt); kill it if it hangs."""
    if process.poll() is None:
        process.terminate()
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


if __name__ == "__main__":
    sys.exit(main())
