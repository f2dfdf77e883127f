"""The build's forked worker pools: started with the signals held, abandoned cleanly.

:func:`forked_pool` is how the map and territory-page renderers run in parallel:
the pool is forked and its tasks submitted while SIGINT/SIGTERM are held back (a
pool half started by Ctrl-C cannot be shut down), the pending tasks are cancelled
if the build is abandoned, and the running ones are always waited for (they write
into the staging folder).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

__all__ = ["forked_pool"]


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
        raise
    finally:
        if pool is not None:  # wait for the running ones: they write into the staging
            pool.shutdown(wait=True, cancel_futures=True)
