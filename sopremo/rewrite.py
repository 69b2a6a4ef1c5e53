"""Logical rewrites of a Sopremo plan: an ordered list of small rules applied to a fixpoint (VLDB J. 2014, sec. 6.2).

Each rule looks at one operator and its producer and returns the stream that replaces the operator's output, or
None: selections move below union all, projections, joins and groups, and a group switches below a join that
preserves its groups. A rule fires only when read/write sets and copy proofs (``sopremo.readwrite``) show the
result unchanged; UDF calls are opaque (they read and write everything), and a producer read by several
consumers is never touched. The rules recognise the base package's relational operators by their Meteor verb
(their identity in the registry) and the property attributes they declare, so this layer imports no package.

``rewrite(plan)`` copies on write: the plan the user wrote (and ``meteor explain`` prints) stays as it was.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Callable

from sopremo.expressions.nodes import (And, ArrayIndex, Comparison, Constant, ElementIn, Expression, FieldAccess,
                                       FieldAssignment, InputRef, input_refs, replace_inputs)
from sopremo.operator import JsonStream, Operator, SopremoPlan
from sopremo.readwrite import (compares_only, equi_join_keys, group_key, last_assignment, origin, preserved, reads,
                               substitute, through_join_into, through_projection)

MAX_PASSES = 50  # a fixpoint is reached long before; the bound guards against a rule that undoes another


def _is(op: Operator, verb: str) -> bool:
    return op.verb == verb and op.package == "base"


def _sole_producer(op: Operator, consumers: dict[int, int], verb: str) -> Operator | None:
    """The producer of ``op``'s single input when it is a base ``verb`` operator read by ``op`` alone."""
    if len(op.inputs) != 1 or op.inputs[0].index != 0:
        return None
    producer = op.inputs[0].operator
    return producer if _is(producer, verb) and consumers.get(id(producer), 0) == 1 else None


def _conjuncts(expr: Expression) -> list[Expression]:
    if isinstance(expr, And):
        return [c for item in expr.items for c in _conjuncts(item)]
    return [expr]


def _conjunction(items: list[Expression]) -> Expression:
    return items[0] if len(items) == 1 else And(tuple(items))


def _selection(template: Operator, source: JsonStream, condition: Expression) -> Operator:
    """A copy of the selection ``template`` reading ``source`` with ``condition``, named after ``source`` (so the
    plan reads as if the script had filtered that variable)."""
    new = copy.copy(template)
    new.inputs, new.condition = [source], condition
    new.name = source.operator.name or template.name
    return new


# ---- the rules ------------------------------------------------------------------------------------------------


def push_selection_below_union_all(op: Operator, consumers: dict[int, int]) -> JsonStream | None:
    """``filter (union all A, B)`` -> ``union all (filter A), (filter B)``: a condition sees one record at a time."""
    union = _sole_producer(op, consumers, "union all") if _is(op, "filter") else None
    if union is None:
        return None
    new = copy.copy(union)
    new.inputs = [_selection(op, s, op.condition).output() for s in union.inputs]
    return new.output()


def push_selection_below_projection(op: Operator, consumers: dict[int, int]) -> JsonStream | None:
    """``filter (transform X into P) where c`` -> ``transform (filter X where c') into P`` when every field ``c``
    reads is a field ``P`` copies unchanged from X (P does not write what c reads); ``c'`` reads the copied paths."""
    projection = _sole_producer(op, consumers, "transform") if _is(op, "filter") else None
    if projection is None:
        return None
    condition = through_projection(op.condition, projection.projection)
    if condition is None:
        return None
    new = copy.copy(projection)
    new.inputs = [_selection(op, projection.inputs[0], condition).output()]
    return new.output()


