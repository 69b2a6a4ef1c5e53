"""Source -> filter* -> split array -> combine fused over batches: word count as a batch kernel.

The paper's word count (VLDB J. 2014, Fig. 10b: ``split array`` on ``split(text)``, then ``group`` and ``count``)
moved every word through a generator, the ``into`` projection, the key function and the combining table, one
Python call chain per word. When a ``group ... into`` with a combiner reads a ``split array`` (which declares its
``Expansion`` as the Map's ``expansion``) fed by selections from a JSON Lines source, ``ExpandingSource`` lets the
runtime (``pact_backend.runtime.fused_source``) fold whole chunks instead: the chunk's records (decoded with only
the fields the plan reads) are filtered, each array is computed once per record, the arrays are chained in C, and
the elements are grouped; when every element is a string (or every one an int) they are counted by their raw
value in C (``collections.Counter``), the group key computed once per distinct value per chunk (through the
split's ``into`` when that reads only the element: ``into {word: $a[0]}`` grouped ``by $w.word``); otherwise
each element's key is computed and the groups folded by the combiner's own fold. The table holds the ``Partial``\\ s
the combiner itself would produce, so the Reduce merges them as usual (VLDB J. 2014, sec. 7.3).

A chunk whose fold raises, or whose array is not an array, is refused: the runtime redoes it record by record
through the Maps, which raises the user-facing error (with the record) or gives the same result.
"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any, Callable, Iterable, Iterator, Sequence

from sopremo.api import (MISSING, ArrayConstruction, ArrayIndex, Constant, Expression, FieldAccess, FieldAssignment,
                         InputRef, ObjectConstruction, RowBatch, aggregation_functions, compile_key, compile_predicate,
                         map_children, replace_inputs)

from .combine import GroupCombiner, Partial
from .keys import compile_expr, key_function
from .split import Expansion

_RAW_TYPES = (frozenset({str}), frozenset({int}))  # element types whose Python equality and hash are Meteor's
_ELEMENT = ArrayIndex(InputRef(0), Constant(0))  # the element in ``into`` ([element, index, array, record])


class ExpandingSource:
    """A ``FusedSource`` (``pact_backend.combiners``) for ``Source -> selections -> split array -> combiner``.

    ``batches(split)``: chunks of the input (RowBatches of the projected ``decoder``, or lists of records when
    the source is not projected: ``decoder`` None);
    ``fold(batch, table)``: folds a chunk into ``table`` ({group key: Partial}) and returns [records read,
    records passing each selection, elements emitted by the split], or None (refused, see the module docstring);
    ``table`` changes only once the whole chunk is folded. ``records(batch)``: the chunk's records.

    Keys through the projection: when the split's ``into`` reads only the element (``{word: $a[0]}``), the
    group key over the projected record is rewritten over the element (``$w.word`` is ``$a[0]``) and the
    group's first record is built from its element, so counting chunks of all-string (or all-int) elements
    needs no projected record per element: ``element_key`` and ``first``, else None.

    Counting mode (``identity``): when the group key is the element itself and ``into`` only counts, chunks of
    all-string (or all-int) elements are counted straight into ``table`` as plain ints, one C call per chunk
    (a str or int is its own key: ``hashable``); ``settle(table)`` turns them into Partials before the runtime
    reads the table, and before a chunk of other elements is folded. A table holds only ints or only Partials.
    """

    def __init__(self, input_format: Any, decoder: Any, combiner: GroupCombiner, predicates: list[Callable],
                 path: Callable[[Any], Any], projection: Expression | None):
        self.input_format, self.decoder, self.combiner = input_format, decoder, combiner
        self.predicates, self.path = predicates, path
        self.projection = None if projection is None else compile_expr(projection, 1)
        key = combiner.key
        self.key = None if key is None else compile_key(key, key_function(key).fn)
        slots = combiner.slots
        self.counts_only = all(slot.element is None and slot.aggregation.merge is not None
                               and _is_count(slot.aggregation) for slot in slots)
        self.merges = [slot.aggregation.merge for slot in slots]
        # The group key and the group's first record as functions of the element alone (None: they read the
        # index, the array or the record), so that counting needs no projected record per element (the word
        # count written ``into {word: $a[0]}`` and grouped ``by $w.word``)
        first = InputRef(0) if projection is None else _of_element(projection)
        over_element = None if key is None or first is None else key if projection is None else \
            _of_element(_inline_fields(replace_inputs(key, {0: projection})))
        self.element_key = None if over_element is None else compile_key(over_element, key_function(over_element).fn)
        self.first = None if first is None else compile_expr(first, 1)
        # grouped by the element itself: the key of a str or int element is the element (``hashable``); the
        # group's first record is built in ``settle``, so it must be built by an expression that cannot fail
        self.identity = over_element == InputRef(0) and self.counts_only and _cannot_fail(first)

    def batches(self, split: Any) -> Iterator[Iterable[Any]]:
        """The chunks of one split (None: the whole input); raises DataError (file and line)."""
        return self.input_format.read_batches(split, self.decoder)

    def records(self, batch: Iterable[Any]) -> Iterable[Any]:
        """The records of ``batch`` as the unfused source yields them."""
        return self.decoder.records(batch) if type(batch) is RowBatch else batch

    def fold(self, batch: Iterable[Any], table: dict[Any, Partial]) -> list[int] | None:
        """Fold ``batch`` into ``table``; see the class docstring."""
        if type(batch) is not RowBatch and type(batch) is not list:
            return None  # a one-shot iterable could not be redone record by record
        records = list(self.records(batch))
        counts = [len(records)]
        for predicate in self.predicates:
            records = list(filter(predicate, records))
            counts.append(len(records))
        arrays = list(map(self.path, records))
        if not all(type(array) is list for array in arrays):
            return None  # the Map raises the error naming the record
        elements = list(itertools.chain.from_iterable(arrays))
        counts.append(len(elements))
        if not elements:
            return counts
        if self.counts_only and self.element_key is not None and frozenset(map(type, elements)) in _RAW_TYPES:
            if self.identity and (not table or type(next(iter(table.values()))) is int):
                _count_into(table, elements)  # in C: table[element] = table.get(element, 0) + 1
                return counts
            self.settle(table)
            updates = self._count_raw(elements, table)
        else:
            if self.projection is not None:
                project = self.projection
                elements = [project([element, index, array, record]) for array, record in zip(arrays, records)
                            for index, element in enumerate(array)]
            self.settle(table)
            updates = self._fold_groups(elements, table)
        if updates is None:
            return None
        for k, partial, first, accumulators in updates:
            if partial is None:
                table[k] = Partial(first, accumulators)
            else:
                partial.accumulators = accumulators
        return counts

    def settle(self, table: dict[Any, Any]) -> None:
        """Turn the plain counts of the counting mode (see ``fold``) into the combiner's Partials, the group's
        first record built from its element; the runtime calls it before it reads the table (the optional
        ``settle`` hook of a fused source)."""
        if table and type(next(iter(table.values()))) is int:
            first, slots = self.first, len(self.merges)
            for raw, n in table.items():
                table[raw] = Partial(first(raw), [n] * slots)

    def _count_raw(self, elements: list[Any], table: dict[Any, Partial]) -> list[tuple] | None:
        """Count-only slots over elements of one raw type: counted in C, one key per distinct value; None when
        two distinct values give one key."""
        key, first, merges, get = self.element_key, self.first, self.merges, table.get
        updates, seen = [], set()
        for raw, n in Counter(elements).items():
            k = key(raw)
            if k in seen:
                return None
            seen.add(k)
            partial = get(k)
            if partial is None:
                updates.append((k, None, first(raw), [n] * len(merges)))
            else:
                updates.append((k, partial, None, [m(a, n) for m, a in zip(merges, partial.accumulators)]))
        return updates

    def _count_keyed(self, elements: list[Any], table: dict[Any, Partial]) -> list[tuple]:
        """Count-only slots over any elements: the keys computed per element, counted in C; a group's first
        element found by a reversed zip (the first occurrence wins)."""
        keys = list(map(self.key, elements))
        firsts = dict(zip(reversed(keys), reversed(elements)))
        merges, get, updates = self.merges, table.get, []
        for k, n in Counter(keys).items():
            partial = get(k)
            if partial is None:
                updates.append((k, None, firsts[k], [n] * len(merges)))
            else:
                updates.append((k, partial, None, [m(a, n) for m, a in zip(merges, partial.accumulators)]))
        return updates

    def _fold_groups(self, elements: list[Any], table: dict[Any, Partial]) -> list[tuple]:
        """Elements grouped by key (input order kept), each group folded by the combiner's fold."""
        key, fold, get = self.key, self.combiner.fused, table.get
        if self.counts_only and key is not None:
            return self._count_keyed(elements, table)
        groups: dict[Any, list[Any]] = {}
        if key is None:
            groups[None] = elements
        else:
            for element in elements:
                k = key(element)
                group = groups.get(k)
                if group is None:
                    groups[k] = [element]
                else:
                    group.append(element)
        updates = []
        for k, group in groups.items():
            partial = get(k)
            if partial is None:
                updates.append((k, None, group[0], fold(group)))
            else:
                updates.append((k, partial, None, fold([partial, *group])))
        return updates


