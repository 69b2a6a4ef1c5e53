"""The physical plan: per contract a degree of parallelism, per input channel a ship strategy, per contract a
local strategy, and the optimizer's size estimates (VLDB J. 2014, sec. 6.3; the Stratosphere PACT compiler's
vocabulary).

The optimizer (``pact_backend.optimizer``) produces a ``PhysicalPlan``; executors run it. ``default_physical``
gives the strategies of a run without optimization (``--no-optimize``): hash-partition the inputs of keyed
contracts, broadcast the second input of a Cross, gather into a single-file sink, forward everything else.
"""

from __future__ import annotations

from dataclasses import field

from pact_backend.contracts import CoGroup, Contract, Cross, Map, Match, PactPlan, Reduce, Sink, Source, Union
from pact_backend.quick_dataclass import dataclass

# Ship strategies of a channel (how records move from the producer's partitions to the consumer's).
FORWARD = "forward"                  # partition i -> partition i (same DOP, no shipping)
HASH_PARTITION = "hash-partition"    # by a stable hash of the consumer's key for that input
RANGE_PARTITION = "range-partition"  # by key ranges (global order across partitions)
BROADCAST = "broadcast"              # every consumer partition receives all records
GATHER = "gather"                    # all partitions into one (consumer DOP 1)
SHIP_STRATEGIES = (FORWARD, HASH_PARTITION, RANGE_PARTITION, BROADCAST, GATHER)

# Local strategies of a contract (how one parallel instance processes its partition).
NONE = "none"                                  # Source, Map, Union, Sink
HASH_GROUP = "hash-group"                      # Reduce/CoGroup: hash table of groups (spills past the budget)
SORT_GROUP = "sort-group"                      # Reduce/CoGroup: external sort, then group runs of equal keys
HYBRID_HASH_BUILD_FIRST = "hybrid-hash-build-first"    # Match: build a hash table on input 0, probe with 1
HYBRID_HASH_BUILD_SECOND = "hybrid-hash-build-second"  # Match: build on input 1, probe with 0
SORT_MERGE = "sort-merge"                      # Match: sort both inputs on the key, merge
NESTED_LOOP = "nested-loop"                    # Cross / theta joins: materialise one side, stream the other
LOCAL_STRATEGIES = (NONE, HASH_GROUP, SORT_GROUP, HYBRID_HASH_BUILD_FIRST, HYBRID_HASH_BUILD_SECOND, SORT_MERGE,
                    NESTED_LOOP)


@dataclass
class Estimate:
    """Estimated output of a contract: ``records`` and ``bytes`` (None = unknown)."""

    records: float | None = None
    bytes: float | None = None


@dataclass
class PhysicalNode:
    """The physical choices for one contract: ``dop``, ``ship`` (one ship strategy per input, in input order),
    ``local`` (a local strategy), ``estimate`` of its output, and ``cost`` (estimated network + disk bytes of
    this node, the optimizer's unit) and ``reason`` (one line for explain: why this choice).
    ``output_properties``: the partitioning and order of the node's output as the optimizer derived them.

    How the contract runs, decided by the planner (``pact_backend.planner``, sec. 7.3) and followed by every
    executor: ``chained`` (it runs in the tasks of its forward input's stage instead of heading a stage of its
    own: a Map, or a Match probing a broadcast hash table), ``combined`` (a Reduce whose combiner runs in its
    producers' tasks before shipping) and ``fused`` (a Source whose stage reads, filters and folds batches into
    the consuming Reduce's combiner, ``pact_backend.runtime.fused_source``). ``splits``: for a Source, the
    splits each of its ``dop`` instances reads (``source_splits``)."""

    contract: Contract
    dop: int
    ship: list[str] = field(default_factory=list)
    local: str = NONE
    estimate: Estimate = field(default_factory=Estimate)
    cost: float = 0.0
    reason: str = ""
    output_properties: str = ""
    chained: bool = False
    combined: bool = False
    fused: bool = False
    splits: list[list[object] | None] | None = None

    def execution(self) -> dict[str, object]:
        """What an executor must do for this contract, as compared with what it reports it did (``ship``,
        ``local``, ``chained``, ``combined``, ``fused``)."""
        return {"ship": list(self.ship), "local": self.local, "chained": self.chained,
                "combined": self.combined, "fused": self.fused}


