"""What the service shows: filters, projects with quota, projects from a label selector."""

from __future__ import annotations

import pytest
from kubernetes import client

from jupyter_workspaces import errors
from jupyter_workspaces.manifests import build_statefulset
from jupyter_workspaces.service import WorkspaceService
from jupyter_workspaces.simulator.cluster import SimulatedCluster
from tests.service_support import connect, eventually, make_namespace, spec


def test_list_filters_by_project_owner_and_status(sim: SimulatedCluster) -> None:
    for project in ("demo", "other"):
        make_namespace(sim, project)
    apps = client.AppsV1Api(sim.api_client())
    for name, project, owner, replicas in [
        ("a1", "demo", "alice", 0),
        ("b1", "demo", "bob", 0),
        ("a2", "other", "alice", 1),
    ]:
        apps.create_namespaced_stateful_set(
            project, build_statefulset(spec(name, project=project, owner=owner), replicas=replicas)
        )
    service = connect(sim, projects=["demo", "other"])
    try:
        eventually(lambda: len(service.list("carol")) == 3, what="three workspaces")
        eventually(lambda: service.get("carol", "other", "a2").status.status == "Active")

        assert [w.name for w in service.list("carol")] == ["a1", "b1", "a2"]
        assert [w.name for w in service.list("carol", project="demo")] == ["a1", "b1"]
        assert [w.name for w in service.list("carol", owner="alice")] == ["a1", "a2"]
        assert [w.name for w in service.list("carol", status="Stopped")] == ["a1", "b1"]
        assert service.list("carol", owner="alice", status="Active")[0].name == "a2"
        with pytest.raises(errors.InvalidInput, match="'Running' is not one of Pending"):
            service.list("carol", status="Running")
    finally:
        service.close()


def test_projects_show_quota_use_and_workspace_counts(sim: SimulatedCluster) -> None:
    make_namespace(sim, "demo")
    core = client.CoreV1Api(sim.api_client())
    core.create_namespaced_resource_quota(
        "demo", {"metadata": {"name": "gpus"}, "spec": {"hard": {"requests.nvidia.com/gpu": "4"}}}
    )
    service = connect(sim)
    try:
        service.create("alice", spec("ws1", gpu=1))

        def gpu_quota() -> tuple[str, str] | None:
            usage = service.projects("alice")[0]
            used = usage.quota.get("requests.nvidia.com/gpu")
            return used if used and used[0] == "1" and usage.workspaces == 1 else None

        assert eventually(gpu_quota, what="quota shows one GPU in use") == ("1", "4")
        assert [p.name for p in service.projects("alice")] == ["demo"]
    finally:
        service.close()


def test_projects_from_a_label_selector_follow_the_namespaces_labels(
    sim: SimulatedCluster,
) -> None:
    make_namespace(sim, "team-a", labels={"workspaces": "yes"})
    make_namespace(sim, "team-b")
    apps = client.AppsV1Api(sim.api_client())
    for project in ("team-a", "team-b"):
        apps.create_namespaced_stateful_set(
            project, build_statefulset(spec("ws", project=project), replicas=0)
        )
    service = connect(sim, projects=None, project_selector="workspaces=yes")
    try:
        eventually(lambda: [w.project for w in service.list("alice")] == ["team-a"])
        with pytest.raises(errors.NotFound, match="'team-b' is not one of the configured"):
            service.activate("alice", "team-b", "ws")

        core = client.CoreV1Api(sim.api_client())
        core.patch_namespace("team-b", {"metadata": {"labels": {"workspaces": "yes"}}})

        eventually(
            lambda: [w.project for w in service.list("alice")] == ["team-a", "team-b"],
            what="team-b's workspace appears once its namespace is labelled",
        )
        assert [p.name for p in service.projects("alice")] == ["team-a", "team-b"]
    finally:
        service.close()


def test_projects_and_a_selector_together_are_refused(sim: SimulatedCluster) -> None:
    with pytest.raises(errors.InvalidInput, match="not both"):
        WorkspaceService(sim.api_client(), projects=["demo"], project_selector="a=b")


@pytest.mark.parametrize(
    "template",
    [
        pytest.param("http://x/{project}/{nmae}/", id="misspelt-placeholder"),
        pytest.param("http://x/{project", id="unclosed-brace"),
    ],
)
def test_a_bad_url_template_is_refused_naming_the_placeholders(
    sim: SimulatedCluster, template: str
) -> None:
    with pytest.raises(errors.InvalidInput, match="url_template"):
        WorkspaceService(sim.api_client(), projects=["demo"], url_template=template)


def test_reads_before_the_first_load_say_the_api_cannot_be_reached(
    sim: SimulatedCluster,
) -> None:
    sim.api.faults.outage(refuse=True)
    service = WorkspaceService.connect(kubeconfig=sim.kubeconfig, projects=["demo"])
    try:
        assert not service.wait_loaded(0.5)
        freshness = service.freshness()
        assert not freshness.loaded and freshness.as_of is None
        with pytest.raises(errors.Unavailable, match="still being loaded"):
            service.list("alice")
    finally:
        service.close()
        sim.api.faults.recover()


def test_a_missing_kubeconfig_is_not_configured_and_says_how_to_fix_it(tmp_path: object) -> None:
    with pytest.raises(errors.NotConfigured, match="--kubeconfig"):
        WorkspaceService.connect(kubeconfig=f"{tmp_path}/nowhere", projects=["demo"])


def test_many_projects_share_cluster_wide_watches_and_show_only_their_workspaces(
    sim: SimulatedCluster,
) -> None:
    projects = [f"p{i}" for i in range(10)]
    for project in [*projects, "not-a-project"]:
        make_namespace(sim, project)
    apps = client.AppsV1Api(sim.api_client())
    for project in ("p0", "p9", "not-a-project"):
        apps.create_namespaced_stateful_set(
            project, build_statefulset(spec("ws", project=project), replicas=0)
        )

    service = connect(sim, projects=projects)
    try:
        assert all(r.namespace is None for r in service.cache.reflectors)
        assert len(service.cache.reflectors) == 5
        eventually(lambda: [w.project for w in service.list("alice")] == ["p0", "p9"])
        with pytest.raises(errors.NotFound, match="'not-a-project' is not one of"):
            service.get("alice", "not-a-project", "ws")
    finally:
        service.close()
