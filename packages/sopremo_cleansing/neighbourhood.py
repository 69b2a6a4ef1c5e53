"""Sorted neighbourhood as a range-partitioned sort with window overlap at partition borders (elementary PACT).

The sorted-neighbourhood method compares each record with the next N - 1 records in sort order (Hernández and
Stolfo 1995; the issue's plan for VLDB J. 2014, Table 1 bottom). Instead of one global sorted group at DOP 1:
1. ``SampleKeys`` (Map): the order keys ``(sort value, canonical text)`` of about one record in
   ``SAMPLE_EVERY`` (chosen by a CRC of the canonical text) plus each partition's record count;
2. ``Boundaries`` (Reduce, one global group of that small sample): ``ceil(n / PARTITION_RECORDS)`` ranges,
   emitted as one record, the sorted boundary keys;
3. ``AssignRanges`` (Cross of the records with that one record, broadcast): each record with its range;
4. ``RangeWindows`` (Reduce per range, parallel): sorts its range, emits the window pairs inside it, and its
   *border*: its first and its last N - 1 records;
5. ``BorderWindows`` (Reduce, one global group of the borders, at most 2 (N - 1) records per range): the pairs
   whose left record lies in one range and whose right record lies in a later one, i.e. each range's last
   N - 1 records against the next N - 1 records after it (heads of the following ranges; a range smaller than
   N - 1 is its whole head, so windows reach across several ranges).
Every pair of records at most N - 1 positions apart in the global order is produced exactly once (by the range
of its left record): the same pairs as one global window, see tests/test_cleansing_scale.py. Pairs are oriented
in sort order (the original's SingleSourceSlidingWindow).

Record linkage (``link``) windows are the original's DualSourceSlidingWindow: both inputs sorted together (equal
sort values: the first input's records first), each record of the first input is compared with the N - 1
records of the second input just before it and the N - 1 at or after it. Step 4 then compares within the
range, a range's border is its prefix up to its (N - 1)-th record of the second input and its suffix from the
(N - 1)-th last one, and step 5 compares the first input's records of a prefix (suffix) with the second input's
records of the earlier (later) ranges they lack. Each pair comes from exactly one step.
"""

from __future__ import annotations

import bisect
import math
import zlib
from typing import Any, Iterable, Iterator

from sopremo.api import MISSING, Cross, Hints, JsonStream, Map, Operator, Reduce, Union, sort_key

from .detect_internal import Internal, contract_args, emit, internal, matches
from .fused import pair_test

PARTITION_RECORDS = 2000  # records per range (a Reduce group); more ranges = more parallelism
SAMPLE_EVERY = 8          # about one record in SAMPLE_EVERY contributes its key to the boundaries


def order_of(item: tuple) -> tuple:
    """The total order of wrapped records in a window: sort value (cross-type order), side (a linkage's
    first input first), then canonical text."""
    value = item[3]
    return sort_key(None if value is MISSING else value), item[2], item[0]


def _second(items: list[tuple]) -> list[int]:
    """Indexes of the second input's records (side 1) among ``items``."""
    return [i for i, item in enumerate(items) if item[2] == 1]


def link_inside(items: list[tuple], window: int) -> Iterator[tuple[tuple, list[tuple]]]:
    """Per first-input record of the sorted ``items``: the second-input records of its window inside them
    (the ``window - 1`` before it and the ``window - 1`` after it)."""
    seconds = _second(items)
    for i, item in enumerate(items):
        if item[2] == 0:
            j = bisect.bisect_left(seconds, i)
            yield item, [items[k] for k in seconds[max(0, j - window + 1):j + window - 1]]


def link_border(items: list[tuple], window: int) -> tuple[list[tuple], list[tuple]]:
    """A linkage range's border: the prefix up to its (window - 1)-th second-input record and the suffix
    from its (window - 1)-th last one (the whole range when it has fewer)."""
    seconds = _second(items)
    if len(seconds) < window - 1:
        return items, items
    return items[:seconds[window - 2] + 1], items[seconds[-(window - 1)]:]


def link_across(ranges: list[tuple], window: int) -> Iterator[tuple[tuple, list[tuple]]]:
    """Per first-input record of a border: the second-input records of its window in other ranges (``ranges``:
    ``(range, prefix, suffix)`` sorted by range)."""
    for k, (_, head, tail) in enumerate(ranges):
        before: list[tuple] = []  # second-input records of earlier ranges, nearest first
        for _, _, earlier in reversed(ranges[:k]):
            if len(before) >= window - 1:
                break
            before.extend(item for item in reversed(earlier) if item[2] == 1)
        seen = 0
        for item in head:
            if item[2] == 1:
                seen += 1
            elif seen < window - 1:
                yield item, before[:window - 1 - seen]
        after: list[tuple] = []
        for _, later, _ in ranges[k + 1:]:
            if len(after) >= window - 1:
                break
            after.extend(item for item in later if item[2] == 1)
        seen = 0
        for item in reversed(tail):
            if item[2] == 1:
                seen += 1
            elif seen < window - 1:
                yield item, after[:window - 1 - seen]


