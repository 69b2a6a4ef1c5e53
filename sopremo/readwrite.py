"""Read and write sets of Sopremo expressions, the facts the logical rewrites rely on (VLDB J. 2014, sec. 6.2).

A read set says which top-level fields of which operator input an expression reads: ``{input: fields}`` where
``fields`` is a frozenset of field names or ``WHOLE`` (the whole record is read, e.g. ``$`` itself or
``$[0]``). Expressions whose semantics we do not know (calls of Python UDFs, ``fn`` definitions, nested
operators) are conservative: they read everything (``UNKNOWN``). A write set of a projection is the set of
output fields it defines; ``origin`` proves that an output field is an unchanged copy of an input path;
``substitute`` rewrites an expression through such proofs (sopremo.rewrite uses all of them).
"""

from __future__ import annotations

from dataclasses import fields as dc_fields
from typing import Callable, Mapping

from sopremo.expressions.nodes import (And, ArrayConstruction, ArrayIndex, ArrayProjection, Comparison, Constant,
                                       CopyFields, ElementRef, Expression, FieldAccess, FieldAssignment, FunctionCall,
                                       InputRef, NestedOperator, Not, ObjectConstruction, Or, input_refs,
                                       replace_inputs)
from sopremo.flow import RecordFlow
from sopremo.quick_dataclass import dataclass

WHOLE = None  # marker in a read set: the whole record of that input is read


@dataclass(frozen=True)
class ReadSet:
    """What an expression reads: ``fields[input]`` (frozenset of names, or WHOLE) and ``unknown`` (it may read
    anything: a UDF call or a nested operator)."""

    fields: Mapping[int, frozenset[str] | None]
    unknown: bool = False

    def inputs(self) -> set[int]:
        """The inputs read (all of them when ``unknown``: callers must treat that as 'every input')."""
        return set(self.fields)


def is_known_function(call: FunctionCall) -> bool:
    """Whether ``call`` is a built-in whose result depends only on its arguments (sopremo.functions).

    Python UDFs (``pyudf``) and functions from other modules are unknown: conservatively they read and write
    everything.
    """
    impl = getattr(call.function, "impl", None)
    module = getattr(impl, "__module__", "") or ""
    return module.startswith("sopremo.")


def reads(expr: Expression) -> ReadSet:
    """The read set of ``expr`` (see the module docstring)."""
    fields: dict[int, frozenset[str] | None] = {}
    unknown = _collect(expr, fields)
    return ReadSet(fields, unknown)


def _collect(expr: Expression, fields: dict[int, frozenset[str] | None]) -> bool:
    """Add the reads of ``expr`` to ``fields``; True when something unknown was met."""
    if isinstance(expr, FieldAccess) and isinstance(expr.base, InputRef):
        current = fields.get(expr.base.index, frozenset())
        if expr.base.index not in fields or current is not WHOLE:
            fields[expr.base.index] = (current or frozenset()) | {expr.name}
        return False
    if isinstance(expr, InputRef):
        fields[expr.index] = WHOLE
        return False
    unknown = isinstance(expr, NestedOperator) or (isinstance(expr, FunctionCall) and not is_known_function(expr))
    for child in expr.children():
        unknown = _collect(child, fields) or unknown
    return unknown


def writes(projection: Expression) -> frozenset[str] | None:
    """The output fields a projection defines: the names of an object construction, or WHOLE when it copies
    whole records (``$x.*``) or builds anything other than an object."""
    if not isinstance(projection, ObjectConstruction):
        return WHOLE
    names = set()
    for entry in projection.entries:
        if not isinstance(entry, FieldAssignment):
            return WHOLE
        names.add(entry.name)
    return frozenset(names)


def is_path(expr: Expression) -> bool:
    """Whether ``expr`` is a path ``$i.a.b[0]`` over one input: a copy, never a computation."""
    while isinstance(expr, (FieldAccess, ArrayIndex)):
        if isinstance(expr, ArrayIndex) and not isinstance(expr.index, Constant):
            return False
        expr = expr.base
    return isinstance(expr, InputRef)


