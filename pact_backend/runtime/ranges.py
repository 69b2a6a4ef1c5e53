"""Range partitioning: boundaries from a sample of keys, then every record goes to the partition of its key range,
so partition i holds only keys that order before those of partition i + 1 (the range-partition ship strategy of
VLDB J. 2014, sec. 6.3; TeraSort-style sampling).

Keys are opaque: a range key function returns a value that compares with ``<`` against every other value it
returns (a sort operator supplies one, e.g. Sopremo's cross-type ``sort_key``); for a keyed contract without
such a function, ``BytesKey`` orders keys by their canonical bytes, which keeps equal keys together.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any, Callable, Sequence

from pact_backend.runtime.blocks import Segment, read_blocks
from pact_backend.runtime.partition import canonical_bytes

SAMPLE_KEYS = 2000      # keys sampled in all to choose the boundaries
SAMPLE_BLOCKS = 32      # blocks read (spread over the producer's output) to draw them from


class BytesKey:
    """A range key over a hash key function: ``record -> canonical_bytes(key(record))`` (bytes compare)."""

    def __init__(self, key: Callable[[Any], Any]):
        self.key = key

    def __call__(self, record: Any) -> bytes:
        return canonical_bytes(self.key(record))


class RangeRouter:
    """``record -> partition`` by ``bisect(boundaries, key(record))``; ``descending`` numbers the ranges from
    the largest keys down, so reading partitions 0, 1, ... gives a descending order. Equal keys always go to
    one partition. ``key`` None routes everything into partition 0."""

    def __init__(self, key: Callable[[Any], Any] | None, boundaries: Sequence[Any], descending: bool = False):
        self.key, self.boundaries, self.descending = key, list(boundaries), descending

    def __call__(self, record: Any) -> int:
        if self.key is None:
            return 0
        index = bisect_right(self.boundaries, self.key(record))
        return len(self.boundaries) - index if self.descending else index


def choose_boundaries(keys: list[Any], parts: int) -> list[Any]:
    """At most ``parts - 1`` ascending, distinct boundaries cutting the sorted ``keys`` into ``parts`` runs of
    about equal size (a key equal to boundary i falls into range i + 1). Empty for one part or no keys.
    Raises TypeError when two keys do not compare."""
    if parts <= 1 or not keys:
        return []
    ordered = sorted(keys)
    chosen: list[Any] = []
    for i in range(1, parts):
        candidate = ordered[min(len(ordered) - 1, i * len(ordered) // parts)]
        if not chosen or chosen[-1] < candidate:
            chosen.append(candidate)
    return chosen


def sample_keys(segments: list[Segment], key: Callable[[Any], Any], limit: int = SAMPLE_KEYS,
                blocks: int = SAMPLE_BLOCKS) -> list[Any]:
    """Up to ``limit`` keys drawn from ``blocks`` blocks spread evenly over ``segments`` (evenly spaced records
    of each block). Reads only those blocks; raises whatever ``key`` raises."""
    if not segments:
        return []
    step = max(1, len(segments) // blocks)
    chosen = segments[::step][:blocks]
    per_block = max(1, limit // len(chosen))
    keys: list[Any] = []
    for block in read_blocks(chosen):
        stride = max(1, len(block) // per_block)
        keys.extend(key(record) for record in block[::stride][:per_block])
    return keys
