"""A StatefulSet controller for single-replica sets, speaking to the API as a client.

It does what the real one does for replicas 0 and 1: creates the claims of the
volumeClaimTemplates (and keeps them on scale-down and delete), creates pod `<name>-0` with an
owner reference and the controller's labels, deletes it on scale to 0, recreates a Failed pod,
records the real events (`SuccessfulCreate`, `SuccessfulDelete`, `FailedCreate` with back-off,
so a quota that frees up is noticed) and keeps the status counts up to date.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from jupyter_workspaces.simulator.controllers.base import (
    Controller,
    Informer,
    Obj,
    call,
    key_of,
    status_message,
    status_reason,
)
from jupyter_workspaces.simulator.controllers.events import EventRecorder

log = logging.getLogger(__name__)

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
REVISION_LABEL = "controller-revision-hash"
# Back-off of a refused pod creation (quota): doubles from the first to the cap, in seconds.
_FAILED_CREATE_BACKOFF = (1.0, 30.0)


def pod_summary(pod: Obj) -> dict[str, Any]:
    """What the controller needs of a pod; keeps the cache small at 10,000 workspaces."""
    meta = pod.get("metadata") or {}
    status = pod.get("status") or {}
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    owner = next(
        (r.get("name") for r in meta.get("ownerReferences") or [] if r.get("controller")), None
    )
    return {
        "uid": meta.get("uid"),
        "owner": owner,
        "phase": status.get("phase"),
        "ready": ready,
        "deleting": bool(meta.get("deletionTimestamp")),
        "revision": (meta.get("labels") or {}).get(REVISION_LABEL),
    }


def revision_hash(statefulset: Obj) -> str:
    """`<name>-<hash of the pod template>`, the shape of the real controller's revision names."""
    template = json.dumps((statefulset.get("spec") or {}).get("template"), sort_keys=True)
    digest = int.from_bytes(hashlib.sha256(template.encode()).digest()[:4], "big")
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    text = ""
    while digest:
        digest, rest = divmod(digest, len(alphabet))
        text += alphabet[rest]
    return f"{(statefulset.get('metadata') or {}).get('name')}-{text[:10] or 'b'}"


def claims_for(sts: Obj, pod_name: str) -> list[Obj]:
    """The claims of the volumeClaimTemplates for pod `pod_name`, as the controller makes them."""
    spec = sts.get("spec") or {}
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    claims = []
    for template in spec.get("volumeClaimTemplates") or []:
        claim = json.loads(json.dumps(template))
        meta = claim.setdefault("metadata", {})
        meta["name"] = f"{meta.get('name')}-{pod_name}"
        meta["namespace"] = sts["metadata"]["namespace"]
        meta["labels"] = {**(meta.get("labels") or {}), **selector}
        claim.update(apiVersion="v1", kind="PersistentVolumeClaim")
        claim.pop("status", None)
        claims.append(claim)
    return claims


def pod_for(sts: Obj, pod_name: str) -> Obj:
    """The pod the controller creates for ordinal `pod_name` of a StatefulSet."""
    meta = sts["metadata"]
    spec = sts.get("spec") or {}
    template = json.loads(json.dumps(spec.get("template") or {}))
    template_meta = template.get("metadata") or {}
    pod_spec = template.get("spec") or {}
    pod_spec["hostname"] = pod_name
    if spec.get("serviceName"):
        pod_spec["subdomain"] = spec["serviceName"]
    volumes = [
        v
        for v in pod_spec.get("volumes") or []
        if v.get("name")
        not in {
            (t.get("metadata") or {}).get("name") for t in spec.get("volumeClaimTemplates") or []
        }
    ]
    for template_claim in spec.get("volumeClaimTemplates") or []:
        claim_name = (template_claim.get("metadata") or {}).get("name")
        volumes.append(
            {
                "name": claim_name,
                "persistentVolumeClaim": {"claimName": f"{claim_name}-{pod_name}"},
            }
        )
    pod_spec["volumes"] = volumes
    labels = dict(template_meta.get("labels") or {})
    labels[REVISION_LABEL] = sts.get("revision") or revision_hash(sts)
    labels[POD_NAME_LABEL] = pod_name
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": pod_name,
            "namespace": meta["namespace"],
            "labels": labels,
            "annotations": dict(template_meta.get("annotations") or {}),
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "StatefulSet",
                    "name": meta["name"],
                    "uid": meta["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": pod_spec,
    }


