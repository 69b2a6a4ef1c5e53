"""The functions Dask workers run for the Dask executor: one stage partition over blocks, bucket picks, part files.

A task of the Dask executor is ``run_stage``: the same pure stage function as the process executor's
(``stages.run_task``: head driver, chained Maps, combiner, bucketed outputs; VLDB J. 2014, sec. 7.3), fed with
blocks of pickled records that Dask moved to this worker and returning its outputs as blocks again (per output,
per bucket), so the shuffle goes through Dask's own transfers. The stage's local files (its inputs, its outputs
before they are read back, spills) live in a scratch directory of the worker that is removed when the task ends.
A failing task raises the user's exception itself (same type, picklable), with a note naming the operators, the
partition and the input splits it was reading. While a task runs, the worker's C heap uses glibc's adaptive
thresholds rather than the fixed one a Dask nanny sets (``heap.task_heap``: 15-20% of a task's CPU time).
"""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
from dataclasses import dataclass, fields
from time import perf_counter
from typing import Any

import cloudpickle

from pact_backend.executors.base import cached_spec
from pact_backend.executors.heap import task_heap
from pact_backend.executors.modules import task_modules
from pact_backend.io.parts import part_format
from pact_backend.runtime.blocks import Segment, decode_block
from pact_backend.runtime.ranges import SAMPLE_BLOCKS, SAMPLE_KEYS, sample_keys
from pact_backend.runtime.stages import TaskInput, TaskResult, run_task

# One piece of a task's input: (a TaskResult of blocks, output index, bucket) or (a list of blocks, None, None).
Piece = tuple[Any, int | None, int | None]


@dataclass
class BlockResult(TaskResult):
    """What a task returns: the stage's own TaskResult with its outputs read back from the task's files, so
    ``outputs[o][b]`` holds the blocks (bytes, many records each) of bucket ``b`` of output ``o``, not their
    Segments; ``records``: how many records those blocks hold."""

    records: int = 0


def blocks_of(piece: Piece) -> list[bytes]:
    """The blocks a piece stands for (Dask replaced the futures of the piece by their values)."""
    value, output, bucket = piece
    return value.outputs[output][bucket] if output is not None else value


def pick(result: TaskResult, output: int, bucket: int) -> list[bytes]:
    """Bucket ``bucket`` of output ``output`` of a task's result (runs where the result is, before a shuffle)."""
    return result.outputs[output][bucket]


def stats_of(result: BlockResult) -> tuple[dict[int, tuple[int, float]], int, int, dict[int, str], bool,
                                          tuple[int, int, int]]:
    """The small part of a task's result the client gathers: (stats, spill files, spill bytes, strategies
    ran, fused, (blocks, bytes, records) of its outputs)."""
    blocks = [block for output in result.outputs for bucket in output for block in bucket]
    moved = (len(blocks), sum(len(block) for block in blocks), result.records)
    return result.stats, result.spill_files, result.spill_bytes, result.ran or {}, result.fused, moved


def constant(value: Any) -> Any:
    """``value`` itself: a constant shipped as a task (a stage's pickled UDFs), fetched once by every worker
    that needs it and recomputable from the scheduler's copy when the worker holding it is lost."""
    return value


def collect(*pieces: Piece) -> list[bytes]:
    """All blocks of ``pieces`` in order (the broadcast side of a join, gathered once)."""
    return [block for piece in pieces for block in blocks_of(piece)]