def origin(projection: Expression, name: str) -> Expression | None:
    """The input path that output field ``name`` of ``projection`` provably equals, or None.

    Proven when ``projection`` is an object construction whose last entry that can define ``name`` is
    ``name: <path>``, or ``$x.*`` with no assignment of ``name`` at all (then ``name`` is ``$x.name``; a missing or
    non-object ``$x`` gives missing on both sides). Anything else (computed values, several copies) is None.
    """
    if not isinstance(projection, ObjectConstruction):
        return None
    found: Expression | None = None
    copies = [e for e in projection.entries if isinstance(e, CopyFields)]
    for entry in projection.entries:
        if isinstance(entry, FieldAssignment) and entry.name == name:
            found = entry.value
        elif isinstance(entry, CopyFields):
            found = None  # a later copy may overwrite an earlier assignment
        elif not isinstance(entry, FieldAssignment):
            return None
    if found is not None:
        return found if is_path(found) else None
    assigned = any(isinstance(e, FieldAssignment) and e.name == name for e in projection.entries)
    if len(copies) == 1 and not assigned and is_path(copies[0].source):
        return FieldAccess(copies[0].source, name)
    return None


def substitute(expr: Expression, swap: Callable[[Expression], Expression | None]) -> Expression | None:
    """``expr`` with every node for which ``swap`` returns an expression replaced (top-down, the replacement is not
    visited); None when an ``InputRef`` is left that ``swap`` did not replace (a read that cannot be mapped)."""
    new = swap(expr)
    if new is not None:
        return new
    if isinstance(expr, InputRef):
        return None
    changes = {}
    for f in dc_fields(expr):
        value = getattr(expr, f.name)
        if isinstance(value, Expression):
            changes[f.name] = substitute(value, swap)
            if changes[f.name] is None:
                return None
        elif isinstance(value, tuple) and any(isinstance(v, Expression) for v in value):
            items = tuple(substitute(v, swap) if isinstance(v, Expression) else v for v in value)
            if any(i is None for i, v in zip(items, value) if isinstance(v, Expression)):
                return None
            changes[f.name] = items
    return type(expr)(**{f.name: changes.get(f.name, getattr(expr, f.name)) for f in dc_fields(expr)})


def last_assignment(projection: ObjectConstruction, name: str) -> Expression | None:
    """The value of the last ``name: value`` entry, None when a later ``$x.*`` copy may overwrite it."""
    value = None
    for entry in projection.entries:
        if isinstance(entry, FieldAssignment) and entry.name == name:
            value = entry.value
        elif not isinstance(entry, FieldAssignment):
            value = None
    return value


def compares_only(expr: Expression, fields: set[str]) -> bool:
    """Whether ``expr`` is and/or/not over comparisons of an output key field with a scalar constant."""
    if isinstance(expr, (And, Or)):
        return all(compares_only(item, fields) for item in expr.items)
    if isinstance(expr, Not):
        return compares_only(expr.operand, fields)
    if not isinstance(expr, Comparison):
        return False
    sides = (expr.left, expr.right)
    field = [s for s in sides if isinstance(s, FieldAccess) and s.base == InputRef(0) and s.name in fields]
    scalar = [s for s in sides if isinstance(s, Constant) and isinstance(s.value, (str, int, float, bool, type(None)))]
    return len(field) == 1 and len(scalar) == 1


ORDER_FREE_AGGREGATES = frozenset({"sum", "count", "min", "max", "mean"})  # results independent of group order


def through_join_into(group_into: Expression, join_into: Expression, key_field: str) -> Expression | None:
    """A group's ``into`` over join records (``$j``) rewritten over the records of the join's input 0, or None.

    Proven when every read of ``$j`` is ``$j[0].<key_field>`` (the group key: equal in every record, so the order
    of the group does not matter), ``count($j)``, or ``agg($j[*].<path>)`` for an order-free aggregate whose
    fields the join copies unchanged from input 0 (``origin``). Used to switch a Reduce below a Match.
    """
    if reads(group_into).unknown:
        return None
    first = ArrayIndex(InputRef(0), Constant(0))

    def swap(node: Expression) -> Expression | None:
        if isinstance(node, FieldAccess) and node.base == first and node.name == key_field:
            source = _from_input0(join_into, key_field)
            return replace_inputs(source, {0: first}) if source is not None else None
        if isinstance(node, FunctionCall) and is_known_function(node) and node.name in ORDER_FREE_AGGREGATES:
            if node.args == (InputRef(0),) and node.name == "count":
                return node
            if len(node.args) == 1 and isinstance(node.args[0], ArrayProjection) and node.args[0].base == InputRef(0):
                element = _element_through(node.args[0].element, join_into)
                return None if element is None else FunctionCall(node.name, node.function,
                                                                 (ArrayProjection(InputRef(0), element),))
        return None

    return substitute(group_into, swap)


