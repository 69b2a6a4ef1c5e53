"""How a nested operator depends on the records of the operator that holds it: the analyses behind the unnesting
rewrites of ``sopremo.decorrelate``.

A nested ``filter $l in S where c1 and c2 ...`` (any operator declaring a one-input SELECT record flow,
``sopremo.flow``: the conjuncts are its predicate's) is *correlated* when a conjunct reads the enclosing operator's
record (an ``OuterRef``). ``correlation`` sorts the conjuncts as the classic unnesting does (Kim, "On optimizing
an SQL-like nested query", TODS 1982; Dayal, VLDB 1987; Neumann and Kemper, "Unnesting arbitrary queries",
BTW 2015): *equi correlations* ``inner == outer`` become join keys, *local* conjuncts read the nested record only
and filter S before the join, and the *residual* ones (any other comparison with the outer record) are evaluated
per pair. ``use_of`` finds how much of the enclosing expression depends on the nested value alone (``0.2 *
mean(N[*].q)``), which is then computed once per join key instead of once per record; ``exists_test`` recognises
``count(N) > 0`` and ``count(N) == 0``.
"""

from __future__ import annotations


from sopremo.expressions.nodes import (And, ArrayProjection, Comparison, Constant, CopyFields, DataSetRef,
                                       ElementRef, Expression, FieldAssignment, FunctionCall, InputRef, Lambda,
                                       LambdaParam, NestedOperator, Not, OuterRef, TagMapping, Var)
from sopremo.flow import MAP, SELECT, RecordFlow, flow_of
from sopremo.nested import enclosing_inputs, nested_nodes, outer_levels, substitute_refs
from sopremo.operator import JsonStream, Operator
from sopremo.quick_dataclass import dataclass


def conjuncts(expr: Expression) -> list[Expression]:
    """The items of a (nested) ``And``; any other expression is one conjunct."""
    if isinstance(expr, And):
        return [c for item in expr.items for c in conjuncts(item)]
    return [expr]


def conjunction(items: list[Expression]) -> Expression | None:
    """``items`` joined by ``and`` (None for no items)."""
    return None if not items else items[0] if len(items) == 1 else And(tuple(items))


def one_input(op: Operator, *kinds: str) -> RecordFlow | None:
    """``op``'s record flow declaration (``sopremo.flow``) when it reads one input and is of one of ``kinds``
    (SELECT: a filter, MAP with a known output: a transform), else None. Decorrelation recognises operators by
    what they declare, never by verb or package."""
    flow = flow_of(op) if len(op.inputs) == 1 else None
    if flow is None or flow.kind not in kinds or (flow.kind == MAP and flow.output is None):
        return None
    return flow


@dataclass(frozen=True)
class Correlation:
    """A nested single-input filter taken apart. ``source``: the stream it filters; ``inner_keys`` (over the
    nested record, ``InputRef(0)``) equal ``outer_keys`` (over the enclosing operator's input ``index``, as
    ``InputRef(index)``); ``local``: conjuncts over the nested record only; ``residual``: the other conjuncts,
    still reading the enclosing record through ``OuterRef(index, 1)``. ``index`` is None when the filter reads
    several inputs of the enclosing operator (``inputs`` holds them)."""

    source: JsonStream
    inner_keys: tuple[Expression, ...]
    outer_keys: tuple[Expression, ...]
    local: tuple[Expression, ...]
    residual: tuple[Expression, ...]
    inputs: frozenset[int]

    @property
    def index(self) -> int | None:
        return next(iter(self.inputs)) if len(self.inputs) == 1 else None


def correlation(node: NestedOperator) -> Correlation | None:
    """The correlation of a nested selection with one input (a ``filter``, or any operator declaring a SELECT
    record flow: its predicate is taken apart), else None."""
    op = node.operator
    flow = one_input(op, SELECT)
    if flow is None:
        return None
    inner, outer, local, residual = [], [], [], []
    for conjunct in conjuncts(flow.predicate):
        if not enclosing_inputs(conjunct, 1):
            local.append(conjunct)
            continue
        equi = _equi(conjunct)
        if equi is None:
            residual.append(conjunct)
        else:
            inner.append(equi[0])
            outer.append(equi[1])
    inputs = frozenset(i for c in residual for i in enclosing_inputs(c, 1)) | \
        frozenset(i for o in outer for i in enclosing_inputs(o, 0))
    return Correlation(op.inputs[0], tuple(inner), tuple(outer), tuple(local), tuple(residual), inputs)


def _equi(conjunct: Expression) -> tuple[Expression, Expression] | None:
    """(inner, outer over InputRef) of ``inner == outer`` where one side reads only the nested record and the
    other only the enclosing one (plain paths and computations, no nested operators)."""
    if not isinstance(conjunct, Comparison) or conjunct.op != "==":
        return None
    for inner, outer in ((conjunct.left, conjunct.right), (conjunct.right, conjunct.left)):
        if _reads_only(inner, InputRef) and _reads_only(outer, OuterRef):
            return inner, substitute_refs(outer, lambda ref, _: InputRef(ref.index))
    return None


