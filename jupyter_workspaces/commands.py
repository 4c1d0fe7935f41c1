"""The `jupyter workspaces list|get|create|activate|stop|delete|export` sub-commands.

Exit status: 0 on success; 1 when the action failed or the workspace ended up Failed (the
reason is printed); 2 for a usage error; 3 when `--wait` ran out of time before the target
status was reached; 130 when interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any, TextIO

from jupyter_workspaces import errors, table
from jupyter_workspaces.manifests import TOOL_PORTS, WorkspaceSpec, spec_from_request
from jupyter_workspaces.records import Workspace
from jupyter_workspaces.service import WorkspaceService

log = logging.getLogger(__name__)

EXIT_FAILED = 1
EXIT_TIMEOUT = 3
EXIT_INTERRUPTED = 130

Run = Callable[[argparse.Namespace, WorkspaceService], int]


def _default_user() -> str:
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):
        return ""


def _common(parser: argparse.ArgumentParser, *, needs_name: bool) -> None:
    if needs_name:
        parser.add_argument("name", help="the workspace's name")
    group = parser.add_argument_group("cluster")
    group.add_argument(
        "--kubeconfig",
        default=os.environ.get("KUBECONFIG"),
        help="kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)",
    )
    group.add_argument("--context", help="kubeconfig context (default: the current context)")
    group.add_argument(
        "--in-cluster", action="store_true", help="use the service account of the pod this runs in"
    )
    group.add_argument(
        "--project",
        "-p",
        help="project (namespace); default: the context's namespace"
        + ("" if needs_name else "; without one, every project is listed"),
    )
    group.add_argument(
        "--user",
        "--as",
        dest="user",
        default=_default_user(),
        help="act as this user (default: $USER)",
    )
    group.add_argument(
        "--admin",
        action="store_true",
        help="act as an admin, allowed to act on anyone's workspace "
        "(Kubernetes RBAC still applies)",
    )
    group.add_argument(
        "--output",
        "-o",
        choices=("table", "json", "csv"),
        default="table",
        help="output format (default: table)",
    )
    group.add_argument(
        "--load-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long to wait for the cluster's workspaces to load (default 30)",
    )
    group.add_argument("--verbose", "-v", action="store_true", help="log what happens")


def _waiting(parser: argparse.ArgumentParser, target: str) -> None:
    parser.add_argument(
        "--wait",
        action="store_true",
        help=f"show progress until the workspace is {target} or fails",
    )
    parser.add_argument(
        "--wait-timeout",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="give up waiting after this long (default 600; exit status 3)",
    )


def register(subparsers: Any) -> None:
    """Add this module's sub-commands to the `jupyter workspaces` parser."""
    commands: list[tuple[str, str, Run, bool]] = [
        ("list", "list workspaces with their status and its reason", _list, False),
        ("get", "show one workspace, with the explanation of its status", _get, True),
        ("create", "create a workspace (it starts at once)", _create, True),
        ("activate", "start a stopped workspace", _activate, True),
        ("stop", "stop a workspace; its data is kept", _stop, True),
        ("delete", "delete a workspace; its home volume is kept unless asked", _delete, True),
        ("export", "write the workspace table as CSV", _export, False),
    ]
    for name, help_text, run, needs_name in commands:
        parser = subparsers.add_parser(name, help=help_text, description=help_text + ".")
        _common(parser, needs_name=needs_name)
        if name in ("list", "export"):
            parser.add_argument("--owner", help="only workspaces of this owner")
            parser.add_argument("--status", help="only workspaces with this status")
        if name == "create":
            parser.add_argument("--image", required=True, help="container image")
            parser.add_argument("--cpu", default="1", help="CPU cores (default 1)")
            parser.add_argument("--memory", default="2Gi", help="memory (default 2Gi)")
            parser.add_argument("--gpu", type=int, default=0, help="GPUs (default 0)")
            parser.add_argument(
                "--tool",
                action="append",
                dest="tools",
                help=f"a tool to serve, repeatable ({', '.join(TOOL_PORTS)}); default jupyterlab",
            )
            parser.add_argument("--volume-size", default="10Gi", help="home volume (10Gi)")
            parser.add_argument("--display-name", default="", help="a name for people")
            parser.add_argument("--owner", help="create for another user (admins only)")
        if name == "activate":
            _waiting(parser, "Active")
        if name == "stop":
            parser.add_argument("--reason", help="why it is stopped (recorded on it)")
            _waiting(parser, "Stopped")
        if name == "delete":
            parser.add_argument(
                "--delete-volume",
                action="store_true",
                help="also delete the home volume and all data on it",
            )
        if name == "export":
            parser.add_argument(
                "--columns",
                help="comma-separated column ids in order (default: "
                + ",".join(table.default_column_ids())
                + "); known: "
                + ",".join(table.column_ids()),
            )
            parser.add_argument("--file", "-f", help="write to this file (default: stdout)")
        parser.set_defaults(run=_runner(run, needs_project=needs_name))


