"""Write Kubernetes events as the real components do, repeated ones folded into a count."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from jupyter_workspaces.simulator.controllers.base import (
    Obj,
    call,
    micro_time,
    rfc3339,
    status_message,
)

log = logging.getLogger(__name__)

# A repeated event within this many seconds bumps the count of the first one.
_FOLD_WINDOW = 600.0


class EventRecorder:
    """Records events about objects for one component.

    `legacy=True` writes core/v1 events the way the kubelet and controller-manager of 1.20 do
    (`source`, `firstTimestamp`, `lastTimestamp`, `count`); `legacy=False` writes them the way
    the scheduler's events.k8s.io recorder does (`eventTime`, `reportingController`, `action`,
    `series` on repeats, no first/last timestamps).
    """

    def __init__(
        self,
        api: client.ApiClient,
        component: str,
        *,
        host: str | None = None,
        legacy: bool = True,
    ) -> None:
        self._core = client.CoreV1Api(api)
        self.component = component
        self.host = host
        self.legacy = legacy
        self._seen: dict[tuple[str, str, str, str], tuple[str, int, float]] = {}
        self._lock = threading.Lock()

    def event(
        self,
        obj: Obj,
        kind: str,
        reason: str,
        message: str,
        *,
        action: str = "",
        field_path: str = "",
    ) -> None:
        """Record `reason`/`message` of type `kind` ("Normal"/"Warning") about `obj`."""
        meta = obj.get("metadata") or {}
        namespace = meta.get("namespace") or "default"
        fold_key = (str(meta.get("uid")), kind, reason, message)
        now = time.monotonic()
        with self._lock:
            seen = self._seen.get(fold_key)
            if seen is not None and now - seen[2] < _FOLD_WINDOW:
                name, count, _ = seen
                self._seen[fold_key] = (name, count + 1, now)
            else:
                name, count = "", 0
                self._seen[fold_key] = ("", 1, now)
        try:
            if name:
                self._repeat(namespace, name, count + 1)
            else:
                created = self._create(obj, namespace, kind, reason, message, action, field_path)
                with self._lock:
                    self._seen[fold_key] = (created, self._seen[fold_key][1], now)
        except ApiException as exc:
            # An event is advice: losing one must not stop the component that writes it.
            log.warning(
                "%s/%s: could not record event %s (%s)",
                namespace,
                meta.get("name"),
                reason,
                status_message(exc),
            )
            with self._lock:
                self._seen.pop(fold_key, None)

    def _create(
        self,
        obj: Obj,
        namespace: str,
        kind: str,
        reason: str,
        message: str,
        action: str,
        field_path: str,
    ) -> str:
        meta = obj.get("metadata") or {}
        involved = {
            "kind": obj.get("kind"),
            "namespace": meta.get("namespace"),
            "name": meta.get("name"),
            "uid": meta.get("uid"),
            "apiVersion": obj.get("apiVersion"),
            "resourceVersion": meta.get("resourceVersion"),
        }
        if field_path:
            involved["fieldPath"] = field_path
        body: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{meta.get('name')}.{uuid.uuid4().hex[:16]}",
                "namespace": namespace,
            },
            "involvedObject": {k: v for k, v in involved.items() if v is not None},
            "reason": reason,
            "message": message,
            "type": kind,
        }
        if self.legacy:
            stamp = rfc3339()
            body["source"] = {"component": self.component}
            if self.host:
                body["source"]["host"] = self.host
            body.update(firstTimestamp=stamp, lastTimestamp=stamp, count=1)
        else:
            body.update(
                eventTime=micro_time(),
                reportingComponent=self.component,
                reportingInstance=f"{self.component}-{self.host or 'sim'}",
                action=action or reason,
            )
        created = call(self._core.create_namespaced_event, namespace, body)
        return str((created.get("metadata") or {}).get("name") or "")

    def _repeat(self, namespace: str, name: str, count: int) -> None:
        if self.legacy:
            patch: Obj = {"count": count, "lastTimestamp": rfc3339()}
        else:
            patch = {"series": {"count": count, "lastObservedTime": micro_time()}}
        call(self._core.patch_namespaced_event, name, namespace, patch)