_COUNT_ADD = aggregation_functions()["count"].aggregation.add


def _count_into(table: dict[Any, int], elements: list[Any]) -> None:
    """Add 1 to ``table[element]`` (from 0) for every element, in C: ``Counter.update`` counts into any
    mapping, here the plain dict the runtime owns."""
    Counter.update(table, elements)  # type: ignore[arg-type]


def _is_count(aggregation: Any) -> bool:
    """True for ``count`` (compared by its add function: an unpickled plan holds copies of the Aggregations)."""
    return aggregation.add is _COUNT_ADD


def fuse_expansion(combiner: GroupCombiner, input_format: Any, facts: Sequence[Any]) -> ExpandingSource | None:
    """An ExpandingSource when ``facts`` (the chained Maps' declarations) are selections (their conditions)
    followed by one ``Expansion`` last and ``input_format`` reads batches; else None."""
    if not facts or type(facts[-1]) is not Expansion or any(f is None or type(f) is Expansion for f in facts[:-1]):
        return None
    if getattr(input_format, "read_batches", None) is None:
        return None
    make_decoder = getattr(input_format, "row_decoder", None)
    decoder = make_decoder(MISSING) if make_decoder is not None else None  # None: whole records per chunk
    expansion: Expansion = facts[-1]
    predicates = [compile_predicate(condition, 1) for condition in facts[:-1]]
    path = compile_expr(expansion.path if expansion.path is not None else InputRef(0), 1)
    return ExpandingSource(input_format, decoder, combiner, predicates, path, expansion.projection)


