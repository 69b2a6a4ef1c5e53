"""The internal elementary operators that duplicate detection and record linkage expand to (one PACT contract each).

Between them travel *wrapped records* ``(canonical text, record, side, sort value, features, position)`` (side 0
or 1: the input of a linkage; features: sopremo_cleansing.fused, computed once per record; position: the record's
place in its input, ``partition << 32 | n`` from sopremo.api.task_sequence, which orients the pairs of naive and
blocking plans as the original's enumeration did) and *pair candidates* ``(canonical left, canonical right, left,
right, position left, position right)``; the last step emits ``[left, right]``.
- naive: ``CrossPairs`` (Cross of the input with itself, each unordered pair once; or of two inputs);
- blocking: ``GroupPairs`` (Reduce per block key), or ``MatchPairs`` (Match on the two inputs' keys);
- sorted neighbourhood: range-partitioned windows (sopremo_cleansing.neighbourhood), or ``GroupPairs`` with a
  sort key and a window inside each block;
- several passes: ``UnionPairs`` then ``DistinctPairs`` (Reduce per pair: each pair once).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

from sopremo.api import (MISSING, Cross, ElementaryOperator, Map, Match, Operator, Reduce, Union, hashable,
                         task_sequence)

from .fused import PairTest, pair_test
from .pairs import block_key, canonical, compile_one, order_key


def contract_args(op: Operator, inputs: list, dop: int | None = None) -> dict[str, Any]:
    """Name, input contracts and DOP of the contract built for ``op``."""
    return {"name": op.display_name(), "inputs": list(inputs), "dop": dop if dop is not None else op.dop}


def internal(cls: type, inputs: list, parent: Operator, suffix: str, **props: Any) -> Operator:
    """An internal operator of ``parent``'s expansion: inherits its DOP hint and span; named after it."""
    op = cls(inputs=list(inputs), **props)
    op.dop, op.source_span = parent.dop, parent.source_span
    op.name = f"{parent.display_name()}/{suffix}"
    return op


def emit(final: bool) -> Callable[[tuple, tuple], Any]:
    """How a pair of wrapped records leaves a pair step: ``[l, r]`` (last step) or a candidate tuple."""
    if final:
        return lambda l, r: [l[1], r[1]]
    return lambda l, r: (l[0], r[0], l[1], r[1], l[5], r[5])


class Internal(ElementaryOperator):
    """Base of the internal operators: no Meteor syntax, properties given as keyword arguments."""

    verb = ""

    def __init__(self, inputs: list, **props: Any):
        super().__init__(inputs)
        self.__dict__.update(props)


class WrapRecords(Internal):
    """Map: record -> ``(canonical text, record, side, sort value, features, position)``. Props: ``side`` (0 or 1),
    ``sort`` (an expression over the record whose value a window sorts by, or None), ``condition``,
    ``functions`` and ``link`` (the pair test whose features are computed here)."""

    def to_contract(self, inputs: list[Any], ctx: Any) -> Map:
        side = self.side
        sort = compile_one(self.sort) if getattr(self, "sort", None) is not None else (lambda record: None)
        features = pair_test(self.condition, self.functions, self.link).features
        counter = ("cleansing record position", self.name)

        def wrap_all(records: Iterator[Any]) -> Iterable[tuple]:
            for record in records:
                yield canonical(record), record, side, sort(record), features(record, side), task_sequence(counter)

        return Map(udf=wrap_all, **contract_args(self, inputs))


class CrossPairs(Internal):
    """Cross: every pair satisfying ``condition``; ``link`` False = one input with itself, each pair once,
    the earlier record of the input on the left (records equal as JSON values are one record, never a pair).
    Props: ``condition``, ``functions``, ``link``."""

    min_inputs = max_inputs = 2

    def to_contract(self, inputs: list[Any], ctx: Any) -> Cross:
        test, link = pair_test(self.condition, self.functions, self.link).test, self.link

        def pair(l: tuple, r: tuple) -> Iterable[Any]:
            if (link or (l[5] < r[5] and l[0] != r[0])) and test(l[4], r[4]):
                yield [l[1], r[1]]

        return Cross(udf=pair, **contract_args(self, inputs))


