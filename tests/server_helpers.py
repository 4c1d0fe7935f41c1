"""Helpers for the server extension's tests (plain functions; fixtures are in server_support)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from jupyter_server.auth.identity import IdentityProvider, User
from tornado.httpclient import HTTPClientError, HTTPResponse

RESEARCHER = "ada"
ADMIN = "root-admin"

Fetch = Callable[..., Awaitable[HTTPResponse]]


class FixedUserProvider(IdentityProvider):  # type: ignore[misc]
    """Token authentication as usual, but the token's user is always named "ada"."""

    def generate_anonymous_user(self, handler: Any) -> User:
        return User(username=RESEARCHER, name="Ada", display_name="Ada")


def server_config(**workspaces: Any) -> dict[str, Any]:
    """Return a jp_server_config enabling the extension with these WorkspacesApp options."""
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_workspaces": True},
            "identity_provider_class": "tests.server_helpers.FixedUserProvider",
        },
        "WorkspacesApp": workspaces,
    }


async def error_of(request: Awaitable[HTTPResponse]) -> tuple[int, dict[str, Any]]:
    """Await a request that must fail; return its HTTP status and JSON body."""
    with pytest.raises(HTTPClientError) as caught:
        await request
    response = caught.value.response
    assert response is not None
    body = json.loads(response.body) if response.body else {}
    return caught.value.code, body


PROJECTS = ("vision", "nlp")
IMAGE = "quay.io/jupyter/base-notebook:2024-05-27"


def spec_body(name: str, project: str = "vision", **fields: Any) -> str:
    """Return the JSON body of a create request."""
    return json.dumps({"name": name, "project": project, "image": IMAGE, **fields})


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    """Poll `check` until it returns True; fail after `timeout` seconds."""
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        await asyncio.sleep(0.1)
