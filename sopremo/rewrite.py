"""Logical rewrites of a Sopremo plan: an ordered list of small rules applied to a fixpoint (VLDB J. 2014, sec. 6.2).

Each rule looks at one operator and its producer and returns the stream that replaces the operator's output, or
None: calls of deterministic functions on constants become constants, selections move below pass-throughs
(``union all``), record maps (``transform``), combinations (joins) and groupings, a grouping switches below a
combination that preserves its groups, and a record map merges into the map or combination producing its records
(``sopremo.map_merge``). What an operator is
comes from its declaration alone (``Operator.record_flow()``, ``sopremo.flow``), never from its verb or
package: an operator that declares nothing is opaque and nothing moves through it. A rule fires only when
read/write sets and copy proofs (``sopremo.readwrite``) show the result unchanged; UDF calls are opaque (they
read and write everything), and a producer read by several consumers is never touched.

``rewrite(plan)`` copies on write: the plan the user wrote (and ``meteor explain`` prints) stays as it was.
"""

from __future__ import annotations

import math
from typing import Callable

from sopremo.expressions.nodes import (And, ArrayIndex, Comparison, Constant, Expression, FieldAccess,
                                       FieldAssignment, FunctionCall, InputRef, input_refs, map_children,
                                       replace_inputs)
from sopremo.flow import COMBINE, GROUP, MAP, PASS, SELECT, RecordFlow, flow_of, rebuilt
from sopremo.map_merge import merge_map_into_producer
from sopremo.nested import with_expressions
from sopremo.operator import JsonStream, Operator, SopremoPlan
from sopremo.plan_pass import rewrite_pass
from sopremo.readwrite import (compares_only, equi_join_keys, group_key, last_assignment, origin, reads,
                               substitute, through_join_into, through_output)

MAX_PASSES = 50  # a fixpoint is reached long before; the bound guards against a rule that undoes another


def fold_constant_calls(op: Operator, consumers: dict[int, int]) -> JsonStream | None:
    """``l_shipdate < add_years('1994-01-01', 1)`` -> ``l_shipdate < '1995-01-01'``: a call of a deterministic
    function (``SopremoFunction.deterministic``) whose arguments are all constants is computed once, here, instead
    of once per record; its value becomes a constant, which the compiled comparisons and the row-batch filters
    read directly. Only a scalar value is folded (a list or object stays a call: a constant is shared by every
    record), and a call that fails stays as written, to fail at run time where the script says."""
    new = with_expressions(op, _fold)
    return None if new is op else new.output()


_SCALARS = (str, int, float, bool, type(None))


def _fold(expr: Expression) -> Expression:
    expr = map_children(expr, _fold)
    if not (isinstance(expr, FunctionCall) and getattr(expr.function, "deterministic", False)
            and all(isinstance(arg, Constant) for arg in expr.args)):
        return expr
    try:
        value = expr.function(*(arg.value for arg in expr.args))
    except Exception:  # noqa: BLE001 - left to fail at run time, with the record and script location
        return expr
    if type(value) not in _SCALARS or (type(value) is float and not math.isfinite(value)):
        return expr
    return Constant(value)


def _selection(op: Operator) -> RecordFlow | None:
    """``op``'s flow when it is a selection whose predicate a rewrite may move and replace."""
    flow = flow_of(op)
    return flow if flow is not None and flow.kind == SELECT and flow.can_set("predicate") else None


def _sole_producer(op: Operator, consumers: dict[int, int], kind: str) -> tuple[Operator, RecordFlow] | None:
    """The producer of ``op``'s single input and its flow when the flow is of ``kind`` and ``op`` alone reads it."""
    if len(op.inputs) != 1 or op.inputs[0].index != 0:
        return None
    producer = op.inputs[0].operator
    flow = flow_of(producer)
    if flow is None or flow.kind != kind or consumers.get(id(producer), 0) != 1:
        return None
    return producer, flow


def _conjuncts(expr: Expression) -> list[Expression]:
    if isinstance(expr, And):
        return [c for item in expr.items for c in _conjuncts(item)]
    return [expr]


def _conjunction(items: list[Expression]) -> Expression:
    return items[0] if len(items) == 1 else And(tuple(items))


