"""Shared machinery of the parallel executors: task pools, errors from workers, sink writing, run statistics.

The scheduler hands a pool pure tasks (a cloudpickled ``StageSpec`` plus a ``TaskInput``) and gets futures of
``TaskResult``s (DESIGN.md, "Execution": a task is a pure function from input blocks to output blocks). Worker
processes are shared between runs (one pool per size, created on first use), so a test suite pays the start-up
once. An exception of a UDF travels back pickled and is re-raised unchanged; the worker's traceback is attached
as its ``__cause__``.
"""

from __future__ import annotations

import atexit
import hashlib
import multiprocessing
import pickle
import sys
import threading
import traceback
from collections import OrderedDict
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from time import perf_counter
from typing import Any, Callable, Iterable, Protocol

import cloudpickle

from pact_backend import contracts as pact
from pact_backend.io.parts import is_part_directory, open_sink
from pact_backend.physical import PhysicalPlan
from pact_backend.planner import Resources, UnsupportedPlan, check_supported, plan_physical
from pact_backend.runtime.drivers import LOCAL_STRATEGIES
from pact_backend.runtime.stats import ContractStats, RunStats
from pact_backend.runtime.stages import StageSpec, TaskInput, TaskResult, prepare, run_task

_SPEC_CACHE: "OrderedDict[bytes, StageSpec]" = OrderedDict()
_SPEC_CACHE_SIZE = 32


class RemoteTraceback(Exception):
    """The formatted traceback of an exception raised in a worker process (set as the error's ``__cause__``)."""

    def __str__(self) -> str:
        return "\n" + self.args[0]


def pack_spec(spec: StageSpec) -> tuple[bytes, bytes]:
    """(cloudpickle blob, digest) of a stage spec; UDF closures travel by value. Raises pickling errors."""
    blob = cloudpickle.dumps(spec, protocol=5)
    return blob, hashlib.blake2b(blob, digest_size=16).digest()


def cached_spec(blob: bytes, digest: bytes) -> StageSpec:
    """The stage spec of ``blob``, unpickled once per worker process and cached by digest."""
    spec = _SPEC_CACHE.get(digest)
    if spec is None:
        spec = _SPEC_CACHE[digest] = pickle.loads(blob)
        while len(_SPEC_CACHE) > _SPEC_CACHE_SIZE:
            _SPEC_CACHE.popitem(last=False)
    return spec


def _pack_error(exc: BaseException) -> tuple[bytes, str]:
    """The pickled exception (or a RuntimeError naming it when it does not survive pickling) and its traceback."""
    text = "".join(traceback.format_exception(exc))
    try:
        data = cloudpickle.dumps(exc, protocol=5)
        pickle.loads(data)
    except Exception:  # noqa: BLE001 - an unpicklable error is replaced by a faithful description
        data = pickle.dumps(RuntimeError(f"{type(exc).__qualname__}: {exc}"), protocol=5)
    return data, text


def call_task(blob: bytes, digest: bytes, task: TaskInput) -> tuple[str, Any]:
    """Worker entry point: ('ok', TaskResult) or ('error', (pickled exception, traceback text))."""
    try:
        prepare(task)  # the caller's sys.path first: unpickling the spec may import the caller's modules
        return "ok", run_task(cached_spec(blob, digest), task)
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
    """``workers`` worker processes ('fork' on Linux, 'spawn' elsewhere); ``broken`` once a worker died."""

    def __init__(self, workers: int):
        method = "fork" if sys.platform.startswith("linux") else "spawn"
        self.workers = workers
        self.executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method))

    @property
    def broken(self) -> bool:
        return bool(getattr(self.executor, "_broken", False))

    def prepare(self, spec: StageSpec) -> Callable[[TaskInput], Future]:
        """Pickle ``spec`` once (cloudpickle: UDFs travel by value); tasks then ship only the blob."""
        blob, digest = pack_spec(spec)
        return lambda task: self.executor.submit(call_task, blob, digest, task)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


