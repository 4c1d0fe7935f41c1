"""Kubernetes `Status` failures, worded as a real API server words them."""

from __future__ import annotations

from typing import Any

from jupyter_workspaces.simulator.apiserver.resources import Resource


class ApiError(Exception):
    """A request the server refuses; carries the `Status` body it answers with."""

    def __init__(
        self, code: int, reason: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def _details(resource: Resource, name: str) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name}
    if resource.group:
        details["group"] = resource.group
    details["kind"] = resource.plural
    return details


def not_found(resource: Resource, name: str) -> ApiError:
    return ApiError(
        404, "NotFound", f'{resource.qualified} "{name}" not found', _details(resource, name)
    )


def already_exists(resource: Resource, name: str) -> ApiError:
    return ApiError(
        409,
        "AlreadyExists",
        f'{resource.qualified} "{name}" already exists',
        _details(resource, name),
    )


def conflict(resource: Resource, name: str, why: str | None = None) -> ApiError:
    why = why or (
        "the object has been modified; please apply your changes to the latest version "
        "and try again"
    )
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {resource.qualified} "{name}": {why}',
        _details(resource, name),
    )


def forbidden(resource: Resource, name: str, why: str) -> ApiError:
    return ApiError(
        403,
        "Forbidden",
        f'{resource.qualified} "{name}" is forbidden: {why}',
        _details(resource, name),
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def no_such_path() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def method_not_allowed(method: str, what: str) -> ApiError:
    return ApiError(
        405,
        "MethodNotAllowed",
        f"the server does not allow this method on the requested resource ({method} {what})",
        {},
    )


def unavailable(message: str = "the server is currently unable to handle the request") -> ApiError:
    return ApiError(503, "ServiceUnavailable", message)


def internal(message: str) -> ApiError:
    return ApiError(
        500,
        "InternalError",
        f"Internal error occurred: {message}",
        {"causes": [{"message": message}]},
    )


def unsupported_media_type(content_type: str) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format - "
        f"accepted media types include: application/json-patch+json, "
        f"application/merge-patch+json, application/strategic-merge-patch+json (got "
        f"{content_type!r})",
    )


class FieldError:
    """One invalid field, as listed in a 422 answer."""

    def __init__(self, field: str, kind: str, detail: str = "", value: Any = None) -> None:
        self.field = field
        self.kind = kind  # "Invalid", "Required", "Forbidden", "NotSupported", "TooLong"
        self.detail = detail
        self.value = value

    def text(self) -> str:
        """The cause message without the field: `Invalid value: "x": why`."""
        if self.kind == "Required":
            return "Required value" + (f": {self.detail}" if self.detail else "")
        if self.kind == "Forbidden":
            return f"Forbidden: {self.detail}"
        shown = go_value(self.value)
        label = {"NotSupported": "Unsupported value", "Duplicate": "Duplicate value"}.get(
            self.kind, "Invalid value"
        )
        return f"{label}: {shown}" + (f": {self.detail}" if self.detail else "")

    def reason(self) -> str:
        return {
            "Required": "FieldValueRequired",
            "Forbidden": "FieldValueForbidden",
            "NotSupported": "FieldValueNotSupported",
            "Duplicate": "FieldValueDuplicate",
        }.get(self.kind, "FieldValueInvalid")


def go_value(value: Any) -> str:
    """Render a value the way Go's `%#v` shows it in validation messages."""
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        inner = ", ".join(f"{go_value(k)}:{go_value(v)}" for k, v in sorted(value.items()))
        return "map[string]string{" + inner + "}"
    return str(value)


def invalid(resource: Resource, name: str, errors: list[FieldError]) -> ApiError:
    parts = [f"{error.field}: {error.text()}" for error in errors]
    summary = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    details: dict[str, Any] = {"name": name}
    if resource.group:
        details["group"] = resource.group
    details["kind"] = resource.kind
    details["causes"] = [
        {"reason": error.reason(), "message": error.text(), "field": error.field}
        for error in errors
    ]
    return ApiError(
        422, "Invalid", f'{resource.qualified_kind} "{name}" is invalid: {summary}', details
    )
