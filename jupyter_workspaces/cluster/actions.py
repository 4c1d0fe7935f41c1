"""What the product does to a workspace in Kubernetes: create, scale (activate/stop), delete.

Every action reads the StatefulSet fresh from the API (never from the cache), decides from that
read, and writes with the read's resourceVersion as a precondition. When someone else wrote in
between, Kubernetes answers 409 Conflict and the action starts over from a fresh read, so a
concurrent change is never overwritten unseen, and a repeated action finds its work done and
changes nothing. Every failure leaves as one of the project's errors (`translate`).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from kubernetes import client as k8s

from jupyter_workspaces import constants as c
from jupyter_workspaces import errors
from jupyter_workspaces.cluster.translate import kube_errors
from jupyter_workspaces.manifests import WorkspaceSpec, build_service, build_statefulset

log = logging.getLogger(__name__)

KubeDict = dict[str, Any]
Guard = Callable[[KubeDict], None]

# Attempts of a write that keeps meeting 409 Conflict before giving up, and the longest pause
# between two (seconds; random below it, so that two racing writers drift apart).
ATTEMPTS = 8
RETRY_PAUSE = 0.05
# (connect, read) timeout of one action request, in seconds.
REQUEST_TIMEOUT = (5.0, 30.0)


def now_iso(now: datetime | None = None) -> str:
    """An aware time as Kubernetes writes it: `2024-05-01T10:00:00Z`."""
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _body(response: Any) -> KubeDict:
    try:
        data: KubeDict = json.loads(response.data)
    finally:
        response.release_conn()
    return data


def replicas_of(statefulset: Mapping[str, Any]) -> int:
    """Desired replicas (Kubernetes treats a missing value as 1)."""
    value = (statefulset.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


class Actions:
    """Writes to the Kubernetes API for one connection; thread-safe (no state of its own)."""

    def __init__(self, api_client: Any) -> None:
        # Typed as Any: bodies go as plain dicts, answers come back raw (`_preload_content`).
        self._apps: Any = k8s.AppsV1Api(api_client)
        self._core: Any = k8s.CoreV1Api(api_client)

    def read(self, project: str, name: str) -> KubeDict:
        """The StatefulSet of a workspace, fresh from the API; NotFound if it is no workspace."""
        with kube_errors(f"read workspace {project}/{name}"):
            try:
                statefulset = _body(
                    self._apps.read_namespaced_stateful_set(
                        name, project, _preload_content=False, _request_timeout=REQUEST_TIMEOUT
                    )
                )
            except k8s.ApiException as exc:
                if exc.status == 404:
                    raise errors.NotFound(
                        f"workspace {name!r} does not exist in project {project!r}"
                    ) from exc
                raise
        labels = (statefulset.get("metadata") or {}).get("labels") or {}
        if labels.get(c.MANAGED_BY_LABEL) != c.MANAGED_BY_VALUE:
            raise errors.NotFound(
                f"{project}/{name} is a StatefulSet that jupyter-workspaces does not manage "
                f"(no label {c.MANAGED_SELECTOR}), so it is not a workspace"
            )
        return statefulset

    def create(self, spec: WorkspaceSpec) -> KubeDict:
        """Create the StatefulSet and Service of a new workspace; return the StatefulSet."""
        where = f"{spec.project}/{spec.name}"
        with kube_errors(f"create workspace {where}"):
            try:
                statefulset = _body(
                    self._apps.create_namespaced_stateful_set(
                        spec.project,
                        build_statefulset(spec),
                        _preload_content=False,
                        _request_timeout=REQUEST_TIMEOUT,
                    )
                )
            except k8s.ApiException as exc:
                if exc.status == 409:
                    raise errors.AlreadyExists(
                        f"a workspace named {spec.name!r} already exists in project "
                        f"{spec.project!r}: choose another name, or activate the existing one"
                    ) from exc
                raise
        log.info("%s: created the StatefulSet for %s (image %s)", where, spec.owner, spec.image)
        try:
            self._create_service(spec, statefulset)
        except errors.WorkspaceError:
            # A workspace without its Service cannot be reached: undo, keep nothing half made.
            log.warning("%s: creating the Service failed, deleting the new StatefulSet", where)
            self._delete_quietly("StatefulSet", self._apps.delete_namespaced_stateful_set, where)
            raise
        return statefulset

    def _create_service(self, spec: WorkspaceSpec, statefulset: KubeDict) -> None:
        where = f"{spec.project}/{spec.name}"
        service = build_service(spec)
        # Owned by the StatefulSet: if the workspace goes, the cluster removes its Service too.
        service["metadata"]["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": "StatefulSet",
                "name": spec.name,
                "uid": statefulset["metadata"]["uid"],
            }
        ]
        with kube_errors(f"create the Service of workspace {where}"):
            try:
                self._core.create_namespaced_service(
                    spec.project, service, _preload_content=False, _request_timeout=REQUEST_TIMEOUT
                ).release_conn()
            except k8s.ApiException as exc:
                if exc.status != 409 or not self._service_is_ours(spec):
                    raise
                log.info("%s: reusing the Service a deleted workspace of this name left", where)

    def _service_is_ours(self, spec: WorkspaceSpec) -> bool:
        with kube_errors(f"read the Service of workspace {spec.project}/{spec.name}"):
            service = _body(
                self._core.read_namespaced_service(
                    spec.name,
                    spec.project,
                    _preload_content=False,
                    _request_timeout=REQUEST_TIMEOUT,
                )
            )
        labels = (service.get("metadata") or {}).get("labels") or {}
        return bool(
            labels.get(c.MANAGED_BY_LABEL) == c.MANAGED_BY_VALUE
            and labels.get(c.WORKSPACE_LABEL) == spec.name
        )

    def scale(
        self,
        project: str,
        name: str,
        *,
        replicas: int,
        annotations: Mapping[str, str | None],
        guard: Guard,
    ) -> tuple[KubeDict, bool]:
        """Set replicas and annotations in one write; return (StatefulSet, whether it changed).

        Nothing is written if the workspace already has `replicas`. `guard` sees every fresh
        read and raises to refuse (e.g. Forbidden for a user who may not act).
        """
        where = f"{project}/{name}"
        for attempt in range(1, ATTEMPTS + 1):
            statefulset = self.read(project, name)
            guard(statefulset)
            if replicas_of(statefulset) == replicas:
                return statefulset, False
            patch = {
                "metadata": {
                    "resourceVersion": statefulset["metadata"]["resourceVersion"],
                    "annotations": dict(annotations),
                },
                "spec": {"replicas": replicas},
            }
            try:
                with kube_errors(f"scale workspace {where} to {replicas}"):
                    updated = _body(
                        self._apps.patch_namespaced_stateful_set(
                            name,
                            project,
                            patch,
                            _preload_content=False,
                            _request_timeout=REQUEST_TIMEOUT,
                        )
                    )
            except errors.Conflict:
                log.info(
                    "%s: changed while scaling to %d (attempt %d), reading it again",
                    where,
                    replicas,
                    attempt,
                )
                time.sleep(random.uniform(0, RETRY_PAUSE * attempt))
                continue
            log.info("%s: scaled to %d replicas", where, replicas)
            return updated, True
        raise errors.Conflict(
            f"workspace {where} kept changing while it was being scaled to {replicas} "
            f"({ATTEMPTS} attempts): try again"
        )

    def delete(self, project: str, name: str, *, delete_volume: bool, guard: Guard) -> None:
        """Delete the StatefulSet and Service; the home volume too only if `delete_volume`."""
        where = f"{project}/{name}"
        statefulset = self.read(project, name)
        guard(statefulset)
        uid = statefulset["metadata"].get("uid")
        with kube_errors(f"delete workspace {where}"):
            self._apps.delete_namespaced_stateful_set(
                name,
                project,
                body={"preconditions": {"uid": uid}},
                propagation_policy="Background",
                _preload_content=False,
                _request_timeout=REQUEST_TIMEOUT,
            ).release_conn()
        log.info("%s: deleted the StatefulSet", where)
        self._delete_quietly("Service", self._core.delete_namespaced_service, where)
        if delete_volume:
            claim = c.home_claim_name(name)
            self._delete_quietly(
                "PersistentVolumeClaim",
                self._core.delete_namespaced_persistent_volume_claim,
                where,
                object_name=claim,
            )
        else:
            log.info("%s: kept the home volume %s", where, c.home_claim_name(name))

    def _delete_quietly(
        self, kind: str, call: Callable[..., Any], where: str, *, object_name: str | None = None
    ) -> None:
        """Delete one object; one that is already gone is fine."""
        project, name = where.split("/", 1)
        target = object_name or name
        with kube_errors(f"delete the {kind} {target} of workspace {where}"):
            try:
                call(
                    target, project, _preload_content=False, _request_timeout=REQUEST_TIMEOUT
                ).release_conn()
            except k8s.ApiException as exc:
                if exc.status != 404:
                    raise
                log.info("%s: the %s %s was already gone", where, kind, target)
                return
        log.info("%s: deleted the %s %s", where, kind, target)
