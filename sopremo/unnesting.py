"""The plan fragments the unnesting rewrites of ``sopremo.decorrelate`` build from base operators.

- ``semi_join``: the records of a stream that have (or, anti, have no) partner in a nested filter's source, as
  the base ``join ... where $x.k in [$m.k] into $x`` (EXISTS / IN as a semi join, NOT EXISTS / NOT IN as an
  anti join);
- ``grouped_join``: ``[record, value]`` pairs, where value is computed once per correlation key by a ``group``
  of the nested filter's source and brought to the records by a left outer ``join`` (a scalar subquery as a
  grouped join; records without partners get the value of an empty nested result, so ``count`` gives 0);
  ``key_reduced`` first semi joins the source with the records when these are few (the magic set);
- ``over_pairs``: the operator that held the nested value, rewired to read those pairs.

``holder_flow`` and its kin say where nested values may stand and how to rewrite the operator holding one: by
its record flow declaration (``sopremo.flow``), never by verb. The base operators these fragments are built of
are found in the package registry by their Meteor verb, so this layer imports no package.
"""

from __future__ import annotations

import copy
from typing import Any

from sopremo.correlation import Correlation, conjunction
from sopremo.expressions.nodes import (ArrayConstruction, ArrayIndex, Comparison, Constant, ElementIn, Expression,
                                       FieldAccess, FieldAssignment, FunctionCall, InputRef, Lambda, LambdaParam,
                                       ObjectConstruction, OuterRef, Ternary, map_children, replace_inputs)
from sopremo.flow import COMBINE, GROUP, MAP, ROLES, SELECT, RecordFlow, flow_of, rebuilt
from sopremo.functions import BUILTIN_FUNCTIONS
from sopremo.nested import expression_values, expressions_in, substitute_refs
from sopremo.operator import JsonStream, Operator
from sopremo.quick_dataclass import dataclass


# ---- the operators that may hold nested values -------------------------------------------------------------------


HOLDER_KINDS = (SELECT, MAP, COMBINE, GROUP)


def holder_flow(op: Operator) -> RecordFlow | None:
    """The record flow declaration (``sopremo.flow``) of an operator that may hold nested values, else None.

    Decorrelation rewires such an operator to read ``[record, value]`` pairs or other inputs by rebuilding it
    from its declaration, so it must declare a one-input SELECT (a filter), a one-input MAP (a transform), a
    COMBINE (a join) or a one-input GROUP, name the attribute of every role it has a value for (``attrs``), and
    hold no expression outside those roles (an undeclared one would still read the old input)."""
    flow = flow_of(op)
    if flow is None or flow.kind not in HOLDER_KINDS or (flow.kind != COMBINE and len(op.inputs) != 1):
        return None
    roles = [role for role in ROLES if role != "preserved" and getattr(flow, role) not in (None, ())]
    if flow.kind == GROUP and all(key is None for key in flow.keys):
        roles.remove("keys")
    if not flow.can_set(*roles):
        return None
    declared = {flow.attr(role) for role in ROLES}
    return flow if all(attr in declared for attr, _ in holders(op)) else None


def holders(op: Operator) -> list[tuple[str, Expression]]:
    """(attribute, expression) of every expression property of ``op``."""
    return [(attr, e) for attr, value in expression_values(op) for e in expressions_in(value)]


def holding(op: Operator, node: Expression) -> tuple[str, Expression]:
    """The property (attribute, expression) of ``op`` whose expression holds ``node``."""
    return next((attr, e) for attr, e in holders(op) if any(n is node for n in e.walk()))


def null_supplied(flow: RecordFlow, index: int) -> bool:
    """Whether a COMBINE may leave input ``index`` missing (another input is preserved: an outer join)."""
    return bool(set(flow.preserved) - {index})


def pairs_ok(flow: RecordFlow) -> bool:
    """Whether ``over_pairs`` can rewire the operator: all but a SELECT must declare their output (a join's
    default output skips semi-joined inputs and is declared unknown)."""
    return flow.kind == SELECT or flow.output is not None


def with_property(op: Operator, attr: str, value: Expression) -> JsonStream:
    new = copy.copy(op)
    setattr(new, attr, value)
    return new.output()


# ---- building blocks -------------------------------------------------------------------------------------------


