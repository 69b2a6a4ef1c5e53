"""The driver table: one driver per contract kind and local strategy, the only code that runs contracts
(VLDB J. 2014, sec. 6.3 and 7.3). Every executor runs its stages' head contracts through ``DRIVERS``.

A driver is ``driver(head, inputs, ctx) -> records``: ``head`` holds the contract's attributes a worker needs
(``udf``, ``key``/``keys``, ``combiner``, ``group_order``, ``input_format``, ...) and its ``local`` strategy,
``inputs`` one iterable of records per input, ``ctx`` the task's ``DriverContext`` (memory budget in bytes,
spill directory, combine threshold). Keys are opaque: sort-based strategies order records by the canonical
bytes of their keys (``partition.canonical_bytes``), never by comparing keys, and equal keys meet because
equal keys have equal canonical bytes. Hash tables and sorts spill past the budget, so inputs larger than
memory finish. A driver records the strategy it ran in ``ctx.ran`` (contract id -> local strategy).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import field
from operator import itemgetter
from typing import Any, Callable, Iterable, Iterator

from pact_backend import physical as ph

GroupOrder = tuple[Callable[[Any], Any], bool]
from pact_backend.quick_dataclass import dataclass
from pact_backend.runtime.groups import SpilledGroup, collect_group, release
from pact_backend.runtime.memory import SizeEstimator, group_limit
from pact_backend.runtime.partition import canonical_bytes
from pact_backend.runtime.sorter import SpillDir, external_sort
from pact_backend.runtime.spill import SpillingGrouper, spilling_hash_join
from pact_backend.runtime.topk import first_records


class UnsupportedStrategy(ValueError):
    """A contract arrived with a local strategy no driver implements (a physical plan this runtime cannot
    run); the message names the contract kind and the strategy."""


@dataclass
class DriverContext:
    """One task's resources for its drivers: ``budget`` (bytes before spilling), ``spill`` directory,
    ``combine_threshold`` (records of a group before its combiner runs), the source ``splits`` the task
    reads (None: the whole source) and ``ran`` (contract id -> the local strategy its driver ran, reported
    back to the executor)."""

    budget: float
    spill: SpillDir
    combine_threshold: int = 1024
    splits: list[Any] | None = None
    ran: dict[int, str] = field(default_factory=dict)


def run_head(kind: str, head: dict[str, Any], head_id: int, inputs: list[Iterable[Any]],
             ctx: DriverContext) -> Iterable[Any]:
    """The records of the head contract of a stage: the driver of ``kind`` and ``head['local']``.
    Raises UnsupportedStrategy for a strategy no driver has."""
    local = head.get("local", ph.NONE)
    driver = DRIVERS.get((kind, local))
    if driver is None:
        raise UnsupportedStrategy(f"no driver runs a {kind} with local strategy {local!r}")
    ctx.ran[head_id] = local
    return driver(head, inputs, ctx)


def order_group(group: list[Any], order: GroupOrder | None) -> list[Any]:
    """Sort ``group`` in place by ``order = (key function, descending)``, stably; None leaves it as is."""
    if order is not None:
        order_key, descending = order
        group.sort(key=order_key, reverse=descending)
    return group


# -- streaming contracts ----------------------------------------------------------------------------------------

def _source(head: dict, inputs: list, ctx: DriverContext) -> Iterable[Any]:
    fmt, splits = head["input_format"], ctx.splits
    if splits is None:
        return fmt.read()
    if len(splits) == 1:
        return fmt.read_split(splits[0])  # no extra generator layer for the usual single split
    return itertools.chain.from_iterable(fmt.read_split(part) for part in splits)


def _map(head: dict, inputs: list, ctx: DriverContext) -> Iterable[Any]:
    return head["udf"](inputs[0])


def _union(head: dict, inputs: list, ctx: DriverContext) -> Iterable[Any]:
    return itertools.chain.from_iterable(inputs)


# -- Reduce ------------------------------------------------------------------------------------------------------

def _pairs(records: Iterable[Any], key: Callable[[Any], Any] | None, keyed: bool) -> Iterable[tuple[Any, Any]]:
    """(key, record) pairs of an input: as they come when the producer shipped keyed (combined) records."""
    if keyed:
        return records
    return ((None, r) for r in records) if key is None else ((key(r), r) for r in records)


def _reduce_hash(head: dict, inputs: list, ctx: DriverContext) -> Iterator[Any]:
    """Hash grouping (spilling sorted runs past the budget); the combiner shrinks large groups. A UDF that
    streams its group (``streams_group``) reads a spilled group straight from the merged runs, and the one
    global group straight from the input; one that takes sequences (``sequence_groups``) gets a spilled
    group collected into a ``groups.SpilledGroup`` past its share of the budget, the one global group too."""
    key, udf, order, limit = head["key"], head["udf"], head["group_order"], head.get("limit")
    streams, sequences = head.get("streams_group", False), head.get("sequence_groups", False)
    if key is None and order is not None and (head.get("sorts_only") or limit is not None or streams
                                              or sequences):
        yield from _global_order(head, inputs, ctx)
        return
    pairs = _pairs(inputs[0], key, head.get("keyed", False))
    if key is None and streams and order is None:
        yield from _one_group(udf, (record for _, record in pairs))
        return
    combiner = head["combiner"] if order is None else None
    if key is None and sequences and combiner is None:
        group = collect_group((record for _, record in pairs), group_limit(ctx.budget), ctx.spill)
        if len(group):
            yield from _calling(udf, None, group)
        return
    budget = ctx.budget if key is not None else float("inf")  # one global group cannot be split
    grouper = SpillingGrouper([key], budget, ctx.spill, combiner, ctx.combine_threshold)
    grouper.add_keyed(0, pairs)
    if streams and order is None:  # no limit either: a limit needs an order
        for k, (group,) in grouper.groups(stream=True):
            yield from udf(k, group)
        return
    if sequences:
        for k, (group,) in grouper.groups(limit=group_limit(ctx.budget)):
            yield from _calling(udf, k, ordered_group(group, order, limit, ctx))
        return
    for k, (group,) in grouper.groups():
        yield from udf(k, _cut(order_group(group, order), limit))


def _reduce_sort(head: dict, inputs: list, ctx: DriverContext) -> Iterator[Any]:
    """Sort grouping: an external sort on the key's canonical bytes, then runs of equal keys (streamed to a
    UDF that streams its group, collected for one that takes sequences, else as lists)."""
    key, udf, order, limit = head["key"], head["udf"], head["group_order"], head.get("limit")
    streams, sequences = head.get("streams_group", False), head.get("sequence_groups", False)
    if key is None and order is not None and (head.get("sorts_only") or limit is not None or streams
                                              or sequences):
        yield from _global_order(head, inputs, ctx)
        return
    pairs = _pairs(inputs[0], key, head.get("keyed", False))
    files = ctx.spill.files
    ordered = external_sort(pairs, _canonical_key, ctx.budget, ctx.spill)
    share, estimator = _share(ctx, files, 1), SizeEstimator()
    for k, items in itertools.groupby(ordered, itemgetter(0)):
        if streams and order is None:
            yield from udf(k, map(_second, items))
        elif sequences:
            group = collect_group(map(_second, items), share, ctx.spill, estimator)
            yield from _calling(udf, k, ordered_group(group, order, limit, ctx))
        else:
            yield from udf(k, _cut(order_group([record for _, record in items], order), limit))


def _share(ctx: DriverContext, files: int, sides: int) -> float | None:
    """The bytes one side of a group may hold before it spills (``memory.group_limit``), or None when the sort
    the groups come from wrote no file since ``files`` (its records are in memory already, within budget)."""
    return group_limit(ctx.budget, sides) if ctx.spill.files > files else None


def ordered_group(group: list[Any] | SpilledGroup, order: GroupOrder | None, limit: int | None,
                  ctx: DriverContext) -> list[Any] | SpilledGroup:
    """A collected group in its ``order`` and cut to ``limit`` records: a list sorted in place; a spilled
    group sorted externally (half the budget) into a new collected group, the old one released."""
    if type(group) is list:
        return _cut(order_group(group, order), limit)
    if order is None:
        return group
    order_key, descending = order
    ordered = external_sort(iter(group), order_key, ctx.budget / 2, ctx.spill, reverse=descending)
    result = collect_group(itertools.islice(ordered, limit), group_limit(ctx.budget), ctx.spill)
    release(group)
    return result


def _calling(udf: Callable[..., Iterable[Any]], key: Any, *groups: Any) -> Iterator[Any]:
    """The output of ``udf(key, *groups)``; its spilled groups are released once that output has been read
    (or abandoned)."""
    try:
        yield from udf(key, *groups)
    finally:
        release(*groups)


def _one_group(udf: Callable[[Any, Any], Iterable[Any]], records: Iterator[Any]) -> Iterator[Any]:
    """The UDF's output for the one global group of ``records``, streamed; no call when there is no record
    (a Reduce is called for the groups that exist)."""
    for first in records:
        yield from udf(None, itertools.chain((first,), records))
        return


def _second(pair: tuple[Any, Any]) -> Any:
    return pair[1]


def _global_order(head: dict, inputs: list, ctx: DriverContext) -> Iterator[Any]:
    """One global group in its order (a global sort, also one key range of a range-partitioned sort): an
    external sort keeps the budget; with a ``limit`` a bounded heap keeps only the first records (pre-cut by
    the producers, ``topk.FirstRecords``). A UDF that only orders (``sorts_only``) is not called; one that
    streams its group (``streams_group``) reads the external sort's output as it merges."""
    udf, order, limit = head["udf"], head["group_order"], head.get("limit")
    records = (record for _, record in inputs[0]) if head.get("keyed") else inputs[0]
    files = ctx.spill.files
    if limit is not None:
        ordered = first_records(records, order[0], order[1], limit, ctx.budget, ctx.spill)
    else:
        ordered = external_sort(records, order[0], ctx.budget, ctx.spill, reverse=order[1])
    if head.get("sorts_only"):
        return iter(ordered)
    if head.get("streams_group"):
        return _one_group(udf, iter(ordered))
    if head.get("sequence_groups"):
        group = collect_group(ordered, _share(ctx, files, 1), ctx.spill)
        return _calling(udf, None, group) if len(group) else iter(())
    return iter(udf(None, list(ordered)))


