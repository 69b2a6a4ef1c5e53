"""A combiner for ``group ... into``: pre-aggregates algebraic aggregations before the Reduce sees a group.

When every use of the group array in ``into`` is either an algebraic aggregation over it (``sum($g[*].x)``,
``count($g)``, ``min``/``max``/``mean``/``first``) or its first record (``$g[0].k``), a partial group can be
folded into one ``Partial`` (the first record plus one accumulator per aggregation) and partials merged later:
the PACT combiner of VLDB J. 2014, sec. 5.1 / 7.3. Groups that were never combined are projected as usual.
``GroupCombiner.plan_fold`` accepts any aggregation (also ``sort``, ``concat``, ...) for a one-pass fold of a
group read as a stream (``fold_stream``): not a combiner then, but the Reduce never needs the group as a list.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from sopremo.api import (ArrayIndex, Combiner, Constant, Expression, FieldAccess, InputRef, LambdaParam, MeteorError,
                         Var, compile_fold, error_at, input_refs, is_aggregation_call, map_children,
                         split_aggregation)

from .keys import compile_expr

ELEMENT = "__combine_element"
FOLD_CHUNK = 1024  # records of a streamed group folded at once


class _NotCombinable(Exception):
    """The projection reads the group in a way partial aggregates cannot answer."""


@dataclass
class Partial:
    """A pre-aggregated part of a group: its first record and one accumulator per aggregation."""

    first: Any
    accumulators: list[Any]


@dataclass
class _Slot:
    aggregation: Any
    element: Callable[[Any], Any] | None
    source: Expression | None = None  # the element expression over Var(ELEMENT), for the fused fold
    call: Expression | None = None  # the aggregation call as bound (its origin names it in errors)


FIRST = ArrayIndex(InputRef(0), Constant(0))  # the group's first record, $g[0]


def first_fields(projection: Expression) -> frozenset[str] | None:
    """The fields ``projection`` reads of the group's first record (``$g[0].name``), or None when it reads
    that record otherwise (whole, or by a computed index)."""
    found: set[str] = set()

    def visit(expr: Expression) -> bool:
        if isinstance(expr, FieldAccess) and expr.base == FIRST:
            found.add(expr.name)
            return True
        return expr != FIRST and all(visit(child) for child in expr.children())
    return frozenset(found) if visit(projection) else None


def _as_variable(expr: Expression) -> Expression:
    if isinstance(expr, LambdaParam) and expr.name == ELEMENT:
        return Var(ELEMENT)
    return map_children(expr, _as_variable)


class GroupCombiner(Combiner):
    """Combiner and final projection of one ``group ... into``; ``plan(projection)`` returns None when the
    projection is not combinable. Its fusion hook ``fuse_source`` folds batches of a projected JSON Lines source
    through chained selections (``sopremo_base.batch_combine``)."""

    def __init__(self, projection: Expression, key: Expression | None = None, mergeable: bool = True):
        self.slots: list[_Slot] = []
        self.key = key
        self.mergeable = mergeable  # every aggregation merges partial accumulators: usable as a combiner
        rewritten = self._rewrite(projection)
        self.first_fields = first_fields(rewritten)  # what the projection reads of the group's first record
        names = tuple(f"__aggregate{i}" for i in range(len(self.slots)))
        self.final = compile_expr(rewritten, 1, names)
        self.fused = compile_fold([(s.aggregation, s.source) for s in self.slots], ELEMENT, Partial)
        self._sources: dict[tuple, Any] = {}  # fused sources by input format and chain (built in the worker)

    @classmethod
    def plan(cls, projection: Expression, key: Expression | None = None) -> "GroupCombiner | None":
        """The combiner of ``projection`` (over InputRef(0) = the group array) for groups keyed by ``key``
        (over the record; None: one global group), or None when ``projection`` is not combinable."""
        try:
            combiner = cls(projection, key)
        except _NotCombinable:
            return None
        return combiner if combiner.slots else None

    @classmethod
    def plan_fold(cls, projection: Expression, key: Expression | None = None) -> "GroupCombiner | None":
        """A one-pass fold of ``projection`` for ``fold_stream`` when it reads the group array only through
        aggregations over it (any aggregation, algebraic or not) and its first record; None otherwise. Not
        a combiner unless ``mergeable``."""
        try:
            folder = cls(projection, key, mergeable=False)
        except _NotCombinable:
            return None
        folder.mergeable = all(s.aggregation.algebraic and s.aggregation.merge is not None for s in folder.slots)
        return folder

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_sources": {}}  # generated kernels are rebuilt where they run

    def fuse_source(self, input_format: Any, selections: Sequence[Any]) -> Any:
        """The fusion hook of the PACT combiner (``Combiner.fuse_source``): a ``FusedSource`` that reads
        ``input_format`` in batches and filters, groups and folds them in generated code, when every chained
        Map is a selection (``selections``: their conditions, None for another Map) and every expression reads
        decoded fields (``batch_combine``), or when selections end in a ``split array`` (its ``Expansion``:
        ``batch_explode``); else None. Built once per input format and chain in the process that runs it."""
        from .batch_combine import fuse_source
        from .batch_explode import fuse_expansion
        from .split import Expansion
        cache_key = (id(input_format), tuple(id(s) for s in selections))
        if cache_key not in self._sources:
            if any(type(fact) is Expansion for fact in selections):
                fused = fuse_expansion(self, input_format, selections)
            else:
                fused = fuse_source(self, input_format, selections)
            self._sources[cache_key] = (fused, input_format, selections)
        return self._sources[cache_key][0]

    def _rewrite(self, expr: Expression) -> Expression:
        if isinstance(expr, ArrayIndex) and expr.base == InputRef(0) and expr.index == Constant(0):
            return expr
        if isinstance(expr, InputRef):
            raise _NotCombinable()
        if is_aggregation_call(expr) and 0 in input_refs(expr):
            return self._slot(expr)
        return map_children(expr, self._rewrite)

    def _slot(self, call: Any) -> Expression:
        aggregation, argument = call.function.aggregation, call.args[0]
        if self.mergeable and (not aggregation.algebraic or aggregation.merge is None):
            raise _NotCombinable()
        element = source = None
        if argument != InputRef(0):
            split = split_aggregation(argument, ELEMENT)
            if split is None or split.base != InputRef(0) or input_refs(split.element):
                raise _NotCombinable()
            source = _as_variable(split.element)
            element = compile_expr(source, 0, (ELEMENT,))
        self.slots.append(_Slot(aggregation, element, source if argument != InputRef(0) else None, call))
        return Var(f"__aggregate{len(self.slots) - 1}")

    def _fold(self, group: list[Any]) -> tuple[Any, list[Any]]:
        """(first record, accumulators) of a partial group: the fused fold, or the generic one when the fused
        fold fails (it raises the user-facing error with the failing expression)."""
        if not group:
            return None, [slot.aggregation.initial() for slot in self.slots]
        head = group[0]
        try:
            return (head.first if type(head) is Partial else head), self.fused(group)
        except Exception:  # noqa: BLE001 - re-fold slowly: same result or the precise error
            return self._fold_generic(group)

    def _fold_generic(self, group: list[Any], state: tuple[Any, list[Any]] | None = None
                      ) -> tuple[Any, list[Any]]:
        """(first record, accumulators) of ``group`` folded one item at a time, continuing ``state`` (the
        first record and accumulators of the records before ``group``) when given."""
        if state is not None:
            first, accumulators = state
            for item in group:
                for i, slot in enumerate(self.slots):
                    value = item if slot.element is None else slot.element(item)
                    accumulators[i] = slot.aggregation.add(accumulators[i], value)
            return first, accumulators
        first, accumulators = None, [slot.aggregation.initial() for slot in self.slots]
        for index, item in enumerate(group):
            if isinstance(item, Partial):
                first = item.first if index == 0 else first
                accumulators = [s.aggregation.merge(a, b) for s, a, b in zip(self.slots, accumulators,
                                                                             item.accumulators)]
                continue
            first = item if index == 0 else first
            try:
                for i, slot in enumerate(self.slots):
                    value = item if slot.element is None else slot.element(item)
                    accumulators[i] = slot.aggregation.add(accumulators[i], value)
            except MeteorError as error:  # the aggregation's own error: its call, the record
                raise error_at(error, self.slots[i].call, (item,)) from None
        return first, accumulators

    def combine(self, _key: Any, group: list[Any]) -> list[Partial]:
        """The PACT combiner: a partial group (raw records and partials) folded into one Partial."""
        return [Partial(*self._fold(group))]

    def finish(self, group: list[Any]) -> Any:
        """The ``into`` value of a group holding at least one Partial."""
        return self._project(*self._fold(group))

    def fold_stream(self, group: Iterable[Any]) -> list[Any]:
        """The ``into`` value of a group read once, front to back (records, and Partials when ``mergeable``),
        as a list of one value; [] for an empty group. Folds FOLD_CHUNK records at a time, so only one chunk
        is held: the result equals ``finish`` or the projection of the whole group as a list."""
        records = iter(group)
        state: tuple[Any, list[Any]] | None = None
        while chunk := list(itertools.islice(records, FOLD_CHUNK)):
            if state is None:
                state = self._fold(chunk) if self.mergeable else self._fold_generic(chunk)
            elif self.mergeable:
                state = self._fold([Partial(*state), *chunk])
            else:
                state = self._fold_generic(chunk, state)
        return [] if state is None else [self._project(*state)]

    def _project(self, first: Any, accumulators: list[Any]) -> Any:
        results = [slot.aggregation.result(a) for slot, a in zip(self.slots, accumulators)]
        return self.final([first], *results)
