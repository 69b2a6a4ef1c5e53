"""The internal elementary operators a ``join`` expands to (the original's ``@Internal`` TwoSourceJoin and kin).

Between them flow *join tuples*: Python tuples with one slot per input of the whole join, holding that input's
record or ``MISSING`` (not joined yet, unmatched outer side, or consumed by a semi/anti join). A join key that
is missing matches nothing (as SQL's NULL), so an unmatched outer side never joins on its missing fields.
Join keys are ``Key``s with a ``description`` (as ``keys.describe_key``): over raw records the key expression
read as ``$0``, over join tuples ``tuple:`` and the expression over the slots; a composite key ``(k1, k2)``.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, Callable, Iterable, Iterator

from sopremo.api import (MISSING, CoGroup, Cross, ElementaryOperator, Expression, FieldAccess, InputRef, Key, Map, Match,
                         hashable, render, truthy)

from .batch_probe import RowProbe
from .keys import compile_expr, constant_key, contract_args, join_key_function, to_slot

LEFT_MISSING = ("missing", "left")    # never produced by hashable(): keys of records with a missing join key
RIGHT_MISSING = ("missing", "right")


def lift(slot: int, arity: int) -> Callable[[Any], tuple]:
    """A function placing a raw record into slot ``slot`` of an otherwise MISSING join tuple."""
    before, after = (MISSING,) * slot, (MISSING,) * (arity - slot - 1)
    return lambda record: before + (record,) + after


def tuple_functions(exprs: tuple[Expression, ...], slot: int | None, arity: int) -> list[Callable]:
    """Compiled ``exprs``, each taking one value: a raw record of ``slot`` or (slot None) a join tuple."""
    if slot is not None:
        return [compile_expr(to_slot(e, slot), 1) for e in exprs]
    return [_spread(compile_expr(e, arity)) for e in exprs]


def _spread(f: Callable) -> Callable[[tuple], Any]:
    return lambda t: f(*t)


def key_description(exprs: tuple[Expression, ...], slot: int | None) -> str:
    """The ``description`` of the join key over ``exprs`` read from raw records of ``slot`` (as ``$0``) or,
    slot None, from join tuples (``tuple:`` prefix); several expressions give ``(k1, k2)``."""
    texts = [render(to_slot(e, slot)) if slot is not None else render(e) for e in exprs]
    text = texts[0] if len(texts) == 1 else "(" + ", ".join(texts) + ")"
    return text if slot is not None else "tuple:" + text


def join_key(functions: list[Callable], missing_key: Any, description: str) -> Key:
    """The key over several equi-join expressions; a missing part yields ``missing_key``. ``description`` (see
    ``key_description``) names the key for the optimizer."""
    return Key(join_key_function(functions, missing_key), description)


class TwoSourceJoin(ElementaryOperator):
    """One step of a join chain: joins the left stream (raw records of ``left_slot`` or join tuples) with the
    raw records of input ``right_slot``; out: join tuples of width ``arity``.

    ``left_keys``/``right_keys``: equi-join expressions (InputRef(i) = slot i); none = a theta join (Cross).
    ``condition``: residual filter over the joined tuple. ``left_outer``/``right_outer``: keep unmatched records
    (CoGroup), the other side staying MISSING. ``kept`` (None: all): the slots read after this step; an inner
    join leaves the others MISSING in its output, so a joined record nothing reads any more is neither shipped
    nor held in a later step's hash table. VLDB J. 2014, sec. 5.1 (Match, Cross, CoGroup).
    """

    verb = ""
    min_inputs = max_inputs = 2

    def __init__(self, inputs: list, *, arity: int, left_slot: int | None, right_slot: int,
                 left_keys: tuple = (), right_keys: tuple = (), condition: Expression | None = None,
                 left_outer: bool = False, right_outer: bool = False, kept: frozenset[int] | None = None):
        super().__init__(inputs)
        self.arity, self.left_slot, self.right_slot = arity, left_slot, right_slot
        self.left_keys, self.right_keys, self.condition = left_keys, right_keys, condition
        self.left_outer, self.right_outer, self.kept = left_outer, right_outer, kept

    def to_contract(self, inputs: list[Any], ctx: Any) -> Any:
        left_lift = lift(self.left_slot, self.arity) if self.left_slot is not None else (lambda t: t)
        right_slot = self.right_slot
        condition = _spread(compile_expr(self.condition, self.arity)) if self.condition is not None else None

        def combine(left: Any, right: Any) -> tuple | None:
            joined = left_lift(left)
            joined = joined[:right_slot] + (right,) + joined[right_slot + 1:]
            return joined if condition is None or truthy(condition(joined)) else None

        pairs = _pairs(combine)
        if condition is None and self.arity == 2 and self.left_slot is not None:  # two raw inputs: (a, b)
            if self.left_slot == 0:
                def combine(left: Any, right: Any) -> tuple:
                    return left, right
            else:
                def combine(left: Any, right: Any) -> tuple:
                    return right, left
            pairs = _single_pairs(combine)
        if self.left_outer or self.right_outer:
            return self._outer(inputs, combine, left_lift)
        if self.arity > 2 or self.left_slot is None:  # join tuples: picked in C, dead slots left MISSING
            keeping = _keeping(left_lift, right_slot, condition, self.kept, self.arity)
            pairs = _single_pairs(keeping) if condition is None else _pairs(keeping)
        if self.left_keys:
            return Match(keys=self._keys(), udf=pairs, batch_probe=self._batch_probe(), **contract_args(self, inputs))
        return Cross(udf=pairs, **contract_args(self, inputs))

    def _keys(self) -> tuple[Callable, Callable]:
        left = tuple_functions(self.left_keys, self.left_slot, self.arity)
        right = tuple_functions(self.right_keys, self.right_slot, self.arity)
        return (join_key(left, LEFT_MISSING, key_description(self.left_keys, self.left_slot)),
                join_key(right, RIGHT_MISSING, key_description(self.right_keys, self.right_slot)))

    def _batch_probe(self) -> RowProbe:
        """The Match's batch hook: the key expressions over the raw records of each input (None for an input of
        join tuples), so a source stage probing the Match computes keys from decoded rows."""
        left = tuple(to_slot(e, self.left_slot) for e in self.left_keys) if self.left_slot is not None else None
        right = tuple(to_slot(e, self.right_slot) for e in self.right_keys)
        return RowProbe((left, right), (LEFT_MISSING, RIGHT_MISSING))

    def _outer(self, inputs: list[Any], combine: Callable, left_lift: Callable) -> CoGroup:
        right_lift = lift(self.right_slot, self.arity)
        keep_left, keep_right = self.left_outer, self.right_outer
        keys = self._keys() if self.left_keys else (constant_key, constant_key)
        if self.condition is None:  # every pair joins: the groups decide alone
            def outer_pairs(_key: Any, left: list[Any], right: list[Any]) -> list[tuple]:
                if left and right:
                    return [combine(l, r) for l in left for r in right]
                if left:
                    return list(map(left_lift, left)) if keep_left else []
                return list(map(right_lift, right)) if keep_right else []
            return CoGroup(keys=keys, udf=outer_pairs, sequence_groups=True, **contract_args(self, inputs))

        def outer(_key: Any, left: list[Any], right: list[Any]) -> Iterator[tuple]:
            matched = [False] * len(right)
            for l in left:
                hit = False
                for index, r in enumerate(right):
                    joined = combine(l, r)
                    if joined is not None:
                        hit = matched[index] = True
                        yield joined
                if keep_left and not hit:
                    yield left_lift(l)
            if keep_right:
                yield from (right_lift(r) for r, m in zip(right, matched) if not m)

        return CoGroup(keys=keys, udf=outer, sequence_groups=True, **contract_args(self, inputs))


def _keeping(left_lift: Callable, right_slot: int, condition: Callable | None, kept: frozenset[int] | None,
             arity: int) -> Callable[[Any, Any], tuple | None]:
    """The combine of an inner join step: the left join tuple with ``right`` in ``right_slot``, or None when
    ``condition`` (over that tuple) fails; slots outside ``kept`` (None: all kept) are left MISSING. The tuple
    is picked in one ``itemgetter`` call from the left tuple followed by ``right`` and MISSING."""
    def slot(i: int) -> int:
        return i if kept is None or i in kept else arity + 1

    pick = itemgetter(*[arity if i == right_slot else slot(i) for i in range(arity)])
    if condition is None:
        def keeping(left: Any, right: Any) -> tuple:
            return pick(left_lift(left) + (right, MISSING))
        return keeping
    whole = itemgetter(*[arity if i == right_slot else i for i in range(arity)])
    trim = itemgetter(*[slot(i) if i != right_slot else i for i in range(arity)])

    def checked(left: Any, right: Any) -> tuple | None:
        joined = whole(left_lift(left) + (right, MISSING))
        if not truthy(condition(joined)):
            return None
        return trim(joined + (MISSING, MISSING)) if kept is not None else joined
    return checked


def _single_pairs(combine: Callable[[Any, Any], tuple]) -> Callable[[Any, Any], Iterable[tuple]]:
    """The Match / Cross UDF of a ``combine`` that always joins: one join tuple per pair."""
    def pair(left: Any, right: Any) -> Iterable[tuple]:
        return (combine(left, right),)
    return pair


def _pairs(combine: Callable) -> Callable[[Any, Any], Iterable[tuple]]:
    def pair(left: Any, right: Any) -> Iterable[tuple]:
        joined = combine(left, right)
        return () if joined is None else (joined,)
    return pair


class SetMembers(ElementaryOperator):
    """Map: the members of ``collection`` per record (an array contributes its elements, a missing value none);
    ``with_records``: ``(member, record)`` pairs instead, for a semi/anti join with a residual condition.
    ``fields`` (with records only): the top-level fields the residual reads of the record, in order; the pair
    then holds, instead of the record, the value of its one field or the list of the values of its fields
    (MISSING where the record has none, as ``$b.f`` reads it), and the residual reads those
    (``Join._over_values``). None keeps the whole record.

    Feeds the right side of a semi/anti join: ``$a.x in $b.ids`` asks whether some ``$b`` has ``$a.x`` among
    its ``ids`` (or equal to it, when ``ids`` is no array). Shipping only what the residual reads is projection
    pushdown through the semi join's CoGroup (VLDB J. 2014, sec. 7): TPC-H Q21's EXISTS and NOT EXISTS ship
    and group every lineitem, of which the residual ``l2.l_suppkey != l1.l_suppkey`` reads one field.
    """

    verb = ""

    def __init__(self, inputs: list, *, collection: Expression, with_records: bool = False,
                 fields: tuple[str, ...] | None = None):
        super().__init__(inputs)
        self.collection, self.with_records, self.fields = collection, with_records, fields

    def to_contract(self, inputs: list[Any], ctx: Any) -> Map:
        collection, with_records = compile_expr(self.collection, 1), self.with_records
        keep = _values_of(self.fields) if with_records else None

        def members(records: Iterator[Any]) -> Iterable[Any]:
            for record in records:
                value = collection(record)
                found = (v for v in value if v is not MISSING) if isinstance(value, list) else \
                    (() if value is MISSING else (value,))
                if with_records:
                    kept = keep(record) if keep is not None else record
                    yield from ((member, kept) for member in found)
                else:
                    yield from found

        return Map(udf=members, **contract_args(self, inputs))


def _values_of(fields: tuple[str, ...] | None) -> Callable[[Any], Any] | None:
    """A function giving a record's field (one name) or the list of its fields' values, each as ``$r.name``
    evaluates it (MISSING where absent); None for None."""
    if fields is None:
        return None
    getters = [compile_expr(FieldAccess(InputRef(0), name), 1) for name in fields]
    if len(getters) == 1:
        return getters[0]
    return lambda record: [get(record) for get in getters]


def member_key(pair: tuple) -> Any:
    """The key of a ``(member, record)`` pair of SetMembers: the member's."""
    return hashable(pair[0])


