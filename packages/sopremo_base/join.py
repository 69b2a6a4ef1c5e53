"""``join $a in $A, $b in $B [, ...] where <conjunction> [preserve ...] [into <expr>]`` (VLDB J. 2014, Table 1).

The where-conjunction is analysed into equi conditions (``$a.x == $b.y``: Match keys), semi/anti conditions
(``$a.x in $b.y`` / ``not in`` where ``$b`` occurs in no other condition: ``$b`` only filters ``$a`` and is no
part of the output) and theta conditions (anything else: a residual filter after a Match, or a Cross).
``preserve`` makes the join outer (CoGroup), the unmatched side staying missing. Three or more inputs become a
chain of two-input joins, equi-connected inputs first; ``into`` is applied at the end over all inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sopremo.api import (EXPRESSION, INPUTS, And, Comparison, CompositeOperator, ElementIn, Expression, JsonStream,
                         PropertyError, PropertySpec, input_refs)

from . import package
from .join_internal import JoinProjection, SemiJoin, SetMembers, TwoSourceJoin
from .keys import internal, to_slot


@dataclass
class JoinConditions:
    """The where-conjunction sorted by kind: ``equi`` (i, expr_i, j, expr_j), ``semi`` (i, element, j,
    collection, negate) and ``theta`` (expression, input indexes read)."""

    equi: list[tuple[int, Expression, int, Expression]] = field(default_factory=list)
    semi: list[tuple[int, Expression, int, Expression, bool]] = field(default_factory=list)
    theta: list[tuple[Expression, frozenset[int]]] = field(default_factory=list)

    @property
    def consumed(self) -> set[int]:
        """Inputs that only filter another input through a semi/anti join."""
        return {j for _, _, j, _, _ in self.semi}


def conjuncts(expr: Expression) -> list[Expression]:
    """The items of a (nested) ``And``; any other expression is a single conjunct."""
    if isinstance(expr, And):
        return [c for item in expr.items for c in conjuncts(item)]
    return [expr]


def _single(expr: Expression) -> int | None:
    refs = input_refs(expr)
    return next(iter(refs)) if len(refs) == 1 else None


def analyse(where: Expression) -> JoinConditions:
    """Classify the conjuncts of ``where`` (see the module docstring)."""
    items = conjuncts(where)
    mentions: dict[int, int] = {}
    for item in items:
        for i in input_refs(item):
            mentions[i] = mentions.get(i, 0) + 1
    result = JoinConditions()
    for item in items:
        if isinstance(item, ElementIn):
            i, j = _single(item.element), _single(item.collection)
            if i is not None and j is not None and i != j and mentions[j] == 1:
                result.semi.append((i, item.element, j, item.collection, item.negate))
                continue
        if isinstance(item, Comparison) and item.op == "==":
            i, j = _single(item.left), _single(item.right)
            if i is not None and j is not None and i != j:
                result.equi.append((i, item.left, j, item.right))
                continue
        result.theta.append((item, frozenset(input_refs(item))))
    return result


@package.operator
class Join(CompositeOperator):
    """Joins two or more inputs on a where-conjunction; out: one ``into`` value per joined combination.

    Default ``into``: the array of the joined records ``[left, right, ...]`` (null for an unmatched outer side;
    only the output inputs for semi/anti joins, e.g. ``[left]``). Raises PropertyError for a where that does not
    mention every input, a ``preserve`` of a non-input or a semi/anti-joined input, or an ``into`` reading one.
    """

    verb = "join"
    min_inputs, max_inputs = 2, None
    doc = "join $a in $A, $b in $B [, ...] where <conjunction> [preserve $a | preserve [$a, $b]] [into <expr>]"
    properties = (
        PropertySpec("where", "condition", EXPRESSION, required=True,
                     doc="conjunction of ==, <, <=, >, >=, != between inputs; in / not in = semi / anti join"),
        PropertySpec("preserve", "preserve", INPUTS, default=(),
                     doc="inputs whose unmatched records are kept (outer join)"),
        PropertySpec("into", "projection", EXPRESSION,
                     doc="output per joined combination; default the array of the joined records"),
    )

    def preserved(self) -> tuple[int, ...]:
        """The ``preserve`` input indexes as a tuple (a single index is accepted from Python callers)."""
        value = self.preserve
        if value is None:
            return ()
        return (value,) if isinstance(value, int) else tuple(value)

    def validate(self) -> None:
        super().validate()
        n = len(self.inputs)
        preserve = self.preserved()
        for index in preserve:
            if not isinstance(index, int) or not 0 <= index < n:
                raise PropertyError(f"join: preserve names {index!r}, which is not an input of the join", "preserve")
        unmentioned = [i for i in range(n) if i not in input_refs(self.condition)]
        if unmentioned:
            names = ", ".join(repr(self.inputs[i]) for i in unmentioned)
            raise PropertyError(f"join: the where condition never mentions input(s) {names}; "
                                "a join needs a condition relating every input", "where")
        consumed = analyse(self.condition).consumed
        if consumed & set(preserve):
            raise PropertyError("join: preserve names an input that is only semi/anti-joined (in / not in)",
                                "preserve")
        if self.projection is not None and consumed & input_refs(self.projection):
            raise PropertyError("join: into reads an input that is only semi/anti-joined (in / not in)", "into")

    def expand(self) -> list[JsonStream]:
        n = len(self.inputs)
        conditions = analyse(self.condition)
        streams = list(self.inputs)
        for i, element, j, collection, negate in conditions.semi:
            members = internal(SetMembers, [streams[j]], self, f"members{j}", collection=to_slot(collection, j))
            semi = internal(SemiJoin, [streams[i], members.output()], self, f"{'anti' if negate else 'semi'}{i}",
                            element=to_slot(element, i), negate=negate)
            streams[i] = semi.output()
        remaining = [k for k in range(n) if k not in conditions.consumed]
        stream, theta = self._chain(streams, remaining, conditions)
        slot = remaining[0] if len(remaining) == 1 else None
        residual = And(tuple(t for t, _ in theta)) if theta else None
        final = internal(JoinProjection, [stream], self, "into", arity=n, slot=slot, outputs=tuple(remaining),
                         condition=residual, projection=self.projection)
        return [final.output()]

    def _chain(self, streams: list[JsonStream], remaining: list[int], conditions: JoinConditions):
        """Two-input joins over ``remaining`` inputs; returns the final stream and the unapplied thetas."""
        joined, pending = [remaining[0]], remaining[1:]
        theta = list(conditions.theta)
        stream, left_slot = streams[remaining[0]], remaining[0]
        preserve = set(self.preserved())
        while pending:
            k = self._next_input(joined, pending, conditions)
            pending.remove(k)
            keys = [(a, b) if j == k else (b, a) for i, a, j, b in conditions.equi
                    if (i in joined and j == k) or (j in joined and i == k)]
            scope = set(joined) | {k}
            applied = [t for t, refs in theta if refs <= scope]
            theta = [(t, refs) for t, refs in theta if not refs <= scope]
            step = internal(TwoSourceJoin, [stream, streams[k]], self, f"join{k}", arity=len(self.inputs),
                            left_slot=left_slot, right_slot=k, left_keys=tuple(a for a, _ in keys),
                            right_keys=tuple(b for _, b in keys),
                            condition=And(tuple(applied)) if applied else None,
                            left_outer=bool(preserve & set(joined)), right_outer=k in preserve)
            stream, left_slot = step.output(), None
            joined.append(k)
        return stream, theta

    @staticmethod
    def _next_input(joined: list[int], pending: list[int], conditions: JoinConditions) -> int:
        """The first pending input equi-joined with the joined ones, else one sharing a theta, else the first."""
        for k in pending:
            if any((i in joined and j == k) or (j in joined and i == k) for i, _, j, _ in conditions.equi):
                return k
        for k in pending:
            if any(k in refs and refs - {k} <= set(joined) and refs - {k} for _, refs in conditions.theta):
                return k
        return pending[0]
