"""`jupyter workspaces simulate`: run a simulated cluster in the foreground until stopped."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from kubernetes import client

from jupyter_workspaces.simulator.controllers.base import Informer, Obj

log = logging.getLogger(__name__)

# Event reasons worth a line of their own in the change log.
_NOTABLE_EVENTS = {"FailedCreate", "FailedScheduling", "BackOff", "Failed", "Killing", "Unhealthy"}


def register(subparsers: Any) -> None:
    """Add the `simulate` sub-command."""
    parser = subparsers.add_parser(
        "simulate",
        help="run a simulated Kubernetes cluster on 127.0.0.1",
        description=(
            "Run a simulated Kubernetes cluster (API server, controllers, nodes) on 127.0.0.1 "
            "in the foreground. Writes a kubeconfig once the API answers; stop with Ctrl-C."
        ),
    )
    parser.add_argument(
        "--kubeconfig", required=True, type=Path, help="where to write the kubeconfig"
    )
    parser.add_argument(
        "--port", type=int, default=0, help="port of the API server (default 0: a free one)"
    )
    parser.add_argument(
        "--scenario",
        default="demo",
        help="what the cluster holds: empty, demo or scale:N (default: demo)",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="how much faster than real time pulls, start-ups and back-offs go (default 1)",
    )
    parser.add_argument(
        "--plain-http",
        action="store_true",
        help="serve plain HTTP instead of HTTPS (kubectl then sends no token and gets 401)",
    )
    parser.add_argument(
        "--tools-port",
        type=int,
        default=0,
        help="port where workspaces' tools answer (default 0: a free one)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Start the cluster, log its changes, stop cleanly on SIGINT or SIGTERM."""
    from jupyter_workspaces.simulator.cluster import SimulatedCluster
    from jupyter_workspaces.simulator.scenarios import load

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    for quiet in ("jupyter_workspaces.simulator.controllers", "urllib3", "kubernetes"):
        logging.getLogger(quiet).setLevel(logging.WARNING)
    try:
        scenario = load(args.scenario)
    except ValueError as exc:
        sys.stderr.write(f"jupyter workspaces simulate: {exc}\n")
        return 2
    if args.speed <= 0:
        sys.stderr.write(f"jupyter workspaces simulate: speed {args.speed} must be above 0\n")
        return 2

    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    cluster = SimulatedCluster(
        scenario,
        port=args.port,
        speed=args.speed,
        kubeconfig=args.kubeconfig,
        tools_port=args.tools_port,
        tls=not args.plain_http,
    )
    try:
        cluster.start()
    except OSError as exc:
        sys.stderr.write(f"jupyter workspaces simulate: cannot start: {exc}\n")
        return 1
    changes = ChangeLog(cluster.api_client())
    changes.start()
    log.info("API server: %s", cluster.url)
    log.info("kubeconfig: %s", args.kubeconfig)
    log.info("tools: %s", cluster.tools_url_template)
    log.info("press Ctrl-C to stop")
    try:
        done.wait()
    finally:
        log.info("stopping")
        changes.stop()
        cluster.stop()
    return 0


def _pod_view(pod: Obj) -> tuple[str, str]:
    """(phase with the container's waiting/terminated reason, readiness) of a pod."""
    status = pod.get("status") or {}
    phase = status.get("phase") or "Pending"
    for container in status.get("containerStatuses") or []:
        state = container.get("state") or {}
        detail = (state.get("waiting") or state.get("terminated") or {}).get("reason")
        if detail:
            phase = f"{phase}/{detail}"
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        phase = "Terminating"
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    return phase, "ready" if ready else "not ready"


class ChangeLog:
    """Logs one line per notable change: pods, workspaces, warnings."""

    def __init__(self, api: client.ApiClient) -> None:
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
        self._informers = [
            Informer("log-pods", core.list_pod_for_all_namespaces, self._pod, transform=_pod_view),
            Informer(
                "log-statefulsets",
                apps.list_stateful_set_for_all_namespaces,
                self._set,
                transform=lambda s: (s.get("spec") or {}).get("replicas"),
            ),
            Informer("log-events", core.list_event_for_all_namespaces, self._event),
        ]

    def start(self) -> None:
        for informer in self._informers:
            informer.start()
        for informer in self._informers:
            informer.synced.wait(30)

    def stop(self) -> None:
        for informer in self._informers:
            informer.stop()

    def _pod(self, key: str, old: Any, new: Any) -> None:
        if new is None:
            log.info("pod %s: deleted", key)
        elif old is None:
            log.info("pod %s: %s, %s", key, *new)
        else:
            log.info("pod %s: %s, %s (was %s, %s)", key, *new, *old)

    def _set(self, key: str, old: Any, new: Any) -> None:
        if new is None:
            log.info("workspace %s: deleted", key)
        elif old is None:
            log.info("workspace %s: created with %s replica(s)", key, new)
        else:
            log.info("workspace %s: scaled from %s to %s", key, old, new)

    def _event(self, key: str, old: Any, new: Any) -> None:
        if new is None or old is not None or new.get("reason") not in _NOTABLE_EVENTS:
            return
        involved = new.get("involvedObject") or {}
        log.info(
            "%s %s/%s: %s: %s",
            (involved.get("kind") or "").lower(),
            involved.get("namespace"),
            involved.get("name"),
            new.get("reason"),
            new.get("message"),
        )