class SemiJoin(ElementaryOperator):
    """CoGroup: the left records whose ``element`` is (semi) or is not (anti, ``negate``) among the right members;
    with a ``residual`` condition (over InputRef(0) = left record, InputRef(1) = right record), among the
    members of right records for which it holds: EXISTS / NOT EXISTS (SELECT ... WHERE x = y AND residual).
    InputRef(1) is whatever SetMembers pairs with the member: the record, or the values of the fields the
    residual reads (then the residual reads those values, ``Join._over_values``).

    In: left records, right members (pairs with their records when there is a residual); out: left records.
    """

    verb = ""
    min_inputs = max_inputs = 2

    def __init__(self, inputs: list, *, element: Expression, negate: bool, residual: Expression | None = None):
        super().__init__(inputs)
        self.element, self.negate, self.residual = element, negate, residual

    def to_contract(self, inputs: list[Any], ctx: Any) -> CoGroup:
        negate = self.negate
        left_key = join_key([compile_expr(self.element, 1)], LEFT_MISSING, render(self.element))
        if self.residual is None:
            def semi(_key: Any, left: list[Any], right: list[Any]) -> Iterable[Any]:
                return left if bool(right) != negate else ()

            return CoGroup(keys=(left_key, hashable), udf=semi, sequence_groups=True, **contract_args(self, inputs))
        residual = compile_expr(self.residual, 2)

        def semi_where(_key: Any, left: list[Any], right: list[Any]) -> Iterable[Any]:
            for record in left:
                if any(truthy(residual(record, other)) for _, other in right) != negate:
                    yield record

        return CoGroup(keys=(left_key, member_key), udf=semi_where, sequence_groups=True,
                       **contract_args(self, inputs))


