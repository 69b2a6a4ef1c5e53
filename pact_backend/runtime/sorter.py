"""External merge sort: sorted runs written as blocks to spill files past a memory budget, merged lazily.

The sort of the PACT runtime's local strategies (VLDB J. 2014, sec. 7.3): records are buffered until their
estimated size (records and their sort keys, ``memory.SizeEstimator``) exceeds the budget, the buffer is sorted
and written as a run; at the end the runs are merged. The merge holds one decoded block per run, so runs are
written in blocks sized by the budget and merged with a fan-in the budget allows (``memory.merge_layout``);
the last buffer stays in memory only when it fills at most half the budget. Equal keys keep their input order
(stable).
"""

from __future__ import annotations

import heapq
import itertools
import os
import tempfile
from typing import Any, Callable, Iterable, Iterator

from pact_backend.runtime.blocks import BLOCK_RECORDS, BlockFile, Segment, read_records
from pact_backend.runtime.memory import MAX_FAN_IN, SizeEstimator, merge_layout

FAN_IN = MAX_FAN_IN  # runs merged at once by default; more runs are merged in several passes


class SpillDir:
    """A directory for the spill files of one task: ``new_path(tag)`` names a fresh file inside ``root``.

    Counts ``files`` and ``bytes`` written through ``write_run``; ``cleanup()`` removes every file it named.
    ``root`` None uses a fresh directory under the system temp dir (removed by ``cleanup`` too).
    """

    def __init__(self, root: str | None = None, prefix: str = "spill"):
        self.own_root = root is None
        self.root = tempfile.mkdtemp(prefix="meteor-spill-") if root is None else root
        self.prefix = prefix
        self.paths: list[str] = []
        self.files = 0
        self.bytes = 0
        self._ids = itertools.count()

    def new_path(self, tag: str = "run") -> str:
        path = os.path.join(self.root, f"{self.prefix}-{tag}-{next(self._ids)}.blk")
        self.paths.append(path)
        return path

    def write_run(self, items: Iterable[Any], tag: str = "run", block_records: int = BLOCK_RECORDS
                  ) -> list[Segment]:
        """Write ``items`` (already in order) as blocks of ``block_records`` records to a new spill file;
        returns its segments."""
        segments: list[Segment] = []
        with BlockFile(self.new_path(tag), "spill file") as out:
            for chunk in _chunks(items, block_records):
                segments.append(out.append(chunk))
            self.files += 1
            self.bytes += out.bytes_written
        return segments

    def remove(self, path: str) -> None:
        """Remove the spill file ``path`` (named by ``new_path``) before ``cleanup``: a file whose records
        were read for good (a spilled group after its UDF call)."""
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        if path in self.paths:
            self.paths.remove(path)

    def cleanup(self) -> None:
        """Remove every spill file named so far (and the directory if this object created it)."""
        for path in self.paths:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        self.paths.clear()
        if self.own_root:
            try:
                os.rmdir(self.root)
            except OSError:
                pass


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def merge_runs(runs: list[Iterable[Any]], key: Callable[[Any], Any], spill: SpillDir,
               reverse: bool = False, fan_in: int = FAN_IN, block_records: int = BLOCK_RECORDS) -> Iterator[Any]:
    """Merge sorted ``runs`` (earlier runs win ties, so a stable sort stays stable) by ``key``.

    More than ``fan_in`` runs are first merged in groups of ``fan_in`` into new spill runs (several passes,
    written in blocks of ``block_records``).
    """
    fan_in = max(2, fan_in)
    while len(runs) > fan_in:
        merged: list[Iterable[Any]] = []
        for start in range(0, len(runs), fan_in):
            group = runs[start:start + fan_in]
            segments = spill.write_run(heapq.merge(*group, key=key, reverse=reverse), "merge", block_records)
            merged.append(read_records(segments))
        runs = merged
    if len(runs) == 1:
        return iter(runs[0])
    return heapq.merge(*runs, key=key, reverse=reverse)


def external_sort(records: Iterable[Any], key: Callable[[Any], Any], budget: float, spill: SpillDir,
                  reverse: bool = False, estimator: SizeEstimator | None = None) -> Iterator[Any]:
    """``records`` sorted by ``key`` (descending when ``reverse``), stably, holding about ``budget`` bytes.

    Inputs: an iterable of records, a key function whose values compare with ``<``, a budget in bytes, a
    SpillDir for the runs, optionally the ``estimator`` charging records (default: records plus their keys).
    Output: an iterator (the runs are read lazily while it is consumed). Raises whatever ``key`` or the
    comparison of keys raises (TypeError for incomparable keys).
    """
    estimator = estimator or SizeEstimator(extra=key)
    charge = estimator.charge
    runs: list[list[Segment]] = []
    buffer: list[Any] = []
    used = 0.0
    for record in records:
        buffer.append(record)
        used += charge(record)
        if used > budget:
            buffer.sort(key=key, reverse=reverse)
            runs.append(spill.write_run(buffer, "run", merge_layout(budget, estimator.average)[1]))
            buffer, used = [], 0.0
    buffer.sort(key=key, reverse=reverse)
    if not runs:
        return iter(buffer)
    fan_in, block_records = merge_layout(budget, estimator.average)
    readers: list[Iterable[Any]] = [read_records(segments) for segments in runs]
    if used > budget / 2:  # the merge's blocks need the other half
        readers.append(read_records(spill.write_run(buffer, "run", block_records)))
    else:
        readers.append(buffer)
    del buffer
    return merge_runs(readers, key, spill, reverse, fan_in, block_records)

