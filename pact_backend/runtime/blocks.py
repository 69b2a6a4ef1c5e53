"""Blocks: many records pickled (protocol 5) into one bytes object; block files, segments and bucketed writers.

Records travel between processes and to spill files in blocks, never one message per record (DESIGN.md,
"Records, expressions, speed"). A producer appends blocks to one file and remembers each block as a
``Segment`` (path, offset, length, records); a consumer reads the segments it was handed, in order.
"""

from __future__ import annotations

import errno
import os
import pickle
from typing import Any, Callable, Iterable, Iterator

from pact_backend.quick_dataclass import dataclass
from pact_backend.runtime.memory import SLOT, deep_size

BLOCK_RECORDS = 4096        # records per block of a single-bucket writer or a spill run
BUFFERED_RECORDS = 32768    # records a writer buffers over all its buckets (blocks shrink as buckets grow)
MIN_BLOCK_RECORDS = 128


def encode_block(records: list[Any]) -> bytes:
    """The bytes of a block holding ``records`` (pickle protocol 5). Raises pickle errors for unpicklable ones."""
    return pickle.dumps(records, protocol=5)


def decode_block(data: bytes | memoryview) -> list[Any]:
    """The records of a block made by ``encode_block``."""
    return pickle.loads(data)


FULL_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})  # no space, quota, file size limit


class DiskFull(OSError):
    """A block file could not be written for lack of space (ENOSPC), of quota (EDQUOT) or past the file size
    limit (EFBIG, ``ulimit -f``). ``filename`` is the file; ``what`` says what it held ("spill file" of a sort
    or hash table, "exchanged blocks" between stages). Picklable, so a worker's error reaches the caller.
    ``describe()`` is the one line a user reads."""

    what = "exchanged blocks"

    def describe(self) -> str:
        """``<reason> while writing <what> <file> (<what to do>)``; the file's directory is a run or spill
        directory in the temp directory, which is named as the place to free."""
        temp = os.path.dirname(os.path.dirname(self.filename or "")) or "."
        reason = (self.strerror or "no space left on device").lower()
        hint = "; a larger --memory spills less" if self.what == "spill file" else ""
        return (f"{reason} while writing {self.what} {self.filename} (free space on the disk of {temp} or "
                f"point TMPDIR at a larger one{hint})")


def disk_full(exc: OSError, path: str, what: str) -> OSError:
    """``exc`` as a DiskFull naming ``path`` and ``what`` when it is one of FULL_ERRORS, else ``exc``."""
    if exc.errno not in FULL_ERRORS:
        return exc
    full = DiskFull(exc.errno, exc.strerror or os.strerror(exc.errno), path)
    full.what = what
    return full


@dataclass(frozen=True)
class Segment:
    """One block stored in a file: ``path``, byte ``offset`` and ``length``, and how many ``records`` it holds."""

    path: str
    offset: int
    length: int
    records: int


class BlockFile:
    """Appends blocks to the file ``path`` (created on the first block); ``append(records) -> Segment``.

    ``close()`` closes it; ``bytes_written`` counts the bytes. Usable as a context manager. ``what`` names the
    file's contents in errors: a full disk raises DiskFull (after closing the file; whoever owns the
    directory removes it).
    """

    def __init__(self, path: str, what: str = "exchanged blocks"):
        self.path = path
        self.what = what
        self.bytes_written = 0
        self._stream: Any = None

    def append(self, records: list[Any]) -> Segment:
        data = encode_block(records)
        offset = self.bytes_written
        try:
            if self._stream is None:
                self._stream = open(self.path, "wb")
            self._stream.write(data)
        except OSError as exc:
            self._discard()
            raise disk_full(exc, self.path, self.what) from None
        self.bytes_written += len(data)
        return Segment(self.path, offset, len(data), len(records))

    def close(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            try:
                stream.close()
            except OSError as exc:
                raise disk_full(exc, self.path, self.what) from None

    def _discard(self) -> None:
        """Close the stream after a failed write, dropping what its buffer still holds."""
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass

    def __enter__(self) -> "BlockFile":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def read_blocks(segments: Iterable[Segment]) -> Iterator[list[Any]]:
    """The record lists of ``segments`` in order; consecutive segments of one file share one open stream."""
    stream, current = None, None
    try:
        for segment in segments:
            if segment.path != current:
                if stream is not None:
                    stream.close()
                stream, current = open(segment.path, "rb"), segment.path
            stream.seek(segment.offset)
            yield decode_block(stream.read(segment.length))
    finally:
        if stream is not None:
            stream.close()


def read_records(segments: Iterable[Segment]) -> Iterator[Any]:
    """Every record of ``segments``, block after block."""
    for block in read_blocks(segments):
        yield from block


class BucketWriter:
    """Routes records into ``buckets`` buffers and flushes full buffers as blocks into one ``BlockFile``.

    ``route(record) -> bucket`` picks the bucket (None: everything into bucket 0). ``write(record)`` buffers,
    ``close() -> list[list[Segment]]`` flushes and returns the segments of every bucket, in write order.
    ``records`` counts records written. ``block_records`` (default: BLOCK_RECORDS, smaller with many buckets
    so that at most about BUFFERED_RECORDS records wait in memory) is the size of a full block. With a
    ``budget`` (bytes) the blocks shrink further once records are measured (the first record of every flushed
    block, ``memory.deep_size``), so that all buckets' buffers hold at most a quarter of it.
    """

    def __init__(self, path: str, buckets: int, route: Callable[[Any], int] | None = None,
                 block_records: int | None = None, budget: float | None = None, what: str = "exchanged blocks"):
        self.file = BlockFile(path, what)
        self.route = route
        if block_records is None:
            block_records = max(MIN_BLOCK_RECORDS, min(BLOCK_RECORDS, BUFFERED_RECORDS // max(1, buckets)))
        self.block_records = block_records
        self.budget = budget
        self._measured, self._measured_bytes = 0, 0
        self.buffers: list[list[Any]] = [[] for _ in range(buckets)]
        self.segments: list[list[Segment]] = [[] for _ in range(buckets)]
        self.records = 0

    def write(self, record: Any) -> None:
        bucket = 0 if self.route is None else self.route(record)
        buffer = self.buffers[bucket]
        buffer.append(record)
        if len(buffer) >= self.block_records:
            self._flush(bucket)

    def write_all(self, records: Iterable[Any]) -> None:
        """Write every record of ``records`` (the fast path when there is a single bucket)."""
        if self.route is not None:
            for record in records:
                self.write(record)
            return
        buffer, limit = self.buffers[0], self.block_records
        for record in records:
            buffer.append(record)
            if len(buffer) >= limit:
                self._flush(0)
                limit = self.block_records

    def _flush(self, bucket: int) -> None:
        buffer = self.buffers[bucket]
        if buffer and self.budget is not None:
            self._measure(buffer[0])
        if buffer:
            self.segments[bucket].append(self.file.append(buffer))
            self.records += len(buffer)
            buffer.clear()

    def _measure(self, record: Any) -> None:
        """Shrink ``block_records`` so that every bucket's buffer holds at most its share of a quarter of the
        budget, by the average measured record."""
        self._measured += 1
        self._measured_bytes += deep_size(record) + SLOT
        average = self._measured_bytes / self._measured
        share = self.budget / 4 / len(self.buffers)
        self.block_records = max(1, min(self.block_records, int(share / average)))

    def close(self) -> list[list[Segment]]:
        for bucket in range(len(self.buffers)):
            self._flush(bucket)
        self.file.close()
        return self.segments
