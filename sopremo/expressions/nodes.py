"""The expression IR of Sopremo: frozen, typed nodes that configure operators (the original's EvaluationExpression).

The binder (meteor/binder.py) builds these trees from the Meteor AST; ``sopremo.expressions.compiler`` turns a
tree into a Python closure once per plan; the optimizer reads them for read/write sets (VLDB J. 2014, sec. 6.2).
Nodes hold no behaviour beyond ``children()``; evaluation semantics live in the compiler.

Scoping: inside an operator's property, ``InputRef(i)`` is the current value of the operator's i-th input (a
record; for ``group ... into`` the array of the group's records). ``ElementRef()`` is the element currently
visited by the innermost ``ArrayProjection``. ``LambdaParam(name)`` is a parameter of the innermost enclosing
``Lambda``. ``Var(name)`` is a variable introduced by an operator property (``pivot ... around $v = ...``).
"""

from __future__ import annotations

from dataclasses import field, fields
from typing import Any, Callable, Iterator

from sopremo.quick_dataclass import dataclass


@dataclass(frozen=True)
class Origin:
    """Where a node was written: the script ``path`` (None for text), 1-based ``line`` and ``column`` of its
    operator (the ``/`` of ``a / b``, a function's name), ``statement``: the Meteor verb of the operator whose
    property holds it (``transform``; None outside operators) and ``source_line``: that line of the script.
    Run-time errors name it (``sopremo.expressions.located``)."""

    path: str | None
    line: int
    column: int
    statement: str | None = None
    source_line: str | None = None

    def __str__(self) -> str:
        return ":".join(str(p) for p in (self.path, self.line, self.column) if p is not None)


@dataclass(frozen=True)
class Expression:
    """Base of all expression nodes; ``children()`` yields the direct sub-expressions in field order.

    ``origin`` (an ``Origin`` or None, keyword only, ignored by ``==`` and ``hash``) locates the node in the
    script; the binder sets it on the nodes that can fail or read fields at run time."""

    origin: Origin | None = field(default=None, compare=False, kw_only=True, repr=False)

    def children(self) -> Iterator["Expression"]:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Expression):
                yield value
            elif isinstance(value, tuple):
                for item in value:
                    if isinstance(item, Expression):
                        yield item

    def walk(self) -> Iterator["Expression"]:
        """This node and all its descendants, pre-order."""
        yield self
        for child in self.children():
            yield from child.walk()


# ---- leaves ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Constant(Expression):
    """A literal JSON value (int, float, str, bool, None, list or dict of those)."""

    value: Any


@dataclass(frozen=True)
class InputRef(Expression):
    """The current value of the operator's input ``index`` (``$a`` in ``join $a in $A, ...``)."""

    index: int = 0


@dataclass(frozen=True)
class ElementRef(Expression):
    """The element visited by the innermost ``ArrayProjection`` (the ``[*]`` in ``$g[*].x``)."""


@dataclass(frozen=True)
class LambdaParam(Expression):
    """A parameter of the innermost enclosing ``Lambda`` (``e`` in ``fn(e) { e.a }``)."""

    name: str


@dataclass(frozen=True)
class Var(Expression):
    """A variable bound by an operator property (``$v`` in ``pivot $in around $v = ...``)."""

    name: str


# ---- paths -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldAccess(Expression):
    """``base.name``; missing when ``base`` is no object or has no such field.

    ``safe`` (``base?.name``): a null or missing base yields itself instead of missing.
    """

    base: Expression
    name: str
    safe: bool = False


@dataclass(frozen=True)
class ArrayIndex(Expression):
    """``base[index]``; negative indexes count from the end; missing when out of range or not an array."""

    base: Expression
    index: Expression
    safe: bool = False


@dataclass(frozen=True)
class ArraySlice(Expression):
    """``base[start:end]``: both ends included, reversed when start > end (either may be None = open)."""

    base: Expression
    start: Expression | None
    end: Expression | None


@dataclass(frozen=True)
class ArrayProjection(Expression):
    """``base[*]<element>``: ``element`` evaluated with ``ElementRef()`` bound to each array element.

    ``$g[*].x`` is ``ArrayProjection(InputRef(0), FieldAccess(ElementRef(), 'x'))``. As the argument of an
    aggregation function it stands for one element at a time (docs/language.md, "Aggregations").
    """

    base: Expression
    element: Expression


# ---- operators on values ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arithmetic(Expression):
    """``left op right`` for op in ``+ - * /``; ``+`` on strings concatenates."""

    op: str
    left: Expression
    right: Expression


@dataclass(frozen=True)
class Comparison(Expression):
    """``left op right`` for op in ``< <= > >= == !=`` under the cross-type order of ``sopremo.values``."""

    op: str
    left: Expression
    right: Expression


@dataclass(frozen=True)
class And(Expression):
    """n-ary conjunction under Meteor truthiness; yields a boolean."""

    items: tuple[Expression, ...]


@dataclass(frozen=True)
class Or(Expression):
    """n-ary disjunction under Meteor truthiness; yields a boolean."""

    items: tuple[Expression, ...]


@dataclass(frozen=True)
class Not(Expression):
    """``!x`` / ``not x``: negated truthiness."""

    operand: Expression


@dataclass(frozen=True)
class UnaryOp(Expression):
    """Prefix ``-x`` (negation), ``++x``, ``--x`` (x + 1, x - 1) and ``~x`` (bitwise not on ints)."""

    op: str
    operand: Expression


