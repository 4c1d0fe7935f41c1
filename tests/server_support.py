"""Fixtures for the server extension's tests: a Jupyter server with the extension enabled.

Loaded with `pytest_plugins` by the tests/test_server_*.py modules. Token requests are made
by the user "ada" (tests.server_helpers.FixedUserProvider, a fixed name so that ownership can
be tested); the cluster is the `sim` fixture's simulator, reached through its kubeconfig.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import pytest
from tornado.httpclient import HTTPResponse

from tests.server_helpers import Fetch


@pytest.fixture
def api(jp_fetch: Fetch) -> Fetch:
    """jp_fetch rooted at the workspaces API: api("workspaces", "p", "n", method=...)."""

    def fetch(*parts: str, **kwargs: Any) -> Awaitable[HTTPResponse]:
        return jp_fetch("workspaces", "api", *parts, **kwargs)

    return fetch