def sample(key: Any, tasks: int, piece: Piece) -> list[Any]:
    """Keys sampled from one producer task's blocks, its share (1 / ``tasks``) of what the process executor
    samples from a whole output (``ranges.sample_keys``), for choosing range-partition boundaries."""
    directory = tempfile.mkdtemp(prefix="meteor-sample-", dir=_scratch_root())
    try:
        segments = _spool(os.path.join(directory, "sample.blk"), [piece])
        return sample_keys(segments, key, max(1, SAMPLE_KEYS // tasks), max(1, SAMPLE_BLOCKS // tasks))
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _scratch_root() -> str:
    """The worker's local directory (or the system temp dir outside a Dask worker)."""
    try:
        from distributed import get_worker

        return get_worker().local_directory
    except (ImportError, ValueError):
        return tempfile.gettempdir()


def _spool(path: str, pieces: list[Piece]) -> list[Segment]:
    """Write the blocks of ``pieces`` into the file ``path``; their segments, in order (records not counted)."""
    segments, offset = [], 0
    with open(path, "wb") as out:
        for piece in pieces:
            for block in blocks_of(piece):
                out.write(block)
                segments.append(Segment(path, offset, len(block), 0))
                offset += len(block)
    return segments


def _read_back(outputs: list[list[list[Segment]]]) -> list[list[list[bytes]]]:
    """The bytes of every output segment (each output file read once)."""
    files: dict[str, bytes] = {}
    result = []
    for buckets in outputs:
        result.append([])
        for segments in buckets:
            blocks = []
            for s in segments:
                if s.path not in files:
                    with open(s.path, "rb") as stream:
                        files[s.path] = stream.read()
                blocks.append(files[s.path][s.offset:s.offset + s.length])
            result[-1].append(blocks)
    return result


def run_stage(blob: bytes, digest: bytes, template: dict[str, Any], part: int, splits: list[Any] | None,
              inputs: list[list[Piece]], where: str) -> BlockResult:
    """Run partition ``part`` of the stage pickled in ``blob`` on the blocks of ``inputs`` (one list of pieces
    per head input) or on the source ``splits``; returns its outputs as blocks. ``template`` holds the TaskInput
    settings of the job (budget in bytes, the client's module search path). Raises the stage's own exception,
    with a note naming ``where`` (operators and partition) and the splits read."""
    run_dir = tempfile.mkdtemp(prefix="meteor-task-", dir=_scratch_root())
    try:
        with task_heap():
            task = TaskInput(part, [], splits, run_dir, template["budget"], template["sys_path"],
                             template["combine_threshold"])
            task.inputs = [_spool(os.path.join(run_dir, f"in{i}.blk"), pieces) for i, pieces in enumerate(inputs)]
            with task_modules(task.sys_path):  # unpickling the spec may import the client's modules
                result = run_task(cached_spec(blob, digest, task.sys_path), task)
            values = {f.name: getattr(result, f.name) for f in fields(TaskResult)}
            records = sum(s.records for output in result.outputs for bucket in output for s in bucket)
            return BlockResult(**{**values, "outputs": _read_back(result.outputs)}, records=records)
    except Exception as exc:  # noqa: BLE001 - re-raised with its location, as itself when it pickles
        raise located(exc, where, splits) from None
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def located(exc: BaseException, where: str, splits: list[Any] | None = None) -> BaseException:
    """``exc`` with a note naming the operators and partition (``where``) and the input splits; replaced by a
    RuntimeError describing it when it would not survive pickling (Dask ships it to the client)."""
    note = f"in {where}" + (f", reading {_describe_splits(splits)}" if splits else "")
    try:
        pickle.loads(cloudpickle.dumps(exc, protocol=5))
    except Exception:  # noqa: BLE001 - an unpicklable error is replaced by a faithful description
        exc = RuntimeError(f"{type(exc).__qualname__}: {exc}")
    if note not in getattr(exc, "__notes__", ()):
        exc.add_note(note)
    return exc


def _describe_splits(splits: list[Any]) -> str:
    """``file bytes lo-hi`` for (file, lo, hi) splits, else the splits' repr (shortened)."""
    texts = []
    for split in splits[:3]:
        if isinstance(split, tuple) and len(split) == 3 and isinstance(split[0], str):
            file, lo, hi = split
            texts.append(f"{file}" + (f" bytes {lo}-{hi}" if hi >= 0 else ""))
        else:
            texts.append(repr(split)[:80])
    return ", ".join(texts) + (f" and {len(splits) - 3} more" if len(splits) > 3 else "")


# -- sinks that write a directory of part files ------------------------------------------------------------------

def write_part(output_format: Any, path: str, pieces: list[Piece], where: str) -> tuple[int, float]:
    """Write the records of ``pieces`` to ``path`` through a copy of the sink's OutputFormat (atomically);
    returns (records, seconds). Raises the format's error (OutputError) with a note naming ``where``."""
    start, count = perf_counter(), 0
    try:
        with task_heap():
            writer = part_format(output_format, path).open()
            try:
                for piece in pieces:
                    for block in blocks_of(piece):
                        for record in decode_block(block):
                            writer.write(record)
                            count += 1
                writer.commit()
            except BaseException:
                writer.abort()
                raise
    except Exception as exc:  # noqa: BLE001 - re-raised with its location
        raise located(exc, where) from None
    return count, perf_counter() - start