def base_operator(verb: str, inputs: list[JsonStream], name: str, template: Operator, **props: Any) -> Operator:
    """A validated base operator ``verb`` over ``inputs`` with ``props``, located where ``template`` is."""
    from sopremo.package import PACKAGES

    op = PACKAGES.get("base").operators[verb](inputs=inputs, **props)
    op.name, op.source_span, op.dop = name, template.source_span, template.dop
    op.validate()
    return op


def _name(stream: JsonStream) -> str:
    return stream.operator.display_name()


def filtered(corr: Correlation, template: Operator) -> JsonStream:
    """The nested filter's source with its local conjuncts applied (the source itself when there are none)."""
    condition = conjunction(list(corr.local))
    if condition is None:
        return corr.source
    return base_operator("filter", [corr.source], _name(corr.source), template, condition=condition).output()


def semi_join(records: JsonStream, corr: Correlation, negate: bool, template: Operator) -> JsonStream:
    """The records of ``records`` (input ``corr.index`` of the enclosing operator) with (``negate``: without) a
    record of the filtered source whose single inner key equals their outer key and that passes the residual
    correlations with them (the base join's semi join with more conditions, TPC-H Q21's EXISTS). The key is
    wrapped in an array on the source side (``[$m.k]``) so that an array value is compared whole, as ``==``
    does."""
    element = replace_inputs(corr.outer_keys[0], {corr.index: InputRef(0)})
    collection = ArrayConstruction((replace_inputs(corr.inner_keys[0], {0: InputRef(1)}),))

    def pair(ref: Expression, depth: int) -> Expression | None:
        if isinstance(ref, InputRef) and depth == 0:
            return InputRef(1)
        return InputRef(0) if isinstance(ref, OuterRef) and ref.level == 1 and depth == 0 else None

    residual = [substitute_refs(c, pair) for c in corr.residual]
    condition = conjunction([ElementIn(element, collection, negate), *residual])
    join = base_operator("join", [records, filtered(corr, template)], _name(records), template,
                         condition=condition, projection=InputRef(0))
    return join.output()


def grouped_join(records: JsonStream, corr: Correlation, values: list[Expression], defaults: list[Expression],
                 template: Operator, reduce: bool = False) -> JsonStream:
    """``[record, value1, value2, ...]`` for every record of ``records``: each value (over ``InputRef(0)`` = the
    array of the source records whose inner keys equal the record's outer keys) computed by one group per key,
    its default where no source record matches. ``reduce``: the source is first semi joined with ``records`` on
    the keys (``key_reduced``), so that only the keys some record asks for are grouped."""
    first = ArrayIndex(InputRef(0), Constant(0))
    keys = corr.inner_keys
    key = keys[0] if len(keys) == 1 else ArrayConstruction(keys)
    entries = [FieldAssignment(f"key{j}", replace_inputs(k, {0: first})) for j, k in enumerate(keys)]
    names = ["value"] if len(values) == 1 else [f"value{j}" for j in range(len(values))]
    entries += [FieldAssignment(name, value) for name, value in zip(names, values)]
    source = filtered(corr, template)
    if reduce:
        source = key_reduced(source, records, corr, template)
    group = base_operator("group", [source], _name(corr.source), template,
                          keys=(key,), projection=ObjectConstruction(tuple(entries)))
    condition = conjunction([Comparison("==", replace_inputs(o, {corr.index: InputRef(0)}),
                                        FieldAccess(InputRef(1), f"key{j}")) for j, o in enumerate(corr.outer_keys)])
    pair = ArrayConstruction((InputRef(0), *(Ternary(InputRef(1), FieldAccess(InputRef(1), name), default)
                                             for name, default in zip(names, defaults))))
    join = base_operator("join", [records, group.output()], _name(records), template,
                         condition=condition, preserve=(0,), projection=pair)
    return join.output()


