"""Physical plan choice: per contract a DOP, a ship strategy per input and a local strategy, the cheapest of the
valid alternatives given the properties its inputs already have (VLDB J. 2014, sec. 6.3).

Contracts are planned inputs first. A keyed input that is already partitioned on the key (a selection keeps the
partitioning of its input; a DOP-1 stream is trivially partitioned) is forwarded instead of re-partitioned;
a Match compares re-partitioning both inputs with broadcasting either one; the hybrid-hash build side is the
smaller estimated input; sort-based local strategies are chosen when the input already arrives sorted on the
key (or a group order needs a sort). A global sort (a keyless Reduce whose UDF only orders its group,
``Reduce.sorts_only``) of an input estimated at RANGE_SORT_BYTES or more is range-partitioned and sorted per
range on all instances instead of gathered into one; with a limit (top-k) the input partitions keep only their
first records before a gather, unless those are still RANGE_SORT_BYTES and TOPK_RANGE_SHARE of the input.
Costs are network + disk bytes (``costs``).
"""

from __future__ import annotations

from typing import Any

from pact_backend import contracts as pact
from pact_backend import physical as ph
from pact_backend.optimizer import costs
from pact_backend.physical import sink_dop
from pact_backend.optimizer.estimates import Sized, estimate
from pact_backend.optimizer.properties import SINGLE, StreamProperties, after_ship, key_token, output_properties
from pact_backend.quick_dataclass import dataclass

RANGE_SORT_BYTES = 16 * 1024 * 1024  # a global sort of at least this many estimated bytes runs on key ranges
TOPK_RANGE_SHARE = 0.5  # ... with a limit, if the first records its input partitions keep are this share of it


@dataclass
class Planned:
    """One contract's decision, its output properties and its size estimate."""

    node: ph.PhysicalNode
    props: StreamProperties
    sized: Sized


@dataclass
class Candidate:
    """One alternative for a contract: ``ships`` per input, ``local``, its ``cost`` and a ``reason``."""

    ships: list[str]
    local: str
    cost: costs.Cost
    reason: str


def _size(value: float | None) -> str:
    """Bytes for humans: ``12 B``, ``3.4 KB``, ``1.2 GB`` (``?`` when unknown)."""
    if value is None:
        return "?"
    for unit in ("B", "KB", "MB", "GB"):
        if abs(value) < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return "?"