def _select(template: Operator, flow: RecordFlow, source: JsonStream, predicate: Expression) -> Operator:
    """A copy of the selection ``template`` reading ``source`` with ``predicate``, named after ``source`` (so the
    plan reads as if the script had filtered that variable)."""
    new = rebuilt(template, flow, [source], predicate=predicate)
    new.name = source.operator.name or template.name
    return new


# ---- the rules ------------------------------------------------------------------------------------------------


def push_selection_below_pass(op: Operator, consumers: dict[int, int]) -> JsonStream | None:
    """``filter (union all A, B)`` -> ``union all (filter A), (filter B)``: a predicate sees one record at a time,
    and a PASS operator emits every record of every input unchanged."""
    select = _selection(op)
    found = _sole_producer(op, consumers, PASS) if select is not None else None
    if found is None:
        return None
    producer, flow = found
    inputs = [_select(op, select, s, select.predicate).output() for s in producer.inputs]
    return rebuilt(producer, flow, inputs).output()


def push_selection_below_map(op: Operator, consumers: dict[int, int]) -> JsonStream | None:
    """``filter (transform X into P) where c`` -> ``transform (filter X where c') into P`` when every field ``c``
    reads is a field ``P`` copies unchanged from X (P does not write what c reads); ``c'`` reads the copied paths."""
    select = _selection(op)
    found = _sole_producer(op, consumers, MAP) if select is not None else None
    if found is None or found[1].output is None:
        return None
    producer, flow = found
    predicate = through_output(select.predicate, flow.output)
    if predicate is None:
        return None
    return rebuilt(producer, flow, [_select(op, select, producer.inputs[0], predicate).output()]).output()


def push_selection_below_combine(op: Operator, consumers: dict[int, int]) -> JsonStream | None:
    """``filter (join A, B ...) where c1 and c2`` -> the conjuncts that read one join input only are applied to
    that input before the join; the rest stays above. A conjunct moves onto input i only when no other input is
    preserved (outer join): i is then never null-supplied and every output record with i's record passed c.
    The output fields it reads must map back provably: the output copies them unchanged (``origin``), or it is
    the array of the joined records (``[a, b, ...]``) read as ``$[k]``."""
    select = _selection(op)
    found = _sole_producer(op, consumers, COMBINE) if select is not None else None
    if found is None or found[1].output is None:
        return None
    join, flow = found
    moved: dict[int, list[Expression]] = {}
    kept: list[Expression] = []
    for conjunct in _conjuncts(select.predicate):
        target = _combine_target(conjunct, flow)
        if target is None:
            kept.append(conjunct)
        else:
            moved.setdefault(target[0], []).append(target[1])
    if not moved:
        return None
    inputs = [_select(op, select, s, _conjunction(moved[i])).output() if i in moved else s
              for i, s in enumerate(join.inputs)]
    new = rebuilt(join, flow, inputs)
    return _select(op, select, new.output(), _conjunction(kept)).output() if kept else new.output()


def _combine_target(conjunct: Expression, flow: RecordFlow) -> tuple[int, Expression] | None:
    """(input i, the conjunct over input i's record as InputRef(0)) when it can move below the combination."""
    over_inputs = through_output(conjunct, flow.output)
    if over_inputs is None:
        return None
    read = reads(over_inputs)
    if read.unknown or len(read.fields) != 1:
        return None
    (index,) = read.fields
    if set(flow.preserved) - {index}:
        return None  # another input is preserved: input `index` may be null-supplied
    return index, replace_inputs(over_inputs, {index: InputRef(0)})


def push_selection_below_group(op: Operator, consumers: dict[int, int]) -> JsonStream | None:
    """``filter (group $x by $x.k into {k: $x[0].k, ...}) where $.k > 5`` -> group the filtered records: the
    conjuncts that only compare an output field copied from the group key with scalar constants keep or drop
    whole groups (all records of a group have Meteor-equal keys, and such comparisons cannot tell equal keys
    apart), so they may filter the records before grouping; the rest stays above."""
    select = _selection(op)
    found = _sole_producer(op, consumers, GROUP) if select is not None else None
    key = group_key(found[1], len(found[0].inputs)) if found is not None else None
    if key is None:
        return None
    group, flow = found
    first = replace_inputs(key, {0: ArrayIndex(InputRef(0), Constant(0))})  # the key as the group sees it
    fields = {e.name for e in flow.output.entries
              if isinstance(e, FieldAssignment) and last_assignment(flow.output, e.name) == first}
    moved, kept = [], []
    for conjunct in _conjuncts(select.predicate):
        (moved if compares_only(conjunct, fields) else kept).append(conjunct)
    if not moved:
        return None
    over_records = [substitute(c, lambda n: key if isinstance(n, FieldAccess) and n.base == InputRef(0) else None)
                    for c in moved]
    new = rebuilt(group, flow, [_select(op, select, group.inputs[0], _conjunction(over_records)).output()])
    return _select(op, select, new.output(), _conjunction(kept)).output() if kept else new.output()


