"""Writers run by forked children beside the parent's own writing.

The exports are mostly pure Python (openpyxl-free XML, matplotlib, folium), so threads
would take turns on the interpreter; forked processes run side by side and inherit the
run without a copy or pickling.  :func:`write_run` writes the maps and the documents in
children; :func:`~covgap.export.figures.write_figures` shares its commune maps with one.
"""

from __future__ import annotations

import ctypes
import errno
import linecache
import os
import pickle
import signal
import sys
import threading
import warnings
from collections.abc import Callable
from types import FrameType
from typing import Any

__all__ = ["Caught", "Child", "can_fork", "caught_warnings"]

#: A warning caught in a child: (message, category, file name, line number).
Caught = tuple[Any, type, str, int]


def can_fork() -> bool:
    """Whether a writer can run in a forked child beside this process.

    Only where :func:`os.fork` exists, with a second core, and when this process runs
    no other Python thread but parked pool workers (:func:`_parked`): a thread holding
    a lock at the fork (a progress display writing to the terminal) would leave that
    lock held for ever in the child.
    """
    if not (hasattr(os, "fork") and (os.cpu_count() or 1) > 1):
        return False
    if threading.active_count() == 1:
        return True
    me = threading.get_ident()
    frames = sys._current_frames()
    return all(ident == me or _parked(frame) for ident, frame in frames.items())


# the line of concurrent.futures.thread._worker where an idle worker waits for work
_WAIT_FOR_WORK = "work_queue.get(block=True)"


def _parked(frame: FrameType) -> bool:
    """Whether a thread's innermost frame is an idle ``ThreadPoolExecutor`` worker.

    Such a thread waits in its work queue for a task: it holds no lock a child could
    need, and only a submit wakes it, which a forked child never makes.  dask.distributed
    leaves one behind (``Dask-Offload``) once a ``[compute] scheduler = "dask"`` run has
    closed its cluster; without this, every later export in the process would be serial.
    """
    code = frame.f_code
    return (code.co_name == "_worker"
            and code.co_filename.endswith(os.path.join("concurrent", "futures", "thread.py"))
            and _WAIT_FOR_WORK in linecache.getline(code.co_filename, frame.f_lineno))


def caught_warnings(write: Callable[[], object]) -> list[Caught]:
    """Run ``write``; return the warnings it raised (message, category, file, line)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        write()
    return [(w.message, w.category, w.filename, w.lineno) for w in caught]


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Linux: have the kernel kill this (child) process when its parent dies.

    A writer killed mid-run leaves its staging folder for the next run to remove; a
    child writer outliving it would write on into a folder being removed.
    """
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):  # no prctl: the parent's stop() still kills it
            pass


class Child:
    """A writer run by a forked child while the parent writes the other outputs.

    The child inherits the run (no copy, no pickling), writes into the same folder, and
    sends back through a pipe the warnings ``write`` returns or its error, which
    :meth:`finish` raises in the parent as if the writer had run there.  A child that
    dies without a word (killed, out of memory) is an :class:`OSError`.  If the parent
    fails first, :meth:`stop` kills the child before the parent removes what it wrote.

    Parameters
    ----------
    name : str
        What the child writes, for messages ("map writer").
    write : callable
        Writes the files; returns the warnings caught (:func:`caught_warnings`).
    """

    def __init__(self, name: str, write: Callable[[], list[Caught]]) -> None:
        self.name = name
        read, pipe_write = os.pipe()
        with warnings.catch_warnings():  # Python 3.12+ warns of fork with threads
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the child: write, report, leave without cleaning up
            code = 0
            try:
                os.close(read)
                _die_with_parent()
                try:
                    payload: tuple[str, Any] = ("ok", write())
                except BaseException as exc:  # every error goes to the parent
                    payload = ("error", exc)
                try:
                    data = pickle.dumps(payload)
                    pickle.loads(data)  # an error class the parent could not rebuild
                except Exception:  # an error (or warning) pickle refuses: its text
                    what = payload[1]
                    data = pickle.dumps(("error", RuntimeError(
                        f"the {name} failed: {type(what).__name__}: {what}")))
                with os.fdopen(pipe_write, "wb") as pipe:
                    pipe.write(data)
            except BaseException:  # never return into the parent's code
                code = 1
            finally:
                os._exit(code)
        os.close(pipe_write)
        self.pid, self._read = pid, read

    def finish(self) -> list[Caught]:
        """Wait for the child; return its warnings, or raise its error."""
        with os.fdopen(self._read, "rb") as pipe:
            data = pipe.read()
        self._read = -1
        _, status = os.waitpid(self.pid, 0)
        if not data:
            how = (f"was killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
                   else f"exited with status {os.waitstatus_to_exitcode(status)}")
            raise OSError(errno.EIO, f"the {self.name} (process {self.pid}) {how} before "
                                     "writing its files")
        kind, value = pickle.loads(data)
        if kind == "error":
            raise value
        return list(value)

    def stop(self) -> None:
        """Kill the child and wait for it (the parent failed: nothing will be kept)."""
        if self._read < 0:
            return  # finished already
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)
        os.close(self._read)
        self._read = -1
