"""The stage graph of the process executor: a physical plan cut into stages of chained drivers, their partition
counts, outputs and channels (VLDB J. 2014, sec. 7.3: source -> map -> combine -> partition in one task).

A stage is a head contract plus the forward Maps chained to it, and a Match whose build side is broadcast (or
forwarded at DOP 1) and whose probe side is the stage's stream (``ChainedMatch``: the build side becomes a side
input of the stage); every input channel is an output of the producer's stage routed by the ship strategy
(forward, hash-partition, broadcast, gather). A range-partitioned channel gets a shuffle stage of its own (a pass-through head whose output
is routed by key ranges); its boundaries are sampled from the producers' outputs just before it runs
(``RangeChannel.prepare``).
"""

from __future__ import annotations

from typing import Any

from pact_backend import contracts as pact
from pact_backend import physical as phys
from pact_backend.chaining import broadcast_build
from pact_backend.io.parts import is_part_directory
from pact_backend.progress import NoProgress
from pact_backend.runtime.blocks import Segment, read_blocks
from pact_backend.runtime.checks import PlanStructureError
from pact_backend.runtime.ranges import BytesKey, choose_boundaries, sample_keys
from pact_backend.runtime.stages import ChainedMatch, OutputSpec, StageSpec, TaskResult
from pact_backend.runtime.topk import FirstRecords


class Stage:
    """A stage being planned and run: its head, spec (head and chained Maps), partitions, inputs, results.

    ``label`` names it in progress lines; ``after``: stages that must finish first besides the producers of
    ``inputs`` (a shuffle waits for every input its boundaries are sampled from); ``ranges``: the range
    channel a shuffle stage serves, whose boundaries are set just before it is submitted.
    """

    def __init__(self, index: int, head: pact.Contract, kind: str, fields: dict[str, Any], parts: int,
                 head_id: int | None = None):
        self.index, self.head, self.parts = index, head, parts
        self.spec = StageSpec(index, kind, head.id if head_id is None else head_id, fields)
        self.label = f"{head.kind} {head.name}"
        self.inputs: list[tuple[Stage, int, str]] = []   # (producer stage, its output index, ship strategy)
        self.splits: list[Any] | None = None               # per partition: source parts (None: whole source)
        self.plain: int | None = None                      # index of the unpartitioned output, if any
        self.results: list[TaskResult | None] = [None] * parts
        self.after: list[Stage] = []
        self.ranges: RangeChannel | None = None

    def renumber(self, index: int) -> None:
        self.index = self.spec.stage = index

    def plain_output(self) -> int:
        if self.plain is None:
            self.plain = self.add_output(OutputSpec())
        return self.plain

    def add_output(self, out: OutputSpec) -> int:
        self.spec.outputs.append(out)
        return len(self.spec.outputs) - 1

    def segments(self, output: int, ship: str, part: int, parts: int) -> list[Segment]:
        """The segments of ``output`` that partition ``part`` of ``parts`` consumer partitions reads."""
        if ship in (phys.HASH_PARTITION, phys.RANGE_PARTITION):
            return [s for r in self.results for s in r.outputs[output][part]]
        if ship == phys.FORWARD:
            chosen = self.results[part::parts] if parts < self.parts else self.results[part:part + 1]
        elif ship == phys.BROADCAST or part == 0:
            chosen = self.results
        else:
            chosen = []
        return [s for r in chosen for bucket in r.outputs[output] for s in bucket]