def _reads_only(expr: Expression, kind: type) -> bool:
    """Whether the only record references of ``expr`` are ``kind`` nodes (of level 1 for OuterRef), at least one."""
    refs = [n for n in expr.walk() if isinstance(n, (InputRef, OuterRef, ElementRef, LambdaParam, Var))]
    if any(isinstance(n, (NestedOperator, DataSetRef)) for n in expr.walk()):
        return False
    return bool(refs) and all(isinstance(n, kind) and getattr(n, "level", 1) == 1 for n in refs)


def reads_nested_record(expr: Expression) -> bool:
    """Whether a nested operator inside ``expr`` reads the record of the operator holding ``expr``."""
    return any(isinstance(n, NestedOperator) and 1 in outer_levels(n.operator) for n in nested_nodes(expr))


def per_record(expr: Expression, param: str) -> Expression:
    """``expr`` of a nested operator's property moved into a lambda of the enclosing operator: the nested record
    becomes ``LambdaParam(param)``, the enclosing records ``InputRef`` (one level less inside deeper nesting)."""
    def swap(ref: Expression, depth: int) -> Expression | None:
        if isinstance(ref, InputRef) and depth == 0:
            return LambdaParam(param)
        if isinstance(ref, OuterRef) and ref.level == depth + 1:
            return InputRef(ref.index) if depth == 0 else OuterRef(ref.index, depth)
        return None
    return substitute_refs(expr, swap)


def as_lambda(conditions: tuple[Expression, ...], param: str) -> Lambda:
    """``fn(param) { c1 and c2 ... }`` (``per_record``): a predicate for ``filter(array, fn)`` inside the enclosing
    operator. The body is an ``And``, so the predicate yields a boolean as an operator's truthiness would."""
    return Lambda((param,), And(tuple(per_record(c, param) for c in conditions)))


# ---- how the enclosing expression uses a nested value -----------------------------------------------------------


def ancestors(root: Expression, target: Expression) -> list[Expression] | None:
    """The nodes from ``root`` down to ``target`` (found by identity), or None when it does not occur."""
    if root is target:
        return [root]
    for child in root.children():
        path = ancestors(child, target)
        if path is not None:
            return [root, *path]
    return None


def use_of(root: Expression, target: Expression) -> Expression:
    """The largest subexpression of ``root`` around ``target`` that reads nothing but ``target``: no record,
    element, parameter or variable from outside it and no other nested value (``0.2 * mean(N[*].q)`` in
    ``$x.q < 0.2 * mean(N[*].q)``). It has one value per value of ``target``."""
    path = ancestors(root, target) or [target]
    use = target
    for parent in reversed(path[:-1]):
        if isinstance(parent, _ENTRIES) or not _free(parent, target):
            break
        use = parent
    return use


_ENTRIES = (FieldAssignment, CopyFields, TagMapping)  # parts of an object construction, no values of their own


def _free(expr: Expression, target: Expression, bound: int = 0, params: frozenset[str] = frozenset()) -> bool:
    """Whether ``expr`` reads nothing outside ``target`` except what it binds itself."""
    if expr is target:
        return True
    if isinstance(expr, (InputRef, OuterRef, Var, NestedOperator, DataSetRef)):
        return False
    if isinstance(expr, ElementRef):
        return bound > 0
    if isinstance(expr, LambdaParam):
        return expr.name in params
    if isinstance(expr, ArrayProjection):
        return _free(expr.base, target, bound, params) and _free(expr.element, target, bound + 1, params)
    if isinstance(expr, Lambda):
        return _free(expr.body, target, bound, params | frozenset(expr.params))
    return all(_free(child, target, bound, params) for child in expr.children())


def exists_test(conjunct: Expression) -> tuple[NestedOperator, bool] | None:
    """(N, negate) when ``conjunct`` holds exactly when N has a record (``count(N) > 0``, ``count(N) >= 1``,
    ``count(N) != 0``) or exactly when it has none (``count(N) == 0``, ``count(N) < 1``, ``not ...``)."""
    if isinstance(conjunct, Not):
        found = exists_test(conjunct.operand)
        return None if found is None else (found[0], not found[1])
    if not isinstance(conjunct, Comparison):
        return None
    for counted, bound, op in ((conjunct.left, conjunct.right, conjunct.op),
                               (conjunct.right, conjunct.left, _MIRROR[conjunct.op])):
        node = _counted(counted)
        if node is not None and isinstance(bound, Constant) and type(bound.value) in (int, float):
            holds = [_COMPARE[op](n, bound.value) for n in (0, 1, 10**18)]
            if holds == [False, True, True]:
                return node, False
            if holds == [True, False, False]:
                return node, True
    return None


def _counted(expr: Expression) -> NestedOperator | None:
    """N of ``count(N)`` (or ``count(N[*].x)``, the same number)."""
    if not (isinstance(expr, FunctionCall) and expr.name == "count" and len(expr.args) == 1):
        return None
    arg = expr.args[0]
    arg = arg.base if isinstance(arg, ArrayProjection) else arg
    return arg if isinstance(arg, NestedOperator) else None


_MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_COMPARE = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}
