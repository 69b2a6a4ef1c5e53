"""How contracts run together: chaining, combining before shipping and fused source stages (VLDB J. 2014,
sec. 7.3: source -> map -> combine -> partition in one task).

``decide_execution(physical)`` records on every PhysicalNode what the executors then do:

- ``chained``: a Map whose input is forwarded and read by it alone runs in its producer's tasks; a Match
  whose build side is broadcast (or forwarded at DOP 1) and built as the hash table, and whose probe side is
  forwarded and read by it alone, runs in its probe input's tasks, the build side a side input of that stage;
- ``combined``: a Reduce with a combiner and no group order has the combiner run in its producers' tasks,
  whatever the ship strategy (also at DOP 1, where the input is forwarded); a Reduce with a limit (top-k)
  keeps each producer partition's first records there (``runtime.topk.FirstRecords``);
- ``fused``: a Source whose stage is ``Source -> Maps -> combined Reduce`` runs as one loop over
  batches when the Reduce's combiner offers a fused source for it (``pact_backend.runtime.fused_source``).
"""

from __future__ import annotations

from typing import Any

from pact_backend import contracts as pact
from pact_backend import physical as ph
from pact_backend.runtime.checks import consumer_counts


def decide_execution(physical: ph.PhysicalPlan) -> None:
    """Set ``chained``, ``combined`` and ``fused`` on every node of ``physical`` (in place)."""
    order = physical.plan.contracts()
    readers = consumer_counts(order)
    for c in order:
        node = physical.node(c)
        node.chained = _chainable(c, node, readers)
        node.combined = isinstance(c, pact.Reduce) and (
            (c.combiner is not None and c.group_order is None) or c.limit is not None)
    for c in order:
        if isinstance(c, pact.Source):
            physical.node(c).fused = fused_source(c, physical, readers) is not None


def broadcast_build(node: ph.PhysicalNode) -> int | None:
    """The input index of a Match's build input when every task of its probe input sees the whole build
    input and the hash table is built on it: the build input is broadcast and the probe input forwarded, or
    both are forwarded into one instance (DOP 1, as on the inline executor). Else None."""
    build = build_side(node)
    if build is None or node.ship[1 - build] != ph.FORWARD:
        return None
    if node.ship[build] == ph.BROADCAST or (node.ship[build] == ph.FORWARD and node.dop == 1):
        return build
    return None


def build_side(node: ph.PhysicalNode) -> int | None:
    """The input a hybrid-hash Match builds its table on (None for other local strategies)."""
    return {ph.HYBRID_HASH_BUILD_FIRST: 0, ph.HYBRID_HASH_BUILD_SECOND: 1}.get(node.local)


def _chainable(c: pact.Contract, node: ph.PhysicalNode, readers: dict[int, int]) -> bool:
    if isinstance(c, pact.Map):
        return node.ship[0] == ph.FORWARD and readers[c.inputs[0].id] == 1
    if isinstance(c, pact.Match):
        build = broadcast_build(node)
        return build is not None and readers[c.inputs[1 - build].id] == 1
    return False


def stage_chain(source: pact.Contract, physical: ph.PhysicalPlan, readers: dict[int, int]
                ) -> tuple[list[pact.Contract], pact.Contract | None]:
    """(chained contracts after ``source`` in its stage, the single consumer of the chain's end or None when
    the end is read by several contracts or by none)."""
    consumers: dict[int, list[pact.Contract]] = {}
    for c in physical.plan.contracts():
        for i in c.inputs:
            consumers.setdefault(i.id, []).append(c)
    chain, end = [], source
    while readers.get(end.id) == 1:
        (nxt,) = consumers[end.id]
        if not physical.node(nxt).chained:
            return chain, nxt
        chain.append(nxt)
        end = nxt
    return chain, None


def fused_source(source: pact.Source, physical: ph.PhysicalPlan, readers: dict[int, int]) -> Any:
    """The fused source of ``source``'s stage (see the module docstring), or None: the stage must be the
    Source followed by chained Maps only, ending in one combined Reduce whose combiner offers a fusion."""
    chain, consumer = stage_chain(source, physical, readers)
    if consumer is None or not isinstance(consumer, pact.Reduce) or not physical.node(consumer).combined:
        return None
    if any(not isinstance(c, pact.Map) for c in chain):
        return None
    combiner = consumer.combiner
    return None if combiner is None else combiner.fuse_source(source.input_format, [c.fusion_fact for c in chain])