@dataclass
class PhysicalPlan:
    """A PACT program with a ``PhysicalNode`` per contract id; ``node(c)`` looks one up.

    ``parallelism`` and ``memory_per_instance`` (bytes one task may hold before it spills) are the resources
    the plan was made for; executors give every task exactly that budget. ``optimized``: chosen by the
    optimizer (False: the default strategies of ``default_physical``)."""

    plan: PactPlan
    nodes: dict[int, PhysicalNode] = field(default_factory=dict)
    parallelism: int = 1
    memory_per_instance: int = 512 * 1024 * 1024
    optimized: bool = True

    def node(self, contract: Contract) -> PhysicalNode:
        return self.nodes[contract.id]

    def total_cost(self) -> float:
        return sum(n.cost for n in self.nodes.values())


def source_splits(input_format: object, dop: int) -> list[list[object] | None]:
    """The splits each of a Source's parallel instances reads: the format's splits (``splits(n)`` /
    ``read_split``, e.g. byte ranges) dealt round-robin to at most ``dop`` instances, or one instance reading
    the whole input (``[None]``) when the format does not split or ``dop`` is 1. Its length is the Source's
    DOP, so the planner and every executor agree on it."""
    if dop > 1 and hasattr(input_format, "splits") and hasattr(input_format, "read_split"):
        try:
            splits = list(input_format.splits(dop))
        except Exception:  # noqa: BLE001 - e.g. a missing input: one instance, whose read reports the error
            return [None]
        parts = max(1, min(dop, len(splits)))
        return [splits[i::parts] for i in range(parts)]
    return [None]


def sink_dop(sink: Sink, producer_dop: int) -> int:
    """The DOP of a sink: a directory of part files is written one part per partition of its producer
    (``pact_backend.io.parts``), a single file by one writer that gathers every partition in order."""
    from pact_backend.io.parts import is_part_directory

    return producer_dop if is_part_directory(sink.output_format) else 1


def default_physical(plan: PactPlan, parallelism: int, memory_per_instance: int | None = None) -> PhysicalPlan:
    """Strategies without optimization: keyed inputs hash-partitioned and hash-grouped / hash-joined (build
    second), Cross broadcasts input 1, a contract with a DOP hint (``parallel N``, ``Sort``) gets that DOP,
    Maps, Unions and Sinks take their inputs' DOP (forward: partition i feeds partition i)."""
    physical = PhysicalPlan(plan, parallelism=parallelism, optimized=False)
    if memory_per_instance is not None:
        physical.memory_per_instance = memory_per_instance
    for c in plan.contracts():
        dop = c.dop or parallelism
        if isinstance(c, (Reduce, CoGroup)):
            node = PhysicalNode(c, dop, [HASH_PARTITION] * len(c.inputs), HASH_GROUP)
            if isinstance(c, Reduce) and c.key is None:
                node = PhysicalNode(c, 1, [GATHER], HASH_GROUP)
        elif isinstance(c, Match):
            node = PhysicalNode(c, dop, [HASH_PARTITION, HASH_PARTITION], HYBRID_HASH_BUILD_SECOND)
        elif isinstance(c, Cross):
            node = PhysicalNode(c, dop, [FORWARD, BROADCAST], NESTED_LOOP)
        elif isinstance(c, Sink):
            producer = physical.nodes[c.inputs[0].id]
            dop = sink_dop(c, producer.dop)
            node = PhysicalNode(c, dop, [FORWARD if dop == producer.dop else GATHER])
        elif isinstance(c, (Map, Union)):
            # forward keeps partitions (and order after a sort): the DOP follows the inputs
            dop = c.dop or max((physical.nodes[i.id].dop for i in c.inputs), default=1)
            node = PhysicalNode(c, dop, [FORWARD] * len(c.inputs))
        elif isinstance(c, Source):
            splits = source_splits(c.input_format, dop)
            node = PhysicalNode(c, len(splits), splits=splits)
        else:
            node = PhysicalNode(c, dop, [FORWARD] * len(c.inputs))
        physical.nodes[c.id] = node
    return physical
