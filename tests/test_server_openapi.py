"""The OpenAPI document shipped in the package describes exactly the routes the server has."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import yaml

from jupyter_workspaces.server.handlers import API, default_handlers

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def openapi() -> dict[str, Any]:
    text = resources.files("jupyter_workspaces.server").joinpath("openapi.yaml").read_text()
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def path_of(pattern: str) -> str:
    """Turn a tornado route pattern into an OpenAPI path template."""
    assert pattern.startswith(API)
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern[len(API) :])
    return path.replace("\\.", ".")


def served() -> dict[str, set[str]]:
    return {
        path_of(pattern): {m for m in HTTP_METHODS if m in vars(handler)}
        for pattern, handler in default_handlers
    }


def documented() -> dict[str, set[str]]:
    return {
        path: {m for m in HTTP_METHODS if m in item} for path, item in openapi()["paths"].items()
    }


def test_every_route_is_documented_and_every_documented_path_is_served() -> None:
    assert set(served()) == set(documented())


def test_documented_methods_match_the_handlers() -> None:
    assert served() == documented()


def test_every_operation_documents_refusal_and_a_success() -> None:
    for path, item in openapi()["paths"].items():
        for method in HTTP_METHODS:
            if method not in item:
                continue
            codes = set(item[method]["responses"])
            assert "403" in codes, f"{method.upper()} {path} does not document 403"
            assert codes & {"200", "201", "204"}, f"{method.upper()} {path} has no success"


def test_server_url_is_under_the_workspaces_api_prefix() -> None:
    assert openapi()["servers"][0]["url"] == "{base_url}workspaces/api"
    assert API == "/workspaces/api"