class JoinProjection(ElementaryOperator):
    """Map at the end of a join: optional residual ``condition``, then ``projection`` over the join tuple.

    ``slot``: the input records are raw records of that slot (a join whose other inputs were all semi/anti
    joined) instead of join tuples. ``projection`` None = the array of the ``outputs`` slots, missing as null.
    """

    verb = ""

    def __init__(self, inputs: list, *, arity: int, slot: int | None, outputs: tuple[int, ...],
                 condition: Expression | None = None, projection: Expression | None = None):
        super().__init__(inputs)
        self.arity, self.slot, self.slots = arity, slot, outputs
        self.condition, self.projection = condition, projection

    def to_contract(self, inputs: list[Any], ctx: Any) -> Map:
        to_tuple = lift(self.slot, self.arity) if self.slot is not None else (lambda t: t)
        condition = compile_expr(self.condition, self.arity) if self.condition is not None else None
        project = self._projection()

        def finish(records: Iterator[Any]) -> Iterable[Any]:
            for record in records:
                joined = to_tuple(record)
                if condition is None or truthy(condition(*joined)):
                    yield project(joined)

        if condition is None:  # a projection of every record, in C's map
            if self.slot is None:
                def finish(records: Iterator[Any]) -> Iterable[Any]:
                    return map(project, records)
            else:
                def finish(records: Iterator[Any]) -> Iterable[Any]:
                    return map(project, map(to_tuple, records))
        return Map(udf=finish, **contract_args(self, inputs))

    def _projection(self) -> Callable[[tuple], Any]:
        if self.projection is not None:
            return _spread(compile_expr(self.projection, self.arity))
        slots = self.slots
        return lambda joined: [None if joined[i] is MISSING else joined[i] for i in slots]
