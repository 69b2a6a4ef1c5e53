"""One small descriptor per physical strategy: what it needs, what it costs, when it applies (VLDB J. 2014,
sec. 6.3; the Stratosphere PACT compiler's ship and local strategy descriptors).

A ship descriptor prices moving ``bytes`` from ``producer_dop`` to ``consumer_dop`` partitions in network bytes
(bytes that leave their process). A local descriptor prices the work of one contract instance in disk bytes
(spilled and read back once) for inputs of ``bytes`` per partition under a memory budget per instance; a
strategy that needs its input sorted costs nothing extra when the input already is.
"""

from __future__ import annotations

from typing import Callable

from pact_backend import physical as ph
from pact_backend.quick_dataclass import dataclass


def _spill(bytes_: float, memory: float) -> float:
    """Disk bytes of an operator that holds ``bytes_`` with ``memory`` bytes: the excess written and read."""
    return 2.0 * max(0.0, bytes_ - memory)


@dataclass(frozen=True)
class ShipDescriptor:
    """A ship strategy: ``name`` (physical vocabulary), ``network(bytes, producer_dop, consumer_dop)``."""

    name: str
    network: Callable[[float, int, int], float]
    doc: str


@dataclass(frozen=True)
class LocalDescriptor:
    """A local strategy: ``name``, ``disk(input_bytes_per_partition, memory, presorted)`` and ``sorts`` (whether
    it sorts its inputs, so that its output can be grouped on the key)."""

    name: str
    disk: Callable[[list[float], float, list[bool]], float]
    sorts: bool
    doc: str


FORWARD = ShipDescriptor(ph.FORWARD, lambda b, p, c: 0.0, "partition i feeds partition i: no shipping")
HASH_PARTITION = ShipDescriptor(ph.HASH_PARTITION, lambda b, p, c: b * (c - 1) / c if c > 1 else b * (p > 1),
                                "records go to the partition of a stable hash of their key")
RANGE_PARTITION = ShipDescriptor(ph.RANGE_PARTITION, lambda b, p, c: b * (c - 1) / c if c > 1 else b * (p > 1),
                                 "records go to the partition of their key range (a global order)")
BROADCAST = ShipDescriptor(ph.BROADCAST, lambda b, p, c: b * max(c - 1, 0) + b * (p > 1),
                           "every consumer partition receives every record")
GATHER = ShipDescriptor(ph.GATHER, lambda b, p, c: b * (p - 1) / p if p > 1 else 0.0,
                        "all partitions into the single consumer partition")
SHIPS = {d.name: d for d in (FORWARD, HASH_PARTITION, RANGE_PARTITION, BROADCAST, GATHER)}

NONE = LocalDescriptor(ph.NONE, lambda b, m, s: 0.0, False, "records stream through")
HASH_GROUP = LocalDescriptor(ph.HASH_GROUP, lambda b, m, s: sum(_spill(x, m) for x in b), False,
                             "a hash table of groups; spills partitions past the budget")
SORT_GROUP = LocalDescriptor(
    ph.SORT_GROUP, lambda b, m, s: sum(0.0 if pre else _spill(x, m) for x, pre in zip(b, s)), True,
    "an external sort on the key, then runs of equal keys")
HYBRID_HASH_BUILD_FIRST = LocalDescriptor(ph.HYBRID_HASH_BUILD_FIRST, lambda b, m, s: _hybrid(b[0], b[1], m),
                                          False, "hash table on input 0, probed by input 1")
HYBRID_HASH_BUILD_SECOND = LocalDescriptor(ph.HYBRID_HASH_BUILD_SECOND, lambda b, m, s: _hybrid(b[1], b[0], m),
                                           False, "hash table on input 1, probed by input 0")
SORT_MERGE = LocalDescriptor(
    ph.SORT_MERGE, lambda b, m, s: sum(0.0 if pre else _spill(x, m / 2) for x, pre in zip(b, s)), True,
    "both inputs sorted on the key, then merged")
NESTED_LOOP = LocalDescriptor(ph.NESTED_LOOP, lambda b, m, s: _spill(b[1], m) * max(1.0, b[0] / max(m, 1.0)),
                              False, "input 1 materialised, input 0 streamed against it")
LOCALS = {d.name: d for d in (NONE, HASH_GROUP, SORT_GROUP, HYBRID_HASH_BUILD_FIRST, HYBRID_HASH_BUILD_SECOND,
                              SORT_MERGE, NESTED_LOOP)}


def _hybrid(build: float, probe: float, memory: float) -> float:
    """Hybrid hash join: the build part beyond memory spills, and the same fraction of the probe side."""
    if build <= memory:
        return 0.0
    fraction = 1.0 - memory / build
    return 2.0 * fraction * (build + probe)