def _cut(group: list[Any], limit: int | None) -> list[Any]:
    """The first ``limit`` records of an ordered group (all of them without a limit)."""
    return group if limit is None else group[:limit]


def _first(head: dict, inputs: list, ctx: DriverContext) -> Iterable[Any]:
    """The first ``head["limit"]`` records of the input (the sorted ranges of a global sort, read in order)."""
    return itertools.islice(inputs[0], head["limit"])


def _canonical_key(pair: tuple[Any, Any]) -> bytes:
    return canonical_bytes(pair[0])


# -- CoGroup -----------------------------------------------------------------------------------------------------

def _cogroup_hash(head: dict, inputs: list, ctx: DriverContext) -> Iterator[Any]:
    """Hash co-grouping (spilling sorted runs past the budget). A UDF that takes sequences
    (``sequence_groups``) gets each side of a spilled group collected into a ``groups.SpilledGroup`` past its
    share of the budget."""
    udf = head["udf"]
    orders = head["group_order"] or (None, None)
    grouper = SpillingGrouper(list(head["keys"]), ctx.budget, ctx.spill)
    grouper.add(0, inputs[0])
    grouper.add(1, inputs[1])
    if head.get("sequence_groups"):
        for k, (left, right) in grouper.groups(limit=group_limit(ctx.budget, 2)):
            yield from _calling(udf, k, *_ordered_sides((left, right), orders, ctx))
        return
    for k, (left, right) in grouper.groups():
        yield from udf(k, order_group(left, orders[0]), order_group(right, orders[1]))


