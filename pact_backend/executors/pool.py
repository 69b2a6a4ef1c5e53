"""Worker processes of the process executor: pools that die with their parent, and the task entry point.

The scheduler hands a pool pure tasks (a cloudpickled ``StageSpec`` plus a ``TaskInput``) and gets futures of
outcomes (DESIGN.md, "Execution": a task is a pure function from input blocks to output blocks). Worker
processes are shared between runs (one pool per size, created on first use), so a test suite pays the start-up
once. An exception of a UDF travels back pickled and is re-raised unchanged; the worker's traceback is attached
as its ``__cause__``.

A worker lives only as long as the process that started it: it ignores SIGINT (Ctrl-C at a terminal reaches
the whole process group; the parent decides what stops) and a thread of its own checks every
``WATCH_SECONDS`` that its parent is still there; once the parent is gone (SIGKILL, a crash) the worker
removes the run directory of its task and exits. (Linux's parent-death signal, ``prctl(PR_SET_PDEATHSIG)``,
fires when the *thread* that forked the worker ends, and ``meteor`` forks its workers from a thread that ends
before the process does; so the worker watches its parent id instead.) The parent ends its workers itself on
SIGTERM and Ctrl-C (``WorkerPool.terminate``), and replaces a pool whose worker died (``WorkerPool.renew``),
so the scheduler can run the lost tasks again.
"""

from __future__ import annotations

import atexit
import os
import pickle
import shutil
import signal
import sys
import threading
import time
import traceback
from concurrent.futures import Future
from typing import Any, Callable, Protocol

from pact_backend.executors.base import cached_spec, pack_spec
from pact_backend.executors.modules import task_modules
from pact_backend.runtime.stages import StageSpec, TaskInput, TaskResult, run_task

WATCH_SECONDS = 0.5   # how often a worker checks that its parent is alive
_TASK: dict[str, str] = {}  # in a worker: the run directory of the task it runs (removed if orphaned)


class RemoteTraceback(Exception):
    """The formatted traceback of an exception raised in a worker process (set as the error's ``__cause__``)."""

    def __str__(self) -> str:
        return "\n" + self.args[0]


def _pack_error(exc: BaseException) -> tuple[bytes, str]:
    """The pickled exception (or a RuntimeError naming it when it does not survive pickling) and its traceback."""
    import cloudpickle

    text = "".join(traceback.format_exception(exc))
    try:
        data = cloudpickle.dumps(exc, protocol=5)
        pickle.loads(data)
    except Exception:  # noqa: BLE001 - an unpicklable error is replaced by a faithful description
        data = pickle.dumps(RuntimeError(f"{type(exc).__qualname__}: {exc}"), protocol=5)
    return data, text


def call_task(blob: bytes, digest: bytes, task: TaskInput) -> tuple[str, Any]:
    """Worker entry point: ('ok', TaskResult) or ('error', (pickled exception, traceback text))."""
    _TASK["run_dir"] = task.run_dir
    try:
        with task_modules(task.sys_path):  # unpickling the spec may import the caller's modules
            return "ok", run_task(cached_spec(blob, digest, task.sys_path), task)
    except Exception as exc:  # noqa: BLE001 - shipped back and re-raised by the caller
        return "error", _pack_error(exc)


def unpack(outcome: tuple[str, Any]) -> TaskResult:
    """The TaskResult of a task's outcome; re-raises the task's exception (traceback as ``__cause__``)."""
    status, value = outcome
    if status == "ok":
        return value
    data, text = value
    exc = pickle.loads(data)
    exc.__cause__ = RemoteTraceback(text)
    raise exc


def _start_worker(parent: int) -> None:
    """Initializer of every worker process: leave Ctrl-C and SIGTERM to their defaults for a worker (ignored;
    terminates), then watch the parent. Exits at once when the parent is already gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), name="meteor-parent-watch", daemon=True).start()


def _watch_parent(parent: int) -> None:
    """Exit this worker once its parent is gone, removing the run directory of its current task first."""
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    run_dir = _TASK.get("run_dir")
    if run_dir:
        shutil.rmtree(run_dir, ignore_errors=True)
    os._exit(1)


class TaskPool(Protocol):
    """Where tasks run: ``workers`` concurrent slots; ``prepare(spec)`` returns ``submit(task) -> Future``
    of an outcome (see ``unpack``) for the tasks of one stage."""

    workers: int

    def prepare(self, spec: StageSpec) -> Callable[[TaskInput], Future]: ...


class InlinePool:
    """Runs each task at submission in the calling process, on the stage spec itself (nothing pickled): the
    inline executor, debugging. A task's exception propagates unchanged from ``submit``."""

    workers = 1

    def prepare(self, spec: StageSpec) -> Callable[[TaskInput], Future]:
        def submit(task: TaskInput) -> Future:
            future: Future = Future()
            future.set_result(("ok", run_task(spec, task)))
            return future
        return submit