def _from_input0(join_into: Expression, name: str) -> Expression | None:
    source = origin(join_into, name)
    return source if source is not None and {n.index for n in source.walk() if isinstance(n, InputRef)} == {0} \
        else None


def _element_through(element: Expression, join_into: Expression) -> Expression | None:
    """``element`` (over one join record, ``ElementRef()``) over the input-0 record instead, or None."""
    if any(isinstance(n, (InputRef, ArrayProjection)) for n in element.walk()):
        return None
    as_record = replace_element(element, InputRef(0))

    def swap(node: Expression) -> Expression | None:
        if isinstance(node, FieldAccess) and node.base == InputRef(0):
            return _from_input0(join_into, node.name)
        return None

    mapped = substitute(as_record, swap)
    return None if mapped is None else replace_element_input(mapped)


def replace_element(expr: Expression, by: Expression) -> Expression:
    """``expr`` with every ``ElementRef()`` replaced by ``by``."""
    return substitute(expr, lambda n: by if isinstance(n, ElementRef) else None) if expr != ElementRef() else by


def replace_element_input(expr: Expression) -> Expression:
    """``expr`` over one record (``InputRef(0)``) turned into an array-projection element (``ElementRef()``)."""
    return replace_inputs(expr, {0: ElementRef()})


# ---- facts about operators, read from their record flow declarations (sopremo.flow) -----------------------


def through_projection(condition: Expression, projection: Expression) -> Expression | None:
    """``condition`` over a projection's output rewritten over its input, when every field it reads is an
    unchanged copy (``origin``); None otherwise."""
    if reads(condition).unknown:
        return None

    def swap(node: Expression) -> Expression | None:
        if isinstance(node, FieldAccess) and node.base == InputRef(0):
            source = origin(projection, node.name)
            return replace_inputs(source, {0: InputRef(0)}) if source is not None else None
        return None

    return substitute(condition, swap) if _all_fields_mapped(condition, projection) else None


def through_output(condition: Expression, output: Expression) -> Expression | None:
    """``condition`` over an operator's output value rewritten over its inputs (``InputRef(i)``: input i's
    record), or None: through an object's copied fields (``through_projection``), or through an array of whole
    records (``[$a, $b]``, a join's default output) where ``$[k]`` reads the record of item k. Array items that
    are paths are not followed: a missing value in an array is not the missing value of the path."""
    if reads(condition).unknown:
        return None
    if not isinstance(output, ArrayConstruction):
        return through_projection(condition, output)
    items = output.items
    if not all(isinstance(item, InputRef) for item in items):
        return None

    def swap(node: Expression) -> Expression | None:
        if (isinstance(node, ArrayIndex) and node.base == InputRef(0) and isinstance(node.index, Constant)
                and isinstance(node.index.value, int) and not isinstance(node.index.value, bool)
                and 0 <= node.index.value < len(items)):
            return items[node.index.value]
        return None

    return substitute(condition, swap)


def _all_fields_mapped(condition: Expression, projection: Expression) -> bool:
    read = reads(condition).fields.get(0, frozenset())
    return read is not None and all(origin(projection, name) is not None for name in read)


def group_key(group: RecordFlow, arity: int) -> Expression | None:
    """The key of a one-input GROUP flow when it is a path of the record and its output builds an object."""
    keys = group.keys
    if arity != 1 or len(keys) != 1 or not isinstance(keys[0], Expression):
        return None
    if not isinstance(group.output, ObjectConstruction) or not is_path(keys[0]):
        return None
    return keys[0] if input_refs(keys[0]) == {0} else None


def equi_join_keys(join: RecordFlow, arity: int) -> tuple[Expression, Expression] | None:
    """(key over input 0, ``$b.f`` over input 1) of an inner two-input COMBINE flow on one equality with an
    object output."""
    cond = join.condition
    if arity != 2 or join.preserved or not isinstance(cond, Comparison) or cond.op != "==" \
            or not isinstance(join.output, ObjectConstruction):
        return None
    left, right = (cond.left, cond.right) if input_refs(cond.left) == {0} else (cond.right, cond.left)
    if input_refs(left) != {0} or not isinstance(right, FieldAccess) or right.base != InputRef(1):
        return None
    return left, right