def push_selection_below_join(op: Operator, consumers: dict[int, int]) -> JsonStream | None:
    """``filter (join A, B ...) where c1 and c2`` -> the conjuncts that read one join input only are applied to
    that input before the join; the rest stays above. A conjunct moves onto input i only when no other input is
    preserved (outer join): i is then never null-supplied and every output record with i's record passed c.
    The output fields it reads must map back provably: ``into`` copies them unchanged (``origin``), or the
    default ``[a, b, ...]`` output is read as ``$[k]``."""
    join = _sole_producer(op, consumers, "join") if _is(op, "filter") else None
    if join is None:
        return None
    moved: dict[int, list[Expression]] = {}
    kept: list[Expression] = []
    for conjunct in _conjuncts(op.condition):
        target = _join_target(conjunct, join)
        if target is None:
            kept.append(conjunct)
        else:
            moved.setdefault(target[0], []).append(target[1])
    if not moved:
        return None
    new = copy.copy(join)
    new.inputs = [_selection(op, s, _conjunction(moved[i])).output() if i in moved else s
                  for i, s in enumerate(join.inputs)]
    return _selection(op, new.output(), _conjunction(kept)).output() if kept else new.output()


def _join_target(conjunct: Expression, join: Operator) -> tuple[int, Expression] | None:
    """(input i, the conjunct over input i's record as InputRef(0)) when it can move below ``join``."""
    over_inputs = _over_join_inputs(conjunct, join)
    if over_inputs is None:
        return None
    read = reads(over_inputs)
    if read.unknown or len(read.fields) != 1:
        return None
    (index,) = read.fields
    if preserved(join) - {index}:
        return None  # another input is preserved: input `index` may be null-supplied
    return index, replace_inputs(over_inputs, {index: InputRef(0)})


def _over_join_inputs(conjunct: Expression, join: Operator) -> Expression | None:
    """``conjunct`` over the join's output rewritten over the join's inputs (InputRef(i) = input i), or None."""
    if reads(conjunct).unknown:
        return None
    if join.projection is not None:
        return through_projection(conjunct, join.projection)
    if any(isinstance(node, ElementIn) for node in join.condition.walk()):
        return None  # semi/anti joined inputs are left out of the default output: slot numbers shift
    width = len(join.inputs)

    def swap(node: Expression) -> Expression | None:
        if (isinstance(node, ArrayIndex) and node.base == InputRef(0) and isinstance(node.index, Constant)
                and isinstance(node.index.value, int) and not isinstance(node.index.value, bool)
                and 0 <= node.index.value < width):
            return InputRef(node.index.value)
        return None

    return substitute(conjunct, swap)


def push_selection_below_group(op: Operator, consumers: dict[int, int]) -> JsonStream | None:
    """``filter (group $x by $x.k into {k: $x[0].k, ...}) where $.k > 5`` -> group the filtered records: the
    conjuncts that only compare an output field copied from the group key with scalar constants keep or drop
    whole groups (all records of a group have Meteor-equal keys, and such comparisons cannot tell equal keys
    apart), so they may filter the records before grouping; the rest stays above."""
    group = _sole_producer(op, consumers, "group") if _is(op, "filter") else None
    key = group_key(group) if group is not None else None
    if key is None:
        return None
    first = replace_inputs(key, {0: ArrayIndex(InputRef(0), Constant(0))})  # the key as the group sees it
    fields = {e.name for e in group.projection.entries
              if isinstance(e, FieldAssignment) and last_assignment(group.projection, e.name) == first}
    moved, kept = [], []
    for conjunct in _conjuncts(op.condition):
        (moved if compares_only(conjunct, fields) else kept).append(conjunct)
    if not moved:
        return None
    over_records = [substitute(c, lambda n: key if isinstance(n, FieldAccess) and n.base == InputRef(0) else None)
                    for c in moved]
    new = copy.copy(group)
    new.inputs = [_selection(op, group.inputs[0], _conjunction(over_records)).output()]
    return _selection(op, new.output(), _conjunction(kept)).output() if kept else new.output()


