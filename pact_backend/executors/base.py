"""Shared machinery of the executors over the stage runtime: stage specs as pickles, sink writing, run
statistics, and the planning and refusal of plans they share (``StageExecutor``). Worker pools are in
``pact_backend.executors.pool``.
"""

from __future__ import annotations

import pickle
from collections import OrderedDict
from time import perf_counter
from typing import Any, Callable, Iterable

from pact_backend import contracts as pact
from pact_backend.digest import blake2b
from pact_backend.io.parts import is_part_directory, open_sink
from pact_backend.physical import PhysicalPlan
from pact_backend.planner import Resources, UnsupportedPlan, check_supported, plan_physical
from pact_backend.runtime.drivers import LOCAL_STRATEGIES
from pact_backend.runtime.stats import ContractStats, RunStats
from pact_backend.runtime.stages import StageSpec

_SPEC_CACHE: "OrderedDict[tuple[bytes, tuple[str, ...]], StageSpec]" = OrderedDict()
_SPEC_CACHE_SIZE = 32


def pack_spec(spec: StageSpec) -> tuple[bytes, bytes]:
    """(cloudpickle blob, digest) of a stage spec; UDF closures travel by value. Raises pickling errors."""
    import cloudpickle

    blob = cloudpickle.dumps(spec, protocol=5)
    return blob, blake2b(blob, digest_size=16).digest()


def cached_spec(blob: bytes, digest: bytes, sys_path: list[str] = ()) -> StageSpec:
    """The stage spec of ``blob``, unpickled once per worker process and cached by digest and the client's
    module search path ``sys_path`` (the same pickle names other modules when another client's directories
    hold modules of the same names)."""
    key = (digest, tuple(sys_path))
    spec = _SPEC_CACHE.get(key)
    if spec is None:
        spec = _SPEC_CACHE[key] = pickle.loads(blob)
        while len(_SPEC_CACHE) > _SPEC_CACHE_SIZE:
            _SPEC_CACHE.popitem(last=False)
    return spec


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


__all__ = ["StageExecutor", "cached_spec", "pack_spec", "run_stats", "write_sinks"]