class Enumerator:
    """Plans the contracts of one PACT program at ``parallelism`` with ``memory`` bytes per instance."""

    def __init__(self, plan: pact.PactPlan, parallelism: int, memory: float):
        self.plan, self.parallelism, self.memory = plan, max(1, parallelism), memory
        self.done: dict[int, Planned] = {}
        self.splits: dict[int, list[Any]] = {}

    def run(self) -> ph.PhysicalPlan:
        """The physical plan: every contract planned after its inputs."""
        physical = ph.PhysicalPlan(self.plan, parallelism=self.parallelism, memory_per_instance=int(self.memory))
        for contract in self.plan.contracts():
            planned = self.choose(contract)
            self.done[contract.id] = planned
            physical.nodes[contract.id] = planned.node
        return physical

    # -- per contract ---------------------------------------------------------------------------------------

    def choose(self, c: pact.Contract) -> Planned:
        """Estimate ``c``, pick its DOP and its cheapest candidate, derive its output properties."""
        inputs = [self.done[i.id] for i in c.inputs]
        sized = estimate(c, [p.sized for p in inputs])
        dop = self._dop(c, inputs)
        if isinstance(c, pact.Source):
            best = Candidate([], ph.NONE, costs.Cost(), "reads its input splits")
        elif isinstance(c, pact.Match):
            best = self._cheapest(self._match(c, inputs, dop))
        elif isinstance(c, pact.Cross):
            best = self._cheapest(self._cross(c, inputs, dop))
        elif isinstance(c, (pact.Reduce, pact.CoGroup)):
            best = self._cheapest(self._grouping(c, inputs, dop, sized))
        else:
            best = self._streaming(inputs, dop)
        shipped = [after_ship(s, p.props, k, dop) for s, p, k in zip(best.ships, inputs, _keys(c))]
        sort_key = _keys(c)[0] if best.local in (ph.SORT_GROUP, ph.SORT_MERGE) else None
        props = output_properties(c, shipped, best.local, sort_key) if c.inputs else self._source_props(dop)
        note = "; ".join(sized.notes)
        reason = best.reason + (f" [est. {note}]" if note else "")
        node = ph.PhysicalNode(c, dop, best.ships, best.local, sized.estimate, best.cost.total, reason,
                               output_properties=props.describe(), splits=self.splits.get(c.id))
        return Planned(node, props, sized)

    def _source_props(self, dop: int) -> StreamProperties:
        return StreamProperties(SINGLE) if dop == 1 else StreamProperties()

    def _dop(self, c: pact.Contract, inputs: list[Planned]) -> int:
        """The DOP: a hint wins; a global Reduce runs at 1; a Source at as many instances as its input has
        splits; streaming contracts follow their inputs (a single-file sink gathers into 1, a part directory
        follows its producer), never below an input's DOP unless gathered into 1."""
        if isinstance(c, pact.Reduce) and c.key is None:
            return (c.dop or self.parallelism) if self._range_sort(c, inputs) else 1
        if isinstance(c, pact.Sink):
            return sink_dop(c, inputs[0].node.dop)
        keyed = (pact.Source, pact.Reduce, pact.Match, pact.Cross, pact.CoGroup)
        if not isinstance(c, keyed) and inputs:  # Map, Union, and contracts defined elsewhere (iterations)
            widest = max(p.node.dop for p in inputs)
            return 1 if c.dop == 1 else max(c.dop or 0, widest)
        dop = c.dop or self.parallelism
        if isinstance(c, pact.Source):
            return len(self._splits(c, dop))  # as many instances as the input has splits
        if isinstance(c, pact.Cross) and dop > 1 and all(p.node.dop != dop for p in inputs):
            return 1  # nested loops need one input forwarded at the contract's DOP
        return dop

    def _splits(self, c: pact.Source, dop: int) -> list[Any]:
        """The splits of each instance of the Source ``c`` (computed once per source)."""
        if c.id not in self.splits:
            self.splits[c.id] = ph.source_splits(c.input_format, dop)
        return self.splits[c.id]

    def _range_sort(self, c: pact.Reduce, inputs: list[Planned]) -> bool:
        """Whether the global sort ``c`` runs on key ranges: its UDF only orders (``sorts_only``), more than one
        instance is allowed, and its input is estimated at RANGE_SORT_BYTES or more (else it is gathered)."""
        if c.group_order is None or not c.sorts_only or c.dop == 1:
            return False
        size = costs.bytes_of(inputs[0].sized)
        if c.limit is not None:  # a top-k gathers its partitions' first records, unless that saves little
            kept = costs.shipped_bytes(c, inputs[0].sized, inputs[0].node.dop, None)
            return self.parallelism > 1 and kept >= RANGE_SORT_BYTES and kept >= TOPK_RANGE_SHARE * size
        return self.parallelism > 1 and size >= RANGE_SORT_BYTES

    @staticmethod
    def _cheapest(candidates: list[Candidate]) -> Candidate:
        """The first candidate of least total cost (candidates are listed in order of preference)."""
        return min(candidates, key=lambda cand: cand.cost.total)

    # -- streaming contracts: Map, Union, Sink ------------------------------------------------------------------

    def _streaming(self, inputs: list[Planned], dop: int) -> Candidate:
        ships, cost = [], costs.Cost()
        for p in inputs:
            ship = ph.GATHER if dop == 1 and p.node.dop > 1 else ph.FORWARD
            ships.append(ship)
            cost = cost + costs.ship_cost(ship, costs.bytes_of(p.sized), p.node.dop, dop)
        reason = "gathers into one partition" if ph.GATHER in ships \
            else "reads its input partition by partition (forward)"
        return Candidate(ships, ph.NONE, cost, reason)

    # -- keyed contracts ------------------------------------------------------------------------------------------

    def _partition(self, p: Planned, key: Any, dop: int) -> tuple[str, str]:
        """The ship strategy that puts equal keys of input ``p`` into one of ``dop`` partitions, and why."""
        if p.node.dop == dop and p.props.partitioned_on(key_token(key)):
            return ph.FORWARD, "already partitioned on the key (reused)"
        if dop == 1:
            return (ph.FORWARD, "one partition") if p.node.dop == 1 else (ph.GATHER, "gathered into one partition")
        return ph.HASH_PARTITION, "hash-partitioned on the key"

    def _grouping(self, c: pact.Contract, inputs: list[Planned], dop: int, sized: Sized) -> list[Candidate]:
        """Reduce / CoGroup: partition each input on its key, then hash- or sort-group."""
        keys = _keys(c)
        if isinstance(c, pact.Reduce) and c.key is None and dop > 1:
            return [self._ranged_sort(inputs[0], dop, c.limit)]
        ships, why, network = [], [], costs.Cost()
        for p, key in zip(inputs, keys):
            ship, text = self._partition(p, key, dop)
            shipped = costs.shipped_bytes(c, p.sized, p.node.dop, sized.estimate.records)
            network = network + costs.ship_cost(ship, shipped, p.node.dop, dop)
            ships.append(ship)
            why.append(text)
        presorted = [p.props.sorted_on(key_token(k)) and s == ph.FORWARD for p, k, s in zip(inputs, keys, ships)]
        sizes = [costs.bytes_of(p.sized) for p in inputs]
        needs_sort = getattr(c, "group_order", None) is not None and any(
            o is not None for o in (c.group_order if isinstance(c, pact.CoGroup) else (c.group_order,)))
        options = [ph.SORT_GROUP] if needs_sort or all(presorted) else [ph.HASH_GROUP, ph.SORT_GROUP]
        combine = " with combiner" if getattr(c, "combiner", None) is not None else ""
        if getattr(c, "limit", None) is not None:
            combine = f", each partition keeping its first {c.limit} records (bounded heap) before shipping"
        return [Candidate(ships, local, network + costs.local_cost(local, sizes, dop, self.memory, presorted),
                          f"{'; '.join(dict.fromkeys(why))}{combine}; {local}"
                          + (" (input sorted / group order)" if local == ph.SORT_GROUP else ""))
                for local in options]

    def _ranged_sort(self, p: Planned, dop: int, limit: int | None = None) -> Candidate:
        """A global sort on ``dop`` key ranges: boundaries sampled at run time, every range sorted locally (with
        a ``limit``: every range keeps its first records, one partition reads the ranges in order and cuts)."""
        size = costs.bytes_of(p.sized)
        cost = costs.ship_cost(ph.RANGE_PARTITION, size, p.node.dop, dop)
        cost = cost + costs.local_cost(ph.SORT_GROUP, [size], dop, self.memory, [False])
        each = "sorted, ranges read in order" if limit is None else \
            f"keeps its first {limit} records (bounded heap), ranges read in order and cut at {limit}"
        return Candidate([ph.RANGE_PARTITION], ph.SORT_GROUP, cost,
                         f"range-partitioned on the sort key ({_size(size)}, sampled boundaries); each range {each}")

    def _match(self, c: pact.Match, inputs: list[Planned], dop: int) -> list[Candidate]:
        """Re-partition both inputs (hybrid hash, build = smaller side; sort-merge when both arrive sorted), or
        broadcast one input to the partitions of the other (when that one can be forwarded)."""
        left, right = inputs
        sizes = [costs.bytes_of(p.sized) for p in inputs]
        build_first = sizes[0] < sizes[1]
        hybrid = ph.HYBRID_HASH_BUILD_FIRST if build_first else ph.HYBRID_HASH_BUILD_SECOND
        out = []
        ships = [self._partition(p, k, dop) for p, k in zip(inputs, _keys(c))]
        network = sum((costs.ship_cost(s, b, p.node.dop, dop) for (s, _), b, p in zip(ships, sizes, inputs)),
                      costs.Cost())
        presorted = [p.props.sorted_on(key_token(k)) and s == ph.FORWARD
                     for p, k, (s, _) in zip(inputs, _keys(c), ships)]
        why = "; ".join(dict.fromkeys(text for _, text in ships))
        for local in ([ph.SORT_MERGE] if all(presorted) else []) + [hybrid]:
            side = "" if local == ph.SORT_MERGE else f", builds on the smaller input {0 if build_first else 1}"
            out.append(Candidate([s for s, _ in ships], local,
                                 network + costs.local_cost(local, sizes, dop, self.memory, presorted),
                                 f"{why}; {local}{side} ({_size(sizes[0])} vs {_size(sizes[1])})"))
        if dop > 1:
            out += self._broadcasts(inputs, sizes, dop)
        return out

    def _broadcasts(self, inputs: list[Planned], sizes: list[float], dop: int) -> list[Candidate]:
        """Broadcast input i (hash table built on it) while the other input is forwarded at its DOP."""
        out = []
        for small, big in ((0, 1), (1, 0)):
            if inputs[big].node.dop != dop:
                continue
            ships = [ph.FORWARD, ph.FORWARD]
            ships[small] = ph.BROADCAST
            local = ph.HYBRID_HASH_BUILD_FIRST if small == 0 else ph.HYBRID_HASH_BUILD_SECOND
            cost = costs.ship_cost(ph.BROADCAST, sizes[small], inputs[small].node.dop, dop)
            cost = cost + costs.local_cost(local, [sizes[0] * (dop if small == 0 else 1),
                                                   sizes[1] * (dop if small == 1 else 1)], dop, self.memory,
                                           [False, False])
            out.append(Candidate(ships, local, cost,
                                 f"broadcasts input {small} ({_size(sizes[small])}, much smaller than "
                                 f"{_size(sizes[big])}); {local}"))
        return out

    def _cross(self, c: pact.Cross, inputs: list[Planned], dop: int) -> list[Candidate]:
        """Nested loops: broadcast one input, forward the other; at DOP 1 both arrive whole."""
        sizes = [costs.bytes_of(p.sized) for p in inputs]
        if dop == 1:
            ships = [self._partition(p, None, 1)[0] for p in inputs]
            cost = sum((costs.ship_cost(s, b, p.node.dop, 1) for s, b, p in zip(ships, sizes, inputs)), costs.Cost())
            return [Candidate(ships, ph.NESTED_LOOP, cost + costs.local_cost(ph.NESTED_LOOP, sizes, 1, self.memory,
                                                                             [False, False]), "nested loops at DOP 1")]
        out = []
        for small, big in ((1, 0), (0, 1)):
            if inputs[big].node.dop != dop:
                continue
            ships = [ph.FORWARD, ph.FORWARD]
            ships[small] = ph.BROADCAST
            cost = costs.ship_cost(ph.BROADCAST, sizes[small], inputs[small].node.dop, dop)
            cost = cost + costs.local_cost(ph.NESTED_LOOP, sizes, dop, self.memory, [False, False])
            out.append(Candidate(ships, ph.NESTED_LOOP, cost,
                                 f"broadcasts input {small} ({_size(sizes[small])}); nested loops"))
        return out


def _keys(c: pact.Contract) -> list[Any]:
    """The key function per input (None where the contract has no key)."""
    if isinstance(c, pact.Reduce):
        return [c.key]
    keys = getattr(c, "keys", None)
    return list(keys) if keys is not None else [None] * len(c.inputs)
