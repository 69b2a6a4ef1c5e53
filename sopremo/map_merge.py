"""Merging a record map into the operator that produces its records: ``transform (join ... into E) into F`` ->
``join ... into F'``, where F' is F with its reads of E's value replaced by the parts of E they read.

A join's ``into`` often builds an intermediate value that the next ``transform`` only takes apart again: the
scalar-subquery rewrite (``sopremo.unnesting.grouped_join``) joins ``[record, value]`` pairs, which the rewired
transform reads as ``$t[0].c_custkey`` and ``$t[1]`` (TPC-H Q13). Run as written, every record is built twice
and the whole left record is carried (and shipped) for one field of it; merged, the producer writes the final
value at once and projection pushdown (``sopremo.projection``) sees that only ``c_custkey`` is read. This is the
classic merging of adjacent projections (the PACT optimizer chains such Maps, VLDB J. 2014 sec. 6.2/7.3, but
cannot see through the UDFs; here the expressions are known).

Results and errors stay those of the plan as written: the merge happens only when F, apart from its reads of
E, cannot raise (paths, constants, comparisons, ternaries, constructions: ``cannot_raise``), the parts of E it
drops or repeats cannot raise either (a repeated part is also cheap: a path or a constant), and at most one part
of E can raise, read exactly once and unconditionally, so it raises on the same records with the same message.
UDF calls and nested operators (``reads(...).unknown``) are never merged.
"""

from __future__ import annotations

from dataclasses import dataclass

from sopremo.expressions.nodes import (And, ArrayConstruction, ArrayIndex, ArrayProjection, Comparison, Constant,
                                       Expression, FieldAccess, FieldAssignment, IfPostfix, InputRef, Lambda, Not,
                                       ObjectConstruction, Or, Ternary, map_children)
from sopremo.flow import COMBINE, MAP, RecordFlow, flow_of, rebuilt
from sopremo.nested import expression_values
from sopremo.operator import JsonStream, Operator
from sopremo.readwrite import is_path, reads
from sopremo.values import MISSING

WHOLE_VALUE = -1  # the part key of a read of E's whole value
_TOTAL = (InputRef, Constant, FieldAccess, Comparison, And, Or, Not, Ternary, IfPostfix, ArrayConstruction,
          ObjectConstruction, FieldAssignment)  # node kinds whose evaluation never raises
_CONDITIONAL = (Ternary, IfPostfix, And, Or, Lambda, ArrayProjection)  # may skip evaluating a child


def cannot_raise(expr: Expression) -> bool:
    """Whether evaluating ``expr`` never raises, on any record: paths (a field of a non-object is missing),
    constant indexes, comparisons (cross-type order), and/or/not, ternaries, array and object constructions."""
    if isinstance(expr, ArrayIndex):
        return isinstance(expr.index, Constant) and cannot_raise(expr.base)
    return isinstance(expr, _TOTAL) and all(cannot_raise(child) for child in expr.children())


def merge_map_into_producer(op: Operator, consumers: dict[int, int]) -> JsonStream | None:
    """``transform (P into E) into F`` -> ``P into F'`` for P a record map or a combination (join) declaring
    its output E, read by this transform alone; see the module docstring for when."""
    flow = flow_of(op)
    if flow is None or flow.kind != MAP or flow.output is None or flow.reads or len(op.inputs) != 1:
        return None
    if op.inputs[0].index != 0 or any(attr != flow.attr("output") for attr, _ in expression_values(op)):
        return None
    producer = op.inputs[0].operator
    produced = flow_of(producer)
    if (produced is None or produced.kind not in (MAP, COMBINE) or produced.output is None
            or not produced.can_set("output") or consumers.get(id(producer), 0) != 1):
        return None
    merged = merged_output(flow.output, produced.output)
    if merged is None:
        return None
    new = rebuilt(producer, produced, output=merged)
    new.name = op.name or producer.name
    return new.output()


