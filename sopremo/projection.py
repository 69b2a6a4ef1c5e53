"""Projection pushdown: which top-level fields of each source's records a plan reads (VLDB J. 2014, sec. 7).

``source_fields(plan)`` walks the plan from the sinks back to the sources and computes, for every ``Source``,
the set of top-level fields its records are ever read through, or ``WHOLE`` (None) when some consumer may see
the whole record. A reader that only reads ``$r.a`` and ``$r.b`` lets the source materialise just ``a`` and ``b``
(the paper's compact representation of the referenced fields; ``pact_backend.io.projected`` decodes them).

The walk asks each operator what it does with its records (``Operator.record_flow()``, ``sopremo.flow``), never
its verb or package:

- an operator that copies records (PASS, SELECT, COPY: ``union all``, ``filter``, ``sort``) passes on what its
  consumers read, plus what its own expressions read of each record (a predicate, a sort key);
- an operator that writes new values (MAP, COMBINE, GROUP: ``transform``, ``join``, ``group``): only what its
  expressions read counts, except that an output which is one input's record as it is (``into $a``, as in the
  semi and anti joins decorrelation makes) passes that input's records on, so what its consumers read counts
  too. In a GROUP's output an input is the array of the group's records: ``$g[*].x``,
  ``$g[0].x`` read ``x``, ``count($g)`` reads no field, anything else (``$g``, ``$g[*]``) reads whole records;
- an operator that declares nothing (or has several outputs, or an expression calling a Python UDF or holding a
  nested operator), and every sink, reads whole records.
"""

from __future__ import annotations

from typing import Any

from sopremo.expressions.nodes import (ArrayIndex, ArrayProjection, Constant, ElementRef, Expression, FieldAccess,
                                       FunctionCall, InputRef)
from sopremo.flow import GROUP, flow_of
from sopremo.io.operators import Source
from sopremo.nested import property_expressions
from sopremo.operator import Operator, SopremoPlan
from sopremo.readwrite import WHOLE, is_known_function, reads

Fields = frozenset[str] | None  # None (WHOLE): the whole record is read
NOTHING: frozenset[str] = frozenset()


def union(a: Fields, b: Fields) -> Fields:
    """Both read sets together (WHOLE absorbs everything)."""
    return WHOLE if a is WHOLE or b is WHOLE else a | b


def source_fields(plan: SopremoPlan) -> dict[int, Fields]:
    """``id(source operator) -> fields`` for every Source of ``plan`` (WHOLE: do not project)."""
    demand: dict[tuple[int, int], Fields] = {}
    operators = plan.operators()
    for op in reversed(operators):  # consumers before their producers
        out = demand.get((id(op), 0), NOTHING)
        for index, stream in enumerate(op.inputs):
            key = (id(stream.operator), stream.index)
            demand[key] = union(demand.get(key, NOTHING), input_fields(op, index, out))
    return {id(op): demand.get((id(op), 0), NOTHING) for op in operators if isinstance(op, Source)}




def input_fields(op: Operator, index: int, out: Fields) -> Fields:
    """The fields of input ``index``'s records that ``op`` reads or passes on to readers of ``out``."""
    flow = flow_of(op)
    if flow is None or any(reads(e).unknown for e in (*property_expressions(op), *flow.expressions())):
        return WHOLE
    read = WHOLE if index in flow.whole else NOTHING
    for expr in flow.record_expressions():
        read = union(read, _fields(expr, index))
    if flow.copies:
        return union(out, read)
    if flow.output is None:
        return WHOLE
    if flow.kind == GROUP:
        return union(read, group_fields(flow.output, index))
    if flow.output == InputRef(index):  # the output is input index's record as it is (``join ... into $a``)
        return union(read, out)
    return union(read, _fields(flow.output, index))


def _fields(expr: Any, index: int) -> Fields:
    """The fields of input ``index`` that ``expr`` (over single records) reads."""
    if not isinstance(expr, Expression):
        return WHOLE
    return reads(expr).fields.get(index, NOTHING)


def group_fields(expr: Expression, index: int) -> Fields:
    """The record fields a group's ``into`` reads of input ``index`` (the array of the group's records)."""
    found: set[str] = set()
    return frozenset(found) if _group_reads(expr, InputRef(index), found, False) else WHOLE


def _group_reads(expr: Expression, group: InputRef, found: set[str], in_element: bool) -> bool:
    """Add the fields ``expr`` reads of the group's records to ``found``; False when it reads whole records.
    ``in_element``: ``expr`` lies in the element of a projection over the group (``ElementRef`` is a record)."""
    if isinstance(expr, FieldAccess) and (_is_member(expr.base, group) or (in_element and expr.base == ElementRef())):
        found.add(expr.name)
        return True
    if expr == group or _is_member(expr, group) or (in_element and expr == ElementRef()):
        return False
    if isinstance(expr, FunctionCall) and expr.name == "count" and is_known_function(expr) and expr.args == (group,):
        return True
    if isinstance(expr, ArrayProjection):
        base_ok = expr.base == group or _group_reads(expr.base, group, found, in_element)
        return base_ok and _group_reads(expr.element, group, found, expr.base == group)
    return all([_group_reads(child, group, found, in_element) for child in expr.children()])


def _is_member(expr: Expression, group: InputRef) -> bool:
    """Whether ``expr`` is one record of the group: ``$g[<constant>]``."""
    return isinstance(expr, ArrayIndex) and expr.base == group and isinstance(expr.index, Constant)
