"""The project's own exceptions, shared by every layer.

```
WorkspaceError                 base; carries `reason` and the HTTP status it maps to
├── InvalidInput      400      a value given by the caller is not allowed
├── NotConfigured     503      no cluster is configured
├── Forbidden         403      the caller may not do this (our check or Kubernetes RBAC)
├── NotFound          404      no such workspace, project or object
├── AlreadyExists     409      the name is taken
├── Conflict          409      the object changed under us and retrying did not help
├── Invalid           422      Kubernetes refused the object as invalid
└── Unavailable       503      the Kubernetes API cannot be reached or answered 5xx
```

Messages name the value that was wrong, what is allowed, and what to do. They never carry a
token or any other credential: `redact()` is applied to every message built from text that came
from outside.
"""

from __future__ import annotations

import re

_SECRET_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)((?:token|password|secret|authorization)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"),
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"),
]


def redact(text: str) -> str:
    """Return `text` with bearer tokens, passwords and JWTs replaced by `[redacted]`."""
    for pattern in _SECRET_PATTERNS:
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(1) + "[redacted]", text)
        else:
            text = pattern.sub("[redacted]", text)
    return text


class WorkspaceError(Exception):
    """Base of every error this project raises on purpose."""

    http_status = 500
    reason = "Error"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(redact(message))
        if reason is not None:
            self.reason = reason

    @property
    def message(self) -> str:
        return str(self)


class InvalidInput(WorkspaceError):
    """A value given by the caller is not allowed; the message names it and what is."""

    http_status = 400
    reason = "InvalidInput"


class NotConfigured(WorkspaceError):
    """No cluster is configured; the message says how to configure one."""

    http_status = 503
    reason = "NotConfigured"


class Forbidden(WorkspaceError):
    http_status = 403
    reason = "Forbidden"


class NotFound(WorkspaceError):
    http_status = 404
    reason = "NotFound"


class AlreadyExists(WorkspaceError):
    http_status = 409
    reason = "AlreadyExists"


class Conflict(WorkspaceError):
    http_status = 409
    reason = "Conflict"


class Invalid(WorkspaceError):
    http_status = 422
    reason = "Invalid"


class Unavailable(WorkspaceError):
    """The Kubernetes API cannot be reached, timed out or answered with a server error."""

    http_status = 503
    reason = "Unavailable"
