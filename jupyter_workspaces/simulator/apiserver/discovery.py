"""Discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/apps/v1`, `/version`) for kubectl."""

from __future__ import annotations

from typing import Any

from jupyter_workspaces.simulator.apiserver.resources import CATALOGUE, Resource

VERSION = {
    "major": "1",
    "minor": "20",
    "gitVersion": "v1.20.2",
    "gitCommit": "simulated",
    "gitTreeState": "clean",
    "buildDate": "2021-01-13T13:20:00Z",
    "goVersion": "go1.15.5",
    "compiler": "gc",
    "platform": "linux/amd64",
}

_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
_SUB_KINDS = {"scale": ("Scale", "autoscaling", "v1"), "binding": ("Binding", "", "v1")}


def _entries(resource: Resource) -> list[dict[str, Any]]:
    if resource.plural == "bindings":
        return [
            {
                "name": "bindings",
                "singularName": "",
                "namespaced": True,
                "kind": "Binding",
                "verbs": ["create"],
            }
        ]
    main: dict[str, Any] = {
        "name": resource.plural,
        "singularName": resource.singular,
        "namespaced": resource.namespaced,
        "kind": resource.kind,
        "verbs": _VERBS,
    }
    if resource.short_names:
        main["shortNames"] = list(resource.short_names)
    entries = [main]
    for sub in resource.subresources:
        kind, group, version = _SUB_KINDS.get(sub, (resource.kind, "", ""))
        entry: dict[str, Any] = {
            "name": f"{resource.plural}/{sub}",
            "singularName": "",
            "namespaced": resource.namespaced,
            "kind": kind,
            "verbs": ["create"] if sub == "binding" else ["get", "patch", "update"],
        }
        if group:
            entry["group"], entry["version"] = group, version
        entries.append(entry)
    return entries


def resource_list(group: str, version: str) -> dict[str, Any] | None:
    served = [r for r in CATALOGUE.resources if r.group == group and r.version == version]
    if not served:
        return None
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": [entry for resource in served for entry in _entries(resource)],
    }


def core_versions(address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}],
    }


def _group(name: str) -> dict[str, Any]:
    version = {"groupVersion": f"{name}/v1", "version": "v1"}
    return {"name": name, "versions": [version], "preferredVersion": version}


def group_list() -> dict[str, Any]:
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [_group("apps")]}


def group(name: str) -> dict[str, Any] | None:
    if name != "apps":
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name)}
