"""Injected faults (latency, 5xx answers, dropped watches, expired history, outage) and the
request counter that tests read to see how a client behaves."""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from jupyter_workspaces.simulator.apiserver.failures import ApiError, internal, unavailable

log = logging.getLogger(__name__)

VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")


class RequestCounter:
    """Requests served, by Kubernetes audit verb and resource (`pods`, `pods/status`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def add(self, verb: str, resource: str) -> None:
        with self._lock:
            self._counts[(verb, resource)] += 1

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def count(self, verb: str | None = None, resource: str | None = None) -> int:
        """Requests with this verb and resource; None matches any."""
        with self._lock:
            return sum(
                number
                for (seen_verb, seen_resource), number in self._counts.items()
                if verb in (None, seen_verb) and resource in (None, seen_resource)
            )

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {
                f"{verb} {resource}": n for (verb, resource), n in sorted(self._counts.items())
            }

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


class Faults:
    """What is currently going wrong with the API server, and the switches to change it.

    `drop_watches` and `expire_history` act at once; the others last until `clear()` (or
    `recover()` for an outage). The admin endpoint `POST /simulator/faults` calls these too.
    """

    def __init__(self) -> None:
        self.delay = 0.0
        self.share = 0.0
        self.error_status = 503
        self.down = False
        self.refuse_connections = False
        self._random = random.Random(0)
        self._lock = threading.Lock()
        # Set by the server: close every open watch stream / forget history / (un)listen.
        self.on_drop_watches: Callable[[], int] = lambda: 0
        self.on_expire_history: Callable[[], None] = lambda: None
        self.on_outage: Callable[[bool], None] = lambda refuse: None
        self.on_recover: Callable[[], None] = lambda: None

    def latency(self, seconds: float) -> None:
        """Delay every request by `seconds` before it is answered."""
        if seconds < 0:
            raise ValueError(f"latency must be 0 or more seconds, got {seconds}")
        self.delay = float(seconds)
        log.info("faults: latency %.3f s", seconds)

    def error_rate(self, share: float, status: int = 503, *, seed: int | None = None) -> None:
        """Answer `share` (0..1) of requests with a 5xx `status` instead of serving them."""
        if not 0 <= share <= 1:
            raise ValueError(f"error share must be between 0 and 1, got {share}")
        if status not in (500, 502, 503, 504):
            raise ValueError(f"error status must be one of 500, 502, 503, 504, got {status}")
        with self._lock:
            self.share, self.error_status = float(share), status
            if seed is not None:
                self._random.seed(seed)
        log.info("faults: %.0f%% of requests answered %d", share * 100, status)

    def drop_watches(self) -> int:
        """Close every open watch stream now; returns how many were open."""
        count = self.on_drop_watches()
        log.info("faults: dropped %d watch streams", count)
        return count

    def expire_history(self) -> None:
        """Forget watch history: the next watch from any earlier version gets 410 Gone."""
        self.on_expire_history()
        log.info("faults: watch history expired")

    def outage(self, *, refuse: bool = False) -> None:
        """Answer 503 to everything (or refuse connections) until `recover()`."""
        self.down, self.refuse_connections = True, refuse
        self.on_outage(refuse)
        self.drop_watches()
        log.info("faults: outage begins (%s)", "connections refused" if refuse else "503")

    def recover(self) -> None:
        if self.down:
            was_refusing = self.refuse_connections
            self.down, self.refuse_connections = False, False
            if was_refusing:
                self.on_recover()
            log.info("faults: outage over")

    def clear(self) -> None:
        """Remove every lasting fault."""
        self.recover()
        self.delay, self.share = 0.0, 0.0
        log.info("faults: cleared")

    def failure(self) -> ApiError | None:
        """The error the current request gets instead of an answer, if any."""
        if self.down:
            return unavailable()
        with self._lock:
            failing = self.share > 0 and self._random.random() < self.share
            status = self.error_status
        if not failing:
            return None
        if status == 500:
            return internal("simulated fault")
        if status == 504:
            return ApiError(504, "Timeout", "the server was unable to return a response in time")
        error = unavailable()
        error.code = status
        return error

    def describe(self) -> dict[str, Any]:
        return {
            "latency": self.delay,
            "error_rate": self.share,
            "status": self.error_status,
            "outage": self.down,
        }

    def apply(self, request: dict[str, Any]) -> dict[str, Any]:
        """Apply an admin request: keys latency, error_rate(+status, seed), drop_watches,
        expire_history, outage, recover, clear. Unknown keys are refused."""
        allowed = {
            "latency",
            "error_rate",
            "status",
            "seed",
            "drop_watches",
            "expire_history",
            "outage",
            "recover",
            "clear",
        }
        unknown = sorted(set(request) - allowed)
        if unknown:
            raise ValueError(f"unknown fault setting(s) {unknown}: use {sorted(allowed)}")
        if request.get("clear"):
            self.clear()
        if "latency" in request:
            self.latency(float(request["latency"]))
        if "error_rate" in request:
            self.error_rate(
                float(request["error_rate"]),
                int(request.get("status", 503)),
                seed=request.get("seed"),
            )
        if request.get("expire_history"):
            self.expire_history()
        if request.get("drop_watches"):
            self.drop_watches()
        if request.get("outage"):
            self.outage()
        if request.get("recover"):
            self.recover()
        return self.describe()