class RangeChannel:
    """The range-partitioned inputs of one consumer stage: per input its producer, plain output and range key;
    ``boundaries`` (shared by every input, so equal keys meet) are chosen once from samples of all of them."""

    def __init__(self, consumer: Stage, descending: bool):
        self.consumer, self.descending = consumer, descending
        self.sources: list[tuple[Stage, int, Any]] = []
        self.shuffles: list[Stage] = []
        self.boundaries: list[Any] | None = None

    def prepare(self) -> None:
        """Sample every source's output and set the boundaries on every shuffle's output (once)."""
        if self.boundaries is None:
            keys: list[Any] = []
            for producer, output, key in self.sources:
                if key is not None:
                    segments = producer.segments(output, phys.GATHER, 0, 1)
                    keys += sample_keys(segments, key)
            self.boundaries = choose_boundaries(keys, self.consumer.parts)
        for shuffle in self.shuffles:
            shuffle.spec.outputs[0].boundaries = self.boundaries


class StageGraph:
    """The stages of a physical plan: chains Maps onto their only producer, sets partition counts and outputs."""

    def __init__(self, order: list[pact.Contract], physical: phys.PhysicalPlan, progress: Any = None):
        self.physical = physical
        self.progress = progress if progress is not None else NoProgress()
        self.stages: list[Stage] = []
        self.stage_of: dict[int, Stage] = {}
        self.sink_outputs: dict[int, int] = {}
        self.channels: dict[int, RangeChannel] = {}  # consumer contract id -> its range-partitioned inputs
        for c in order:
            node = physical.node(c)
            if isinstance(c, pact.Sink):
                self.sink_outputs[c.id] = self.stage_of[c.inputs[0].id].plain_output()
            elif node.chained and isinstance(c, pact.Map):
                stage = self.stage_of[c.inputs[0].id]
                stage.spec.chain.append((c.id, c.udf))
                stage.spec.selections.append(c.fusion_fact)
                stage.spec.batch_selections.append(c.batch_selection)
                stage.label += f" -> {c.name}"
                self.stage_of[c.id] = stage
            elif node.chained and isinstance(c, pact.Match):
                self._chain_match(c, node)
            else:
                self.stage_of[c.id] = self._new_stage(c)
        self._order_stages()

    def _order_stages(self) -> None:
        """Renumber the stages so that every stage comes after the stages it reads (a chained Match makes an
        earlier stage read a later one); the order is otherwise kept. Executors may submit in this order."""
        ordered: list[Stage] = []
        seen: set[int] = set()

        def visit(stage: Stage) -> None:
            if id(stage) not in seen:
                seen.add(id(stage))
                for producer in [p for p, _, _ in stage.inputs] + stage.after:
                    visit(producer)
                ordered.append(stage)

        for stage in self.stages:
            visit(stage)
        for index, stage in enumerate(ordered):
            stage.renumber(index)
        self.stages = ordered

    def _chain_match(self, c: pact.Match, node: phys.PhysicalNode) -> None:
        """Chain the Match ``c`` to the stage of its forward probe input; its build input (broadcast, or
        forwarded at DOP 1) becomes a side input of that stage (its tasks wait for the build side, then stream
        their records through the hash table instead of writing them to blocks for a Match stage)."""
        build = broadcast_build(node)
        if build is None:
            raise PlanStructureError(f"{c!r} is marked chained but its build side does not reach every task whole")
        stage = self.stage_of[c.inputs[1 - build].id]
        producer = self.stage_of[c.inputs[build].id]
        stage.inputs.append((producer, producer.plain_output(), node.ship[build]))
        stage.spec.chain.append((c.id, ChainedMatch(_functions(c.keys), c.udf, build, len(stage.inputs) - 1,
                                                    node.local, c.batch_probe)))
        stage.spec.selections.append(None)
        stage.spec.batch_selections.append(None)
        stage.label += f" -> {c.name}"
        self.stage_of[c.id] = stage

    def sink_partitions(self, sink: pact.Sink) -> list[Any]:
        """The records a sink writes, one iterator per partition of its producer, in partition order (the
        order of a sorted input); read lazily, with a progress line per sink."""
        producer = self.stage_of[sink.inputs[0].id]
        output = self.sink_outputs[sink.id]
        parts = [producer.segments(output, phys.FORWARD, part, producer.parts) for part in range(producer.parts)]
        key = ("sink", sink.id)
        self.progress.begin(key, f"Sink {sink.name}", sum(map(len, parts)), unit="block")
        return [self._read_part(segments, key, last=index == len(parts) - 1) for index, segments in enumerate(parts)]

    def _read_part(self, segments: list[Segment], key: Any, last: bool) -> Any:
        for segment, block in zip(segments, read_blocks(segments)):
            yield from block
            self.progress.advance(key, 1, len(block), segment.length)
        if last:
            self.progress.end(key)

    def produced(self, sinks: dict[int, tuple[int, float]]) -> dict[int, list[float]]:
        """Contract id -> [records out, own seconds] summed over all tasks, sinks' from ``sinks``."""
        out: dict[int, list[float]] = {}
        for stage in self.stages:
            for result in stage.results:
                for contract_id, (records, spent) in (result.stats if result else {}).items():
                    entry = out.setdefault(contract_id, [0, 0.0])
                    entry[0] += records
                    entry[1] += spent
        out.update({sink_id: [records, spent] for sink_id, (records, spent) in sinks.items()})
        return out

    def task_reports(self) -> dict[int, list[tuple[dict[int, str], bool]]]:
        """Stage index -> (strategies the drivers ran, ran fused) of every task that ran (process executor)."""
        return {stage.index: [(r.ran, r.fused) for r in stage.results if r is not None and r.ran]
                for stage in self.stages}

    def executed(self, reports: dict[int, list[tuple[dict[int, str], bool]]]) -> dict[int, dict[str, Any]]:
        """What every contract ran, as ``PhysicalNode.execution()`` describes it: the ship strategies of the
        channels built for its inputs, the local strategy its tasks' drivers reported (None when no task ran
        it), whether it ran chained into another contract's stage, combined in its producers' tasks, fused.
        ``reports``: stage index -> (ran, fused) per task, as the tasks returned them."""
        combined = {out.consumer for stage in self.stages for out in stage.spec.outputs if out.combiner}
        out: dict[int, dict[str, Any]] = {}
        for c in self.physical.plan.contracts():
            stage = self.stage_of.get(c.id)
            if stage is None:  # a sink: the executor writes its producer's partitions, one part file each or all
                producer = self.stage_of[c.inputs[0].id]  # gathered into one file (also by a top-k's cut)
                one_each = producer.spec.kind != "first" and (producer.parts == 1
                                                              or is_part_directory(c.output_format))
                out[c.id] = {"ship": [phys.FORWARD if one_each else phys.GATHER], "local": phys.NONE,
                             "chained": False, "combined": False, "fused": False}
                continue
            if stage.spec.kind == "first":  # the cut after a top-k on key ranges: the Reduce ran in the ranges
                stage = stage.inputs[0][0]
            tasks = reports.get(stage.index, [])
            locals_ = {ran[c.id] for ran, _ in tasks if c.id in ran}
            out[c.id] = {"ship": self._ships(c, stage), "local": locals_.pop() if len(locals_) == 1 else None,
                         "chained": stage.head is not c, "combined": c.id in combined,
                         "fused": stage.head is c and any(fused for _, fused in tasks)}
        return out

    def _ships(self, c: pact.Contract, stage: Stage) -> list[str]:
        """The ship strategy of each input channel of ``c`` as built in ``stage``."""
        if stage.head is c:
            return [ship for _, _, ship in stage.inputs[:len(c.inputs)]]
        entry = next(udf for cid, udf in stage.spec.chain if cid == c.id)
        if isinstance(entry, ChainedMatch):
            ships = [phys.FORWARD, phys.FORWARD]
            ships[entry.build] = stage.inputs[entry.side][2]
            return ships
        return [phys.FORWARD]

    def _add(self, stage: Stage) -> Stage:
        stage.renumber(len(self.stages))
        self.stages.append(stage)
        return stage

    def _new_stage(self, c: pact.Contract) -> Stage:
        node = self.physical.node(c)
        kind, fields = _head_fields(c, node)
        if isinstance(c, pact.Source):
            stage = Stage(-1, c, kind, fields, 1)
            stage.spec.fused = node.fused
            _assign_splits(stage, node)
        else:
            stage = Stage(-1, c, kind, fields, self._parts(c, node))
            for index, source in enumerate(c.inputs):
                stage.inputs.append(self._channel(source, stage, index, node.ship[index]))
        stage = self._add(stage)
        if isinstance(c, pact.Reduce) and c.key is None and c.limit is not None and stage.parts > 1:
            return self._first_of_ranges(stage, c)
        return stage

    def _first_of_ranges(self, ranges: Stage, c: pact.Reduce) -> Stage:
        """A one-partition stage after a global sort with a limit split into key ranges: every range kept its
        own first ``c.limit`` records, and this stage reads the ranges in order and keeps the first ones.
        Consumers of ``c`` read this stage (its stats share the id of the range shuffle: neither is a
        contract)."""
        cut = Stage(-1, c, "first", {"limit": c.limit}, 1, head_id=-1 - c.id)
        cut.label = f"first {c.limit} of {c.name}"
        cut.inputs.append((ranges, ranges.plain_output(), phys.GATHER))
        return self._add(cut)

    def _parts(self, c: pact.Contract, node: phys.PhysicalNode) -> int:
        """Partitions of a non-source head: 1 under a gather, the node's DOP under a hash or range partition,
        else those of its forward inputs (a Map after a sort stays in one partition)."""
        ships = node.ship
        if phys.GATHER in ships:
            return 1
        if phys.HASH_PARTITION in ships or phys.RANGE_PARTITION in ships:
            parts = node.dop
            for source, ship in zip(c.inputs, ships):
                if ship == phys.FORWARD and isinstance(c, (pact.Match, pact.CoGroup, pact.Reduce)) \
                        and self.stage_of[source.id].parts != parts:
                    raise PlanStructureError(f"{c!r}: forward input {source!r} has "
                                             f"{self.stage_of[source.id].parts} partitions, not {parts}")
            return parts
        forwarded = [self.stage_of[s.id].parts for s, ship in zip(c.inputs, ships) if ship == phys.FORWARD]
        return max(forwarded) if forwarded else node.dop

    def _channel(self, source: pact.Contract, stage: Stage, index: int, ship: str) -> tuple[Stage, int, str]:
        """The output of ``source``'s stage that feeds input ``index`` of ``stage`` (a plain one unless it is
        hash-partitioned; a Reduce's combiner runs before shipping and its input then carries keys)."""
        producer, consumer = self.stage_of[source.id], stage.head
        if ship == phys.RANGE_PARTITION:
            return self._range_channel(producer, stage, index)
        key, combiner = _key_of(consumer, index), None
        if self.physical.node(consumer).combined:
            combiner = _combiner_of(consumer)
            stage.spec.head["keyed"] = True
        if ship != phys.HASH_PARTITION:
            if combiner is None:
                return producer, producer.plain_output(), ship
            return producer, producer.add_output(OutputSpec(1, key, combiner, consumer.id)), ship
        return producer, producer.add_output(OutputSpec(stage.parts, key, combiner, consumer.id)), ship

    def _range_channel(self, producer: Stage, stage: Stage, index: int) -> tuple[Stage, int, str]:
        """A shuffle stage between ``producer`` and input ``index`` of ``stage``: it forwards the producer's
        partitions and routes their records into ``stage.parts`` key ranges (boundaries set at submission)."""
        key, descending = _range_key(stage.head, index)
        channel = self.channels.setdefault(stage.head.id, RangeChannel(stage, descending))
        channel.sources.append((producer, producer.plain_output(), key))
        shuffle = Stage(-1, stage.head, "union", {}, producer.parts, head_id=-1 - stage.head.id)
        shuffle.label = f"range-partition for {stage.head.name}"
        shuffle.inputs.append((producer, producer.plain_output(), phys.FORWARD))
        shuffle.add_output(OutputSpec(stage.parts, key, boundaries=[], descending=descending))
        shuffle.ranges = channel
        channel.shuffles.append(shuffle)
        for other in channel.shuffles:
            other.after = [p for p, _, _ in channel.sources]
        return self._add(shuffle), 0, phys.RANGE_PARTITION