def key_reduced(source: JsonStream, records: JsonStream, corr: Correlation, template: Operator) -> JsonStream:
    """The records of ``source`` (the nested filter's filtered source) whose inner keys equal the outer keys of
    some record of ``records`` (input ``corr.index`` of the enclosing operator): the outer keys made distinct by
    a group, then an equi join ``join $m in source, $d in keys where $m.k1 == $d.key0 and ... into $m``. The
    grouped join then groups only the keys a record asks for instead of all of them: the magic set, or sideways
    information passing, of a decorrelated aggregate (Seshadri et al., SIGMOD 1996; Neumann and Kemper, BTW
    2015). An equi join (not a semi join's ``in``) so that the few distinct keys are a broadcast hash table the
    big source probes; it compares keys as the grouped join does (null matches null, a missing key matches
    nothing, and its group would have joined no record)."""
    first = ArrayIndex(InputRef(0), Constant(0))
    outer = [replace_inputs(k, {corr.index: InputRef(0)}) for k in corr.outer_keys]
    key = outer[0] if len(outer) == 1 else ArrayConstruction(tuple(outer))
    entries = tuple(FieldAssignment(f"key{j}", replace_inputs(k, {0: first})) for j, k in enumerate(outer))
    keys = base_operator("group", [records], _name(records), template, keys=(key,),
                         projection=ObjectConstruction(entries))
    condition = conjunction([Comparison("==", replace_inputs(k, {0: InputRef(0)}),
                                        FieldAccess(InputRef(1), f"key{j}")) for j, k in enumerate(corr.inner_keys)])
    join = base_operator("join", [source, keys.output()], _name(source), template,
                         condition=condition, projection=InputRef(0))
    return join.output()


# ---- the enclosing operator over [record, value] pairs -----------------------------------------------------------


@dataclass(frozen=True)
class Slot(Expression):
    """Stands for item ``position`` of a pair while ``over_pairs`` rewires an expression (never compiled)."""

    position: int = 1


def replace_node(expr: Expression, target: Expression, new: Expression) -> Expression:
    """``expr`` with the node ``target`` (found by identity) replaced by ``new``."""
    if expr is target:
        return new
    return map_children(expr, lambda child: replace_node(child, target, new))


def over_pairs(op: Operator, index: int, pairs: JsonStream,
               replacements: list[tuple[Expression, Expression]]) -> JsonStream:
    """The output of ``op`` (a ``holder_flow``: a filter, transform, join or one-input group, rebuilt through its
    declaration) computed from ``pairs`` (arrays ``[record, value, ...]``) in place of its input ``index``: its
    expressions read ``$t[0]`` where they read that input's record, and for each (target, replacement) the replacement where they held the target node
    (a replacement reads the pair's values as ``Slot(k)`` and the record as ``InputRef(index)``). A filter keeps
    its records: a transform back to ``$t[0]`` follows it."""
    flow = holder_flow(op)
    inputs = [pairs if i == index else s for i, s in enumerate(op.inputs)]
    roles: dict[str, Any] = {}
    for role in ("predicate", "condition", "output"):
        value = getattr(flow, role)
        if value is not None:
            roles[role] = _rebase(value, index, replacements, flow.kind == GROUP and role == "output")
    if any(key is not None for key in flow.keys):
        roles["keys"] = tuple(None if k is None else _rebase(k, index, replacements, False) for k in flow.keys)
    new = rebuilt(op, flow, inputs, **roles)
    if flow.kind != SELECT:
        return new.output()
    new.name = _name(pairs)
    back = base_operator("transform", [new.output()], op.display_name(), op,
                         projection=ArrayIndex(InputRef(0), Constant(0)))
    return back.output()


def _rebase(expr: Expression, index: int, replacements: list[tuple[Expression, Expression]],
            in_group: bool) -> Expression:
    """``expr`` over pairs: targets -> replacements, the record -> ``$t[0]`` (in a group's ``into``, where the
    input is the group's array: ``map($g, fn($p) { $p[0] })``), then ``Slot(k)`` -> the pair's item k."""
    for target, replacement in replacements:
        expr = replace_node(expr, target, replacement)

    def record(ref: Expression, depth: int) -> Expression | None:
        if ref.index != index or (isinstance(ref, InputRef) and depth) or (isinstance(ref, OuterRef) and
                                                                           ref.level != depth):
            return None
        if in_group:  # map, not ref[*][0]: inside an aggregation's argument a projection means one element
            first = Lambda(("$p",), ArrayIndex(LambdaParam("$p"), Constant(0)))
            return FunctionCall("map", BUILTIN_FUNCTIONS["map"], (ref, first))
        return ArrayIndex(ref, Constant(0))

    expr = substitute_refs(expr, record)
    pair = ArrayIndex(InputRef(index), Constant(0)) if in_group else InputRef(index)

    def slot(node: Expression) -> Expression:
        if isinstance(node, Slot):
            return ArrayIndex(pair, Constant(node.position))
        return map_children(node, slot)
    return slot(expr)