def push_group_below_combine(op: Operator, consumers: dict[int, int]) -> JsonStream | None:
    """Switch a Reduce and a Match: ``group (join $a, $b where $a.k == $b.f into Q) by $j.k into P`` ->
    ``join (group $a by $a.k into P') , $b where $g.<key copy> == $b.f into $g`` when the Match preserves the
    groups: ``$b`` is a group output unique on ``f`` (``f`` copies its key), so every record of A joins at most
    one record of B and the groups of the join output are the groups of A whose key B has; Q copies the key
    and every field P aggregates from ``$a`` unchanged (sopremo.readwrite.through_join_into)."""
    flow = flow_of(op)
    if flow is None or flow.kind != GROUP or not flow.can_set("keys", "output"):
        return None
    found = _sole_producer(op, consumers, COMBINE)
    if found is None or not found[1].can_set("condition", "output", "preserved"):
        return None
    join, join_flow = found
    key = group_key(flow, len(op.inputs))
    parts = equi_join_keys(join_flow, len(join.inputs)) if key is not None and isinstance(key, FieldAccess) else None
    if parts is None or not _unique_on(join.inputs[1].operator, parts[1]):
        return None
    left_key, right_key = parts
    if origin(join_flow.output, key.name) != left_key or input_refs(left_key) != {0}:
        return None
    copy_of_key = FieldAccess(ArrayIndex(InputRef(0), Constant(0)), key.name)
    names = [e.name for e in flow.output.entries
             if isinstance(e, FieldAssignment) and last_assignment(flow.output, e.name) == copy_of_key]
    projection = through_join_into(flow.output, join_flow.output, key.name)
    if not names or projection is None:
        return None
    group = rebuilt(op, flow, [join.inputs[0]], keys=(left_key,), output=projection)
    new = rebuilt(join, join_flow, [group.output(), join.inputs[1]],
                  condition=Comparison("==", FieldAccess(InputRef(0), names[0]), right_key),
                  output=InputRef(0), preserved=())
    return new.output()


def _unique_on(producer: Operator, field: FieldAccess) -> bool:
    """Whether ``producer`` is a grouping whose output field ``field.name`` copies its key (one record per key)."""
    flow = flow_of(producer)
    key = group_key(flow, len(producer.inputs)) if flow is not None and flow.kind == GROUP else None
    first = replace_inputs(key, {0: ArrayIndex(InputRef(0), Constant(0))}) if key is not None else None
    return first is not None and last_assignment(flow.output, field.name) == first


# The rules, in the order they are tried on each operator (the first that applies wins, then the pass goes on).
RULES: tuple[Callable[[Operator, dict[int, int]], JsonStream | None], ...] = (
    fold_constant_calls,           # computed once, not per record; constants let the filters below move and batch
    push_selection_below_pass,     # cheapest and always valid (below union all)
    push_selection_below_map,      # swap a filter and a transform that copies the fields it reads
    push_selection_below_combine,  # filter single inputs before joining them
    push_selection_below_group,    # drop whole groups before grouping when only the key decides
    push_group_below_combine,      # switch a Reduce and a Match that preserves its groups
    merge_map_into_producer,       # a transform of a join's or transform's value: one into, fewer fields read
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
    """One pass (``sopremo.plan_pass``): each operator is offered to the rules once, the first that applies wins."""
    consumers = _consumers(plan)

    def offer(op: Operator) -> JsonStream | None:
        return next((s for rule in rules if (s := rule(op, consumers)) is not None), None)

    return rewrite_pass(plan, offer)