def _head_fields(c: pact.Contract, node: phys.PhysicalNode) -> tuple[str, dict[str, Any]]:
    """The driver kind and the attributes a worker needs of the head contract ``c``, with its local strategy
    (the key of its driver in ``pact_backend.runtime.drivers``)."""
    local = {"local": node.local}
    if isinstance(c, pact.Source):
        return "source", {"input_format": c.input_format, **local}
    if isinstance(c, pact.Map):
        return "map", {"udf": c.udf, **local}
    if isinstance(c, pact.Reduce):
        return "reduce", {"key": pact.key_function(c.key), "udf": c.udf, "combiner": c.combiner,
                          "group_order": pact.order_function(c.group_order), "limit": c.limit,
                          "sorts_only": c.sorts_only, "streams_group": c.streams_group,
                          "sequence_groups": c.sequence_groups, **local}
    if isinstance(c, pact.CoGroup):
        orders = c.group_order and (pact.order_function(c.group_order[0]), pact.order_function(c.group_order[1]))
        return "cogroup", {"keys": _functions(c.keys), "udf": c.udf, "group_order": orders,
                           "sequence_groups": c.sequence_groups, **local}
    if isinstance(c, pact.Match):
        return "match", {"keys": _functions(c.keys), "udf": c.udf, **local}
    if isinstance(c, pact.Cross):
        inner = 0 if node.ship[0] == phys.BROADCAST and node.ship[1] != phys.BROADCAST else 1
        return "cross", {"udf": c.udf, "inner": inner, **local}
    return "union", local


