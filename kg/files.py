"""Files written aside and renamed into place: a reader never sees half a file, and a failure
(a full disk, Ctrl-C, SIGTERM) leaves the previous file as it was.

`write_atomically` writes several files that way, all renamed together or none; `kg build`'s
outputs and cache entries, `kg export -o`, `kg check`'s SHACL report and `kg viz`'s pictures
use it.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Callable, Iterator

__all__ = ["signals_held", "temp_beside", "write_atomically"]


def temp_beside(path: Path) -> tuple[int, str]:
    """A new temporary file in `path`'s folder (made if need be), to be renamed to `path`: its
    descriptor and name. It gets the usual permissions (umask applied), where mkstemp gives 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return fd, tmp


def write_atomically(files: dict[Path, bytes | Callable[[IO[bytes]], None]], *, durable: bool = True) -> None:
    """Write every file aside first (its bytes, or what its writer writes to a binary handle,
    in the order given), synced to disk if `durable`, then rename them all into place.

    A failure while writing (a full disk, an interruption) removes the temporary files and
    leaves every previous file as it was; only the renames, which do not fail for want of
    space, happen after the first old file is replaced.
    """
    written: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            with signals_held():  # a temporary file is made and recorded for removal, or not made
                fd, tmp = temp_beside(path)
                written.append((tmp, path))
            with os.fdopen(fd, "wb", buffering=1 << 20) as handle:
                if callable(data):
                    data(handle)
                else:
                    handle.write(data)
                handle.flush()
                if durable:
                    os.fsync(handle.fileno())
    except BaseException:
        for tmp, _ in written:
            Path(tmp).unlink(missing_ok=True)
        raise
    # The renames run with Ctrl-C held back, so they happen all together or not at all.
    with signals_held():
        try:
            for tmp, path in written:
                os.replace(tmp, path)
        finally:
            for tmp, _ in written:
                Path(tmp).unlink(missing_ok=True)


@contextmanager
def signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM held back (in the main thread, where Python handles them) until the block ends."""
    blocked = threading.current_thread() is threading.main_thread()
    if blocked:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        if blocked:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
