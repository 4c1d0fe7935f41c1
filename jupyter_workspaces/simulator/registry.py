"""The simulated image registry: which images exist, how long they take to pull, how they run.

A workspace's image decides what its container does in the simulator, so every face of the
product can show every status just by choosing an image:

| image                                   | behaviour                                         |
|-----------------------------------------|---------------------------------------------------|
| any image listed in `KNOWN_IMAGES`      | pulls (time from its size), starts, becomes ready |
| `simulated/crash-loop:1`                | exits with code 1 a few seconds after each start  |
| `simulated/oom:1`                       | is OOMKilled (exit code 137) soon after each start|
| `simulated/never-ready:1`               | runs, but its readiness probe never passes        |
| `simulated/crash-later:1`               | becomes ready, then crashes after a while (30 s)  |
| `simulated/private:1`                   | pull refused: unauthorized                        |
| anything else                           | pull fails: not found (ErrImagePull, then         |
|                                         | ImagePullBackOff)                                 |

A pod annotation overrides the image's behaviour: `BEHAVIOUR_ANNOTATION` set to one of
`BEHAVIOURS`; `CRASH_AFTER_ANNOTATION` gives the seconds a `crash-later` container runs first.
Annotations on a StatefulSet's pod template reach its pod, so scenarios use them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from jupyter_workspaces.constants import DOMAIN

Behaviour = Literal["ok", "crash-loop", "oom", "never-ready", "crash-later"]
BEHAVIOURS: tuple[Behaviour, ...] = ("ok", "crash-loop", "oom", "never-ready", "crash-later")

BEHAVIOUR_ANNOTATION = f"simulator.{DOMAIN}/behaviour"
CRASH_AFTER_ANNOTATION = f"simulator.{DOMAIN}/crash-after-seconds"
# ISO-8601 time a scenario gives as the tools' last activity (else: when the pod got ready).
LAST_ACTIVITY_ANNOTATION = f"simulator.{DOMAIN}/last-activity"

MB = 1_000_000
# Simulated download speed of every node, bytes per second.
PULL_BYTES_PER_SECOND = 50 * MB


@dataclass(frozen=True)
class Image:
    """An image the registry holds: its size and what its container does when run."""

    size: int
    behaviour: Behaviour = "ok"
    # Seconds from start until the readiness probe first passes.
    ready_after: float = 3.0
    # Seconds a crashing container runs before it exits.
    runs_for: float = 2.0
    # For "crash-later": seconds of healthy running before the first crash.
    crash_after: float = 30.0


@dataclass(frozen=True)
class PullError:
    """Why a pull fails, worded as containerd reports it to the kubelet."""

    message: str


KNOWN_IMAGES: dict[str, Image] = {
    "quay.io/jupyter/base-notebook:2024-05-27": Image(size=350 * MB),
    "quay.io/jupyter/minimal-notebook:2024-05-27": Image(size=550 * MB),
    "quay.io/jupyter/scipy-notebook:2024-05-27": Image(size=1_300 * MB),
    "quay.io/jupyter/datascience-notebook:2024-05-27": Image(size=2_000 * MB),
    "quay.io/jupyter/pytorch-notebook:cuda12-2024-05-27": Image(size=2_500 * MB),
    "quay.io/jupyter/tensorflow-notebook:cuda-2024-05-27": Image(size=2_200 * MB),
    "jupyter/base-notebook:latest": Image(size=350 * MB),
    "jupyter/scipy-notebook:latest": Image(size=1_300 * MB),
    "codercom/code-server:4.89.1": Image(size=300 * MB),
    "tensorflow/tensorflow:2.16.1-gpu": Image(size=3_200 * MB),
    "nvcr.io/nvidia/pytorch:24.05-py3": Image(size=9_000 * MB, ready_after=8.0),
    "simulated/crash-loop:1": Image(size=100 * MB, behaviour="crash-loop"),
    "simulated/oom:1": Image(size=100 * MB, behaviour="oom", runs_for=1.0),
    "simulated/never-ready:1": Image(size=100 * MB, behaviour="never-ready"),
    "simulated/crash-later:1": Image(size=100 * MB, behaviour="crash-later"),
}

_UNAUTHORIZED = {"simulated/private:1"}


@dataclass
class Registry:
    """What images exist; scenarios and tests may add their own."""

    images: dict[str, Image] = field(default_factory=lambda: dict(KNOWN_IMAGES))
    unauthorized: set[str] = field(default_factory=lambda: set(_UNAUTHORIZED))
    bytes_per_second: float = PULL_BYTES_PER_SECOND

    def lookup(self, image: str) -> Image | PullError:
        """The image, or why pulling it fails."""
        known = self.images.get(image) or self.images.get(_with_latest(image))
        if known is not None:
            return known
        ref = _canonical(image)
        if image in self.unauthorized:
            return PullError(
                f'rpc error: code = Unknown desc = failed to pull and unpack image "{ref}": '
                f'failed to resolve reference "{ref}": pull access denied, repository does '
                "not exist or may require authorization: server message: "
                "insufficient_scope: authorization failed"
            )
        return PullError(
            f'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": '
            f'failed to resolve reference "{ref}": {ref}: not found'
        )

    def pull_seconds(self, image: Image) -> float:
        """Simulated seconds a node takes to download the image."""
        return max(0.5, image.size / self.bytes_per_second)


def behaviour_of(image: Image, annotations: Mapping[str, str]) -> tuple[Behaviour, float]:
    """The behaviour a container shows, and the seconds of healthy running before a crash."""
    chosen = annotations.get(BEHAVIOUR_ANNOTATION, image.behaviour)
    behaviour: Behaviour = chosen if chosen in BEHAVIOURS else image.behaviour
    try:
        crash_after = float(annotations.get(CRASH_AFTER_ANNOTATION, image.crash_after))
    except ValueError:
        crash_after = image.crash_after
    return behaviour, crash_after


def _with_latest(image: str) -> str:
    last = image.rsplit("/", 1)[-1]
    return image if ":" in last or "@" in last else f"{image}:latest"


def _canonical(image: str) -> str:
    """The reference as containerd spells it: docker.io/library/ added where implied."""
    image = _with_latest(image)
    first = image.split("/", 1)[0]
    if "/" not in image:
        return f"docker.io/library/{image}"
    if "." not in first and ":" not in first and first != "localhost":
        return f"docker.io/{image}"
    return image