def _inline_fields(expr: Expression) -> Expression:
    """``expr`` with every ``{..., name: value, ...}.name`` (one entry of that name, no copied fields) replaced
    by ``value``: the group key ``$w.word`` of the records ``{word: $a[0]}`` is the element ``$a[0]``."""
    expr = map_children(expr, _inline_fields)
    if type(expr) is FieldAccess and type(expr.base) is ObjectConstruction:
        entries = expr.base.entries
        named = [entry for entry in entries if type(entry) is FieldAssignment and entry.name == expr.name]
        if len(named) == 1 and all(type(entry) is FieldAssignment for entry in entries):
            return named[0].value
    return expr


class _ReadsMore(Exception):
    """The expression reads the index, the array or the record of ``[element, index, array, record]``."""


def _of_element(expr: Expression) -> Expression | None:
    """``expr`` over ``[element, index, array, record]`` (a ``split array``'s ``into``) rewritten over the
    element alone (``$a[0]`` becomes ``InputRef(0)``), or None when it reads more than the element."""
    def rewrite(node: Expression) -> Expression:
        if node == _ELEMENT:
            return InputRef(0)
        if type(node) is InputRef:
            raise _ReadsMore()
        return map_children(node, rewrite)
    try:
        return rewrite(expr)
    except _ReadsMore:
        return None


_INFALLIBLE = (InputRef, Constant, ObjectConstruction, FieldAssignment, ArrayConstruction)


def _cannot_fail(expr: Expression | None) -> bool:
    """True when evaluating ``expr`` cannot raise: it only builds objects and arrays of constants and inputs."""
    return expr is not None and all(type(node) in _INFALLIBLE for node in expr.walk())