# Running a command: connect, load, act, close; errors become a message and an exit status.


def _context_namespace(args: argparse.Namespace) -> str | None:
    if args.in_cluster:
        path = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read().strip() or None
        except OSError:
            return None
    from kubernetes import config

    kube_config: Any = config
    try:
        contexts, current = kube_config.list_kube_config_contexts(config_file=args.kubeconfig)
    except (OSError, kube_config.ConfigException):
        return None
    chosen = next((c for c in contexts if c.get("name") == args.context), current)
    namespace = ((chosen or {}).get("context") or {}).get("namespace")
    return str(namespace) if namespace else None


def _runner(run: Run, *, needs_project: bool) -> Callable[[argparse.Namespace], int]:
    def main(args: argparse.Namespace) -> int:
        logging.basicConfig(
            level=logging.INFO if args.verbose else logging.ERROR,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        if not args.user:
            return _fail("no user name: give --user NAME (or set $USER)")
        if args.project is None and needs_project:
            args.project = _context_namespace(args)
            if args.project is None:
                return _fail("give the workspace's project with --project NAME")
        try:
            service = WorkspaceService.connect(
                kubeconfig=args.kubeconfig,
                context=args.context,
                in_cluster=args.in_cluster,
                projects=[args.project] if args.project else None,
                admins=[args.user] if args.admin else (),
            )
        except errors.WorkspaceError as exc:
            return _fail(str(exc))
        try:
            problem = _load(service, args.load_timeout)
            if problem:
                return _fail(problem)
            return run(args, service)
        except errors.WorkspaceError as exc:
            return _fail(str(exc))
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        finally:
            service.close()

    return main


def _load(service: WorkspaceService, timeout: float) -> str | None:
    """Wait for the first load; return why it failed, at once if the API refused us."""
    deadline = time.monotonic() + timeout
    while not service.wait_loaded(0.1):
        error = service.freshness().error or ""
        # Retrying cannot help when the credentials are refused or lack the right to list.
        if error.startswith(("HTTP 401", "HTTP 403")):
            return f"the Kubernetes API refused to list the workspaces: {error}"
        if time.monotonic() > deadline:
            return f"the workspaces did not load within {timeout:g} s: {error or 'no answer'}"
    return None


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_FAILED


# Output.


def _age(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "-"
    seconds = max(0, int((now - moment).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _print_table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip(),
            file=out,
        )


def _show(workspaces: Sequence[Workspace], output: str, out: TextIO = sys.stdout) -> None:
    if output == "json":
        print(json.dumps([w.to_dict() for w in workspaces], indent=2), file=out)
        return
    if output == "csv":
        out.write(table.to_csv(workspaces))
        return
    if not workspaces:
        print("No workspaces.", file=out)
        return
    now = datetime.now(timezone.utc)
    rows = [["PROJECT", "NAME", "OWNER", "STATUS", "REASON", "GPU", "NODE", "SINCE"]]
    for w in workspaces:
        rows.append(
            [
                w.project,
                w.name,
                w.owner,
                w.status.status,
                w.status.reason,
                str(w.gpu),
                w.node or "-",
                _age(w.status.since, now),
            ]
        )
    _print_table(rows, out)


def _show_one(workspace: Workspace, output: str) -> None:
    if output != "table":
        _show([workspace], output)
        return
    w, status = workspace, workspace.status
    lines = [
        (
            "Workspace",
            f"{w.project}/{w.name}" + (f" ({w.display_name})" if w.display_name else ""),
        ),
        ("Owner", w.owner),
        ("Status", f"{status.status} ({status.reason})"),
        ("Why", status.message),
        ("Image", w.image),
        ("Resources", f"cpu {w.cpu}, memory {w.memory}, gpu {w.gpu}, volume {w.volume_size}"),
        ("Node", w.node or "-"),
        ("Tools", ", ".join(f"{t} {w.urls[t]}" if t in w.urls else t for t in w.tools)),
    ]
    if w.stopped_by:
        lines.append(
            ("Last stop", f"{w.stopped_by}" + (f": {w.stop_reason}" if w.stop_reason else ""))
        )
    for label, value in lines:
        print(f"{label + ':':<11} {value}")


# The commands.


def _list(args: argparse.Namespace, service: WorkspaceService) -> int:
    found = service.list(args.user, project=args.project, owner=args.owner, status=args.status)
    _show(found, args.output)
    return 0


def _get(args: argparse.Namespace, service: WorkspaceService) -> int:
    _show_one(service.get(args.user, args.project, args.name), args.output)
    return 0


def _create(args: argparse.Namespace, service: WorkspaceService) -> int:
    request = {
        "name": args.name,
        "project": args.project,
        "image": args.image,
        "cpu": args.cpu,
        "memory": args.memory,
        "gpu": args.gpu,
        "tools": args.tools or ["jupyterlab"],
        "volume_size": args.volume_size,
        "display_name": args.display_name,
    }
    spec: WorkspaceSpec = spec_from_request(request, owner=args.owner or args.user)
    _show_one(service.create(args.user, spec), args.output)
    return 0


def _activate(args: argparse.Namespace, service: WorkspaceService) -> int:
    record = service.activate(args.user, args.project, args.name)
    if not args.wait:
        _show_one(record, args.output)
        return 0
    return _wait(service, args, target="Active", give_up_on="Failed")


def _stop(args: argparse.Namespace, service: WorkspaceService) -> int:
    record = service.stop(args.user, args.project, args.name, reason=args.reason)
    if not args.wait:
        _show_one(record, args.output)
        return 0
    return _wait(service, args, target="Stopped", give_up_on=None)


def _delete(args: argparse.Namespace, service: WorkspaceService) -> int:
    service.delete(args.user, args.project, args.name, delete_volume=args.delete_volume)
    volume = (
        "deleted its home volume too"
        if args.delete_volume
        else (f"kept its home volume home-{args.name}-0 (--delete-volume deletes it)")
    )
    print(f"{args.project}/{args.name}: deleted; {volume}")
    return 0


def _export(args: argparse.Namespace, service: WorkspaceService) -> int:
    columns = table.parse_columns(args.columns)
    found = service.list(args.user, project=args.project, owner=args.owner, status=args.status)
    text = table.to_csv(found, columns)
    if args.file:
        with open(args.file, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        print(f"wrote {len(found)} workspaces to {args.file}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _wait(
    service: WorkspaceService, args: argparse.Namespace, *, target: str, give_up_on: str | None
) -> int:
    """Print each new status until `target` (0), `give_up_on` (1) or the timeout (3)."""
    deadline = time.monotonic() + args.wait_timeout
    shown: tuple[str, str] | None = None
    where = f"{args.project}/{args.name}"
    while True:
        record = service.get(args.user, args.project, args.name)
        status = record.status
        if (status.status, status.reason) != shown:
            shown = (status.status, status.reason)
            print(f"{where}: {status.status} ({status.reason}) {status.message}", flush=True)
        if status.status == target:
            if args.output != "table":
                _show([record], args.output)
            return 0
        if status.status == give_up_on:
            print(
                f"error: {where} is {status.status}: {status.reason}: {status.message}",
                file=sys.stderr,
            )
            return EXIT_FAILED
        if time.monotonic() > deadline:
            print(
                f"error: {where} is still {status.status} ({status.reason}) after "
                f"{args.wait_timeout:g} s",
                file=sys.stderr,
            )
            return EXIT_TIMEOUT
        time.sleep(0.2)
