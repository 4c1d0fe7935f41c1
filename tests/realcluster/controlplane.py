"""A real Kubernetes control plane (etcd, apiserver, controller-manager, scheduler) on loopback.

The binaries come from ``scripts/realcluster/build.sh`` (built once per machine from Debian's
``kubernetes`` 1.20.2 source package and cached outside the repository). Everything listens on
127.0.0.1 only: etcd on two free loopback ports, the API server over HTTPS with a self-signed
certificate on a free loopback port, and the controller-manager and scheduler with their own
serving ports disabled (they are clients of the API server and nothing else).

There is no kubelet: pods move past ``Pending`` only when something writes ``pods/status``; the
simulator's kubelet does that when it runs against this control plane with a Node object.

Run it in the foreground for a manual look::

    .venv/bin/python -m tests.realcluster.controlplane --kubeconfig /tmp/real.kubeconfig
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO / "scripts" / "realcluster" / "build.sh"
START_TIMEOUT = 90.0


class ControlPlaneError(RuntimeError):
    """The control plane could not be built or started; the message says which part and why."""


def build_binaries() -> Path:
    """Return the directory holding the three binaries, building them first if not yet cached."""
    started = time.monotonic()
    result = subprocess.run(
        ["bash", str(BUILD_SCRIPT)], check=False, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise ControlPlaneError(
            f"realcluster: {BUILD_SCRIPT} failed with exit code {result.returncode}:\n"
            f"{result.stderr[-4000:]}"
        )
    lines = result.stdout.strip().splitlines()
    if not lines:
        raise ControlPlaneError(f"realcluster: {BUILD_SCRIPT} printed no binary directory")
    log.info(
        "realcluster/binaries: ready in %s after %.1f s", lines[-1], time.monotonic() - started
    )
    return Path(lines[-1])


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ControlPlane:
    """etcd + kube-apiserver (+ controller-manager + scheduler) on loopback, with a kubeconfig."""

    def __init__(
        self,
        bin_dir: Path,
        workdir: Path | None = None,
        *,
        controllers: bool = True,
        etcd: str | None = None,
        apiserver_args: tuple[str, ...] = (),
    ) -> None:
        self.bin_dir = bin_dir
        self._own_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="jw-realcluster-"))
        self.controllers = controllers
        # Extra kube-apiserver flags, e.g. ("--etcd-compaction-interval=1s",) to see 410s.
        self.apiserver_args = apiserver_args
        self.etcd_binary = etcd or shutil.which("etcd") or "/usr/bin/etcd"
        self.token = secrets.token_hex(24)
        self.port = 0
        self.url = ""
        self.kubeconfig = self.workdir / "kubeconfig"
        self._processes: list[tuple[str, subprocess.Popen[bytes]]] = []
        self._lock = threading.Lock()

    # -- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> ControlPlane:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start every part and return once the API server is ready and the kubeconfig written."""
        started = time.monotonic()
        try:
            self._start_etcd()
            self._start_apiserver()
            self._wait_ready()
            self._write_kubeconfig()
            if self.controllers:
                self.install_default_storage_class()
                self._start_controller_manager()
                self._start_scheduler()
        except BaseException:
            self.stop()
            raise
        log.info(
            "realcluster/control-plane: ready at %s in %.1f s",
            self.url,
            time.monotonic() - started,
        )

    def stop(self) -> None:
        """Stop every process (the last started first) and remove the working directory."""
        with self._lock:
            processes, self._processes = self._processes, []
        for name, proc in reversed(processes):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    log.warning("realcluster/%s: did not stop on SIGTERM, killing it", name)
                    proc.kill()
                    proc.wait(timeout=15)
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def check_alive(self) -> None:
        """Raise ControlPlaneError naming a part that has exited, with the end of its log."""
        for name, proc in list(self._processes):
            if proc.poll() is not None:
                tail = self.log_tail(name)
                raise ControlPlaneError(
                    f"realcluster: {name} exited with code {proc.returncode}:\n{tail}"
                )

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.workdir / f"{name}.log"
        if not path.exists():
            return "(no log)"
        return path.read_text(errors="replace")[-chars:]

    # -- the parts -------------------------------------------------------------------------------

    def _spawn(self, name: str, argv: list[str]) -> None:
        logfile = (self.workdir / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
            start_new_session=True,
        )
        logfile.close()
        with self._lock:
            self._processes.append((name, proc))
        log.info("realcluster/%s: started as pid %d", name, proc.pid)

    def _start_etcd(self) -> None:
        client, peer = free_port(), free_port()
        self.etcd_url = f"http://127.0.0.1:{client}"
        self._spawn(
            "etcd",
            [
                self.etcd_binary,
                "--name=jw",
                f"--data-dir={self.workdir / 'etcd'}",
                f"--listen-client-urls={self.etcd_url}",
                f"--advertise-client-urls={self.etcd_url}",
                f"--listen-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-cluster=jw=http://127.0.0.1:{peer}",
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
        )

    def _service_account_key(self) -> Path:
        key = self.workdir / "sa.key"
        subprocess.run(
            ["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True
        )
        return key

    def _start_apiserver(self) -> None:
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        tokens = self.workdir / "tokens.csv"
        tokens.write_text(f'{self.token},jw-admin,jw-admin,"system:masters"\n')
        tokens.chmod(0o600)
        self.sa_key = self._service_account_key()
        self._spawn(
            "kube-apiserver",
            [
                str(self.bin_dir / "kube-apiserver"),
                f"--etcd-servers={self.etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={self.port}",
                f"--cert-dir={self.workdir / 'certs'}",
                f"--token-auth-file={tokens}",
                "--authorization-mode=AlwaysAllow",
                "--disable-admission-plugins=ServiceAccount",
                "--enable-admission-plugins=ResourceQuota",
                f"--service-account-key-file={self.sa_key}",
                f"--service-account-signing-key-file={self.sa_key}",
                f"--service-account-issuer=https://127.0.0.1:{self.port}",
                "--service-cluster-ip-range=10.96.0.0/16",
                "--v=1",
                *self.apiserver_args,
            ],
        )

    def _start_controller_manager(self) -> None:
        self._spawn(
            "kube-controller-manager",
            [
                str(self.bin_dir / "kube-controller-manager"),
                f"--kubeconfig={self.kubeconfig}",
                "--bind-address=127.0.0.1",
                "--secure-port=0",
                "--port=0",
                "--leader-elect=false",
                # The node lifecycle controller stays on: it lifts the not-ready taint that
                # admission puts on every new Node once the (simulated) kubelet reports Ready,
                # as on a real cluster. The simulated kubelet heartbeats often enough for it.
                # The in-tree host-path provisioner stands in for a cluster's storage driver:
                # PVCs of the default StorageClass (see `install_default_storage_class`) get a
                # volume and are Bound, as on a cluster with dynamic provisioning.
                "--enable-hostpath-provisioner",
                f"--service-account-private-key-file={self.sa_key}",
                "--concurrent-statefulset-syncs=5",
                "--v=1",
            ],
        )

    def _start_scheduler(self) -> None:
        self._spawn(
            "kube-scheduler",
            [
                str(self.bin_dir / "kube-scheduler"),
                f"--kubeconfig={self.kubeconfig}",
                "--bind-address=127.0.0.1",
                "--secure-port=0",
                "--port=0",
                "--leader-elect=false",
                "--v=1",
            ],
        )

    def _ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        context.load_verify_locations(cafile=str(self.workdir / "certs" / "apiserver.crt"))
        return context

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        last = "no answer yet"
        cert = self.workdir / "certs" / "apiserver.crt"
        while time.monotonic() < deadline:
            self.check_alive()
            if cert.exists():
                request = urllib.request.Request(
                    f"{self.url}/readyz", headers={"Authorization": f"Bearer {self.token}"}
                )
                try:
                    with urllib.request.urlopen(
                        request, timeout=5, context=self._ssl_context()
                    ) as answer:
                        if answer.status == 200:
                            return
                except (urllib.error.URLError, OSError, ssl.SSLError) as error:
                    last = str(error)
            time.sleep(0.25)
        raise ControlPlaneError(
            f"realcluster: kube-apiserver at {self.url} not ready after {START_TIMEOUT:.0f} s "
            f"({last}):\n{self.log_tail('kube-apiserver')}"
        )

    def _write_kubeconfig(self) -> None:
        ca = (self.workdir / "certs" / "apiserver.crt").read_bytes()
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "realcluster",
                    "cluster": {
                        "server": self.url,
                        "certificate-authority-data": base64.b64encode(ca).decode(),
                    },
                }
            ],
            "users": [{"name": "jw-admin", "user": {"token": self.token}}],
            "contexts": [
                {"name": "realcluster", "context": {"cluster": "realcluster", "user": "jw-admin"}}
            ],
            "current-context": "realcluster",
        }
        self.kubeconfig.write_text(yaml.safe_dump(config))
        self.kubeconfig.chmod(0o600)

    def install_default_storage_class(self) -> None:
        """Create the default StorageClass, provisioned by the controller-manager's host-path.

        Binding waits for the first consumer, as on most clusters today: the scheduler picks
        the node, then the volume is provisioned. With immediate binding the scheduler would
        first report "pod has unbound immediate PersistentVolumeClaims" for every new workspace
        (the pod is created before its claim is provisioned).
        """
        body = {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": "standard",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": "kubernetes.io/host-path",
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "WaitForFirstConsumer",
        }
        status, answer = self.request("POST", "/apis/storage.k8s.io/v1/storageclasses", body)
        if status not in (201, 409):
            raise ControlPlaneError(f"realcluster: creating StorageClass failed: {answer}")

    # -- helpers for tests ----------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One raw HTTP request to the API server: (status, decoded JSON body)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30, context=self._ssl_context()) as ans:
                return ans.status, json.loads(ans.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", type=Path, required=True, help="where to write it")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    plane = ControlPlane(build_binaries())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with plane:
        shutil.copy(plane.kubeconfig, args.kubeconfig)
        os.chmod(args.kubeconfig, 0o600)
        log.info("realcluster/control-plane: kubeconfig at %s; Ctrl-C stops it", args.kubeconfig)
        try:
            while not stop.wait(1.0):
                plane.check_alive()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
