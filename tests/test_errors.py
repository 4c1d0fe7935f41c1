"""Errors never carry a credential, and map to the HTTP status a client expects."""

from __future__ import annotations

import pytest

from jupyter_workspaces import errors


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        pytest.param("Authorization: Bearer abc.def-ghi", "abc.def-ghi", id="bearer-header"),
        pytest.param("request failed: token=s3cr3t-value", "s3cr3t-value", id="token-assignment"),
        pytest.param('{"password": "hunter2"}', "hunter2", id="json-password"),
        pytest.param(
            "x eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl y",
            "eyJhbGciOiJIUzI1NiJ9",
            id="jwt",
        ),
    ],
)
def test_error_messages_never_carry_a_credential(text: str, secret: str) -> None:
    error = errors.Unavailable(f"cannot reach the cluster: {text}")

    assert secret not in error.message
    assert "[redacted]" in error.message


def test_ordinary_kubernetes_messages_are_kept_whole() -> None:
    text = 'pods "ws-0" is forbidden: exceeded quota: q, requested: requests.nvidia.com/gpu=1'

    assert errors.Forbidden(text).message == text


@pytest.mark.parametrize(
    ("error_class", "status"),
    [
        pytest.param(errors.InvalidInput, 400, id="invalid-input"),
        pytest.param(errors.Forbidden, 403, id="forbidden"),
        pytest.param(errors.NotFound, 404, id="not-found"),
        pytest.param(errors.AlreadyExists, 409, id="already-exists"),
        pytest.param(errors.Conflict, 409, id="conflict"),
        pytest.param(errors.Invalid, 422, id="invalid"),
        pytest.param(errors.Unavailable, 503, id="unavailable"),
        pytest.param(errors.NotConfigured, 503, id="not-configured"),
    ],
)
def test_each_error_maps_to_a_client_or_availability_status(
    error_class: type[errors.WorkspaceError], status: int
) -> None:
    error = error_class("something named")

    assert error.http_status == status
    assert error.reason == error_class.__name__