def _cogroup_sort(head: dict, inputs: list, ctx: DriverContext) -> Iterator[Any]:
    """Both inputs sorted on their keys' canonical bytes, then merged: one UDF call per key of either side
    (each side collected past its share of the budget for a UDF that takes sequences)."""
    udf = head["udf"]
    orders = head["group_order"] or (None, None)
    if head.get("sequence_groups"):
        for k, left, right in merge_sorted_groups(inputs, head["keys"], ctx, collect=True):
            yield from _calling(udf, k, *_ordered_sides((left, right), orders, ctx))
        return
    for k, left, right in merge_sorted_groups(inputs, head["keys"], ctx):
        yield from udf(k, order_group(left, orders[0]), order_group(right, orders[1]))


def _ordered_sides(sides: tuple[Any, Any], orders: tuple[GroupOrder | None, GroupOrder | None],
                   ctx: DriverContext) -> list[Any]:
    """Both collected sides of a co-group, each in its order (``ordered_group``)."""
    return [ordered_group(side, order, None, ctx) for side, order in zip(sides, orders)]


def merge_sorted_groups(inputs: list[Iterable[Any]], keys: tuple[Callable[[Any], Any], Callable[[Any], Any]],
                        ctx: DriverContext, collect: bool = False) -> Iterator[tuple[Any, Any, Any]]:
    """(key, left records, right records) for every key of either input, in canonical-bytes order of the
    keys; each side's records in input order (an empty list where a side lacks the key). Each side is sorted
    externally with half the budget. The sides are lists, or with ``collect`` collected groups
    (``groups.collect_group`` with half of ``memory.group_limit`` each when a sort spilled: a list or a
    SpilledGroup, which the caller releases)."""
    files = ctx.spill.files
    sides = [itertools.groupby(external_sort(_canonical_triples(records, key), itemgetter(0), ctx.budget / 2,
                                             ctx.spill), itemgetter(0))
             for records, key in zip(inputs, keys)]
    group_of = functools.partial(_collected_group_of, limit=_share(ctx, files, 2), spill=ctx.spill,
                                 estimator=SizeEstimator()) if collect else _group_of
    left, right = next(sides[0], None), next(sides[1], None)
    while left is not None or right is not None:
        if right is None or (left is not None and left[0] < right[0]):
            yield group_of(left[1], ())
            left = next(sides[0], None)
        elif left is None or right[0] < left[0]:
            yield group_of((), right[1])
            right = next(sides[1], None)
        else:
            yield group_of(left[1], right[1])
            left, right = next(sides[0], None), next(sides[1], None)


