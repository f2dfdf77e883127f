"""The build's forked worker pools: started with the signals held, abandoned cleanly.

:func:`forked_pool` is how the map and territory-page renderers run in parallel:
the pool is forked and its tasks submitted while SIGINT/SIGTERM are held back (a
pool half started by Ctrl-C cannot be shut down), the pending tasks are cancelled
if the build is abandoned, and the running ones are waited for (they write into
the staging folder) — for a bounded time: a worker still alive after that (a task
stuck, or an idle worker the shutdown message never reached, seen after SIGTERM)
is killed, so an abandoned build always exits.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

__all__ = ["forked_pool"]

#: Seconds an abandoned build waits for its running tasks, then for its workers to exit.
ABANDON_WAIT = (30.0, 5.0)


@contextmanager
def forked_pool(jobs: int, initializer: Callable, submit: Callable) -> Iterator[Iterable]:
    """Fork ``jobs`` workers, yield ``submit(pool)`` (the futures), shut the pool down after.

    ``initializer`` gets the parent's pid (workers die with it). Linux only (fork).
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from .swap import held_signals

    pool, futures = None, ()
    try:
        with held_signals():  # a pool half started by Ctrl-C/SIGTERM cannot be shut down
            pool = ProcessPoolExecutor(
                max_workers=jobs,
                mp_context=multiprocessing.get_context("fork"),
                initializer=initializer,
                initargs=(os.getpid(),),
            )
            futures = submit(pool)
        yield futures
    except BaseException:
        for fut in futures:  # do not start the others: the build is abandoned
            fut.cancel()
        if pool is not None:
            _abandon(pool, futures)
            pool = None
        raise
    finally:
        if pool is not None:  # wait for the running ones: they write into the staging
            pool.shutdown(wait=True, cancel_futures=True)


def _abandon(pool, futures) -> None:
    """Wait (bounded) for the running tasks, shut the pool down, kill workers left."""
    from concurrent.futures import wait

    running = [f for f in futures if not f.done()]
    if running:
        wait(running, timeout=ABANDON_WAIT[0])
    workers = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in workers:
        proc.join(timeout=ABANDON_WAIT[1])
        if proc.is_alive():  # never reached by the shutdown message: it would wait forever
            proc.kill()
            proc.join(timeout=ABANDON_WAIT[1])
