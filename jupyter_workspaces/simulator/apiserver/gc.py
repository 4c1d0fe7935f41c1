"""Deletion: finalizers, graceful pod deletion, owner-reference cascades and namespace cleanup.

A real cluster splits this between the API server (deletionTimestamp, finalizers, grace
periods) and controllers (the garbage collector, the namespace controller). The simulator does
both here, right after the change that calls for them, so a cascade is finished by the time
the request that started it returns, apart from pods on a node, which wait for their kubelet
to confirm with a zero grace period, as on a real cluster.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from jupyter_workspaces.simulator.apiserver.defaults import CLAIM_PROTECTION
from jupyter_workspaces.simulator.apiserver.failures import bad_request, conflict
from jupyter_workspaces.simulator.apiserver.resources import CATALOGUE, Obj, Resource
from jupyter_workspaces.simulator.apiserver.tables import Change

if TYPE_CHECKING:
    from jupyter_workspaces.simulator.apiserver.store import Store

log = logging.getLogger(__name__)

ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"
POLICIES = ("Background", "Foreground", "Orphan")
_TERMINAL = ("Succeeded", "Failed")


class Collector:
    """Carries out deletions and what follows from them."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def delete(
        self,
        resource: Resource,
        obj: Obj,
        propagation: str | None,
        grace: int | None,
        preconditions: dict[str, str],
    ) -> tuple[Obj, bool]:
        meta = obj["metadata"]
        self._check_preconditions(resource, meta, preconditions)
        if propagation is not None and propagation not in POLICIES:
            raise bad_request(
                f"propagationPolicy {propagation!r} is not supported: use one of "
                + ", ".join(POLICIES)
            )
        if resource.plural == "namespaces":
            return self._terminate_namespace(obj), True
        if resource.plural == "pods" and self._graceful(obj, grace):
            return obj, True

        finalizers = list(meta.get("finalizers") or [])
        if propagation == "Foreground" and FOREGROUND not in finalizers:
            finalizers.append(FOREGROUND)
        if propagation == "Orphan" and ORPHAN not in finalizers:
            finalizers.append(ORPHAN)
        if not finalizers:
            self.store.tables.remove(resource, obj)
            return obj, False
        if not meta.get("deletionTimestamp") or finalizers != meta.get("finalizers"):
            meta.setdefault("deletionTimestamp", self.store.now())
            meta.setdefault("deletionGracePeriodSeconds", 0)
            meta["finalizers"] = finalizers
            self.store.tables.write(resource, obj, "MODIFIED")
        # The answer shows the object waiting for its finalizers, even if the simulated
        # controllers finish them right away.
        self._run_system_finalizers(resource, obj)
        return obj, True

    def _check_preconditions(
        self, resource: Resource, meta: dict[str, str], preconditions: dict[str, str]
    ) -> None:
        checks = (
            ("uid", "UID", "deleted and then recreated"),
            ("resourceVersion", "ResourceVersion", "modified"),
        )
        for key, field, what in checks:
            wanted = preconditions.get(key)
            if wanted and wanted != meta.get(key):
                error = conflict(
                    resource,
                    meta["name"],
                    f"the {field} in the precondition ({wanted}) does not match the {field} in "
                    f"record ({meta.get(key)}). The object might have been {what}",
                )
                # A real server names the kind here, not the resource.
                error.message = error.message.replace(resource.qualified, resource.qualified_kind)
                assert error.details is not None
                error.details["kind"] = resource.kind
                raise error

    def _graceful(self, pod: Obj, grace: int | None) -> bool:
        """Start or shorten a pod's graceful deletion; True while it must wait for its node."""
        meta, spec = pod["metadata"], pod.get("spec") or {}
        if grace is None:
            grace = int(spec.get("terminationGracePeriodSeconds", 30))
        phase = (pod.get("status") or {}).get("phase")
        if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
            grace = 0
        if grace <= 0:
            if meta.get("finalizers"):
                meta["deletionGracePeriodSeconds"] = 0
            return False
        current = meta.get("deletionGracePeriodSeconds")
        if current is not None and current <= grace:
            return True
        meta["deletionTimestamp"] = _later(self.store.now(), grace)
        meta["deletionGracePeriodSeconds"] = grace
        self.store.tables.write(CATALOGUE.by_plural["pods"], pod, "MODIFIED")
        log.info("pod %s/%s: graceful deletion, %d s", meta.get("namespace"), meta["name"], grace)
        return True

    def _run_system_finalizers(self, resource: Resource, obj: Obj) -> Obj:
        """Do what the orphan and foreground finalizers ask, then drop them when done."""
        meta = obj["metadata"]
        finalizers = meta.get("finalizers") or []
        uid, done = meta["uid"], set()
        if ORPHAN in finalizers:
            for plural, namespace, name in sorted(self.store.tables.dependents.get(uid, ())):
                dependent = self.store.get(plural, name, namespace or None)
                refs = dependent["metadata"].get("ownerReferences") or []
                dependent["metadata"]["ownerReferences"] = [r for r in refs if r.get("uid") != uid]
                if not dependent["metadata"]["ownerReferences"]:
                    del dependent["metadata"]["ownerReferences"]
                self.store.tables.write(self.store.resource(plural), dependent, "MODIFIED")
            done.add(ORPHAN)
        if FOREGROUND in finalizers:
            for plural, namespace, name in sorted(self.store.tables.dependents.get(uid, ())):
                found = self.store.find(plural, name, namespace or None)
                if found is not None and not found["metadata"].get("deletionTimestamp"):
                    self.delete(self.store.resource(plural), found, "Foreground", None, {})
            if not self.store.tables.dependents.get(uid):
                done.add(FOREGROUND)
        if CLAIM_PROTECTION in finalizers and not self._claim_in_use(obj):
            done.add(CLAIM_PROTECTION)
        if not done:
            return obj
        current = self.store.find(resource, meta["name"], meta.get("namespace"))
        if current is None:
            return obj
        before = current["metadata"].get("finalizers") or []
        remaining = [name for name in before if name not in done]
        if remaining == before:
            return current
        current["metadata"]["finalizers"] = remaining
        if remaining:
            self.store.tables.write(resource, current, "MODIFIED")
        else:
            self.store.tables.remove(resource, current)
        return current

    def _claim_in_use(self, claim: Obj) -> bool:
        namespace, name = claim["metadata"].get("namespace", ""), claim["metadata"]["name"]
        for pod in self.store.list("pods", namespace):
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            for volume in (pod.get("spec") or {}).get("volumes") or []:
                if (volume.get("persistentVolumeClaim") or {}).get("claimName") == name:
                    return True
        return False

    def _release_claims(self, pod: Obj) -> None:
        """A pod is gone: claims it held that wait to be deleted may go now."""
        namespace = pod["metadata"].get("namespace", "")
        for volume in (pod.get("spec") or {}).get("volumes") or []:
            claim_name = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            claim = self.store.find("persistentvolumeclaims", claim_name or "", namespace)
            if claim is not None and claim["metadata"].get("deletionTimestamp"):
                self._run_system_finalizers(self.store.resource("persistentvolumeclaims"), claim)

    def _terminate_namespace(self, namespace: Obj) -> Obj:
        name = namespace["metadata"]["name"]
        if namespace.get("status", {}).get("phase") != "Terminating":
            namespace["metadata"]["deletionTimestamp"] = self.store.now()
            namespace["status"] = {"phase": "Terminating"}
            self.store.tables.write(CATALOGUE.by_plural["namespaces"], namespace, "MODIFIED")
            log.info("namespace %s: terminating, deleting its contents", name)
        for resource in CATALOGUE.resources:
            if not resource.namespaced:
                continue
            for _, item, _ in list(self.store.tables.table(resource).entries(name)):
                obj = self.store.find(resource, item, name)
                if obj is not None and not obj["metadata"].get("deletionTimestamp"):
                    self.delete(resource, obj, None, None, {})
        self._finish_namespace(name)
        return self.store.find("namespaces", name) or namespace

    def _finish_namespace(self, name: str) -> None:
        namespace = self.store.find("namespaces", name)
        if namespace is None or namespace.get("status", {}).get("phase") != "Terminating":
            return
        for resource in CATALOGUE.resources:
            if resource.namespaced and self.store.tables.table(resource).count(name):
                return
        namespace["spec"]["finalizers"] = []
        self.store.tables.remove(CATALOGUE.by_plural["namespaces"], namespace)
        log.info("namespace %s: empty, deleted", name)

    def on_change(self, resource: Resource, change: Change) -> None:
        """After an object is gone: collect its dependents, finish owners and namespaces."""
        if change.type != "DELETED":
            if resource.plural == "pods" and change.new.fields["status.phase"] in _TERMINAL:
                self._release_claims(change.new.load())
            return
        obj = change.new.load()
        meta = obj["metadata"]
        self._collect_dependents(meta["uid"])
        if resource.plural == "pods":
            self._release_claims(obj)
        for ref in meta.get("ownerReferences") or []:
            self._finish_foreground_owner(ref, meta.get("namespace", ""))
        if resource.namespaced:
            self._finish_namespace(meta.get("namespace", ""))

    def _collect_dependents(self, uid: str) -> None:
        for plural, namespace, name in sorted(self.store.tables.dependents.get(uid, ())):
            dependent = self.store.find(plural, name, namespace or None)
            if dependent is None or dependent["metadata"].get("deletionTimestamp"):
                continue
            refs = dependent["metadata"].get("ownerReferences") or []
            if any(self._owner_exists(ref, namespace) for ref in refs):
                continue
            log.info("%s %s/%s: owner gone, deleting", plural, namespace, name)
            self.delete(self.store.resource(plural), dependent, None, None, {})

    def _owner_exists(self, ref: dict[str, str], namespace: str) -> bool:
        resource = CATALOGUE.by_kind.get(ref.get("kind", ""))
        if resource is None:
            return False
        owner = self.store.find(resource, ref.get("name", ""), namespace or None)
        return owner is not None and owner["metadata"]["uid"] == ref.get("uid")

    def _finish_foreground_owner(self, ref: dict[str, str], namespace: str) -> None:
        resource = CATALOGUE.by_kind.get(ref.get("kind", ""))
        if resource is None:
            return
        owner = self.store.find(resource, ref.get("name", ""), namespace or None)
        if owner is None or owner["metadata"]["uid"] != ref.get("uid"):
            return
        if FOREGROUND in (owner["metadata"].get("finalizers") or []):
            self._run_system_finalizers(resource, owner)


def _later(stamp: str, seconds: int) -> str:
    moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ") + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
