"""Groups handed to a UDF as read-only sequences: in memory while they fit, else spilled to a block file.

A Reduce or CoGroup UDF that declares ``sequence_groups`` (``pact_backend.contracts``) reads its group as a
``collections.abc.Sequence``: ``len``, indexing (negative too), slices, iteration as often as it likes. The
runtime collects each group with a ``GroupCollector``: a plain list while the records' estimated size stays
within the collector's limit (a share of the task's budget, ``memory.group_limit``), else every record so far
and every later one goes to a spill file in blocks and the UDF receives a ``SpilledGroup`` that reads them
back one block at a time. So a group larger than memory is never held whole, even by a UDF that reads it
twice or by index (VLDB J. 2014, sec. 7.3: the runtime, not the UDF, owns memory). The driver releases the
file (``release``) once the UDF's output for that group has been read.
"""

from __future__ import annotations

import itertools
from bisect import bisect_right
from collections.abc import Sequence
from typing import Any, Iterable, Iterator

from pact_backend.runtime.blocks import BlockFile, Segment, read_blocks, read_records
from pact_backend.runtime.memory import MAX_BLOCK_RECORDS, SizeEstimator
from pact_backend.runtime.sorter import SpillDir

CHECK_EVERY = 64  # records collected between two looks at the estimated size (one record measured per look)
BLOCK_SHARE = 4   # a spilled group's block holds about 1/BLOCK_SHARE of the collector's limit


class SpilledGroup(Sequence):
    """The records of one group in a spill file, in order: ``len``, ``group[i]`` (negative from the end),
    ``group[a:b]`` (a list), iteration any number of times, each pass decoding one block at a time. Indexing
    keeps the last block it decoded. Valid until ``close()`` (the driver closes it when the UDF is done with
    the group): then reading raises ValueError. Not picklable (the file belongs to the task that wrote it)."""

    def __init__(self, segments: list[Segment], spill: SpillDir, path: str):
        self.segments = segments
        self.starts = list(itertools.accumulate((s.records for s in segments), initial=0))
        self.spill = spill
        self.path = path
        self.closed = False
        self._cached: tuple[int, list[Any]] | None = None  # (block number, its records)

    def __len__(self) -> int:
        return self.starts[-1]

    def __iter__(self) -> Iterator[Any]:
        self._check_open()
        return read_records(self.segments)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        size = len(self)
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError(f"group index {index} out of range (the group holds {size} records)")
        block = bisect_right(self.starts, index) - 1
        return self._block(block)[index - self.starts[block]]

    def __reversed__(self) -> Iterator[Any]:
        for block in range(len(self.segments) - 1, -1, -1):
            yield from reversed(self._block(block))

    def __repr__(self) -> str:
        return f"SpilledGroup({len(self)} records in {len(self.segments)} blocks of {self.path})"

    def __reduce__(self) -> Any:
        raise TypeError("a spilled group lives only during its UDF call; copy it with list(group) to keep it")

    def _block(self, block: int) -> list[Any]:
        """The records of block number ``block``, decoded (the last one decoded is kept)."""
        self._check_open()
        if self._cached is None or self._cached[0] != block:
            self._cached = None  # let the old block go before the new one is decoded
            self._cached = (block, next(read_blocks([self.segments[block]])))
        return self._cached[1]

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("a spilled group was read after its UDF call returned (copy it with list(group))")

    def close(self) -> None:
        """Remove the spill file; later reads raise ValueError."""
        self.closed, self._cached = True, None
        self.spill.remove(self.path)


class GroupCollector:
    """Collects the records of one group (``append``, ``extend``), then ``group()`` is a list when they fit
    ``limit`` bytes (estimated by ``memory.SizeEstimator`` on one record of every CHECK_EVERY; an
    ``estimator`` may be shared by the groups of one driver, so small groups are not measured each), else a
    ``SpilledGroup``: past the limit the records so far and all later ones are written to a file of ``spill``
    in blocks of about ``limit / BLOCK_SHARE`` bytes, so the collector holds at most about ``limit`` bytes."""

    def __init__(self, limit: float, spill: SpillDir, estimator: SizeEstimator | None = None):
        self.limit = limit
        self.spill = spill
        self.buffer: list[Any] = []
        self.estimator = estimator or SizeEstimator()
        # a fresh estimate measures the first record at once; one shared with earlier groups waits for a check
        self.next_check = CHECK_EVERY if self.estimator.measured else 1
        self.file: BlockFile | None = None
        self.segments: list[Segment] = []

    def append(self, record: Any) -> None:
        """Add one record to the group."""
        self.buffer.append(record)
        if len(self.buffer) >= self.next_check:
            self._check()

    def extend(self, records: Iterable[Any]) -> None:
        """Add every record of ``records`` (read in chunks up to the next check, so no method call per record)."""
        iterator, buffer = iter(records), self.buffer
        while True:
            buffer.extend(itertools.islice(iterator, self.next_check - len(buffer)))
            if len(buffer) < self.next_check:
                return
            self._check()

    def _check(self) -> None:
        """In memory: measure the newest record and spill once the estimate passes the limit. Spilling: write
        the full block."""
        buffer = self.buffer
        if self.file is not None:
            self.segments.append(self.file.append(buffer))
            buffer.clear()
            return
        average = self.estimator.measure(buffer[-1])
        if len(buffer) * average <= self.limit:
            self.next_check = len(buffer) + CHECK_EVERY
            return
        block_records = int(max(1, min(MAX_BLOCK_RECORDS, self.limit / BLOCK_SHARE / average)))
        self.file = BlockFile(self.spill.new_path("sequence"), "spill file")
        for start in range(0, len(buffer), block_records):
            self.segments.append(self.file.append(buffer[start:start + block_records]))
        buffer.clear()
        self.next_check = block_records

    def group(self) -> list[Any] | SpilledGroup:
        """The collected group: the list itself, or the spilled group (the file closed and counted in
        ``spill.files`` / ``spill.bytes``). The collector is done after this."""
        if self.file is None:
            return self.buffer
        if self.buffer:
            self.segments.append(self.file.append(self.buffer))
            self.buffer.clear()
        self.file.close()
        self.spill.files += 1
        self.spill.bytes += self.file.bytes_written
        return SpilledGroup(self.segments, self.spill, self.file.path)


def collect_group(records: Iterable[Any], limit: float | None, spill: SpillDir,
                  estimator: SizeEstimator | None = None) -> list[Any] | SpilledGroup:
    """``records`` as a group for a UDF that takes sequences: a list already in memory as it is (the table
    that holds it kept its budget), a list too when ``limit`` is None (the caller knows the records are in
    memory anyway: a sort that did not spill), anything else through a ``GroupCollector`` (with
    ``estimator``, shared by the groups of one driver: a group of fewer than CHECK_EVERY records that fits by
    its estimate is a list at once)."""
    if type(records) is list:
        return records
    if limit is None:
        return list(records)
    iterator = iter(records)
    head = list(itertools.islice(iterator, CHECK_EVERY))
    if len(head) < CHECK_EVERY and estimator is not None and estimator.measured \
            and len(head) * estimator.average <= limit:
        return head
    collector = GroupCollector(limit, spill, estimator)
    collector.extend(head)
    collector.extend(iterator)
    return collector.group()


def release(*groups: Any) -> None:
    """Close every ``SpilledGroup`` among ``groups`` (lists need nothing)."""
    for group in groups:
        if type(group) is SpilledGroup:
            group.close()
