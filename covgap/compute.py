"""Where the heavy stages run: in this process, or on a Dask cluster.

``[compute] scheduler = "dask"`` sends the pathloss and terrain models' tiles to
dask.distributed workers: a cluster at ``[compute] address``, or worker processes
started on this machine (``LocalCluster``).  Results come back in the tiles' order
whatever order the workers finish in, so a Dask run and a local run give the same
rasters, bit for bit.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from covgap.config import ComputeConfig
from covgap.errors import ConfigError

__all__ = ["dask_client", "map_ordered"]

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

#: Tasks kept in flight per worker thread: enough to keep every worker busy while the
#: driver merges, few enough that finished results do not pile up in memory.
IN_FLIGHT_PER_THREAD = 2


@contextmanager
def dask_client(compute: ComputeConfig) -> Iterator[Any]:
    """Yield a ``distributed.Client``: the cluster at ``[compute] address``, or a new one.

    Without an address, ``workers`` worker processes (0: one per core) of one thread
    each are started on this machine and stopped on exit.

    Raises
    ------
    ConfigError
        dask.distributed is not installed, or the scheduler cannot be reached.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ConfigError(
            "[compute] scheduler = \"dask\" needs dask.distributed: "
            "pip install 'covgap[dask]'") from exc
    if compute.address:
        try:
            client = Client(compute.address, timeout="20s")
        except OSError as exc:
            raise ConfigError(f"[compute] address {compute.address!r}: cannot reach the "
                              f"Dask scheduler ({exc})") from exc
        try:
            yield client
        finally:
            client.close()
        return
    workers = compute.workers or os.cpu_count() or 1
    try:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    except RuntimeError as exc:  # the workers' processes died as they started
        raise ConfigError(
            f"[compute] could not start {workers} Dask worker processes on this machine "
            f"({exc}); from a Python script, call covgap under "
            "`if __name__ == \"__main__\":` so the workers can import it") from exc
    with cluster, Client(cluster) as client:
        yield client


def _in_worker(fn: Callable[[T], R], task: T) -> R:
    """Run ``fn(task)`` on a Dask worker, its numba kernels on the worker's threads only.

    Without this every worker process would start a numba thread per core, and a
    machine with several workers would run more threads than it has cores.
    """
    import numba
    from distributed import get_worker

    threads = get_worker().state.nthreads
    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    return fn(task)


def map_ordered(fn: Callable[[T], R], tasks: Sequence[T], compute: ComputeConfig, *,
                on_done: Callable[[T], None] | None = None) -> Iterator[R]:
    """Yield ``fn(task)`` for each task, in order, computed on the Dask cluster.

    At most ``IN_FLIGHT_PER_THREAD`` tasks per worker thread are submitted ahead of the
    one being waited for, so memory stays bounded however many tiles there are.
    ``on_done(task)`` is called as each result is handed over.
    """
    with dask_client(compute) as client:
        threads = max(1, sum(client.nthreads().values()))
        ahead = IN_FLIGHT_PER_THREAD * threads
        log.info("dask: %d tasks on %d worker threads at %s", len(tasks), threads,
                 client.scheduler.address)
        pending: deque = deque()
        queue = iter(tasks)
        for task in queue:
            pending.append((task, client.submit(_in_worker, fn, task, pure=False)))
            if len(pending) >= ahead:
                break
        while pending:
            task, future = pending.popleft()
            result = future.result()
            future.release()
            nxt = next(queue, None)
            if nxt is not None:
                pending.append((nxt, client.submit(_in_worker, fn, nxt, pure=False)))
            if on_done:
                on_done(task)
            yield result