def push_group_below_join(op: Operator, consumers: dict[int, int]) -> JsonStream | None:
    """Switch a Reduce and a Match: ``group (join $a, $b where $a.k == $b.f into Q) by $j.k into P`` ->
    ``join (group $a by $a.k into P') , $b where $g.<key copy> == $b.f into $g`` when the Match preserves the
    groups: ``$b`` is a group output unique on ``f`` (``f`` copies its key), so every record of A joins at most
    one record of B and the groups of the join output are the groups of A whose key B has; Q copies the key
    and every field P aggregates from ``$a`` unchanged (sopremo.readwrite.through_join_into)."""
    join = _sole_producer(op, consumers, "join") if _is(op, "group") else None
    key = group_key(op) if join is not None else None
    parts = equi_join_keys(join) if key is not None and isinstance(key, FieldAccess) else None
    if parts is None or not _unique_on(join.inputs[1].operator, parts[1]):
        return None
    left_key, right_key = parts
    if origin(join.projection, key.name) != left_key or input_refs(left_key) != {0}:
        return None
    copy_of_key = FieldAccess(ArrayIndex(InputRef(0), Constant(0)), key.name)
    names = [e.name for e in op.projection.entries
             if isinstance(e, FieldAssignment) and last_assignment(op.projection, e.name) == copy_of_key]
    projection = through_join_into(op.projection, join.projection, key.name)
    if not names or projection is None:
        return None
    group = copy.copy(op)
    group.inputs, group.keys, group.projection = [join.inputs[0]], (left_key,), projection
    new = copy.copy(join)
    new.inputs = [group.output(), join.inputs[1]]
    new.condition = Comparison("==", FieldAccess(InputRef(0), names[0]), right_key)
    new.projection, new.preserve = InputRef(0), ()
    return new.output()


def _unique_on(producer: Operator, field: FieldAccess) -> bool:
    """Whether ``producer`` is a group whose output field ``field.name`` copies its key (one record per key)."""
    key = group_key(producer) if _is(producer, "group") else None
    first = replace_inputs(key, {0: ArrayIndex(InputRef(0), Constant(0))}) if key is not None else None
    return first is not None and last_assignment(producer.projection, field.name) == first


# The rules, in the order they are tried on each operator (the first that applies wins, then the pass goes on).
RULES: tuple[Callable[[Operator, dict[int, int]], JsonStream | None], ...] = (
    push_selection_below_union_all,   # cheapest and always valid
    push_selection_below_projection,  # swap a filter and a transform that copies the fields it reads
    push_selection_below_join,        # filter single inputs before joining them
    push_selection_below_group,       # drop whole groups before grouping when only the key decides
    push_group_below_join,            # switch a Reduce and a Match that preserves its groups
)


# ---- the driver -----------------------------------------------------------------------------------------------


def rewrite(plan: SopremoPlan, rules=RULES) -> SopremoPlan:
    """``plan`` with ``rules`` applied until none applies (at most MAX_PASSES passes).

    Copy on write: operators on a changed path are shallow copies with rewired inputs, the others are shared, so
    the given plan is left untouched (and a plan no rule applies to comes back unchanged).
    """
    for _ in range(MAX_PASSES):
        plan, changed = _pass(plan, rules)
        if not changed:
            break
    return plan


def _consumers(plan: SopremoPlan) -> dict[int, int]:
    counts: dict[int, int] = {}
    for op in plan.operators():
        for stream in op.inputs:
            counts[id(stream.operator)] = counts.get(id(stream.operator), 0) + 1
    return counts


def _pass(plan: SopremoPlan, rules) -> tuple[SopremoPlan, bool]:
    """One bottom-up pass: each operator is offered to the rules once; consumers are rewired to replacements."""
    consumers = _consumers(plan)
    replaced: dict[int, Operator] = {}
    streams: dict[int, JsonStream] = {}
    for op in plan.operators():
        current = _rewired(op, replaced, streams)
        for rule in rules:
            stream = rule(current, consumers)
            if stream is not None:
                streams[id(op)] = stream
                break
        if current is not op:
            replaced[id(op)] = current
    if not replaced and not streams:
        return plan, False
    sinks = [replaced.get(id(s), s) for s in plan.sinks]
    return dataclasses.replace(plan, sinks=sinks), True


def _rewired(op: Operator, replaced: dict[int, Operator], streams: dict[int, JsonStream]) -> Operator:
    """``op``, or a copy of it reading the replacements of its producers."""
    inputs = []
    for s in op.inputs:
        if s.index == 0 and id(s.operator) in streams:
            inputs.append(streams[id(s.operator)])
        elif id(s.operator) in replaced:
            inputs.append(JsonStream(replaced[id(s.operator)], s.index))
        else:
            inputs.append(s)
    if all(a is b for a, b in zip(inputs, op.inputs)):
        return op
    new = copy.copy(op)
    new.inputs = inputs
    return new
