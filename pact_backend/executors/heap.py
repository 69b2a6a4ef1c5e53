"""The C heap of a Dask worker while a task runs: glibc's adaptive thresholds instead of the nanny's fixed one.

A Dask nanny starts its worker with ``MALLOC_TRIM_THRESHOLD_=65536`` in the environment (distributed's default
``distributed.nanny.pre-spawn-environ``, so that freed memory goes back to the system at once). Setting any
of glibc's thresholds turns off its adaptive ``mmap`` threshold (mallopt(3)): every allocation above 128 KiB
(a file chunk being parsed, a block of records, a bytes object of a block) then becomes an ``mmap`` whose
pages are faulted in fresh and an ``munmap`` when freed. Measured on a TPC-H Q1 task: 15-20% more CPU time,
most of it system time, than the same task in a process executor worker (which keeps glibc's defaults).

``task_heap()`` raises both thresholds to what the adaptive scheme reaches on 64-bit glibc (a 32 MiB mmap
threshold, trimming past 64 MiB) while at least one task of this process runs, then puts back the fixed
values the worker was started with and returns the freed memory to the system (``malloc_trim``), so the
worker between tasks is as its nanny configured it (issue "Trust": tasks leave a long-lived worker's
process state as they found it). Nothing happens where the variable is not set or the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import os
import threading
from contextlib import contextmanager
from typing import Any, Iterator

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt(3) parameters of glibc's malloc.h
TASK_MMAP_THRESHOLD = 32 * 2**20  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit: the adaptive scheme's ceiling
TASK_TRIM_THRESHOLD = 2 * TASK_MMAP_THRESHOLD  # the adaptive scheme keeps trim at twice the mmap threshold
DEFAULT_MMAP_THRESHOLD = 128 * 2**10  # glibc's starting mmap threshold (DEFAULT_MMAP_THRESHOLD_MIN)

_LOCK = threading.Lock()
_RUNNING = [0]  # tasks of this process inside task_heap()


def _glibc() -> Any:
    """The C library when it is glibc (has ``mallopt`` and ``malloc_trim``), else None."""
    try:
        libc = ctypes.CDLL(None)
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except (OSError, AttributeError):
        return None


def _fixed_thresholds() -> tuple[int, int] | None:
    """(trim, mmap) thresholds in bytes the process was started with when ``MALLOC_TRIM_THRESHOLD_`` fixed
    them (mmap: ``MALLOC_MMAP_THRESHOLD_`` or glibc's default), else None (glibc adapts; nothing to do)."""
    trim = os.environ.get("MALLOC_TRIM_THRESHOLD_")
    if trim is None:
        return None
    try:
        return int(trim), int(os.environ.get("MALLOC_MMAP_THRESHOLD_", DEFAULT_MMAP_THRESHOLD))
    except ValueError:
        return None


@contextmanager
def task_heap() -> Iterator[None]:
    """Run the body with the task thresholds (see the module docstring); nests and overlaps across threads:
    the first task in sets them, the last one out restores the fixed ones and trims the heap."""
    fixed, libc = _fixed_thresholds(), None
    if fixed is not None:
        libc = _glibc()
    if libc is None:
        yield
        return
    with _LOCK:
        _RUNNING[0] += 1
        if _RUNNING[0] == 1:
            libc.mallopt(M_MMAP_THRESHOLD, TASK_MMAP_THRESHOLD)
            libc.mallopt(M_TRIM_THRESHOLD, TASK_TRIM_THRESHOLD)
    try:
        yield
    finally:
        with _LOCK:
            _RUNNING[0] -= 1
            if _RUNNING[0] == 0:
                libc.mallopt(M_TRIM_THRESHOLD, fixed[0])
                libc.mallopt(M_MMAP_THRESHOLD, fixed[1])
                libc.malloc_trim(0)
