"""Bodies and parameters of the wrong shape get a 4xx `Status`, never a 500."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from jupyter_workspaces.simulator.apiserver import ApiServer

STS = "/apis/apps/v1/namespaces/default/statefulsets"
PODS = "/api/v1/namespaces/default/pods"
NAMESPACE = "/api/v1/namespaces/default"
TEMPLATE = {"metadata": {"labels": {"a": "b"}}}


def _send(server: ApiServer, method: str, path: str, body: Any, content_type: str) -> int:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        server.url + path,
        data=data if method != "GET" else None,
        method=method,
        headers={"Authorization": f"Bearer {server.token}", "Content-Type": content_type},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        status = json.loads(error.read())
        assert status["kind"] == "Status" and status["code"] == error.code
        return int(error.code)


@pytest.mark.parametrize(
    ("method", "path", "body", "content_type", "expected"),
    [
        pytest.param("POST", STS, b"{not json", "application/json", 400, id="not-json"),
        pytest.param("POST", STS, [1, 2], "application/json", 400, id="list-body"),
        pytest.param("POST", STS, {"metadata": "x"}, "application/json", 400, id="metadata-str"),
        pytest.param("POST", STS, {"metadata": {"name": "a"}, "spec": 5}, "application/json",
                     400, id="spec-number"),
        pytest.param("POST", STS, {"metadata": {"name": "a"}, "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {**TEMPLATE, "spec": {"containers": "x"}}}}, "application/json", 400,
            id="containers-str"),
        pytest.param("POST", PODS, {"metadata": {"name": "p"}, "spec": {"containers": [
            {"name": "c", "image": "i", "resources": {"requests": {"cpu": "lots"}}}]}},
            "application/json", 422, id="bad-quantity"),
        pytest.param("PATCH", NAMESPACE, {"metadata": {"labels": 5}},
                     "application/strategic-merge-patch+json", 422, id="labels-number"),
        pytest.param("PATCH", NAMESPACE, {"metadata": {"finalizers": "x"}},
                     "application/merge-patch+json", 422, id="finalizers-str"),
        pytest.param("PATCH", NAMESPACE, [{"op": "bogus"}], "application/json-patch+json", 400,
                     id="json-patch-op"),
        pytest.param("PATCH", NAMESPACE, {}, "application/apply-patch+yaml", 415,
                     id="apply-patch"),
        pytest.param("GET", "/api/v1/pods?limit=x", b"", "application/json", 400, id="limit"),
        pytest.param("GET", "/api/v1/pods?watch=true&resourceVersion=abc", b"",
                     "application/json", 400, id="watch-version"),
        pytest.param("GET", "/api/v1/pods?continue=zzz", b"", "application/json", 400,
                     id="continue"),
        pytest.param("PUT", NAMESPACE, {"metadata": {"name": "other"}}, "application/json", 400,
                     id="renaming-put"),
        pytest.param("OPTIONS", "/api/v1/pods", b"", "application/json", 405,
                     id="unknown-method"),
    ],
)  # fmt: skip
def test_malformed_request_is_refused_with_a_4xx_status(
    server: ApiServer, method: str, path: str, body: Any, content_type: str, expected: int
) -> None:
    assert _send(server, method, path, body, content_type) == expected