def write_sinks(sinks: list[Any], partitions_of: Callable[[Any], Iterable[Iterable[Any]]]
                ) -> dict[int, tuple[int, float]]:
    """Write every sink (a pact Sink) from ``partitions_of(sink)`` (its producer's partitions in order) through
    its output format (a directory of part files gets one part per partition, ``pact_backend.io.parts``), then
    commit all; on any failure abort every writer not yet committed and re-raise. Returns per sink id
    (records, seconds)."""
    writers: list[Any] = []
    written: dict[int, tuple[int, float]] = {}
    committed = 0
    try:
        for sink in sinks:
            start, count = perf_counter(), 0
            writer = open_sink(sink.output_format)
            writers.append(writer)
            parted = is_part_directory(sink.output_format)
            for index, records in enumerate(partitions_of(sink)):
                if parted and index:
                    writer.start_part(index)
                write = writer.write
                for record in records:
                    write(record)
                    count += 1
            written[sink.id] = (count, perf_counter() - start)
        for writer in writers:
            writer.commit()
            committed += 1
    except BaseException:
        for writer in writers[committed:]:
            try:
                writer.abort()
            except Exception:  # noqa: BLE001 - the original exception is re-raised below
                pass
        raise
    return written


class StageExecutor:
    """What the executors over the stage runtime share (``pact_backend.executors.registry.Executor``): a
    ``name``, ``parallelism`` and ``memory_per_instance`` (set by the subclass), the ``Resources`` the planner
    plans their runs with, and the refusal of a plan their runtime cannot run."""

    name = ""
    parallelism: int
    memory_per_instance: int

    def resources(self) -> Resources:
        """The parallelism, memory per task and strategies this executor offers a run."""
        return Resources(self.parallelism, self.memory_per_instance, local_strategies=LOCAL_STRATEGIES)

    def unsupported(self, physical: PhysicalPlan) -> str | None:
        """Why this executor cannot run ``physical`` (a strategy its runtime lacks), or None."""
        try:
            check_supported(physical, self.resources())
        except UnsupportedPlan as exc:
            return str(exc)
        return None

    def checked(self, plan: pact.PactPlan, physical: PhysicalPlan | None) -> PhysicalPlan:
        """``physical``, or the planner's default strategies for this executor when None; raises
        UnsupportedPlan when this executor cannot run it (never runs it another way)."""
        physical = physical or plan_physical(plan, self.resources(), optimize=False)
        reason = self.unsupported(physical)
        if reason is not None:
            raise UnsupportedPlan(f"{self.name} executor: {reason}")
        return physical


def run_stats(order: list[Any], produced: dict[int, list[float]], seconds: float) -> RunStats:
    """RunStats like the inline executor's from ``produced`` (contract id -> [records out, own seconds], summed
    over partitions): a Source's records in are its records out, any other's the sum of its inputs' out."""
    entries = []
    for c in order:
        out, spent = produced.get(c.id, (0, 0.0))
        records_in = out if not c.inputs else sum(produced.get(i.id, (0, 0.0))[0] for i in c.inputs)
        entries.append(ContractStats(c.id, c.name, c.kind, int(records_in), int(out), spent))
    return RunStats(entries, seconds)


_POOLS: dict[int, WorkerPool] = {}
_POOLS_LOCK = threading.Lock()


def shared_pool(workers: int) -> WorkerPool:
    """The process-wide pool of ``workers`` processes, (re)created when missing or broken."""
    with _POOLS_LOCK:
        pool = _POOLS.get(workers)
        if pool is None or pool.broken:
            pool = _POOLS[workers] = WorkerPool(workers)
        return pool


def close_pools() -> None:
    """Shut down every shared pool (registered to run at interpreter exit)."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
    for pool in pools:
        pool.close()


atexit.register(close_pools)
__all__ = ["BrokenProcessPool", "InlinePool", "RemoteTraceback", "StageExecutor", "TaskPool", "WorkerPool",
           "cached_spec", "call_task", "close_pools", "pack_spec", "run_stats", "shared_pool", "unpack", "write_sinks"]
