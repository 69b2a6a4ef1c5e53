"""Costs of physical choices in the optimizer's unit: estimated network bytes plus disk bytes (VLDB J. 2014,
sec. 6.3: "costs ... from estimated network and disk I/O").

Network bytes are the bytes a ship strategy moves out of their process; disk bytes are what a local strategy
spills and reads back past the memory budget of one instance. A Reduce with a combiner ships at most its
groups once per producer partition (the combiner pre-aggregates before shipping).
"""

from __future__ import annotations


from pact_backend import contracts as pact
from pact_backend.optimizer.estimates import Sized
from pact_backend.optimizer.strategies import LOCALS, SHIPS
from pact_backend.quick_dataclass import dataclass

DEFAULT_MEMORY = 512 * 1024 * 1024  # bytes per contract instance when the caller sets no budget
UNKNOWN_BYTES = 64 * 1024 * 1024    # what an unknown input is assumed to weigh


@dataclass(frozen=True)
class Cost:
    """``network`` and ``disk`` bytes of one choice; ``total`` is their sum (equal weights)."""

    network: float = 0.0
    disk: float = 0.0

    @property
    def total(self) -> float:
        return self.network + self.disk

    def __add__(self, other: "Cost") -> "Cost":
        return Cost(self.network + other.network, self.disk + other.disk)


def bytes_of(sized: Sized) -> float:
    """The estimated bytes of a stream (UNKNOWN_BYTES when unknown)."""
    value = sized.estimate.bytes
    return float(value) if value is not None else float(UNKNOWN_BYTES)


def shipped_bytes(consumer: pact.Contract, producer: Sized, producer_dop: int, groups: float | None) -> float:
    """Bytes entering the channel into ``consumer``: all of ``producer``'s, or for a Reduce with a combiner at
    most one partial record per group and producer partition, for a global sort with a limit at most ``limit``
    records per producer partition (each keeps its first ones before shipping)."""
    total = bytes_of(producer)
    if isinstance(consumer, pact.Reduce) and consumer.limit is not None and consumer.key is None:
        return min(total, consumer.limit * producer.record_bytes * producer_dop)
    if isinstance(consumer, pact.Reduce) and consumer.combiner is not None and groups is not None:
        return min(total, groups * producer.record_bytes * producer_dop)
    return total


def ship_cost(strategy: str, bytes_: float, producer_dop: int, consumer_dop: int) -> Cost:
    """The network bytes of shipping ``bytes_`` with ``strategy``."""
    return Cost(network=SHIPS[strategy].network(bytes_, producer_dop, consumer_dop))


def local_cost(strategy: str, input_bytes: list[float], dop: int, memory: float, presorted: list[bool]) -> Cost:
    """The disk bytes of ``strategy`` on inputs of ``input_bytes`` (totals over all partitions) at ``dop``."""
    per_partition = [b / max(dop, 1) for b in input_bytes]
    return Cost(disk=LOCALS[strategy].disk(per_partition, memory, presorted) * max(dop, 1))
