"""Worker processes of the package die with their parent, even when it is killed.

The build draws the indicators and fits the models in forked worker processes
(:mod:`barometre_geo.build.indicator`, :mod:`barometre_geo.indicators.modelled`).
A parent killed with SIGKILL (out of memory, ``kill -9``, a CI timeout) runs no
cleanup: without help, its workers would keep running, orphaned. Each pool
passes :func:`die_with_parent` as its initializer.
"""

from __future__ import annotations

import os
import signal

__all__ = ["die_with_parent"]


def die_with_parent(parent: int) -> None:
    """Make this worker die when process ``parent`` does, even killed by SIGKILL.

    On Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills the
    worker when the thread that forked it ends (the parent's main thread,
    which starts the pools). The parent may be gone before the call: checked
    after it. Elsewhere (no ``prctl``) a daemon thread polls the parent's pid.

    Parameters
    ----------
    parent : int
        The parent's pid, taken before forking (``os.getpid()``).
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        if libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl")
    except (OSError, AttributeError):
        import threading
        import time

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(1.0)
            os._exit(1)

        threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(1)
