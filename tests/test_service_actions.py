"""Create, activate, stop and delete through the service, on the simulator, with error paths."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from kubernetes import client

from jupyter_workspaces import constants as c
from jupyter_workspaces import errors
from jupyter_workspaces.service import WorkspaceService
from jupyter_workspaces.simulator.cluster import SimulatedCluster
from tests.service_support import api_statefulset, connect, eventually, make_namespace, spec


@pytest.fixture
def service(sim: SimulatedCluster) -> Iterator[WorkspaceService]:
    make_namespace(sim, "demo")
    make_namespace(sim, "elsewhere")
    service = connect(sim, admins=["admin"], url_template=sim.tools_url_template)
    yield service
    service.close()


def status_of(service: WorkspaceService, name: str) -> str:
    return service.get("alice", "demo", name).status.status


def test_a_created_workspace_becomes_active_with_its_tool_urls(
    sim: SimulatedCluster, service: WorkspaceService
) -> None:
    created = service.create("alice", spec("ws1", tools=("jupyterlab", "vscode")))
    assert (created.name, created.owner, created.image) == ("ws1", "alice", spec("x").image)
    assert created.status.status in ("Pending", "Initializing")
    assert created.urls == {}

    active = eventually(lambda: service.get("alice", "demo", "ws1").status.status == "Active")
    assert active
    record = service.get("alice", "demo", "ws1")
    assert record.node and record.created
    assert set(record.urls) == {"jupyterlab", "vscode"}
    assert "/demo/ws1/vscode" in record.urls["vscode"]


def test_stop_records_who_and_why_in_one_write_and_keeps_the_volume(
    sim: SimulatedCluster, service: WorkspaceService
) -> None:
    service.create("alice", spec("ws1"))
    eventually(lambda: status_of(service, "ws1") == "Active", what="ws1 active")

    service.stop("alice", "demo", "ws1", reason="lunch break")

    stopped = eventually(
        lambda: (w := service.get("alice", "demo", "ws1")).status.status == "Stopped" and w
    )
    assert (stopped.stopped_by, stopped.stop_reason) == ("user:alice", "lunch break")
    assert stopped.stopped_at is not None
    annotations = api_statefulset(sim, "demo", "ws1")["metadata"]["annotations"]
    assert annotations[c.STOPPED_BY_ANNOTATION] == "user:alice"
    core = client.CoreV1Api(sim.api_client())
    assert core.read_namespaced_persistent_volume_claim("home-ws1-0", "demo")


def test_activate_brings_a_stopped_workspace_back_and_records_when(
    sim: SimulatedCluster, service: WorkspaceService
) -> None:
    service.create("alice", spec("ws1"))
    service.stop("alice", "demo", "ws1", policy="idle-culler", reason="idle for 4 h")
    eventually(lambda: status_of(service, "ws1") == "Stopped", what="ws1 stopped")
    assert service.get("alice", "demo", "ws1").stopped_by == "policy:idle-culler"

    activated = service.activate("alice", "demo", "ws1")

    assert activated.status.status != "Stopped"
    assert activated.last_activated is not None
    eventually(lambda: status_of(service, "ws1") == "Active", what="ws1 active again")


@pytest.mark.parametrize(
    ("verb", "target"),
    [
        pytest.param("activate", 1, id="activate-an-active"),
        pytest.param("stop", 0, id="stop-a-stopped"),
    ],
)
def test_repeating_an_action_succeeds_and_changes_nothing(
    sim: SimulatedCluster, service: WorkspaceService, verb: str, target: int
) -> None:
    service.create("alice", spec("ws1"))
    getattr(service, verb)("alice", "demo", "ws1")
    before = api_statefulset(sim, "demo", "ws1")
    assert before["spec"]["replicas"] == target

    again = getattr(service, verb)("alice", "demo", "ws1")

    after = api_statefulset(sim, "demo", "ws1")
    # The controller may update the status; the spec and annotations stay as they were.
    assert after["metadata"]["generation"] == before["metadata"]["generation"]
    assert after["metadata"]["annotations"] == before["metadata"]["annotations"]
    assert again.name == "ws1"


def test_delete_keeps_the_home_volume_unless_asked(
    sim: SimulatedCluster, service: WorkspaceService
) -> None:
    core = client.CoreV1Api(sim.api_client())
    for name in ("keep", "wipe"):
        service.create("alice", spec(name))
        eventually(
            lambda n=name: any(
                p.metadata.name == f"home-{n}-0"
                for p in core.list_namespaced_persistent_volume_claim("demo").items
            ),
            what=f"the home volume of {name} exists",
        )

    service.delete("alice", "demo", "keep")
    service.delete("alice", "demo", "wipe", delete_volume=True)

    assert service.list("alice") == []
    claims = {p.metadata.name for p in core.list_namespaced_persistent_volume_claim("demo").items}
    assert "home-keep-0" in claims
    eventually(
        lambda: (
            "home-wipe-0"
            not in {
                p.metadata.name for p in core.list_namespaced_persistent_volume_claim("demo").items
            }
        ),
        what="home-wipe-0 deleted",
    )


def test_concurrent_activate_and_stop_end_consistent(
    sim: SimulatedCluster, service: WorkspaceService
) -> None:
    service.create("alice", spec("ws1"))
    failures: list[BaseException] = []

    def hammer(verb: str) -> None:
        for _ in range(8):
            try:
                getattr(service, verb)("alice", "demo", "ws1")
            except errors.WorkspaceError as exc:
                failures.append(exc)

    threads = [threading.Thread(target=hammer, args=(v,)) for v in ("activate", "stop") * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert failures == []
    final = api_statefulset(sim, "demo", "ws1")
    expected = "Stopped" if final["spec"]["replicas"] == 0 else "Active"
    eventually(lambda: status_of(service, "ws1") == expected, timeout=10, what=expected)
    if expected == "Stopped":
        assert final["metadata"]["annotations"][c.STOPPED_BY_ANNOTATION] == "user:alice"


def test_a_stop_racing_with_another_writer_is_retried_and_loses_nothing(
    sim: SimulatedCluster, service: WorkspaceService
) -> None:
    service.create("alice", spec("ws1"))
    apps = client.AppsV1Api(sim.api_client())
    done = threading.Event()

    def other_writer() -> None:
        n = 0
        while not done.is_set() and n < 500:
            n += 1
            time.sleep(0.01)
            apps.patch_namespaced_stateful_set(
                "ws1", "demo", {"metadata": {"annotations": {"example.org/touch": str(n)}}}
            )

    writer = threading.Thread(target=other_writer)
    writer.start()
    try:
        for _ in range(5):
            service.stop("alice", "demo", "ws1", reason="racing")
            service.activate("alice", "demo", "ws1")
        service.stop("alice", "demo", "ws1", reason="final")
    finally:
        done.set()
        writer.join(30)

    final = api_statefulset(sim, "demo", "ws1")
    assert final["spec"]["replicas"] == 0
    assert final["metadata"]["annotations"][c.STOP_REASON_ANNOTATION] == "final"
    assert "example.org/touch" in final["metadata"]["annotations"]


# Error paths: each names what was wrong.


def test_acting_on_a_missing_workspace_is_not_found(service: WorkspaceService) -> None:
    for verb in ("activate", "stop", "delete"):
        with pytest.raises(errors.NotFound, match="'ghost' does not exist in project 'demo'"):
            getattr(service, verb)("alice", "demo", "ghost")
    with pytest.raises(errors.NotFound, match="ghost"):
        service.get("alice", "demo", "ghost")


@pytest.mark.parametrize("verb", ["activate", "stop", "delete"])
def test_only_the_owner_or_an_admin_may_act(service: WorkspaceService, verb: str) -> None:
    service.create("alice", spec("ws1"))

    with pytest.raises(errors.Forbidden) as refused:
        getattr(service, verb)("bob", "demo", "ws1")
    assert "'bob'" in str(refused.value) and "demo/ws1" in str(refused.value)
    assert "'alice'" in str(refused.value)

    getattr(service, verb)("admin", "demo", "ws1")


def test_creating_for_someone_else_is_for_admins_only(service: WorkspaceService) -> None:
    with pytest.raises(errors.Forbidden, match="'bob' may not create"):
        service.create("bob", spec("ws1", owner="alice"))
    assert service.create("admin", spec("ws1", owner="alice")).owner == "alice"


def test_creating_a_taken_name_is_already_exists(service: WorkspaceService) -> None:
    service.create("alice", spec("ws1"))
    with pytest.raises(errors.AlreadyExists, match="'ws1' already exists in project 'demo'"):
        service.create("alice", spec("ws1"))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(
            lambda s: s.create("alice", spec("Bad_Name")), "Bad_Name", id="create-bad-name"
        ),
        pytest.param(
            lambda s: s.create("alice", spec("ws1", gpu=-1)), "gpu -1", id="create-negative-gpu"
        ),
        pytest.param(lambda s: s.get("alice", "demo", "UPPER"), "UPPER", id="get-bad-name"),
        pytest.param(lambda s: s.list("alice", status="Running"), "Running", id="list-status"),
        pytest.param(lambda s: s.stop("alice", "demo", "ws1", "x" * 600), "500", id="long-reason"),
        pytest.param(lambda s: s.list(""), "user ''", id="empty-user"),
    ],
)
def test_invalid_input_is_refused_naming_the_value(
    service: WorkspaceService, call: object, message: str
) -> None:
    with pytest.raises(errors.InvalidInput, match=message):
        call(service)  # type: ignore[operator]


def test_a_project_outside_the_configured_ones_is_not_found(service: WorkspaceService) -> None:
    with pytest.raises(errors.NotFound, match="'elsewhere' is not one of the configured"):
        service.create("alice", spec("ws1", project="elsewhere"))
    with pytest.raises(errors.NotFound, match="elsewhere"):
        service.list("alice", project="elsewhere")


@pytest.mark.parametrize(
    "code", [pytest.param(500, id="internal-error"), pytest.param(503, id="unavailable")]
)
def test_server_errors_are_unavailable_with_the_kubernetes_message(
    sim: SimulatedCluster, service: WorkspaceService, code: int
) -> None:
    sim.api.faults.error_rate(1.0, code)
    try:
        with pytest.raises(errors.Unavailable) as failed:
            service.create("alice", spec("ws1"))
    finally:
        sim.api.faults.clear()
    assert "create workspace demo/ws1" in str(failed.value)
    kube_words = "Internal error occurred" if code == 500 else "unable to handle the request"
    assert kube_words in str(failed.value)
    assert sim.api.token not in str(failed.value)


def test_an_unreachable_api_is_unavailable_for_actions(
    sim: SimulatedCluster, service: WorkspaceService
) -> None:
    service.create("alice", spec("ws1"))
    sim.api.faults.outage(refuse=True)
    try:
        with pytest.raises(errors.Unavailable, match="demo/ws1"):
            service.activate("alice", "demo", "ws1")
    finally:
        sim.api.faults.recover()


def test_a_status_once_shown_never_steps_back_in_later_reads(service: WorkspaceService) -> None:
    service.create("alice", spec("ws1"))
    eventually(lambda: status_of(service, "ws1") == "Active", what="ws1 active")

    seen_after: dict[str, set[str]] = {}
    for _ in range(4):
        for action, target in ((service.stop, "Stopped"), (service.activate, "Active")):
            action("alice", "demo", "ws1")
            eventually(lambda t=target: status_of(service, "ws1") == t, what=f"ws1 {target}")
            # What a table shows next, through the filtered list and the row itself.
            for _ in range(40):
                listed = service.list("alice", project="demo", status=target)
                seen_after.setdefault(target, set()).add(
                    status_of(service, "ws1") if [w.name for w in listed] == ["ws1"] else "absent"
                )
                time.sleep(0.005)

    assert seen_after == {"Stopped": {"Stopped"}, "Active": {"Active"}}