class SampleKeys(Internal):
    """Map: ``("key", order key)`` for the sampled records, then ``("count", n)`` for the partition."""

    def to_contract(self, inputs: list[Any], ctx: Any) -> Map:
        every = SAMPLE_EVERY

        def sample(items: Iterator[tuple]) -> Iterable[tuple]:
            n = 0
            for item in items:
                n += 1
                if zlib.crc32(item[0]) % every == 0:
                    yield "key", order_of(item)
            yield "count", n

        return Map(udf=sample, **contract_args(self, inputs))


class Boundaries(Internal):
    """Reduce (one global group): the sorted boundary keys of ``ceil(n / PARTITION_RECORDS)`` ranges."""

    def to_contract(self, inputs: list[Any], ctx: Any) -> Reduce:
        size = PARTITION_RECORDS

        def boundaries(_key: Any, group: list[tuple]) -> Iterable[list]:
            keys = sorted(value for kind, value in group if kind == "key")
            ranges = max(1, math.ceil(sum(value for kind, value in group if kind == "count") / size))
            picked = [keys[len(keys) * i // ranges] for i in range(1, ranges)] if keys else []
            yield sorted(set(picked))

        return Reduce(key=None, udf=boundaries, hints=Hints(output_records=1), **contract_args(self, inputs, 1))


class AssignRanges(Internal):
    """Cross of the wrapped records with the one boundaries record: ``(range, order key, item)``."""

    min_inputs = max_inputs = 2

    def to_contract(self, inputs: list[Any], ctx: Any) -> Cross:
        def assign(item: tuple, bounds: list) -> Iterable[tuple]:
            key = order_of(item)
            yield bisect.bisect_right(bounds, key), key, item

        return Cross(udf=assign, **contract_args(self, inputs))


class RangeWindows(Internal):
    """Reduce per range: ``("pair", pair)`` for the windows inside the range and one ``("border", range,
    first N - 1, last N - 1)``. Props: ``condition``, ``functions``, ``window``, ``link``, ``final``."""

    def to_contract(self, inputs: list[Any], ctx: Any) -> Reduce:
        test, out = pair_test(self.condition, self.functions, self.link), emit(self.final)
        window, link = self.window, self.link

        def windows(part: Any, group: list[tuple]) -> Iterable[tuple]:
            items = [item for _, _, item in sorted(group, key=lambda g: g[1])]
            if link:
                for a, others in link_inside(items, window):
                    for pair in matches(a, others, True, test, out):
                        yield "pair", pair
                yield ("border", part, *link_border(items, window))
                return
            for i, a in enumerate(items):
                for pair in matches(a, items[i + 1:i + window], link, test, out, ordered=True):
                    yield "pair", pair
            yield "border", part, items[:window - 1], items[-(window - 1):]

        return Reduce(key=lambda g: g[0], udf=windows, **contract_args(self, inputs))


class Tagged(Internal):
    """Map: the payloads of the ``("pair", pair)`` records (``tag`` "pair") or the border records."""

    def to_contract(self, inputs: list[Any], ctx: Any) -> Map:
        tag = self.tag

        def select(records: Iterator[tuple]) -> Iterable[Any]:
            for record in records:
                if record[0] == tag:
                    yield record[1] if tag == "pair" else record[1:]

        return Map(udf=select, **contract_args(self, inputs))


class BorderWindows(Internal):
    """Reduce (one global group of the borders): the window pairs across ranges (module doc, step 5)."""

    def to_contract(self, inputs: list[Any], ctx: Any) -> Reduce:
        test, out = pair_test(self.condition, self.functions, self.link), emit(self.final)
        window, link = self.window, self.link

        def borders(_key: Any, group: list[tuple]) -> Iterable[Any]:
            ranges = sorted(group, key=lambda b: b[0])
            if link:
                for a, others in link_across(ranges, window):
                    yield from matches(a, others, True, test, out)
                return
            for k, (_, _, tail) in enumerate(ranges):
                following: list[tuple] = []
                for _, head, _ in ranges[k + 1:]:
                    if len(following) >= window - 1:
                        break
                    following.extend(head)
                for i, a in enumerate(tail):
                    yield from matches(a, following[:window - len(tail) + i], link, test, out, ordered=True)

        return Reduce(key=None, udf=borders, **contract_args(self, inputs, 1))


class UnionAll(Internal):
    """Union: the bag union of the window pairs inside and across ranges."""

    min_inputs, max_inputs = 1, None

    def to_contract(self, inputs: list[Any], ctx: Any) -> Union:
        return Union(**contract_args(self, inputs))


def range_windows(parent: Operator, wrapped: JsonStream, label: str, **props: Any) -> Operator:
    """The sorted-neighbourhood pairs of ``wrapped`` (records wrapped with their sort value) as one operator
    whose output is the union of the pairs inside and across ranges. ``props``: ``condition``, ``functions``,
    ``window``, ``link``, ``final``."""
    sample = internal(SampleKeys, [wrapped], parent, f"{label}/sample").output()
    bounds = internal(Boundaries, [sample], parent, f"{label}/boundaries").output()
    ranged = internal(AssignRanges, [wrapped, bounds], parent, f"{label}/ranges").output()
    windows = internal(RangeWindows, [ranged], parent, f"{label}/windows", **props).output()
    pairs = internal(Tagged, [windows], parent, f"{label}/inside", tag="pair").output()
    border = internal(Tagged, [windows], parent, f"{label}/border records", tag="border").output()
    across = internal(BorderWindows, [border], parent, f"{label}/across", **props).output()
    return internal(UnionAll, [pairs, across], parent, label)