def _combiner_of(c: pact.Reduce) -> Any:
    """What pre-aggregates the records shipped to the combined Reduce ``c`` on their producers: for a Reduce
    with a limit a bounded heap keeping each partition's first records, else its combiner."""
    return FirstRecords(pact.order_function(c.group_order), c.limit) if c.limit is not None else c.combiner


def _functions(keys: tuple[pact.Key, pact.Key] | None) -> tuple[Any, Any] | None:
    """The plain functions of a Match's or CoGroup's keys (the runtime calls them once per record)."""
    return None if keys is None else (keys[0].fn, keys[1].fn)


def _key_of(c: pact.Contract, index: int) -> Any:
    """The key function ``c`` groups or joins its input ``index`` by (None: one global key)."""
    if isinstance(c, pact.Reduce):
        return pact.key_function(c.key)
    keys = getattr(c, "keys", None)
    return keys[index].fn if keys is not None else None


def _range_key(c: pact.Contract, index: int) -> tuple[Any, bool]:
    """(range key, descending) of input ``index`` of ``c``: a global sort's order key (its values compare),
    else the canonical bytes of the contract's key (equal keys meet, ranges in bytes order)."""
    if isinstance(c, pact.Reduce) and c.key is None and c.group_order is not None:
        return c.group_order[0].fn, c.group_order[1]
    key = _key_of(c, index)
    return (BytesKey(key) if key is not None else None), False


def _assign_splits(stage: Stage, node: phys.PhysicalNode) -> None:
    """Give every partition of a source stage the splits the planner assigned it (``node.splits``)."""
    splits = node.splits if node.splits is not None else phys.source_splits(node.contract.input_format, node.dop)
    stage.parts, stage.results = len(splits), [None] * len(splits)
    stage.splits = None if splits == [None] else splits
