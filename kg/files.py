"""Files written aside and renamed into place: a reader never sees half a file, and a failure
(a full disk, Ctrl-C, SIGTERM) leaves the previous file as it was.

`write_atomically` writes several files that way, all renamed together or none; `kg build`'s
outputs and cache entries, `kg export -o`, `kg check`'s SHACL report and `kg viz`'s pictures
use it.

A kg killed outright (SIGKILL: the out-of-memory killer, `kill -9`) removes nothing: its
temporaries stay, hidden beside the files they were for, 220 MB for the TriG of 10,000 articles
and 1.5 GB for its store (kg.store). So a kg holds a lock on each of these temporaries while it
is in use (`claim`), and the next write of the same file removes those nobody holds
(`remove_abandoned`).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import stat
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Callable, Iterator

try:
    import fcntl
except ImportError:   # Windows: no flock; temporaries left by a killed kg stay
    fcntl = None  # type: ignore[assignment]

__all__ = ["ABANDONED_AFTER_S", "claim", "remove_abandoned", "signals_held", "temp_beside", "write_atomically"]

#: How long a temporary nobody holds must have been left unchanged before it is taken for
#: abandoned: a kg claims its own within microseconds of making it.
ABANDONED_AFTER_S = 60.0


def claim(path: Path) -> int:
    """Hold the temporary file or folder at `path` (an flock on it) for as long as the descriptor
    returned stays open, for the caller to close: remove_abandoned leaves it alone. The kernel lets
    go of it when the process ends, however it ends. On a file system without locks, nothing is
    held (and remove_abandoned, unable to lock, removes nothing there)."""
    fd = os.open(path, os.O_RDONLY)
    _lock(fd)
    return fd


def _lock(fd: int) -> bool:
    """Take the flock of what `fd` is open on, without waiting: whether it was taken (False: a
    running kg holds it, or the file system has no locks)."""
    if fcntl is None:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _temporaries(name: str) -> re.Pattern[str]:
    """The names of kg's temporaries for the file or folder `name`, as tempfile makes them:
    files .NAME.XXXXXXXX.tmp (temp_beside), folders .NAME.XXXXXXXX and .NAME.old.XXXXXXXX (kg.store)."""
    return re.compile(rf"\.{re.escape(name)}\.(?:[a-z0-9_]{{8}}\.tmp|(?:old\.)?[a-z0-9_]{{8}})")


def remove_abandoned(path: Path) -> list[Path]:
    """Remove the temporaries kg made beside `path` (for it) that no running kg holds and that
    nothing has changed for ABANDONED_AFTER_S: what a kg killed outright left. Returns them.
    Only names of the shapes tempfile gives them are looked at (_temporaries), a file only where
    kg makes files and a folder only where it makes folders; what cannot be removed is left."""
    if fcntl is None:
        return []
    pattern = _temporaries(path.name)
    try:
        names = [name for name in os.listdir(path.parent) if pattern.fullmatch(name)]
    except OSError:
        return []
    removed = []
    for name in names:
        left = path.parent / name
        try:
            fd = os.open(left, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            info = os.fstat(fd)
            made_so = stat.S_ISREG(info.st_mode) if name.endswith(".tmp") else stat.S_ISDIR(info.st_mode)
            if not made_so or time.time() - info.st_mtime < ABANDONED_AFTER_S or not _lock(fd):
                continue
            if stat.S_ISDIR(info.st_mode):
                shutil.rmtree(left)
            else:
                left.unlink()
            removed.append(left)
        except OSError:   # not ours to remove
            continue
        finally:
            os.close(fd)
    return removed


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
    space, happen after the first old file is replaced. A symbolic link is followed (the file
    it names is replaced, the link kept), a replaced file keeps its permissions, and a path that
    is not a regular file (/dev/stdout, a named pipe) is written to directly, as it is.
    """
    written: list[tuple[str, Path]] = []
    claims: list[int] = []   # a descriptor of each durable temporary, holding its claim until it is renamed
    try:
        try:
            for path, data in files.items():
                target, mode = _target(path)
                if mode is not None and not stat.S_ISREG(mode):
                    with open(target, "wb") as handle:
                        _write(handle, data)
                    continue
                # Only the few large files are claimed and swept: a cache entry's leftover is a few
                # hundred bytes, and the build writes thousands of them.
                if durable:
                    remove_abandoned(target)
                with signals_held():  # a temporary file is made and recorded for removal, or not made
                    fd, tmp = temp_beside(target)
                    written.append((tmp, target))
                    if durable:
                        claims.append(claim(Path(tmp)))
                if mode is not None:
                    os.chmod(tmp, stat.S_IMODE(mode))
                with os.fdopen(fd, "wb", buffering=1 << 20) as handle:
                    _write(handle, data)
                    handle.flush()
                    if durable:
                        os.fsync(handle.fileno())
            # The renames run with Ctrl-C held back, so they happen all together or not at all. A
            # signal that came before the hold is raised as it begins: the temporaries go then too.
            with signals_held():
                try:
                    for tmp, path in written:
                        os.replace(tmp, path)
                finally:
                    for tmp, _ in written:
                        Path(tmp).unlink(missing_ok=True)
        except BaseException:
            for tmp, _ in written:
                Path(tmp).unlink(missing_ok=True)
            raise
    finally:
        for fd in claims:
            os.close(fd)


def _target(path: Path) -> tuple[Path, int | None]:
    """The file to replace for `path` (the one a symbolic link names), and its mode (None: no file yet).
    One lstat for the usual path, a regular file or none: the build writes thousands of them."""
    try:
        mode: int | None = os.lstat(path).st_mode
    except FileNotFoundError:
        return path, None
    if not stat.S_ISLNK(mode):
        return path, mode
    target = Path(os.path.realpath(path))
    try:
        return target, os.stat(target).st_mode
    except FileNotFoundError:   # a link to a file not made yet
        return target, None


def _write(handle: IO[bytes], data: bytes | Callable[[IO[bytes]], None]) -> None:
    if callable(data):
        data(handle)
    else:
        handle.write(data)


#: The signals a signals_held block has received, while one runs (None otherwise).
_HELD: list[int] | None = None


@contextmanager
def signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM held back until the block ends, then delivered to their handlers.

    Python runs signal handlers in the main thread, whichever thread the signal reached, so
    the handlers themselves are swapped (a mask would hold back only the main thread's share):
    the block records a signal, and it is raised again once the previous handlers are back. An
    inner block runs inside the outer one's hold; outside the main thread, nothing is held
    (no handler can be set there, and none would run there).
    """
    global _HELD
    if _HELD is not None or threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous: dict[int, Any] = {}
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda signum, _frame: received.append(signum))
    except BaseException:   # a signal that came before the hold, its handler run as the hold began
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        raise
    _HELD = received
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        _HELD = None
        if received:
            signal.raise_signal(received[0])
