"""The internal elementary operators that duplicate detection and record linkage expand to (one PACT contract each).

Between them travel *wrapped records* ``(canonical text, record, side)`` (side 0 or 1: the input of a linkage)
and *pair candidates* ``(canonical left, canonical right, left, right)``; the last step emits ``[left, right]``.
- naive: ``CrossPairs`` (Cross of the input with itself, each unordered pair once; or of two inputs);
- blocking: ``GroupPairs`` (Reduce per block key), or ``MatchPairs`` (Match on the two inputs' keys);
- sorted neighbourhood: ``GroupPairs`` with a sort key and a window (one global group, or one per block);
- several passes: ``UnionPairs`` then ``DistinctPairs`` (Reduce per pair: each pair once).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

from pact_backend.contracts import Cross, Map, Match, Reduce, Union
from sopremo.operator import ElementaryOperator, Operator
from sopremo.values import MISSING, hashable, truthy

from .pairs import block_key, canonical, compile_one, compile_pair_condition, order_key


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
    return lambda l, r: (l[0], r[0], l[1], r[1])


class Internal(ElementaryOperator):
    """Base of the internal operators: no Meteor syntax, properties given as keyword arguments."""

    verb = ""

    def __init__(self, inputs: list, **props: Any):
        super().__init__(inputs)
        self.__dict__.update(props)


class WrapRecords(Internal):
    """Map: record -> ``(canonical text, record, side, sort value)``. Props: ``side`` (0 or 1), ``sort``
    (an expression over the record whose value a linkage window sorts by, or None)."""

    def to_contract(self, inputs: list[Any], ctx: Any) -> Map:
        side = self.side
        sort = compile_one(self.sort) if getattr(self, "sort", None) is not None else (lambda record: None)

        def wrap_all(records: Iterator[Any]) -> Iterable[tuple]:
            for record in records:
                yield canonical(record), record, side, sort(record)

        return Map(udf=wrap_all, **contract_args(self, inputs))


class CrossPairs(Internal):
    """Cross: every pair satisfying ``condition``; ``link`` False = one input with itself, each pair once
    (left canonical text < right). Props: ``condition``, ``functions``, ``link``."""

    min_inputs = max_inputs = 2

    def to_contract(self, inputs: list[Any], ctx: Any) -> Cross:
        cond, link = compile_pair_condition(self.condition, self.functions), self.link

        def pair(l: tuple, r: tuple) -> Iterable[Any]:
            if (link or l[0] < r[0]) and truthy(cond(l[1], r[1])):
                yield [l[1], r[1]]

        return Cross(udf=pair, **contract_args(self, inputs))


class GroupPairs(Internal):
    """Reduce per ``key`` (None: one global group at DOP 1): all pairs of a group, or with ``order`` and
    ``window`` N each record against the next N - 1 in sort order. ``link``: only pairs of different sides,
    side 0 on the left. Records whose key is missing or null join no block. Props: ``condition``,
    ``functions``, ``key``, ``order``, ``window``, ``link``, ``final``."""

    def to_contract(self, inputs: list[Any], ctx: Any) -> Reduce:
        cond = compile_pair_condition(self.condition, self.functions)
        if self.order is not None:
            order = order_key(compile_one(self.order))
        elif self.link and self.window is not None:
            order = order_key(lambda item: item, index=3)
        else:
            order = _by_identity
        window, link, out = self.window, self.link, emit(self.final)
        blocked = self.key is not None

        def compare(key: Any, group: list[tuple]) -> Iterable[Any]:
            if key is None and blocked:
                return
            items = sorted(group, key=order)
            for i, a in enumerate(items):
                stop = len(items) if window is None else min(len(items), i + window)
                for b in items[i + 1:stop]:
                    l, r = _orient(a, b, link)
                    if l is not None and truthy(cond(l[1], r[1])):
                        yield out(l, r)

        key = block_key(compile_one(self.key)) if self.key is not None else None
        return Reduce(key=key, udf=compare, **contract_args(self, inputs, None if key is not None else 1))


def _by_identity(item: tuple) -> bytes:
    return item[0]


def _orient(a: tuple, b: tuple, link: bool) -> tuple[tuple | None, tuple | None]:
    if link:
        if a[2] == b[2]:
            return None, None
        return (a, b) if a[2] == 0 else (b, a)
    if a[0] == b[0]:
        return None, None
    return (a, b) if a[0] < b[0] else (b, a)


class MatchPairs(Internal):
    """Match of two wrapped inputs on ``left_key``/``right_key`` (missing keys match nothing), filtered by
    ``condition``. Props: ``condition``, ``functions``, ``left_key``, ``right_key``, ``final``."""

    min_inputs = max_inputs = 2

    def to_contract(self, inputs: list[Any], ctx: Any) -> Match:
        cond, out = compile_pair_condition(self.condition, self.functions), emit(self.final)
        left, right = compile_one(self.left_key, 0), compile_one(self.right_key, 1)

        def keyed(f: Callable, missing: Any) -> Callable[[tuple], Any]:
            def key(item: tuple) -> Any:
                value = f(item[1])
                return missing if value is MISSING or value is None else hashable(value)
            return key

        def pair(l: tuple, r: tuple) -> Iterable[Any]:
            if truthy(cond(l[1], r[1])):
                yield out(l, r)

        keys = (keyed(left, ("missing", "left")), keyed(right, ("missing", "right")))
        return Match(keys=keys, udf=pair, **contract_args(self, inputs))


class UnionPairs(Internal):
    """Union: the bag union of its inputs (the passes of a multi-pass detection)."""

    min_inputs, max_inputs = 1, None

    def to_contract(self, inputs: list[Any], ctx: Any) -> Union:
        return Union(**contract_args(self, inputs))


class DistinctPairs(Internal):
    """Reduce per pair (both canonical texts): each candidate pair once, as ``[left, right]``."""

    def to_contract(self, inputs: list[Any], ctx: Any) -> Reduce:
        def once(_key: Any, group: list[tuple]) -> Iterable[Any]:
            yield [group[0][2], group[0][3]]

        return Reduce(key=lambda c: (c[0], c[1]), udf=once, **contract_args(self, inputs))