def merged_output(outer: Expression, inner: Expression) -> Expression | None:
    """``outer`` (over ``InputRef(0)``, the value of ``inner``) with its reads of that value replaced by the
    parts of ``inner`` they read, or None when that could change a result or an error (module docstring)."""
    if reads(outer).unknown or reads(inner).unknown:
        return None
    parts = _parts(inner)
    uses: list[tuple[object, bool]] = []
    try:
        merged = _Substitution(inner, parts, uses).visit(outer, False)
    except _Refused:
        return None
    return merged if _safe_uses(inner, parts, uses) else None


class _Refused(Exception):
    """The outer expression reads the inner value in a way the merge does not keep exact."""


def _parts(inner: Expression) -> dict[object, list[Expression]]:
    """The parts of ``inner`` a read can take: the items of an array (by position) or the assignments of an
    object made of assignments only (by name, every assignment of the name in order); otherwise none."""
    if isinstance(inner, ArrayConstruction):
        return {k: [item] for k, item in enumerate(inner.items)}
    if isinstance(inner, ObjectConstruction) and all(isinstance(e, FieldAssignment) for e in inner.entries):
        parts: dict[object, list[Expression]] = {}
        for entry in inner.entries:
            parts.setdefault(entry.name, []).append(entry.value)
        return parts
    return {}


@dataclass
class _Substitution:
    inner: Expression
    parts: dict[object, list[Expression]]
    uses: list[tuple[object, bool]]  # (part key, read under a condition)

    def visit(self, node: Expression, conditional: bool) -> Expression:
        part = self._part(node)
        if part is not None:
            key, value = part
            self.uses.append((key, conditional))
            return value
        if isinstance(node, InputRef):
            if node.index != 0:
                raise _Refused()
            self.uses.append((WHOLE_VALUE, conditional))
            return self.inner
        if not (isinstance(node, _TOTAL) or (isinstance(node, ArrayIndex) and isinstance(node.index, Constant))):
            raise _Refused()  # it may raise: the inner value's errors would come after it instead of before
        inside = conditional or isinstance(node, _CONDITIONAL)
        return map_children(node, lambda child: self.visit(child, inside))

    def _part(self, node: Expression) -> tuple[object, Expression] | None:
        """(part key, the expression of the part) when ``node`` reads one part of the inner value."""
        if isinstance(node, ArrayIndex) and node.base == InputRef(0) and isinstance(self.inner, ArrayConstruction):
            index = node.index.value if isinstance(node.index, Constant) else None
            if type(index) is not int:
                return None
            count = len(self.inner.items)
            if -count <= index < count:
                return index % count, self.inner.items[index]
            return WHOLE_VALUE - 1, Constant(MISSING)  # out of range: missing, the array's items are not read
        if isinstance(node, FieldAccess) and node.base == InputRef(0) and self.parts and \
                isinstance(self.inner, ObjectConstruction):
            values = self.parts.get(node.name)
            return (node.name, values[-1]) if values else (WHOLE_VALUE - 1, Constant(MISSING))
        return None


def _safe_uses(inner: Expression, parts: dict[object, list[Expression]], uses: list[tuple[object, bool]]) -> bool:
    """Whether the reads ``uses`` keep every result and error of evaluating ``inner`` first (module docstring)."""
    whole = [conditional for key, conditional in uses if key == WHOLE_VALUE]
    if whole and not parts:
        if len(whole) == 1:
            return not whole[0] or cannot_raise(inner)
        return cannot_raise(inner) and _cheap(inner)
    raising = []
    for key, values in parts.items():
        read = [conditional for k, conditional in uses if k == key] + whole
        for position, value in enumerate(values):
            last = position == len(values) - 1
            if cannot_raise(value):
                if last and len(read) > 1 and not _cheap(value):
                    return False
            elif not last or len(read) != 1 or read[0]:
                return False
            else:
                raising.append(value)
    return len(raising) <= 1


def _cheap(expr: Expression) -> bool:
    """A part that may be evaluated more than once at no cost: a constant or a path."""
    return isinstance(expr, Constant) or is_path(expr)