def _canonical_triples(records: Iterable[Any], key: Callable[[Any], Any]) -> Iterator[tuple[bytes, Any, Any]]:
    """(canonical bytes of the key, key, record) for every record."""
    for record in records:
        k = key(record)
        yield canonical_bytes(k), k, record


def _group_of(left: Iterable[tuple], right: Iterable[tuple]) -> tuple[Any, list, list]:
    """(key, left records, right records) of one key's triples (the groups are read up before yielding)."""
    left_items, right_items = list(left), list(right)
    return (left_items or right_items)[0][1], [r for _, _, r in left_items], [r for _, _, r in right_items]


def _collected_group_of(left: Iterable[tuple], right: Iterable[tuple], limit: float | None, spill: SpillDir,
                        estimator: SizeEstimator) -> tuple[Any, Any, Any]:
    """(key, left group, right group) of one key's triples, each side collected with ``limit`` bytes (None:
    as a list; read up before yielding, left first; ``estimator`` shared by all groups)."""
    key, groups = None, []
    for triples in (left, right):
        triples = iter(triples)
        first = next(triples, None)
        if first is None:
            groups.append([])
            continue
        key = first[1]
        groups.append(collect_group(itertools.chain((first[2],), map(_third, triples)), limit, spill, estimator))
    return key, groups[0], groups[1]


def _third(triple: tuple[Any, Any, Any]) -> Any:
    return triple[2]


# -- Match and Cross ---------------------------------------------------------------------------------------------

def hash_join(probe: Iterable[Any], build: Iterable[Any], keys: tuple, udf: Callable[[Any, Any], Iterable[Any]],
              build_index: int, ctx: DriverContext) -> Iterator[Any]:
    """A Match's output: ``probe`` records against a hash table of ``build`` (input ``build_index``),
    partitioned to disk past the budget (grace hash join)."""
    return spilling_hash_join(probe, build, keys[1 - build_index], keys[build_index], udf, build_index == 0,
                              ctx.budget, ctx.spill)


def _match_build(build: int) -> Callable[[dict, list, DriverContext], Iterator[Any]]:
    def match(head: dict, inputs: list, ctx: DriverContext) -> Iterator[Any]:
        return hash_join(inputs[1 - build], inputs[build], head["keys"], head["udf"], build, ctx)
    return match


def _match_sort_merge(head: dict, inputs: list, ctx: DriverContext) -> Iterator[Any]:
    """Both inputs sorted on their keys, then merged: the UDF sees every pair of equal keys (input 0 left)."""
    udf = head["udf"]
    for _, left, right in merge_sorted_groups(inputs, head["keys"], ctx):
        for a in left:
            for b in right:
                yield from udf(a, b)


def _cross(head: dict, inputs: list, ctx: DriverContext) -> Iterator[Any]:
    """Nested loops: the broadcast (``inner``) input materialised, the other streamed against it."""
    udf, inner_side = head["udf"], head["inner"]
    inner = list(inputs[inner_side])
    for outer in inputs[1 - inner_side]:
        for other in inner:
            yield from (udf(outer, other) if inner_side == 1 else udf(other, outer))


DRIVERS: dict[tuple[str, str], Callable[[dict, list, DriverContext], Iterable[Any]]] = {
    ("source", ph.NONE): _source,
    ("map", ph.NONE): _map,
    ("union", ph.NONE): _union,
    ("first", ph.NONE): _first,
    ("reduce", ph.HASH_GROUP): _reduce_hash,
    ("reduce", ph.SORT_GROUP): _reduce_sort,
    ("cogroup", ph.HASH_GROUP): _cogroup_hash,
    ("cogroup", ph.SORT_GROUP): _cogroup_sort,
    ("match", ph.HYBRID_HASH_BUILD_FIRST): _match_build(0),
    ("match", ph.HYBRID_HASH_BUILD_SECOND): _match_build(1),
    ("match", ph.SORT_MERGE): _match_sort_merge,
    ("cross", ph.NESTED_LOOP): _cross,
}
LOCAL_STRATEGIES: frozenset[str] = frozenset(local for _, local in DRIVERS)
