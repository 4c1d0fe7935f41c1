"""WorkspaceSpec validation and the StatefulSet/Service manifests built from it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from jupyter_workspaces import constants as c
from jupyter_workspaces.errors import InvalidInput
from jupyter_workspaces.manifests import (
    MAX_NAME_LENGTH,
    TOOL_PORTS,
    WorkspaceSpec,
    build_service,
    build_statefulset,
    parse_quantity,
    spec_from_request,
    spec_from_statefulset,
)


def make_spec(**changes: Any) -> WorkspaceSpec:
    values: dict[str, Any] = {
        "name": "bert-finetune",
        "project": "nlp-lab",
        "owner": "Ada Lovelace",
        "image": "quay.io/jupyter/pytorch-notebook:cuda12-2024-05-27",
        "cpu": "4",
        "memory": "16Gi",
        "gpu": 2,
        "tools": ("jupyterlab", "tensorboard"),
        "volume_size": "50Gi",
        "display_name": "BERT fine-tuning",
    }
    values.update(changes)
    return WorkspaceSpec(**values)


def test_a_valid_spec_passes_validation() -> None:
    spec = make_spec()
    assert spec.validate() is spec


def test_the_longest_allowed_name_fits_every_derived_kubernetes_name() -> None:
    name = "w" * MAX_NAME_LENGTH
    make_spec(name=name).validate()
    # The controller-revision-hash label value is "<name>-<hash of up to 10 characters>".
    assert len(f"{name}-{'x' * 10}") <= 63
    assert len(c.pod_name(name)) <= 63
    assert len(c.home_claim_name(name)) <= 253


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        pytest.param(
            {"name": "w" * (MAX_NAME_LENGTH + 1)},
            ["53 characters", "at most 52"],
            id="name-too-long",
        ),
        pytest.param(
            {"name": "My_Workspace"},
            ["'My_Workspace'", "lowercase"],
            id="name-uppercase-underscore",
        ),
        pytest.param(
            {"name": "9lives"}, ["'9lives'", "starting with a letter"], id="name-leading-digit"
        ),
        pytest.param({"name": "trailing-"}, ["'trailing-'"], id="name-trailing-dash"),
        pytest.param({"name": ""}, ["non-empty"], id="name-empty"),
        pytest.param(
            {"project": "NLP Lab"}, ["'NLP Lab'", "namespace"], id="project-not-a-namespace"
        ),
        pytest.param({"owner": "  "}, ["owner", "non-empty"], id="owner-blank"),
        pytest.param(
            {"image": "Quay.io/Jupyter/Scipy"},
            ["'Quay.io/Jupyter/Scipy'", "image reference"],
            id="image-uppercase-path",
        ),
        pytest.param({"image": "jupyter/scipy:"}, ["image reference"], id="image-empty-tag"),
        pytest.param({"image": "jupyter scipy"}, ["image reference"], id="image-space"),
        pytest.param({"image": "img@sha256:xyz"}, ["image reference"], id="image-bad-digest"),
        pytest.param({"cpu": "two"}, ["cpu 'two'", "quantity", "500m"], id="cpu-not-quantity"),
        pytest.param({"cpu": "0"}, ["cpu '0'", "more than 0"], id="cpu-zero"),
        pytest.param({"memory": "16GB"}, ["memory '16GB'", "quantity"], id="memory-wrong-suffix"),
        pytest.param({"memory": "-1Gi"}, ["more than 0"], id="memory-negative"),
        pytest.param({"volume_size": "lots"}, ["volume_size 'lots'"], id="volume-not-quantity"),
        pytest.param({"gpu": -1}, ["gpu -1", "whole number"], id="gpu-negative"),
        pytest.param({"gpu": 1.5}, ["gpu 1.5"], id="gpu-fraction"),
        pytest.param({"gpu": True}, ["gpu True"], id="gpu-bool"),
        pytest.param(
            {"tools": ("jupyterlab", "emacs")},
            ["'emacs'", "jupyterlab, vscode"],
            id="tool-unknown",
        ),
        pytest.param({"tools": ()}, ["at least one"], id="tools-empty"),
        pytest.param({"tools": ("vscode", "vscode")}, ["twice"], id="tool-twice"),
        pytest.param({"display_name": "a\nb"}, ["control characters"], id="display-name-newline"),
        pytest.param({"display_name": "x" * 201}, ["at most 200"], id="display-name-too-long"),
    ],
)
def test_an_invalid_spec_is_refused_naming_the_value(
    changes: dict[str, Any], words: list[str]
) -> None:
    with pytest.raises(InvalidInput) as info:
        make_spec(**changes).validate()
    assert info.value.http_status == 400
    for word in words:
        assert word in info.value.message


@pytest.mark.parametrize(
    "image",
    [
        pytest.param("python", id="bare-name"),
        pytest.param("jupyter/scipy-notebook:latest", id="docker-hub-path-tag"),
        pytest.param("registry.example.org:5000/team/img:v1.2.3", id="registry-with-port"),
        pytest.param("localhost/img_name__x:1", id="underscores"),
        pytest.param("img@sha256:" + "a" * 64, id="digest"),
        pytest.param("ghcr.io/o/img:tag@sha256:" + "0" * 64, id="tag-and-digest"),
    ],
)
def test_valid_image_references_are_accepted(image: str) -> None:
    make_spec(image=image).validate()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param("500m", Decimal("0.5"), id="millicores"),
        pytest.param("2", Decimal(2), id="whole"),
        pytest.param("1.5", Decimal("1.5"), id="decimal"),
        pytest.param("2Gi", Decimal(2 * 2**30), id="binary"),
        pytest.param("1G", Decimal(10**9), id="decimal-si"),
        pytest.param("1e3", Decimal(1000), id="exponent"),
        pytest.param(".5Ki", Decimal(512), id="leading-dot"),
    ],
)
def test_quantities_are_read_as_kubernetes_reads_them(text: str, value: Decimal) -> None:
    assert parse_quantity(text) == value


def test_the_statefulset_runs_the_spec_with_labels_annotations_and_a_home_volume() -> None:
    spec = make_spec()
    sts = build_statefulset(spec)

    assert sts["kind"] == "StatefulSet"
    assert sts["metadata"]["name"] == "bert-finetune"
    assert sts["metadata"]["namespace"] == "nlp-lab"
    assert sts["spec"]["replicas"] == 1
    assert sts["spec"]["serviceName"] == "bert-finetune"
    expected_labels = {
        c.MANAGED_BY_LABEL: c.MANAGED_BY_VALUE,
        c.WORKSPACE_LABEL: "bert-finetune",
        c.OWNER_LABEL: "ada-lovelace",
    }
    template = sts["spec"]["template"]
    for obj in (sts["metadata"], template["metadata"]):
        assert obj["labels"] == expected_labels
        assert obj["annotations"][c.OWNER_ANNOTATION] == "Ada Lovelace"
        assert obj["annotations"][c.TOOLS_ANNOTATION] == "jupyterlab,tensorboard"
        assert obj["annotations"][c.DISPLAY_NAME_ANNOTATION] == "BERT fine-tuning"
    selector = sts["spec"]["selector"]["matchLabels"]
    assert selector.items() <= template["metadata"]["labels"].items()

    (container,) = template["spec"]["containers"]
    assert container["name"] == "workspace"
    assert container["image"] == spec.image
    assert container["resources"]["requests"] == {
        "cpu": "4",
        "memory": "16Gi",
        c.GPU_RESOURCE: "2",
    }
    assert [p["containerPort"] for p in container["ports"]] == [8888, 6006]
    assert container["readinessProbe"]["tcpSocket"]["port"] == TOOL_PORTS["jupyterlab"]
    assert container["volumeMounts"][0]["name"] == c.HOME_VOLUME

    (claim,) = sts["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == c.HOME_VOLUME
    assert claim["spec"]["resources"]["requests"]["storage"] == "50Gi"
    assert sts["spec"]["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain",
        "whenScaled": "Retain",
    }


def test_a_workspace_without_gpus_asks_for_none() -> None:
    sts = build_statefulset(make_spec(gpu=0))
    container = sts["spec"]["template"]["spec"]["containers"][0]
    assert c.GPU_RESOURCE not in container["resources"]["requests"]
    assert c.GPU_RESOURCE not in container["resources"]["limits"]


def test_building_from_an_invalid_spec_raises_instead_of_sending_it() -> None:
    with pytest.raises(InvalidInput):
        build_statefulset(make_spec(name="Bad Name"))


def test_the_service_is_headless_and_exposes_each_tool_port() -> None:
    svc = build_service(make_spec(tools=("vscode", "jupyterlab")))
    assert svc["metadata"]["name"] == "bert-finetune"
    assert svc["spec"]["clusterIP"] == "None"
    assert svc["spec"]["selector"] == {
        c.MANAGED_BY_LABEL: c.MANAGED_BY_VALUE,
        c.WORKSPACE_LABEL: "bert-finetune",
    }
    assert [(p["name"], p["port"]) for p in svc["spec"]["ports"]] == [
        ("vscode", 8080),
        ("jupyterlab", 8888),
    ]


def test_a_spec_read_back_from_its_statefulset_is_the_same_spec() -> None:
    spec = make_spec()
    assert spec_from_statefulset(build_statefulset(spec)) == spec


def test_reading_a_hand_edited_statefulset_falls_back_to_defaults() -> None:
    sts = {
        "metadata": {"name": "old", "namespace": "p", "labels": {c.OWNER_LABEL: "bob"}},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "main",
                            "image": "img:1",
                            "resources": {"limits": {c.GPU_RESOURCE: "1"}},
                        }
                    ]
                }
            }
        },
    }
    spec = spec_from_statefulset(sts)
    assert (spec.name, spec.owner, spec.image, spec.gpu) == ("old", "bob", "img:1", 1)
    assert spec.tools == ("jupyterlab",)
    assert spec.volume_size == "10Gi"


def test_a_request_body_with_loose_types_becomes_a_valid_spec() -> None:
    spec = spec_from_request(
        {
            "name": "ws",
            "project": "p",
            "image": "img:1",
            "gpu": "1",
            "cpu": 2,
            "tools": "vscode, jupyterlab",
            "volumeSize": "20Gi",
            "displayName": "Mine",
        },
        owner="carol",
    )
    assert spec == WorkspaceSpec(
        name="ws",
        project="p",
        owner="carol",
        image="img:1",
        cpu="2",
        gpu=1,
        tools=("vscode", "jupyterlab"),
        volume_size="20Gi",
        display_name="Mine",
    )


@pytest.mark.parametrize(
    ("body", "words"),
    [
        pytest.param(
            {"name": "ws", "project": "p", "image": "i", "colour": "red"},
            ["colour"],
            id="unknown-field",
        ),
        pytest.param({"name": "ws", "project": "p"}, ["image is required"], id="missing-image"),
        pytest.param(
            {"name": "ws", "project": "p", "image": "i", "gpu": "two"},
            ["gpu 'two'"],
            id="gpu-text",
        ),
        pytest.param({"name": 5, "project": "p", "image": "i"}, ["5"], id="name-number"),
    ],
)
def test_a_bad_request_body_is_refused_naming_the_field(
    body: dict[str, Any], words: list[str]
) -> None:
    with pytest.raises(InvalidInput) as info:
        spec_from_request(body, owner="carol")
    for word in words:
        assert word in info.value.message


def test_the_owner_comes_from_the_caller_not_the_body() -> None:
    spec = spec_from_request(
        {"name": "ws", "project": "p", "image": "i", "owner": "mallory"}, owner="carol"
    )
    assert spec.owner == "carol"