@dataclass(frozen=True)
class ElementIn(Expression):
    """``element in collection`` (``negate``: ``not in``); in a join condition, a semi or anti join."""

    element: Expression
    collection: Expression
    negate: bool = False


@dataclass(frozen=True)
class Ternary(Expression):
    """``cond ? then : otherwise``; ``then`` None is the Elvis form ``cond ?: otherwise`` (then = cond)."""

    condition: Expression
    then: Expression | None
    otherwise: Expression


@dataclass(frozen=True)
class IfPostfix(Expression):
    """``value if cond``: ``value`` when ``cond`` is truthy, else missing."""

    value: Expression
    condition: Expression


@dataclass(frozen=True)
class Cast(Expression):
    """``(type) x`` / ``x as type`` with ``type_name`` from the type registry (int, decimal, string, ...)."""

    operand: Expression
    type_name: str


# ---- construction ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArrayConstruction(Expression):
    """``[a, b, ...]``."""

    items: tuple[Expression, ...]


@dataclass(frozen=True)
class FieldAssignment(Expression):
    """Object entry ``name: value`` (also ``$x.path``, named after its last segment)."""

    name: str
    value: Expression


@dataclass(frozen=True)
class CopyFields(Expression):
    """Object entry ``$x.*``: copy all fields of an object (missing copies nothing)."""

    source: Expression


@dataclass(frozen=True)
class TagMapping(Expression):
    """Object entry ``$x.path: value``: parses, but evaluating it is an error (as in the original)."""

    target: Expression
    value: Expression


@dataclass(frozen=True)
class ObjectConstruction(Expression):
    """``{entries}``; fields whose value is missing are left out."""

    entries: tuple[Expression, ...]


@dataclass(frozen=True)
class Directed(Expression):
    """A key with its own direction, ``$x.a desc``: only the value, or an element of the array value, of a
    property that declares directions (``PropertySpec.directions``: the sort key). The operator takes it apart;
    it is not evaluated as an expression."""

    operand: Expression
    descending: bool


# ---- functions -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionCall(Expression):
    """A call of a registered function; ``function`` is the resolved ``sopremo.functions.SopremoFunction``.

    ``name`` is kept for explain output and error messages. Method syntax ``$x.f(a)`` is ``f($x, a)``.
    """

    name: str
    function: Any
    args: tuple[Expression, ...]

    def __hash__(self) -> int:
        return hash((self.name, self.args))


@dataclass(frozen=True)
class Lambda(Expression):
    """An inline function value ``fn(p, q) { body }`` or a reference ``&f``; an argument of map/filter/fold."""

    params: tuple[str, ...]
    body: Expression


@dataclass(frozen=True)
class NestedOperator(Expression):
    """An operator call used as a value (the original's NestedOperatorExpression).

    Inside an expression (``count(filter $b where $b.k == $a.k)``) its value is the array of the operator's
    output records; ``operator`` is bound over data sets of the script and reads the records of the enclosing
    operator through ``OuterRef``. ``sopremo.decorrelate`` turns it into joins and groupings before the plan
    runs. As the value of an OPERATORS property (``with [ group $in by ... ]``) the enclosing operator
    interprets it itself.
    """

    operator: Any

    def __hash__(self) -> int:
        return id(self.operator)


@dataclass(frozen=True)
class OuterRef(Expression):
    """Inside a nested operator: the current value of input ``index`` of the operator ``level`` steps out
    (``$a`` in ``filter $a where count(filter $b where $b.k == $a.k) > 0``: ``OuterRef(0, 1)``)."""

    index: int
    level: int = 1


@dataclass(frozen=True)
class DataSetRef(Expression):
    """A data set named inside an expression without being an input: all its records as one array (the
    original's JsonStreamExpression; ``contains($dict[*].v, $x.v)``). ``stream`` is a ``JsonStream``;
    ``span`` locates the name in the script (for errors). Made an input by ``sopremo.decorrelate``."""

    stream: Any
    span: Any = field(default=None, compare=False)

    def __hash__(self) -> int:
        return id(self.stream)


def input_refs(expr: Expression) -> set[int]:
    """Indexes of the operator inputs that ``expr`` reads."""
    return {node.index for node in expr.walk() if isinstance(node, InputRef)}


def map_children(expr: Expression, transform: Callable[[Expression], Expression]) -> Expression:
    """``expr`` with ``transform`` applied to every direct child expression (``expr`` itself when unchanged)."""
    changes = {}
    for f in fields(expr):
        value = getattr(expr, f.name)
        if isinstance(value, Expression):
            new = transform(value)
            if new is not value:
                changes[f.name] = new
        elif isinstance(value, tuple) and any(isinstance(v, Expression) for v in value):
            items = tuple(transform(v) if isinstance(v, Expression) else v for v in value)
            if any(a is not b for a, b in zip(items, value)):
                changes[f.name] = items
    if not changes:
        return expr
    return type(expr)(**{f.name: changes.get(f.name, getattr(expr, f.name)) for f in fields(expr)})


def replace_inputs(expr: Expression, mapping: dict[int, Expression]) -> Expression:
    """``expr`` with each ``InputRef(i)`` replaced by ``mapping[i]`` (when present); used by decomposition."""
    if isinstance(expr, InputRef):
        return mapping.get(expr.index, expr)
    return map_children(expr, lambda child: replace_inputs(child, mapping))
