"""kg's child processes: tied to kg's life, and how they ended said in words.

The `oxigraph` executable (`kg query`'s store, `kg serve`) and the worker processes of a
several-process `kg build` are children of kg. Killed outright (SIGKILL, the out-of-memory
killer), kg runs no cleanup, so each child asks the kernel to end it when kg dies instead of
running on by itself; and when a child ends early, kg says how, by the signal's name.
"""

from __future__ import annotations

import os
import signal
import sys

__all__ = ["die_with_parent", "ending", "signal_name"]


def die_with_parent(parent: int | None = None) -> None:
    """In a child process, before its work: on Linux, have the kernel send it SIGTERM when the
    process that started it dies. With `parent` (that process's id), a child whose parent died
    before the request was made ends at once, as it would have a moment later."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if parent is not None and os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)


def signal_name(number: int) -> str:
    """SIGKILL for 9; "signal 40" for one without a name (a real-time signal)."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def ending(exitcode: int) -> str:
    """How a child that ended said in words, from its exit code (negative: the signal that ended
    it, as subprocess and multiprocessing give it): "killed by SIGKILL", "ended with exit code 1"."""
    if exitcode < 0:
        return f"killed by {signal_name(-exitcode)}"
    return f"ended with exit code {exitcode}"
