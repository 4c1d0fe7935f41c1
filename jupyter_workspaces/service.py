"""`WorkspaceService`: the verbs every face of the product uses, and who may use them.

Reads (list, get, projects) are answered from the watch-backed cache and cost no request to
the Kubernetes API. Actions (create, activate, stop, delete) write through the cluster layer
and return the record as the cache shows it once the watch has seen the write. Everyone sees
the workspaces of the configured projects; only a workspace's owner and the configured admins
may act on it. Kubernetes RBAC still applies on top: the service acts with its own
credentials and never widens them. Thread-safe; the change feed calls subscribers from a
background thread.
"""

from __future__ import annotations

import builtins
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from types import TracebackType
from typing import Any

from jupyter_workspaces import constants as c
from jupyter_workspaces import errors
from jupyter_workspaces.cluster import Actions, Freshness, Scope, WatchSettings, WorkspaceCache
from jupyter_workspaces.cluster import api_client as make_api_client
from jupyter_workspaces.cluster.actions import now_iso
from jupyter_workspaces.cluster.build import build_workspace, check_url_template
from jupyter_workspaces.manifests import WorkspaceSpec
from jupyter_workspaces.records import ProjectUsage, Workspace, WorkspaceDeleted

log = logging.getLogger(__name__)

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
MAX_REASON_LENGTH = 500

Subscriber = Callable[[Workspace | WorkspaceDeleted], None]


def _check_label(what: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) > 63 or not _LABEL.match(value):
        raise errors.InvalidInput(
            f"{what} {value!r} is not allowed: use at most 63 lowercase letters, digits and "
            "'-', starting and ending with a letter or digit"
        )
    return value


def _check_user(user: Any) -> str:
    if not isinstance(user, str) or not user.strip():
        raise errors.InvalidInput(f"user {user!r} is not allowed: give a non-empty user name")
    return user


