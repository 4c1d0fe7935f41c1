"""Status rules for containers that cannot start or keep failing: image, config, crash, memory."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from jupyter_workspaces.status import objects as k
from jupyter_workspaces.status.messages import bytes_text, plural, pull_failure_cause
from jupyter_workspaces.status.report import (
    StatusReport,
    WorkspaceView,
    last_terminated,
    pod_report,
    quoted,
    scheduled_at,
    terminated_state,
    waiting_state,
)

# Container waiting reasons after which the workspace cannot start without a change.
_PULL_FAILURES = ("ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull")
_START_FAILURES = ("CreateContainerError", "RunContainerError", "PreStartHookError")

# What common exit codes mean, for a crash message.
_EXIT_MEANINGS = {
    126: "the start command is not executable",
    127: "the start command was not found in the image",
    137: "it was killed (signal 9)",
    139: "it crashed with a segmentation fault",
    143: "it was terminated (signal 15)",
}


def container_failure(view: WorkspaceView, pod: Mapping[str, Any]) -> StatusReport | None:
    statuses = [(s, True) for s in k.container_statuses(pod, init=True)]
    statuses += [(s, False) for s in k.container_statuses(pod)]
    for status, is_init in statuses:
        waiting = waiting_state(status)
        reason = str(waiting.get("reason") or "")
        message = str(waiting.get("message") or "")
        step = f' (setup step "{status.get("name")}")' if is_init else ""
        who = f'The workspace\'s setup step "{status.get("name")}"' if is_init else "The workspace"
        if reason in _PULL_FAILURES:
            return _pull_failed(view, pod, status, reason, message, step)
        if reason == "InvalidImageName":
            return pod_report(
                view,
                "Failed",
                "InvalidImageName",
                f"The image name {status.get('image') or view.image()}{step} is not a valid "
                "image reference, so Kubernetes will not download it. Create the workspace "
                "again with a valid image, such as registry.example.org/team/image:tag.",
                since=_failing_since(view, pod, ("InspectFailed", "Failed")),
                kube_reason=reason,
            )
        if reason == "CreateContainerConfigError":
            return _config_missing(view, pod, message, who)
        if reason in _START_FAILURES:
            return pod_report(
                view,
                "Failed",
                "ContainerStartFailed",
                f"{who} could not be started: "
                f"{quoted(message) or reason}. This needs a change to the image or the "
                "workspace: check its start command.",
                since=_failing_since(view, pod, ("Failed",)),
                kube_reason=reason,
            )
        if reason == "CrashLoopBackOff":
            last = last_terminated(status)
            if last.get("reason") == "OOMKilled":
                return oom_killed(view, pod, last)
            return _crash_loop(view, pod, status, message, who)
        if terminated_state(status).get("reason") == "OOMKilled":
            return oom_killed(view, pod, terminated_state(status))
    return None


def _failing_since(
    view: WorkspaceView, pod: Mapping[str, Any], reasons: tuple[str, ...]
) -> datetime | None:
    return k.earliest_seen(view.pod_events, *reasons) or scheduled_at(pod)


def _pull_failed(
    view: WorkspaceView,
    pod: Mapping[str, Any],
    status: Mapping[str, Any],
    reason: str,
    message: str,
    step: str,
) -> StatusReport:
    image = str(status.get("image") or view.image() or "")
    error = message
    for event in sorted(
        (e for e in view.pod_events if e.get("reason") == "Failed"),
        key=lambda e: k.event_last_seen(e) or view.now,
    ):
        text = k.event_message(event)
        if text.startswith("Failed to pull image"):
            error = text
    cause = pull_failure_cause(error) if error else "the runtime could not download it"
    since = _failing_since(view, pod, ("Failed", "BackOff"))
    return pod_report(
        view,
        "Failed",
        # ErrImagePull and ImagePullBackOff alternate while the kubelet retries; one code
        # keeps the status steady for the reader.
        "ImagePullBackOff",
        f"The image {image}{step} cannot be downloaded: {cause}. Kubernetes "
        f"keeps retrying (for {view.ago(since)} so far), but this rarely fixes itself: check "
        "the image name and tag, or ask an administrator for a pull secret, then create the "
        "workspace again.",
        since=since,
        kube_reason=reason,
        pullError=quoted(error) if error else None,
    )


_MISSING = re.compile(r'(?P<kind>secret|configmap) "(?P<name>[^"]+)" not found', re.IGNORECASE)
_MISSING_KEY = re.compile(
    r"couldn't find key (?P<key>\S+) in (?P<kind>Secret|ConfigMap) (?P<ref>\S+)", re.IGNORECASE
)


def _config_missing(
    view: WorkspaceView, pod: Mapping[str, Any], message: str, who: str
) -> StatusReport:
    missing = _MISSING.search(message)
    key = _MISSING_KEY.search(message)
    if missing:
        kind = "config map" if missing["kind"].lower() == "configmap" else "secret"
        what = f'the {kind} "{missing["name"]}", which does not exist in project {view.namespace}'
    elif key:
        kind = "config map" if key["kind"].lower() == "configmap" else "secret"
        what = f'key "{key["key"]}" of the {kind} {key["ref"]}, which has no such key'
    else:
        what = f"configuration Kubernetes cannot supply ({quoted(message)})"
    return pod_report(
        view,
        "Failed",
        "ContainerConfigError",
        f"{who} refers to {what}. Create it (or ask a project "
        "administrator to) and the workspace starts by itself.",
        since=_failing_since(view, pod, ("Failed",)),
        kube_reason="CreateContainerConfigError",
        missing=quoted(message),
    )


def _crash_loop(
    view: WorkspaceView,
    pod: Mapping[str, Any],
    status: Mapping[str, Any],
    message: str,
    who: str,
) -> StatusReport:
    last = last_terminated(status)
    restarts = int(status.get("restartCount") or 0)
    code = last.get("exitCode")
    why = str(last.get("reason") or "")
    ended = k.parse_time(last.get("finishedAt"))
    meaning = _EXIT_MEANINGS.get(code) if isinstance(code, int) else None
    backoff = re.search(r"back-off (\S+) restarting", message)
    exit_text = f"exit code {code}" if code is not None else "an unknown exit code"
    detail = f" ({why})" if why else ""
    return pod_report(
        view,
        "Failed",
        "CrashLoopBackOff",
        f"{who} keeps crashing: it last ended with "
        f"{exit_text}{detail}{' ' + view.ago(ended) + ' ago' if ended else ''}"
        f"{' (' + meaning + ')' if meaning else ''} and has been restarted "
        f"{plural(restarts, 'time')}. Kubernetes waits "
        f"{backoff[1] if backoff else 'a while'} before the next try. Look at the workspace's "
        "log for the error; the image or its start command needs a fix.",
        since=_failing_since(view, pod, ("BackOff",)) or ended,
        kube_reason="CrashLoopBackOff",
        exitCode=code,
        exitReason=why or None,
        restarts=restarts,
    )


def oom_killed(
    view: WorkspaceView, pod: Mapping[str, Any], terminated: Mapping[str, Any]
) -> StatusReport:
    main = k.main_container_status(pod) or {}
    restarts = int(main.get("restartCount") or 0)
    limit = ((view.container().get("resources") or {}).get("limits") or {}).get("memory")
    ended = k.parse_time(terminated.get("finishedAt"))
    limit_text = f"its memory limit of {bytes_text(str(limit))}" if limit else "its memory limit"
    return pod_report(
        view,
        "Failed",
        "OOMKilled",
        f"The workspace ran out of memory: its programs used more than {limit_text} and were "
        f"killed (exit code {terminated.get('exitCode', 137)})"
        f"{' ' + view.ago(ended) + ' ago' if ended else ''}; it has been restarted "
        f"{plural(restarts, 'time')}. Create it with more memory, or load less data at once.",
        since=ended,
        kube_reason="OOMKilled",
        exitCode=terminated.get("exitCode", 137),
        memoryLimit=str(limit) if limit else None,
        restarts=restarts,
    )
