"""External merge sort: sorted runs written as blocks to spill files past a memory budget, merged lazily.

The sort of the PACT runtime's local strategies (VLDB J. 2014, sec. 7.3): records are buffered until their
estimated size exceeds the budget, the buffer is sorted and written as a run; at the end all runs (the last
one stays in memory) are merged with a bounded fan-in. Equal keys keep their input order (stable).
"""

from __future__ import annotations

import heapq
import itertools
import os
import tempfile
from typing import Any, Callable, Iterable, Iterator

from pact_backend.runtime.blocks import BLOCK_RECORDS, BlockFile, Segment, read_records
from pact_backend.runtime.memory import SizeEstimator

FAN_IN = 64  # runs merged at once; more runs are merged in several passes


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

    def write_run(self, items: Iterable[Any], tag: str = "run") -> list[Segment]:
        """Write ``items`` (already in order) as blocks to a new spill file; returns its segments."""
        segments: list[Segment] = []
        with BlockFile(self.new_path(tag)) as out:
            for chunk in _chunks(items, BLOCK_RECORDS):
                segments.append(out.append(chunk))
            self.files += 1
            self.bytes += out.bytes_written
        return segments

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
               reverse: bool = False) -> Iterator[Any]:
    """Merge sorted ``runs`` (earlier runs win ties, so a stable sort stays stable) by ``key``.

    More than FAN_IN runs are first merged in groups of FAN_IN into new spill runs (several passes).
    """
    while len(runs) > FAN_IN:
        merged: list[Iterable[Any]] = []
        for start in range(0, len(runs), FAN_IN):
            group = runs[start:start + FAN_IN]
            segments = spill.write_run(heapq.merge(*group, key=key, reverse=reverse), "merge")
            merged.append(read_records(segments))
        runs = merged
    if len(runs) == 1:
        return iter(runs[0])
    return heapq.merge(*runs, key=key, reverse=reverse)


def external_sort(records: Iterable[Any], key: Callable[[Any], Any], budget: float, spill: SpillDir,
                  reverse: bool = False, estimator: SizeEstimator | None = None) -> Iterator[Any]:
    """``records`` sorted by ``key`` (descending when ``reverse``), stably, holding about ``budget`` bytes.

    Inputs: an iterable of records, a key function whose values compare with ``<``, a budget in bytes, a
    SpillDir for the runs. Output: an iterator (the runs are read lazily while it is consumed). Raises
    whatever ``key`` or the comparison of keys raises (TypeError for incomparable keys).
    """
    estimator = estimator or SizeEstimator()
    charge = estimator.charge
    runs: list[Iterable[Any]] = []
    buffer: list[Any] = []
    used = 0.0
    for record in records:
        buffer.append(record)
        used += charge(record)
        if used > budget:
            buffer.sort(key=key, reverse=reverse)
            runs.append(read_records(spill.write_run(buffer)))
            buffer, used = [], 0.0
    buffer.sort(key=key, reverse=reverse)
    if not runs:
        return iter(buffer)
    runs.append(buffer)
    return merge_runs(runs, key, spill, reverse)


def group_sorted(records: Iterable[Any], key: Callable[[Any], Any]) -> Iterator[tuple[Any, list[Any]]]:
    """(key value, records) for every run of consecutive records with equal ``key`` (the sort-group strategy)."""
    for value, group in itertools.groupby(records, key):
        yield value, list(group)