class WorkspaceService:
    """Workspaces of the configured projects; see the module docstring."""

    def __init__(
        self,
        api_client: Any,
        *,
        projects: Iterable[str] | None = None,
        project_selector: str | None = None,
        admins: Iterable[str] = (),
        url_template: str | None = None,
        settings: WatchSettings | None = None,
    ) -> None:
        if projects is not None and project_selector:
            raise errors.InvalidInput(
                "give either a list of projects or a project_selector, not both"
            )
        namespaces = None
        if projects is not None:
            namespaces = tuple(dict.fromkeys(_check_label("project", p) for p in projects))
        self._api_client = api_client
        self._cache = WorkspaceCache(
            api_client,
            Scope(namespaces=namespaces, selector=project_selector or None),
            url_template=check_url_template(url_template),
            settings=settings,
        )
        self._url_template = url_template
        self._actions = Actions(api_client)
        self.admins = frozenset(admins)

    @classmethod
    def connect(
        cls,
        *,
        kubeconfig: str | os.PathLike[str] | None = None,
        context: str | None = None,
        in_cluster: bool = False,
        projects: Iterable[str] | None = None,
        project_selector: str | None = None,
        admins: Iterable[str] = (),
        url_template: str | None = None,
        settings: WatchSettings | None = None,
    ) -> WorkspaceService:
        """Connect through a kubeconfig (and context) or in-cluster credentials; start the cache.

        `projects` lists the project namespaces; `project_selector` is a namespace label
        selector instead; with neither, every namespace is a project.
        """
        client = make_api_client(kubeconfig=kubeconfig, context=context, in_cluster=in_cluster)
        service = cls(
            client,
            projects=projects,
            project_selector=project_selector,
            admins=admins,
            url_template=url_template,
            settings=settings,
        )
        service.start()
        return service

    @property
    def cache(self) -> WorkspaceCache:
        """The watch cache behind the reads (for diagnostics: its reflectors, its scope)."""
        return self._cache

    # Life cycle.

    def start(self) -> None:
        self._cache.start()

    def close(self) -> None:
        """Stop watching; the connection is closed."""
        self._cache.stop()
        close = getattr(self._api_client, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> WorkspaceService:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def wait_loaded(self, timeout: float | None = None) -> bool:
        """Wait until the first full load is done; True if it is."""
        return self._cache.wait_loaded(timeout)

    def freshness(self) -> Freshness:
        """Whether the data is loaded, as of when it is current, since when it is stale."""
        return self._cache.freshness()

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call `callback` with each changed Workspace or WorkspaceDeleted; return unsubscribe."""
        return self._cache.subscribe(callback)

    # Reads.

    def is_admin(self, user: str) -> bool:
        return user in self.admins

    def list(
        self,
        user: str,
        *,
        project: str | None = None,
        owner: str | None = None,
        status: str | None = None,
    ) -> list[Workspace]:
        """The workspaces `user` can see, filtered, sorted by project and name."""
        _check_user(user)
        if project is not None:
            self._check_project(project)
        if status is not None and status not in c.STATUSES:
            raise errors.InvalidInput(f"status {status!r} is not one of {', '.join(c.STATUSES)}")
        self._require_loaded()
        found = self._cache.records()
        if project is not None:
            found = [w for w in found if w.project == project]
        if owner is not None:
            found = [w for w in found if w.owner == owner]
        if status is not None:
            found = [w for w in found if w.status.status == status]
        return found

    def get(self, user: str, project: str, name: str) -> Workspace:
        """One workspace; NotFound if there is none of that name in the project."""
        _check_user(user)
        self._check_key(project, name)
        self._require_loaded()
        record = self._cache.record(project, name)
        if record is None:
            raise errors.NotFound(f"workspace {name!r} does not exist in project {project!r}")
        return record

    def projects(self, user: str) -> builtins.list[ProjectUsage]:
        """The projects with their quota use and number of workspaces."""
        _check_user(user)
        self._require_loaded()
        counts: dict[str, int] = {}
        for record in self._cache.records():
            counts[record.project] = counts.get(record.project, 0) + 1
        usages = []
        for project in self._cache.projects():
            quota: dict[str, tuple[str, str]] = {}
            for item in self._cache.store.quotas_in(project):
                status = item.get("status") or {}
                hard = status.get("hard") or (item.get("spec") or {}).get("hard") or {}
                used = status.get("used") or {}
                for resource, limit in hard.items():
                    quota[resource] = (str(used.get(resource, "0")), str(limit))
            usages.append(ProjectUsage(project, quota=quota, workspaces=counts.get(project, 0)))
        return usages

    # Actions.

    def create(self, user: str, spec: WorkspaceSpec) -> Workspace:
        """Create a workspace from `spec` (its owner must be `user`, unless `user` is admin)."""
        _check_user(user)
        spec.validate()
        self._check_project(spec.project)
        if spec.owner != user and not self.is_admin(user):
            raise errors.Forbidden(
                f"user {user!r} may not create workspace {spec.project}/{spec.name} for "
                f"{spec.owner!r}: only admins may create workspaces for someone else"
            )
        statefulset = self._actions.create(spec)
        log.info("%s/%s: created by %s", spec.project, spec.name, user)
        return self._settled(statefulset)

    def activate(self, user: str, project: str, name: str) -> Workspace:
        """Ask for the workspace to run (replicas 1); a running one is left as it is."""
        _check_user(user)
        self._check_key(project, name)
        statefulset, changed = self._actions.scale(
            project,
            name,
            replicas=1,
            annotations={c.ACTIVATED_AT_ANNOTATION: now_iso()},
            guard=self._guard(user, "activate"),
        )
        log.info(
            "%s/%s: %s by %s",
            project,
            name,
            "activated" if changed else "already active, activate",
            user,
        )
        return self._settled(statefulset)

    def stop(
        self,
        user: str,
        project: str,
        name: str,
        reason: str | None = None,
        *,
        policy: str | None = None,
    ) -> Workspace:
        """Stop the workspace (replicas 0), keeping its data; record who stopped it and why.

        `policy` names an idleness policy acting through `user` (stopped-by `policy:<name>`);
        without it the stop is recorded as `user:<user>`.
        """
        _check_user(user)
        self._check_key(project, name)
        if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON_LENGTH):
            raise errors.InvalidInput(
                f"stop reason is not allowed: give text of at most {MAX_REASON_LENGTH} characters"
            )
        stopped_by = f"policy:{policy}" if policy else f"user:{user}"
        statefulset, changed = self._actions.scale(
            project,
            name,
            replicas=0,
            annotations={
                c.STOPPED_AT_ANNOTATION: now_iso(),
                c.STOPPED_BY_ANNOTATION: stopped_by,
                c.STOP_REASON_ANNOTATION: reason or None,
            },
            guard=self._guard(user, "stop"),
        )
        log.info(
            "%s/%s: %s by %s",
            project,
            name,
            "stopped" if changed else "already stopped, stop",
            stopped_by,
        )
        return self._settled(statefulset)

    def delete(self, user: str, project: str, name: str, delete_volume: bool = False) -> None:
        """Delete the workspace; its home volume is kept unless `delete_volume`."""
        _check_user(user)
        self._check_key(project, name)
        self._actions.delete(
            project, name, delete_volume=delete_volume, guard=self._guard(user, "delete")
        )
        log.info(
            "%s/%s: deleted by %s (%s)",
            project,
            name,
            user,
            "volume deleted too" if delete_volume else "volume kept",
        )
        self._cache.settle((project, name), None)

    # Helpers.

    def _guard(self, user: str, verb: str) -> Callable[[Mapping[str, Any]], None]:
        def guard(statefulset: Mapping[str, Any]) -> None:
            metadata = statefulset.get("metadata") or {}
            owner = (metadata.get("annotations") or {}).get(c.OWNER_ANNOTATION, "")
            if user == owner or self.is_admin(user):
                return
            where = f"{metadata.get('namespace')}/{metadata.get('name')}"
            log.info("%s: refused to %s it for %s (owner %s)", where, verb, user, owner)
            raise errors.Forbidden(
                f"user {user!r} may not {verb} workspace {where}: it belongs to {owner!r}, and "
                "only its owner or an admin may"
            )

        return guard

    def _settled(self, statefulset: Mapping[str, Any]) -> Workspace:
        metadata = statefulset.get("metadata") or {}
        key = (str(metadata.get("namespace")), str(metadata.get("name")))
        record = self._cache.settle(key, str(metadata.get("resourceVersion") or ""))
        if record is not None:
            return record
        # The watch has not shown it in time: answer from what the API returned.
        return build_workspace(
            statefulset, None, [], now=datetime.now(timezone.utc), url_template=self._url_template
        )

    def _check_project(self, project: str) -> None:
        _check_label("project", project)
        scope = self._cache.scope
        if scope.namespaces is None and not scope.selector:
            return
        if scope.selector:
            # Which namespaces match is known only once they have been listed.
            self._require_loaded()
        if not self._cache.visible(project):
            known = ", ".join(self._cache.projects()) or "none"
            raise errors.NotFound(
                f"project {project!r} is not one of the configured projects ({known})"
            )

    def _check_key(self, project: str, name: str) -> None:
        self._check_project(project)
        _check_label("workspace name", name)

    def _require_loaded(self) -> None:
        if self._cache.wait_loaded(0):
            return
        error = self._cache.freshness().error
        raise errors.Unavailable(
            "the workspaces are still being loaded from Kubernetes"
            + (f"; the last attempt failed: {error}" if error else "")
        )
