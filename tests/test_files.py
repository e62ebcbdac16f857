"""kg/files.py: files written aside and renamed into place; signals held back meanwhile."""

from __future__ import annotations

import fcntl
import os
import signal
import stat
import threading
import time

import pytest

from kg.files import signals_held, write_atomically

TWO_MINUTES_AGO = time.time() - 120


def _left(path, content=b"half a graph", *, when=TWO_MINUTES_AGO):
    path.write_bytes(content)
    os.utime(path, (when, when))
    return path


def test_files_are_replaced_together_and_a_failure_leaves_the_previous_ones(tmp_path):
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    write_atomically({first: b"old a\n", second: b"old b\n"})

    def fails(handle):
        handle.write(b"half of b")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_atomically({first: b"new a\n", second: fails})
    assert (first.read_bytes(), second.read_bytes()) == (b"old a\n", b"old b\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]   # no temporary file


def test_a_write_removes_the_temporaries_a_killed_kg_left_beside_its_file(tmp_path):
    target = tmp_path / "graph.trig"
    target.write_bytes(b"old graph\n")
    _left(tmp_path / ".graph.trig.k1lled_0.tmp")                       # a kg killed while writing it
    running = _left(tmp_path / ".graph.trig.running0.tmp")             # another kg writing it now
    _left(tmp_path / ".graph.trig.y0ung000.tmp", when=time.time())     # one a kg has only just made
    _left(tmp_path / ".graph.trig.bak")                                # the user's own
    (tmp_path / ".graph.trig.oxigraph.abcdefgh").mkdir()               # a store's, not this file's
    with open(running, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        write_atomically({target: b"new graph\n"})
    assert target.read_bytes() == b"new graph\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".graph.trig.bak", ".graph.trig.oxigraph.abcdefgh", ".graph.trig.running0.tmp", ".graph.trig.y0ung000.tmp",
        "graph.trig"]


def test_a_temporary_is_held_while_it_is_written_and_until_it_is_renamed(tmp_path):
    first, second = tmp_path / "a.ttl", tmp_path / "b.ttl"
    seen = []

    def second_file(handle):
        (temporary,) = tmp_path.glob(".a.ttl.*.tmp")   # written, not yet renamed
        with open(temporary, "rb") as other:
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        seen.append(temporary.name)
        handle.write(b"b\n")

    write_atomically({first: b"a\n", second: second_file})
    assert len(seen) == 1 and sorted(p.name for p in tmp_path.iterdir()) == ["a.ttl", "b.ttl"]


@pytest.mark.parametrize("call", [5, 6], ids=["as-int-is-swapped", "as-term-is-swapped"])
def test_a_signal_that_came_just_before_the_renames_leaves_no_temporary(tmp_path, monkeypatch, call):
    # Python runs a pending signal's handler inside signal.signal(): a Ctrl-C heard just before
    # the renames' hold is raised as the hold swaps the handlers (calls 1-4 are the first hold's).
    # CI once found a cache entry's temporary left so, after a Ctrl-C to a 2-process build.
    import kg.files

    target = tmp_path / "entry.json"
    target.write_bytes(b"old\n")
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    real, calls = signal.signal, []

    def pending_ctrl_c(sig, handler):
        calls.append(sig)
        if len(calls) == call:
            raise KeyboardInterrupt
        return real(sig, handler)

    monkeypatch.setattr(kg.files.signal, "signal", pending_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        write_atomically({target: b"new\n"}, durable=False)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entry.json"]
    assert target.read_bytes() == b"old\n"
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_a_symbolic_link_is_followed_and_kept(tmp_path):
    target = tmp_path / "real.ttl"
    target.write_bytes(b"old\n")
    link = tmp_path / "link.ttl"
    link.symlink_to(target)
    write_atomically({link: b"new\n"})
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == b"new\n"


def test_a_replaced_file_keeps_its_permissions(tmp_path):
    private = tmp_path / "private.ttl"
    private.write_bytes(b"old\n")
    private.chmod(0o600)
    write_atomically({private: b"new\n"})
    assert (private.read_bytes(), stat.S_IMODE(private.stat().st_mode)) == (b"new\n", 0o600)


def test_a_path_that_is_not_a_regular_file_is_written_to_as_it_is(tmp_path):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(pipe.read_bytes()))
    reader.start()
    write_atomically({pipe: b"through the pipe\n"})
    reader.join(timeout=10)
    assert got == [b"through the pipe\n"]
    assert stat.S_ISFIFO(pipe.stat().st_mode)   # still the pipe, not a file put in its place


def test_signals_are_held_while_another_thread_runs_and_delivered_after():
    """Python runs handlers in the main thread whichever thread the kernel picks: with another
    thread alive, a mask on the main thread alone would let Ctrl-C in halfway through."""
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    steps = []
    try:
        with pytest.raises(KeyboardInterrupt):
            with signals_held():
                with signals_held():   # an inner block does not let it in at its end
                    os.kill(os.getpid(), signal.SIGINT)
                    time.sleep(0.05)
                    steps.append("inner block done")
                time.sleep(0.05)
                steps.append("outer block done")
        assert steps == ["inner block done", "outer block done"]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler   # as it was
    finally:
        stop.set()
        other.join()