def set_summary(sts: Obj) -> Obj:
    """What the controller keeps of a StatefulSet: enough to reconcile and name it in events.
    The pod template is read afresh when a pod is to be made."""
    meta = sts.get("metadata") or {}
    kept = ("name", "namespace", "uid", "generation", "resourceVersion", "deletionTimestamp")
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {k: meta[k] for k in kept if k in meta},
        "spec": {"replicas": (sts.get("spec") or {}).get("replicas", 1)},
        "status": sts.get("status") or {},
        "revision": revision_hash(sts),
    }


def desired_status(sts: Obj, pod: dict[str, Any] | None) -> dict[str, Any]:
    """The status the controller writes, given its summary of the set's pod (or None)."""
    revision = sts.get("revision") or revision_hash(sts)
    exists = pod is not None
    ready = bool(pod and pod["ready"] and not pod["deleting"])
    current = bool(pod and pod.get("revision") == revision)
    return {
        "observedGeneration": (sts.get("metadata") or {}).get("generation", 1),
        "replicas": int(exists),
        "readyReplicas": int(ready),
        "currentReplicas": int(current),
        "updatedReplicas": int(current),
        "currentRevision": revision,
        "updateRevision": revision,
        "collisionCount": 0,
    }


class StatefulSetController(Controller):
    """Reconciles every StatefulSet in the cluster towards its replicas (0 or 1)."""

    name = "statefulset-controller"

    def __init__(self, api: client.ApiClient, speed: float = 1.0) -> None:
        super().__init__()
        self.speed = speed
        self._core = client.CoreV1Api(api)
        self._apps = client.AppsV1Api(api)
        self._events = EventRecorder(api, "statefulset-controller")
        self._backoff: dict[str, float] = {}
        self.sets = Informer(
            "statefulsets",
            self._apps.list_stateful_set_for_all_namespaces,
            self._set_changed,
            transform=set_summary,
        )
        self.pods = Informer(
            "pods",
            self._core.list_pod_for_all_namespaces,
            self._pod_changed,
            transform=pod_summary,
        )
        self.informers = [self.sets, self.pods]

    def _set_changed(self, key: str, old: Any, new: Any) -> None:
        self.queue.add(key)

    def _pod_changed(self, key: str, old: Any, new: Any) -> None:
        owner = (new or old or {}).get("owner")
        if owner:
            self.queue.add(f"{key.split('/', 1)[0]}/{owner}")

    def reconcile(self, key: str) -> None:
        sts = self.sets.items.get(key)
        if sts is None or (sts.get("metadata") or {}).get("deletionTimestamp"):
            return
        namespace, name = key.split("/", 1)
        pod_name = f"{name}-0"
        pod = self.pods.items.get(f"{namespace}/{pod_name}")
        replicas = int((sts.get("spec") or {}).get("replicas", 1))

        if pod is not None and pod["owner"] != name:
            pod = None  # someone else's pod of that name: never touch it
        elif pod is not None and not pod["deleting"]:
            if replicas < 1:
                self._delete_pod(sts, pod_name)
            elif pod["phase"] == "Failed":
                log.info("%s: pod %s failed, recreating it", key, pod_name)
                self._delete_pod(sts, pod_name)
        elif pod is None and replicas >= 1:
            pod = self._create_pod(sts, pod_name)
        self._write_status(sts, pod)

    def _create_pod(self, sts: Obj, pod_name: str) -> dict[str, Any] | None:
        namespace = sts["metadata"]["namespace"]
        key = key_of(sts)
        live = self._live(sts)
        if live is None:
            return None
        try:
            self._ensure_claims(live, pod_name)
            created = call(self._core.create_namespaced_pod, namespace, pod_for(live, pod_name))
        except ApiException as exc:
            if exc.status == 409 and status_reason(exc) == "AlreadyExists":
                return None  # our cache is behind: the watch will bring the pod
            message = status_message(exc)
            self._events.event(
                sts,
                "Warning",
                "FailedCreate",
                f"create Pod {pod_name} in StatefulSet {sts['metadata']['name']} failed "
                f"error: {message}",
            )
            delay = self._backoff.get(key, _FAILED_CREATE_BACKOFF[0])
            self._backoff[key] = min(delay * 2, _FAILED_CREATE_BACKOFF[1])
            log.info("%s: pod %s refused (%s); retrying in %.1fs", key, pod_name, message, delay)
            self.queue.add(key, delay / self.speed)
            return None
        self._backoff.pop(key, None)
        self._events.event(
            sts,
            "Normal",
            "SuccessfulCreate",
            f"create Pod {pod_name} in StatefulSet {sts['metadata']['name']} successful",
        )
        log.info("%s: created pod %s", key, pod_name)
        return pod_summary(created)

    def _live(self, sts: Obj) -> Obj | None:
        """The set as the API has it now, None if it is gone or going: our cache may not have
        seen a deletion yet, and a pod created for a deleted set would be an orphan."""
        meta = sts["metadata"]
        try:
            live = call(self._apps.read_namespaced_stateful_set, meta["name"], meta["namespace"])
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        live_meta = live.get("metadata") or {}
        if live_meta.get("uid") != meta.get("uid") or live_meta.get("deletionTimestamp"):
            return None
        return live

    def _ensure_claims(self, sts: Obj, pod_name: str) -> None:
        namespace = sts["metadata"]["namespace"]
        for claim in claims_for(sts, pod_name):
            try:
                created = call(
                    self._core.create_namespaced_persistent_volume_claim, namespace, claim
                )
            except ApiException as exc:
                if exc.status == 409:
                    # Kept from an earlier run, which is the point of the claim; it may have
                    # been left unbound if binding failed back then.
                    name = claim["metadata"]["name"]
                    kept = call(
                        self._core.read_namespaced_persistent_volume_claim, name, namespace
                    )
                    if (kept.get("status") or {}).get("phase") != "Bound":
                        self._bind_claim(kept)
                    continue
                self._events.event(
                    sts,
                    "Warning",
                    "FailedCreate",
                    f"create Claim {claim['metadata']['name']} for Pod {pod_name} in "
                    f"StatefulSet {sts['metadata']['name']} failed error: {status_message(exc)}",
                )
                raise
            self._events.event(
                sts,
                "Normal",
                "SuccessfulCreate",
                f"create Claim {claim['metadata']['name']} Pod {pod_name} in StatefulSet "
                f"{sts['metadata']['name']} success",
            )
            self._bind_claim(created)

    def _bind_claim(self, claim: Obj) -> None:
        """Play the volume provisioner: the simulated cluster has storage for every claim."""
        meta = claim["metadata"]
        storage = ((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}
        volume = f"pvc-{meta.get('uid')}"
        try:
            call(
                self._core.patch_namespaced_persistent_volume_claim,
                meta["name"],
                meta["namespace"],
                {"spec": {"volumeName": volume}},
            )
            call(
                self._core.patch_namespaced_persistent_volume_claim_status,
                meta["name"],
                meta["namespace"],
                {
                    "status": {
                        "phase": "Bound",
                        "accessModes": (claim.get("spec") or {}).get("accessModes"),
                        "capacity": {"storage": storage.get("storage", "1Gi")},
                    }
                },
            )
        except ApiException as exc:
            log.warning(
                "%s/%s: could not bind the claim (%s); will try again",
                meta["namespace"],
                meta["name"],
                status_message(exc),
            )
            raise

    def _delete_pod(self, sts: Obj, pod_name: str) -> None:
        namespace = sts["metadata"]["namespace"]
        try:
            call(self._core.delete_namespaced_pod, pod_name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return
            self._events.event(
                sts,
                "Warning",
                "FailedDelete",
                f"delete Pod {pod_name} in StatefulSet {sts['metadata']['name']} failed "
                f"error: {status_message(exc)}",
            )
            raise
        self._events.event(
            sts,
            "Normal",
            "SuccessfulDelete",
            f"delete Pod {pod_name} in StatefulSet {sts['metadata']['name']} successful",
        )
        log.info("%s: deleted pod %s", key_of(sts), pod_name)

    def _write_status(self, sts: Obj, pod: dict[str, Any] | None) -> None:
        wanted = desired_status(sts, pod)
        status = sts.get("status") or {}
        # A real server drops zero counts from the JSON; comparing with .get(k, 0) matches that.
        if all(status.get(k, 0) == v for k, v in wanted.items()):
            return
        meta = sts["metadata"]
        call(
            self._apps.patch_namespaced_stateful_set_status,
            meta["name"],
            meta["namespace"],
            {"status": wanted},
        )
