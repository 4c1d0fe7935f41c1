"""Print how long derive_status takes per workspace, over every situation the tests cover.

Run from the repository root: `.venv/bin/python bench/bench_status.py [rounds]`.
The watch cache calls derive_status once per changed workspace, and once per workspace when it
first loads, so this figure times N gives the cost of a first load of N workspaces.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jupyter_workspaces.status import derive_status
from tests.test_status import CASES


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    inputs = [param.values[0]() for param in CASES]
    calls = 0
    started = time.perf_counter()
    for _ in range(rounds):
        for sts, pod, events, now in inputs:
            derive_status(sts, pod, events, now)
            calls += 1
    elapsed = time.perf_counter() - started
    per_call = elapsed / calls
    print(f"derive_status: {calls} calls over {len(inputs)} situations in {elapsed:.2f} s")
    print(f"  {per_call * 1e6:.1f} µs per call; 10,000 workspaces in {per_call * 1e4:.2f} s")


if __name__ == "__main__":
    main()
