"""Timing helper shared by the benchmark scripts (run as ``python benchmarks/bench_*.py``)."""

from __future__ import annotations

import statistics
import time

_STATS = {"median": statistics.median, "min": min, "last": lambda times: times[-1]}


def timed(fn, repeat: int, *, stat: str = "median"):
    """Run ``fn`` ``repeat`` times; return ``(seconds, last result)``.

    ``stat``: ``median`` of the runs, ``min`` (best run) or ``last`` (the warm
    run after ``repeat − 1`` warm-ups).
    """
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return _STATS[stat](times), out
