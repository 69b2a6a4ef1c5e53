"""The decorrelation rules for nested operators that read the records of the operator holding them (subqueries).

``in_to_exists`` reads IN as EXISTS with one more equality; ``exists_to_semi_join`` runs EXISTS / NOT EXISTS
conjuncts of a where as a semi / anti join; ``scalar_to_grouped_join`` computes any other use of a nested filter
correlated by equalities once per key (a group and a left outer join); ``correlated_to_broadcast`` applies a
nested filter or transform without such equalities per record to its whole source, broadcast. Each rule takes an
operator holding a nested value and returns the stream replacing its output, or None (``sopremo.decorrelate``).
"""

from __future__ import annotations

from sopremo.correlation import (Correlation, as_lambda, conjunction, conjuncts, correlation, exists_test,
                                 one_input, per_record, reads_nested_record, use_of)
from sopremo.expressions.nodes import (ArrayProjection, Comparison, Constant, DataSetRef, ElementIn, ElementRef,
                                       Expression, FunctionCall, InputRef, Lambda, LambdaParam, NestedOperator,
                                       OuterRef, Var, map_children, replace_inputs)
from sopremo.flow import COMBINE, MAP, SELECT, RecordFlow, rebuilt
from sopremo.functions import BUILTIN_FUNCTIONS
from sopremo.nested import nested_in, nested_nodes, outer_levels
from sopremo.operator import JsonStream, Operator, PropertyError
from sopremo.unnesting import (Slot, base_operator, filtered, grouped_join, holder_flow, holders, holding,
                               null_supplied, over_pairs, pairs_ok, replace_node, semi_join, with_property)
from sopremo.values import MISSING

PARAM = "$m"  # the nested record inside the lambdas built here (no Meteor name can clash: names have no '$')


def in_to_exists(op: Operator) -> JsonStream | None:
    """``e in N`` -> ``count(filter <N's source> where <N's condition> and <value> == e) > 0`` (``not in``: ``== 0``)
    for N a nested transform or filter, ``N[*].path`` or a data set ``$d[*].path``: IN is EXISTS with one more
    equality, which the next rules turn into a semi join."""
    for attr, expr in holders(op):
        for node in expr.walk():
            found = _membership(node, op) if isinstance(node, ElementIn) else None
            if found is not None:
                return with_property(op, attr, replace_node(expr, node, found))
    return None


def _membership(node: ElementIn, op: Operator) -> Expression | None:
    values = _values(node.collection)
    if values is None or not _record_only(node.element):
        return None
    source, value, condition, span = values
    equal = Comparison("==", value, _lift(node.element))
    condition = equal if condition is None else conjunction([*conjuncts(condition), equal])
    nested = base_operator("filter", [source], None, op, condition=condition)
    nested.source_span = span
    count = FunctionCall("count", BUILTIN_FUNCTIONS["count"], (NestedOperator(nested),))
    return Comparison("==" if node.negate else ">", count, Constant(0))


def _values(collection: Expression):
    """(source stream, value over InputRef(0), condition or None, source span) of an array of values drawn from
    a data set (a nested transform or filter, optionally projected, or a data set reference), else None."""
    element = None
    if isinstance(collection, ArrayProjection):
        collection, element = collection.base, collection.element
    if isinstance(collection, DataSetRef):
        return collection.stream, _element_value(element, InputRef(0)), None, collection.span
    if not isinstance(collection, NestedOperator) or len(collection.operator.inputs) != 1:
        return None
    op = collection.operator
    flow = one_input(op, SELECT, MAP)
    if flow is not None and flow.kind == MAP and not outer_levels(op):
        return op.inputs[0], _element_value(element, flow.output), None, op.source_span
    if flow is not None and flow.kind == SELECT:
        return op.inputs[0], _element_value(element, InputRef(0)), flow.predicate, op.source_span
    return None


def _element_value(element: Expression | None, record: Expression) -> Expression:
    """The projected ``element`` of one record (``record`` itself without a projection)."""
    if element is None:
        return record

    def swap(expr: Expression) -> Expression:
        if isinstance(expr, ElementRef):
            return record
        if isinstance(expr, ArrayProjection):
            return ArrayProjection(swap(expr.base), expr.element)  # inner elements are its own
        return map_children(expr, swap)
    return swap(element)


def _record_only(expr: Expression) -> bool:
    """Whether ``expr`` reads the operator's records and nothing bound around it (elements, parameters)."""
    return not any(isinstance(n, (ElementRef, LambdaParam, Var, OuterRef, NestedOperator, DataSetRef))
                   for n in expr.walk())


