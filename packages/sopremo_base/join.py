"""``join $a in $A, $b in $B [, ...] [where <conjunction>] [preserve ...] [into <expr>]`` (VLDB J. 2014, Table 1).

The where-conjunction is analysed into equi conditions (``$a.x == $b.y``: Match keys), semi/anti conditions
and theta conditions (anything else: a residual filter after a Match, or a Cross). ``$a.x in $b.y`` (``not in``)
makes ``$b`` a mere filter of ``$a``, a semi (anti) join, when every other condition mentioning ``$b`` involves
only ``$a`` and ``$b`` (they join the test: some ``$b`` / no ``$b`` with ``$a.x`` among ``$b.y`` and those
conditions true, SQL's EXISTS / NOT EXISTS, as TPC-H Q21 needs) and, for ``in``, the output needs no record of
``$b`` (``into`` reads none of its fields, ``$b`` is not preserved); otherwise ``in`` is an ordinary condition
of the pairs. ``into`` sees a semi/anti-joined input as missing: ``{ $a.*, $b.* }`` gives ``$a``'s fields, as
the original's TwoSourceJoin. ``preserve`` makes the join outer (CoGroup), the unmatched side staying missing.
Three or more inputs become a chain of two-input joins, equi-connected inputs first; ``into`` is applied at the
end over all inputs. Without ``where`` the join is the cross product of its inputs (the original's Join, whose
condition defaulted to an empty conjunction).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sopremo.api import (EXPRESSION, INPUTS, And, ArrayConstruction, Comparison, CompositeOperator, ElementIn,
                         Expression, InputRef, JsonStream, PropertyError, PropertySpec, RecordFlow, expressions,
                         input_refs, map_children, reads, replace_inputs)

from . import package
from .join_internal import JoinProjection, SemiJoin, SetMembers, TwoSourceJoin
from .keys import internal, to_slot
from .selection import Selection


@dataclass(frozen=True)
class SemiCondition:
    """``element`` (over input ``left``) in (``negate``: not in) ``collection`` (over input ``right``), with
    ``residual``: the other conditions over both inputs, or None."""

    left: int
    element: Expression
    right: int
    collection: Expression
    negate: bool
    residual: Expression | None = None


@dataclass
class JoinConditions:
    """The where-conjunction sorted by kind: ``equi`` (i, expr_i, j, expr_j), ``semi`` (SemiCondition) and
    ``theta`` (expression, input indexes read)."""

    equi: list[tuple[int, Expression, int, Expression]] = field(default_factory=list)
    semi: list[SemiCondition] = field(default_factory=list)
    theta: list[tuple[Expression, frozenset[int]]] = field(default_factory=list)

    @property
    def consumed(self) -> set[int]:
        """Inputs that only filter another input through a semi/anti join."""
        return {s.right for s in self.semi}


def conjuncts(expr: Expression) -> list[Expression]:
    """The items of a (nested) ``And``; any other expression is a single conjunct."""
    if isinstance(expr, And):
        return [c for item in expr.items for c in conjuncts(item)]
    return [expr]


def _single(expr: Expression) -> int | None:
    refs = input_refs(expr)
    return next(iter(refs)) if len(refs) == 1 else None


def record_reads(expr: Expression | None) -> set[int]:
    """The inputs whose records ``expr`` reads, not counting a copy of a whole input (``$b.*``)."""
    if expr is None:
        return set()
    if isinstance(expr, expressions.CopyFields) and isinstance(expr.source, InputRef):
        return set()
    if isinstance(expr, InputRef):
        return {expr.index}
    return set().union(*(record_reads(child) for child in expr.children()))


def _right_fields(residual: Expression | None) -> tuple[str, ...] | None:
    """The top-level fields (sorted) a semi/anti join's residual (over InputRef(0) = left, InputRef(1) = right
    record) reads of the right record; None (ship it whole) without a residual, or when it reads the whole
    record or calls a function that may read anything."""
    if residual is None:
        return None
    found = reads(residual)
    fields = None if found.unknown else found.fields.get(1, frozenset())
    return None if fields is None else tuple(sorted(fields))


def _over_values(residual: Expression | None, fields: tuple[str, ...] | None) -> Expression | None:
    """``residual`` reading the values SetMembers ships of the right record instead of the record: with one
    field, ``$b.f`` -> the value (InputRef(1)); with several, ``$b.f`` -> item k of the list of values."""
    if residual is None or fields is None:
        return residual

    def swap(expr: Expression) -> Expression:
        if isinstance(expr, expressions.FieldAccess) and expr.base == InputRef(1):
            return InputRef(1) if len(fields) == 1 else \
                expressions.ArrayIndex(InputRef(1), expressions.Constant(fields.index(expr.name)))
        return map_children(expr, swap)
    return swap(residual)


def analyse(where: Expression | None, needed: set[int] | frozenset[int] = frozenset()) -> JoinConditions:
    """Classify the conjuncts of ``where`` (see the module docstring); ``needed``: the inputs whose records the
    output needs (``into`` reads them, or they are preserved), which an ``in`` does not semi-join."""
    items = conjuncts(where) if where is not None else []  # no where: no conditions, the cross product
    refs = [frozenset(input_refs(item)) for item in items]
    result, used = JoinConditions(), set()
    for index in range(len(items)):
        found = _semi(items, refs, index, used, result, needed)
        if found is not None:
            semi, others = found
            result.semi.append(semi)
            used |= {index, *others}
    for index, item in enumerate(items):
        if index in used:
            continue
        if isinstance(item, Comparison) and item.op == "==":
            i, j = _single(item.left), _single(item.right)
            if i is not None and j is not None and i != j:
                result.equi.append((i, item.left, j, item.right))
                continue
        result.theta.append((item, refs[index]))
    return result


def _semi(items: list[Expression], refs: list[frozenset[int]], index: int, used: set[int], found: JoinConditions,
          needed: set[int] | frozenset[int]) -> tuple[SemiCondition, list[int]] | None:
    """The semi/anti condition that conjunct ``index`` makes (with the indexes of the conjuncts joining it as
    its residual), or None when it is an ordinary condition."""
    item = items[index]
    if not isinstance(item, ElementIn) or index in used:
        return None
    i, j = _single(item.element), _single(item.collection)
    if i is None or j is None or i == j or {i, j} & found.consumed or (j in needed and not item.negate):
        return None
    others = [k for k in range(len(items)) if k != index and j in refs[k]]
    if any(not refs[k] <= {i, j} or k in used for k in others):
        return None
    residual = And(tuple(items[k] for k in others)) if others else None
    return SemiCondition(i, item.element, j, item.collection, item.negate, residual), others


@package.operator
class Join(CompositeOperator):
    """Joins two or more inputs on a where-conjunction; out: one ``into`` value per joined combination.

    Default ``into``: the array of the joined records ``[left, right, ...]`` (null for an unmatched outer side;
    only the output inputs for semi/anti joins, e.g. ``[left]``). Raises PropertyError for a where that does not
    mention every input, a ``preserve`` of a non-input or of an anti-joined input, or an ``into`` reading the
    fields of an anti-joined input.
    """

    verb = "join"
    min_inputs, max_inputs = 2, None
    doc = "join $a in $A, $b in $B [, ...] [where <conjunction>] [preserve $a | preserve [$a, $b]] [into <expr>]"
    properties = (
        PropertySpec("where", "condition", EXPRESSION,
                     doc="conjunction of ==, <, <=, >, >=, != between inputs; in / not in = semi / anti join; "
                         "none: the cross product"),
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

    def record_flow(self) -> RecordFlow:
        """One ``into`` value per combination satisfying ``where``. The default output, the array of the joined
        records, is declared only without semi/anti conditions (they leave their inputs out of the array)."""
        output = self.projection
        if output is None and not (self.condition is not None and
                                   any(isinstance(n, ElementIn) for n in self.condition.walk())):
            output = ArrayConstruction(tuple(InputRef(i) for i in range(len(self.inputs))))
        return RecordFlow.combine(output, condition=self.condition, preserved=self.preserved(),
                                  attrs={"output": "projection", "condition": "condition", "preserved": "preserve"})

    def validate(self) -> None:
        super().validate()
        n = len(self.inputs)
        preserve = self.preserved()
        for index in preserve:
            if not isinstance(index, int) or not 0 <= index < n:
                raise PropertyError(f"join: preserve names {index!r}, which is not an input of the join", "preserve")
        mentioned = input_refs(self.condition) if self.condition is not None else set(range(n))
        unmentioned = [i for i in range(n) if i not in mentioned]
        if unmentioned:
            names = ", ".join(repr(self.inputs[i]) for i in unmentioned)
            raise PropertyError(f"join: the where condition never mentions input(s) {names}; "
                                "a join needs a condition relating every input", "where")
        consumed = self.conditions().consumed
        if consumed & set(preserve):
            raise PropertyError("join: preserve names an input that only filters through 'not in' (an anti join "
                                "keeps no record of it)", "preserve")
        if consumed & record_reads(self.projection):
            raise PropertyError("join: into reads an input that only filters through 'not in' (an anti join keeps "
                                "no record of it; only a copy of it, $x.*, which copies nothing, may appear)",
                                "into")

    def conditions(self) -> JoinConditions:
        """The analysed where-conjunction (the inputs the output needs are never semi-joined by ``in``)."""
        return analyse(self.condition, record_reads(self.projection) | set(self.preserved()))

    def expand(self) -> list[JsonStream]:
        n = len(self.inputs)
        conditions = self.conditions()
        streams = list(self.inputs)
        conditions.theta = self._filter_inputs(streams, conditions.theta)
        for semi in conditions.semi:
            i, j = semi.left, semi.right
            residual = None if semi.residual is None else \
                replace_inputs(semi.residual, {i: InputRef(0), j: InputRef(1)})
            fields = _right_fields(residual)
            shipped = "" if fields is None else f"[{','.join(fields)}]"  # explain names what travels
            members = internal(SetMembers, [streams[j]], self, f"members{j}{shipped}",
                               collection=to_slot(semi.collection, j), with_records=residual is not None,
                               fields=fields)
            step = internal(SemiJoin, [streams[i], members.output()], self,
                            f"{'anti' if semi.negate else 'semi'}{i}", element=to_slot(semi.element, i),
                            negate=semi.negate, residual=_over_values(residual, fields))
            streams[i] = step.output()
        remaining = [k for k in range(n) if k not in conditions.consumed]
        stream, theta, steps = self._chain(streams, remaining, conditions)
        slot = remaining[0] if len(remaining) == 1 else None
        residual = And(tuple(t for t, _ in theta)) if theta else None
        _mark_kept(steps, set(remaining) if self.projection is None else input_refs(self.projection), residual)
        final = internal(JoinProjection, [stream], self, "into", arity=n, slot=slot, outputs=tuple(remaining),
                         condition=residual, projection=self.projection)
        return [final.output()]

    def _filter_inputs(self, streams: list[JsonStream], theta: list[tuple[Expression, frozenset[int]]]
                       ) -> list[tuple[Expression, frozenset[int]]]:
        """Filter each input by the conditions that read it alone, before it is joined (a selection pushed below
        the join: a source stage then filters row batches before building records, and fewer records are
        hashed and probed); returns the other conditions. A preserved input keeps its records: a condition
        on it only decides whether they join (``preserve`` makes the join outer), so it stays a join condition.
        Replaces the filtered inputs in ``streams``."""
        preserved = set(self.preserved())
        alone: dict[int, list[Expression]] = {}
        rest = []
        for item, refs in theta:
            if len(refs) == 1 and not refs & preserved:
                alone.setdefault(next(iter(refs)), []).append(item)
            else:
                rest.append((item, refs))
        for index, items in sorted(alone.items()):
            condition = to_slot(items[0] if len(items) == 1 else And(tuple(items)), index)
            streams[index] = internal(Selection, [streams[index]], self, f"where{index}",
                                      condition=condition).output()
        return rest

    def _chain(self, streams: list[JsonStream], remaining: list[int], conditions: JoinConditions):
        """Two-input joins over ``remaining`` inputs; returns the final stream, the unapplied thetas and the join
        steps in order."""
        joined, pending = [remaining[0]], remaining[1:]
        theta = list(conditions.theta)
        stream, left_slot = streams[remaining[0]], remaining[0]
        preserve = set(self.preserved())
        steps: list[TwoSourceJoin] = []
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
            steps.append(step)
        return stream, theta, steps

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


def _mark_kept(steps: list[TwoSourceJoin], output: set[int], residual: Expression | None) -> None:
    """Set ``kept`` on each join step: the slots its output must carry, those the final ``into`` reads
    (``output``: whole inputs it copies too), the residual condition and the later steps' keys and conditions."""
    needed = set(output) | (input_refs(residual) if residual is not None else set())
    for step in reversed(steps):
        step.kept = frozenset(needed)
        for expr in (*step.left_keys, *step.right_keys, step.condition):
            if expr is not None:
                needed |= input_refs(expr)
