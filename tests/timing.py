"""CPU-time measurement for the linear-time tests (CPU time, unlike wall time, is not taken by
other processes; best of three against the noise that remains)."""
from __future__ import annotations

import time


def cpu_time(fn, repeats: int = 3) -> float:
    """Best-of-``repeats`` CPU time of ``fn()`` in seconds."""
    best = float("inf")
    for _ in range(repeats):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best