def _lift(expr: Expression) -> Expression:
    """``expr`` as seen from inside a nested operator: ``InputRef(i)`` -> ``OuterRef(i, 1)``."""
    if isinstance(expr, InputRef):
        return OuterRef(expr.index, 1)
    return map_children(expr, _lift)


def exists_to_semi_join(op: Operator) -> JsonStream | None:
    """``filter $x where count(N) > 0 and ...`` -> ``filter (join $x, $m in S where $x.k in [$m.k] into $x) where
    ...`` for N a nested filter over S correlated by one equality and any residual comparisons with the same
    record (``count(N) == 0``: an anti join). In a join's where, the input that N reads is semi joined before
    the join (unless the join preserves it)."""
    flow = holder_flow(op)
    if flow is None or flow.kind not in (SELECT, COMBINE):
        return None
    kind = flow.kind
    items = conjuncts(flow.predicate if kind == SELECT else flow.condition)
    for position, item in enumerate(items):
        test = exists_test(item)
        corr = correlation(test[0]) if test is not None else None
        if corr is None or len(corr.inner_keys) != 1 or corr.index is None:
            continue
        if any(nested_in_expression(c) for c in corr.residual):
            continue
        if kind == COMBINE and corr.index in set(flow.preserved):
            continue
        others = items[:position] + items[position + 1:]
        outer = kind == COMBINE and bool(set(flow.preserved))  # a where of an outer join is its ON: left alone
        local = [] if outer else [c for c in others if _reads_only(c, corr.index)]
        records = op.inputs[corr.index]
        if local:  # the record's own conditions first: fewer records meet the semi join
            condition = conjunction([replace_inputs(c, {corr.index: InputRef(0)}) for c in local])
            records = base_operator("filter", [records], records.operator.display_name(), op,
                                    condition=condition).output()
        semi = semi_join(records, corr, test[1], op)
        rest = conjunction([c for c in others if not any(c is item for item in local)])
        if kind == SELECT:
            return semi if rest is None else rebuilt(op, flow, [semi], predicate=rest).output()
        joined = _join_without(op, flow, corr.index, semi, rest)
        if joined is not None:
            return joined
    return None


def _reads_only(expr: Expression, index: int) -> bool:
    """Whether ``expr`` reads the records of input ``index`` and nothing else of the operator or around it (no
    other input, nested value, element or parameter)."""
    refs = {n.index for n in expr.walk() if isinstance(n, InputRef)}
    return refs == {index} and _record_only(expr) and not nested_in_expression(expr)


def nested_in_expression(expr: Expression) -> bool:
    """Whether ``expr`` holds a nested operator or data set (which a join condition cannot run as written)."""
    return next(nested_nodes(expr), None) is not None


def _join_without(op: Operator, flow: RecordFlow, index: int, stream: JsonStream,
                  rest: Expression | None) -> JsonStream | None:
    """``op`` reading ``stream`` as input ``index`` with the where ``rest``; None when ``rest`` no longer relates
    every input (the join needs the conjunct)."""
    if rest is None:
        return None
    new = rebuilt(op, flow, [stream if i == index else s for i, s in enumerate(op.inputs)], condition=rest)
    try:
        new.validate()
    except PropertyError:
        return None
    return new.output()


def scalar_to_grouped_join(op: Operator) -> JsonStream | None:
    """A nested filter correlated by equalities -> group its source by the inner keys into the value the
    enclosing expression needs (``mean($m[*].q)``; with residual correlations the group's records, filtered per
    record), left outer join it to the records on the outer keys, and evaluate the operator on the pairs. Nested
    filters of the operator with the same correlation share the group."""
    flow = holder_flow(op)
    if flow is None or flow.kind not in (SELECT, MAP, COMBINE) or not pairs_ok(flow):
        return None
    for node in nested_in(op):
        corr = _groupable(op, flow, node)
        if corr is None:
            continue
        records, reduce = _own_conditions_first(op, flow, corr.index)
        if corr.residual:
            replacement = FunctionCall("filter", BUILTIN_FUNCTIONS["filter"],
                                       (Slot(), as_lambda(corr.residual, PARAM)))
            pairs = grouped_join(records, corr, [InputRef(0)], [Constant([])], op, reduce)
            return over_pairs(op, corr.index, pairs, [(node, replacement)])
        same = [n for n in nested_in(op) if n is node or _groupable(op, flow, n) == corr]
        uses = [use_of(holding(op, n)[1], n) for n in same]
        values = [replace_node(use, n, InputRef(0)) for use, n in zip(uses, same)]
        defaults = [_empty_value(use, n) for use, n in zip(uses, same)]
        pairs = grouped_join(records, corr, values, defaults, op, reduce)
        return over_pairs(op, corr.index, pairs, [(use, Slot(k + 1)) for k, use in enumerate(uses)])
    return None