class WorkerPool:
    """``workers`` worker processes ('fork' on Linux, 'spawn' elsewhere) that die with this process;
    ``broken`` once a worker died, ``renew()`` replaces them, ``terminate()`` ends them at once."""

    def __init__(self, workers: int):
        self.workers = workers
        self.executor = self._start()
        self.last_death = "ended unexpectedly"  # how a worker of the pool that ``renew`` replaced ended

    def _start(self) -> Any:
        """A ProcessPoolExecutor of ``workers`` processes (multiprocessing is imported here, on first use: a run
        on the inline executor never loads it)."""
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        method = "fork" if sys.platform.startswith("linux") else "spawn"
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context(method),
                                   initializer=_start_worker, initargs=(os.getpid(),))

    @property
    def broken(self) -> bool:
        return bool(getattr(self.executor, "_broken", False))

    def prepare(self, spec: StageSpec) -> Callable[[TaskInput], Future]:
        """Pickle ``spec`` once (cloudpickle: UDFs travel by value); tasks then ship only the blob, to the
        pool's current processes (also after ``renew``)."""
        blob, digest = pack_spec(spec)
        return lambda task: self.executor.submit(call_task, blob, digest, task)

    def death(self) -> str:
        """How a worker of a broken pool ended, for an error message: 'was killed by SIGKILL', ... (waits up to
        a second for the pool's own thread to reap the processes it ends)."""
        for _ in range(20):
            codes = self._exit_codes()
            if None not in codes:
                break
            time.sleep(0.05)
        causes = [c for c in codes if c not in (None, 0, -signal.SIGTERM)] or [c for c in codes if c]
        if not causes:
            return "ended unexpectedly"
        code = causes[0]
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else f"signal {-code}"
            hint = " (the system may have run out of memory)" if code == -signal.SIGKILL else ""
            return f"was killed by {name}{hint}"
        return f"exited with status {code}"

    def _exit_codes(self) -> list[int | None]:
        processes = getattr(self.executor, "_processes", None) or {}
        return [process.exitcode for process in list(processes.values())]

    def renew(self) -> None:
        """Replace the processes of a broken pool by fresh ones (tasks submitted later run on them); keeps
        how the dead worker ended in ``last_death``."""
        self.last_death = self.death()
        self.terminate()
        self.executor = self._start()

    def terminate(self) -> None:
        """End every worker now (SIGTERM, then SIGKILL after a second) and drop their pending tasks."""
        processes = list((getattr(self.executor, "_processes", None) or {}).values())
        for process in processes:
            if process.exitcode is None:
                process.terminate()
        for process in processes:
            process.join(1.0)
            if process.exitcode is None:
                process.kill()
                process.join(1.0)
        self.executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


_POOLS: dict[int, WorkerPool] = {}
_POOLS_LOCK = threading.Lock()


def shared_pool(workers: int) -> WorkerPool:
    """The process-wide pool of ``workers`` processes, (re)created when missing or broken."""
    with _POOLS_LOCK:
        pool = _POOLS.get(workers)
        if pool is None:
            pool = _POOLS[workers] = WorkerPool(workers)
        elif pool.broken:
            pool.renew()
        return pool


def discard_pool(pool: WorkerPool) -> None:
    """Terminate ``pool``'s workers and forget it (the next run starts a fresh pool)."""
    with _POOLS_LOCK:
        for size, known in list(_POOLS.items()):
            if known is pool:
                del _POOLS[size]
    pool.terminate()


def close_pools() -> None:
    """Shut down every shared pool (registered to run at interpreter exit)."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
    for pool in pools:
        pool.close()


atexit.register(close_pools)