class GroupPairs(Internal):
    """Reduce per block ``key``: all pairs of a block, or with ``window`` N each record against the next N - 1
    in sort-value order (sorted neighbourhood inside blocks: pairs in sort order, else the earlier record of the
    input on the left). Records whose key is missing or null join no block. Props: ``condition``, ``functions``, ``link`` (the pair test), ``key``, ``window``, ``final``."""

    def to_contract(self, inputs: list[Any], ctx: Any) -> Reduce:
        test = pair_test(self.condition, self.functions, self.link)
        order = order_key(lambda item: item, index=3) if self.window is not None else _by_identity
        window, link, out = self.window, self.link, emit(self.final)

        def compare(key: Any, group: list[tuple]) -> Iterable[Any]:
            if key is None:
                return
            items = sorted(group, key=order)
            for i, a in enumerate(items):
                yield from matches(a, items[i + 1:len(items) if window is None else i + window], link, test, out,
                                   ordered=window is not None)

        return Reduce(key=block_key(compile_one(self.key)), udf=compare, **contract_args(self, inputs))


def _by_identity(item: tuple) -> bytes:
    return item[0]


def matches(a: tuple, others: list[tuple], link: bool, test: PairTest, out: Callable,
            ordered: bool = False) -> Iterator[Any]:
    """``out(left, right)`` for each pair of ``a`` with one of ``others`` passing ``test`` (oriented by
    ``orient``; in a linkage only pairs of different sides). A symmetric test runs before orienting, the common
    case cheaply."""
    check = test.test
    if test.symmetric:
        features, side = a[4], a[2]
        for b in others:
            if (link and side == b[2]) or not check(features, b[4]):
                continue
            l, r = orient(a, b, link, ordered)
            if l is not None:
                yield out(l, r)
        return
    for b in others:
        l, r = orient(a, b, link, ordered)
        if l is not None and check(l[4], r[4]):
            yield out(l, r)


def orient(a: tuple, b: tuple, link: bool, ordered: bool = False) -> tuple[tuple | None, tuple | None]:
    """A pair of wrapped records as (left, right), as the original oriented them: for a linkage side 0 left
    (None, None for one side); in a sorted window (``ordered``: ``a`` comes first in sort order) ``a`` left;
    else the record earlier in the input left. (None, None) for records equal as JSON values."""
    if link:
        if a[2] == b[2]:
            return None, None
        return (a, b) if a[2] == 0 else (b, a)
    if a[0] == b[0]:
        return None, None
    return (a, b) if ordered or a[5] < b[5] else (b, a)


class MatchPairs(Internal):
    """Match of two wrapped inputs on ``left_key``/``right_key`` (missing keys match nothing), filtered by
    ``condition``. Props: ``condition``, ``functions``, ``left_key``, ``right_key``, ``final``."""

    min_inputs = max_inputs = 2

    def to_contract(self, inputs: list[Any], ctx: Any) -> Match:
        test, out = pair_test(self.condition, self.functions, True).test, emit(self.final)
        left, right = compile_one(self.left_key, 0), compile_one(self.right_key, 1)

        def keyed(f: Callable, missing: Any) -> Callable[[tuple], Any]:
            def key(item: tuple) -> Any:
                value = f(item[1])
                return missing if value is MISSING or value is None else hashable(value)
            return key

        def pair(l: tuple, r: tuple) -> Iterable[Any]:
            if test(l[4], r[4]):
                yield out(l, r)

        keys = (keyed(left, ("missing", "left")), keyed(right, ("missing", "right")))
        return Match(keys=keys, udf=pair, **contract_args(self, inputs))


class UnionPairs(Internal):
    """Union: the bag union of its inputs (the passes of a multi-pass detection)."""

    min_inputs, max_inputs = 1, None

    def to_contract(self, inputs: list[Any], ctx: Any) -> Union:
        return Union(**contract_args(self, inputs))


class DistinctPairs(Internal):
    """Reduce per pair (both canonical texts): each candidate pair once, as ``[left, right]``; ``link`` keeps
    the first input's record left, else the earlier record of the input is left (passes of a sorted
    neighbourhood may orient a pair differently)."""

    def to_contract(self, inputs: list[Any], ctx: Any) -> Reduce:
        if getattr(self, "link", False):
            return Reduce(key=lambda c: (c[0], c[1]), udf=lambda _k, g: [[g[0][2], g[0][3]]],
                          **contract_args(self, inputs))

        def once(_key: Any, group: list[tuple]) -> Iterable[Any]:
            c = group[0]
            yield [c[2], c[3]] if c[4] < c[5] else [c[3], c[2]]

        return Reduce(key=lambda c: (min(c[0], c[1]), max(c[0], c[1])), udf=once, **contract_args(self, inputs))