def _own_conditions_first(op: Operator, flow: RecordFlow, index: int) -> tuple[JsonStream, bool]:
    """Input ``index`` of ``op`` for a grouped join, and whether the join should reduce the nested source to the
    keys of those records (``sopremo.unnesting.key_reduced``). When ``op``'s where has conjuncts reading only
    that input's records (a filter's, or an inner join's: ``$p.p_brand == 'Brand#23'`` in TPC-H Q17), the records
    are filtered by them first and the reduction pays: the aggregate is computed for the keys of the few records
    that can pass instead of for every key of the source. The conjuncts stay in ``op`` too (true there again),
    so an outer join's ON, which keeps failing records, is never touched: it gets the input as it is."""
    records = op.inputs[index]
    if flow.kind == SELECT:
        where = flow.predicate
    elif flow.kind == COMBINE and not set(flow.preserved):
        where = flow.condition
    else:
        return records, False
    local = [c for c in conjuncts(where) if _reads_only(c, index)] if where is not None else []
    if not local:
        return records, False
    condition = conjunction([replace_inputs(c, {index: InputRef(0)}) for c in local])
    return base_operator("filter", [records], records.operator.display_name(), op, condition=condition).output(), True


def _groupable(op: Operator, flow: RecordFlow, node: Expression) -> Correlation | None:
    """The correlation of ``node`` when it is a nested filter a grouped join can bring to ``op``'s records."""
    corr = correlation(node) if isinstance(node, NestedOperator) else None
    if corr is None or not corr.inner_keys or corr.index is None:
        return None
    if any(reads_nested_record(c) for c in corr.residual):
        return None
    attr, _ = holding(op, node)
    return None if attr == flow.attr("output") and null_supplied(flow, corr.index) else corr


def _empty_value(use: Expression, node: Expression) -> Expression:
    """``use`` with the nested value empty: a constant when it evaluates to one, else the expression."""
    from sopremo.expressions.compiler import evaluate_constant
    from sopremo.errors import MeteorError

    empty = replace_node(use, node, Constant([]))
    try:
        return Constant(evaluate_constant(empty))
    except MeteorError:
        return empty


def correlated_to_broadcast(op: Operator) -> JsonStream | None:
    """A correlated nested filter or transform with no equality to join on (or held where no join can bring
    the value: a group's into, an outer join's null-supplied side) -> its source read whole as a data set and
    the filter / transform applied to it per record: ``filter($S, fn(m) { ... })``, ``map($S, fn(m) { ... })``."""
    if holder_flow(op) is None:
        return None
    for node in nested_in(op):
        if not isinstance(node, NestedOperator) or 1 not in outer_levels(node.operator):
            continue
        found = _per_record(node, op)
        if found is not None:
            attr, root = holding(op, node)
            return with_property(op, attr, replace_node(root, node, found))
    return None


def _per_record(node: NestedOperator, op: Operator) -> Expression | None:
    inner = node.operator
    if len(inner.inputs) != 1 or len(outer_levels(inner) - {1}):
        return None
    data = DataSetRef(inner.inputs[0], inner.source_span)
    flow = one_input(inner, MAP)
    if flow is not None:
        if reads_nested_record(flow.output):
            return None
        mapped = Lambda((PARAM,), per_record(flow.output, PARAM))
        return FunctionCall("map", BUILTIN_FUNCTIONS["map"], (data, mapped))
    corr = correlation(node)
    if corr is None:
        return None
    conditions = (*corr.residual, *_guarded(corr))
    if any(reads_nested_record(c) for c in conditions):
        return None
    source = DataSetRef(filtered(corr, inner), inner.source_span)
    return FunctionCall("filter", BUILTIN_FUNCTIONS["filter"], (source, as_lambda(conditions, PARAM)))


def _guarded(corr: Correlation) -> list[Expression]:
    """The equi correlations as conditions over the nested record and ``OuterRef``s, comparing like join keys:
    ``inner == outer and inner != missing``."""
    out = []
    for inner, outer in zip(corr.inner_keys, corr.outer_keys):
        lifted = _lift(outer)
        out += [Comparison("==", inner, lifted), Comparison("!=", inner, Constant(MISSING))]
    return out
