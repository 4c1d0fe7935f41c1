"""Turn failures of the Kubernetes client into the project's own errors, keeping the message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import urllib3.exceptions
from kubernetes.client.exceptions import ApiException

from jupyter_workspaces import errors


def kube_message(exc: ApiException) -> str:
    """Return the message of a Kubernetes `Status` body, or the HTTP phrase when there is none."""
    body = exc.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if body:
        try:
            status = json.loads(body)
        except ValueError:
            return errors.redact(str(body)[:300])
        if isinstance(status, dict) and status.get("message"):
            return errors.redact(str(status["message"]))
    return errors.redact(str(exc.reason or f"HTTP {exc.status}"))


def kube_reason(exc: ApiException) -> str:
    """Return the Kubernetes reason (`NotFound`, `AlreadyExists`, ...) of a `Status` body."""
    try:
        status = json.loads(exc.body or "{}")
    except ValueError:
        return ""
    return str(status.get("reason", "")) if isinstance(status, dict) else ""


def from_api_exception(exc: ApiException, what: str) -> errors.WorkspaceError:
    """Return the project error for a Kubernetes refusal of `what` (e.g. "stop demo/ws1")."""
    message = f"{what}: {kube_message(exc)}"
    code = exc.status or 0
    if code == 404:
        return errors.NotFound(message)
    if code == 409:
        if kube_reason(exc) == "AlreadyExists":
            return errors.AlreadyExists(message)
        return errors.Conflict(message)
    if code == 401:
        return errors.Forbidden(
            f"{what}: the Kubernetes API did not accept the configured credentials",
            reason="Unauthorized",
        )
    if code == 403:
        return errors.Forbidden(message)
    if code == 422:
        return errors.Invalid(message)
    if code == 400:
        return errors.InvalidInput(message)
    if code == 410:
        return errors.Conflict(message, reason="Expired")
    return errors.Unavailable(message if code else f"{what}: {exc.reason}")


def from_transport_error(exc: Exception, what: str) -> errors.Unavailable:
    """Return `Unavailable` for a connection that failed, timed out or was cut."""
    return errors.Unavailable(
        f"{what}: the Kubernetes API cannot be reached ({type(exc).__name__}: {exc})"
    )


@contextmanager
def kube_errors(what: str) -> Iterator[None]:
    """Raise the project's errors for anything the Kubernetes client raises inside the block."""
    try:
        yield
    except ApiException as exc:
        raise from_api_exception(exc, what) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise from_transport_error(exc, what) from exc
