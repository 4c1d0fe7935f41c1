"""List filtering: label selectors, field selectors (and their 400s), limit and continue."""

from __future__ import annotations

import pytest
from kubernetes import client

from tests.contract.conftest import pod, statefulset, status_body


@pytest.fixture
def labelled(apps: client.AppsV1Api, namespace: str) -> str:
    for name, labels in [
        ("alpha", {"tier": "gpu", "owner": "ada"}),
        ("beta", {"tier": "cpu", "owner": "ada"}),
        ("gamma", {"tier": "cpu"}),
    ]:
        apps.create_namespaced_stateful_set(namespace, statefulset(name, labels=labels))
    return namespace


@pytest.mark.parametrize(
    ("selector", "names"),
    [
        pytest.param("tier=gpu", ["alpha"], id="equals"),
        pytest.param("tier==cpu", ["beta", "gamma"], id="double-equals"),
        pytest.param("tier!=gpu", ["beta", "gamma"], id="not-equals"),
        pytest.param("tier in (gpu, cpu),owner=ada", ["alpha", "beta"], id="in-and-equals"),
        pytest.param("tier notin (gpu)", ["beta", "gamma"], id="notin"),
        pytest.param("owner", ["alpha", "beta"], id="exists"),
        pytest.param("!owner", ["gamma"], id="does-not-exist"),
        pytest.param("owner!=ada", ["gamma"], id="not-equals-matches-missing-key"),
        pytest.param("tier=tpu", [], id="nothing"),
    ],
)
def test_label_selector_picks_matching_statefulsets(
    apps: client.AppsV1Api, labelled: str, selector: str, names: list[str]
) -> None:
    listed = apps.list_namespaced_stateful_set(labelled, label_selector=selector)

    assert [item.metadata.name for item in listed.items] == names


def test_field_selector_by_name(apps: client.AppsV1Api, labelled: str) -> None:
    listed = apps.list_namespaced_stateful_set(labelled, field_selector="metadata.name=beta")

    assert [item.metadata.name for item in listed.items] == ["beta"]


def test_pods_select_by_node_and_phase(core: client.CoreV1Api, namespace: str) -> None:
    for name in ("p1", "p2"):
        core.create_namespaced_pod(namespace, pod(name, bound_by_test=True))
    core.create_namespaced_pod_binding(
        "p1",
        namespace,
        {"metadata": {"name": "p1"}, "target": {"apiVersion": "v1", "kind": "Node", "name": "n1"}},
        _preload_content=False,
    )

    on_node = core.list_namespaced_pod(namespace, field_selector="spec.nodeName=n1")
    unscheduled = core.list_namespaced_pod(namespace, field_selector="spec.nodeName=")
    pending = core.list_namespaced_pod(namespace, field_selector="status.phase=Pending")

    assert [p.metadata.name for p in on_node.items] == ["p1"]
    assert [p.metadata.name for p in unscheduled.items] == ["p2"]
    assert [p.metadata.name for p in pending.items] == ["p1", "p2"]
    # A bound pod waits for its (absent) kubelet unless deleted at once.
    core.delete_namespaced_pod("p1", namespace, grace_period_seconds=0)


def test_events_select_by_involved_object(core: client.CoreV1Api, namespace: str) -> None:
    for index, (name, reason) in enumerate([("ws-0", "Pulling"), ("other-0", "Scheduled")]):
        core.create_namespaced_event(
            namespace,
            {
                "metadata": {"name": f"{name}.{index}"},
                "involvedObject": {"kind": "Pod", "name": name, "namespace": namespace},
                "reason": reason,
                "message": "m",
                "type": "Normal",
            },
        )

    by_object = core.list_namespaced_event(
        namespace, field_selector="involvedObject.kind=Pod,involvedObject.name=ws-0"
    )
    by_reason = core.list_namespaced_event(namespace, field_selector="reason=Scheduled")

    assert [e.involved_object.name for e in by_object.items] == ["ws-0"]
    assert [e.involved_object.name for e in by_reason.items] == ["other-0"]


@pytest.mark.parametrize(
    "list_call",
    [
        pytest.param(
            lambda core, apps, ns: core.list_namespaced_pod(ns, field_selector="spec.bogus=x"),
            id="pods",
        ),
        pytest.param(
            lambda core, apps, ns: apps.list_namespaced_stateful_set(
                ns, field_selector="spec.replicas=1"
            ),
            id="statefulsets",
        ),
    ],
)
def test_unsupported_field_selector_answers_400_naming_the_field(
    core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str, list_call
) -> None:
    with pytest.raises(client.ApiException) as raised:
        list_call(core, apps, namespace)

    assert raised.value.status == 400
    body = status_body(raised.value)
    assert body["reason"] == "BadRequest"
    assert "spec.bogus" in body["message"] or "spec.replicas" in body["message"]


def test_label_selector_with_an_invalid_key_answers_400_naming_it(
    apps: client.AppsV1Api, namespace: str
) -> None:
    with pytest.raises(client.ApiException) as raised:
        apps.list_namespaced_stateful_set(namespace, label_selector="A_B-=x")

    assert raised.value.status == 400
    assert status_body(raised.value)["message"].startswith(
        'unable to parse requirement: invalid label key "A_B-": name part must consist of '
        "alphanumeric characters"
    )


def test_limit_and_continue_page_through_everything_once(
    apps: client.AppsV1Api, namespace: str
) -> None:
    names = [f"ws-{index:02d}" for index in range(7)]
    for name in names:
        apps.create_namespaced_stateful_set(namespace, statefulset(name))

    seen, token, pages = [], None, 0
    while True:
        page = apps.list_namespaced_stateful_set(namespace, limit=3, _continue=token)
        seen.extend(item.metadata.name for item in page.items)
        pages += 1
        token = page.metadata._continue
        if not token:
            break
        assert page.metadata.remaining_item_count == len(names) - len(seen)

    assert seen == names
    assert pages == 3
