"""Record flow declarations: what a Sopremo operator reads, copies and writes (VLDB J. 2014, sec. 6.2 and 7).

The logical rewrites (``sopremo.rewrite``) and projection pushdown (``sopremo.projection``) never look at an
operator's verb or package: they ask the operator what it does with its records (``Operator.record_flow()``),
and an operator that declares nothing (None, the default) is opaque: no selection moves through it and it reads
the whole records of every input. A declaration is a frozen ``RecordFlow`` of one of six kinds; the first three
*copy* records (every output record is one input record, unchanged), the last three *write* new values:

- ``PASS``: every record of every input, unchanged (``union all``; an identity or a tap). A selection above it
  may be applied to each input instead.
- ``SELECT``: the records of its one input for which ``predicate`` (over the record, ``InputRef(0)``) holds, in
  input order (``filter``). Such an operator is itself moved below other operators by the rewrites.
- ``COPY``: some records of its inputs, unchanged, chosen or ordered by looking at other records as well
  (``sort``, a limit, a sample): nothing moves below it, but a reader's fields pass through it.
- ``MAP``: one value per record of its one input, ``output`` computed from the record (``transform``).
- ``COMBINE``: one value per combination of records of its inputs satisfying ``condition`` (a join; inputs in
  ``preserved`` keep unmatched records, as an outer join), ``output`` over the records (``InputRef(i)``: the
  record of input i).
- ``GROUP``: one value per group of records with Meteor-equal ``keys[i]`` (over a record of input i; None: all
  records form one group), ``output`` over the groups (``InputRef(i)``: the array of input i's records in the
  group, ``$g[0]`` its first record).

Every kind may add ``reads`` (more expressions evaluated over single records) and ``whole`` (inputs whose whole
records are read, e.g. a sort without a key). An ``output`` of None says the value is not known as an
expression: whole records are read and nothing maps through it. ``attrs`` names the operator attributes that
hold the roles ``predicate``, ``output``, ``condition``, ``preserved`` and ``keys``, so a rewrite may rebuild the
operator with other values (``rebuilt``); a role without an attribute is never changed, and a rule needing it
does not fire. A declaration describes an operator with one output; operators with more are treated as opaque.
"""

from __future__ import annotations

import copy
from typing import Any, Iterable, Mapping

from sopremo.expressions.nodes import Expression
from sopremo.quick_dataclass import dataclass

PASS = "pass"
SELECT = "select"
COPY = "copy"
MAP = "map"
COMBINE = "combine"
GROUP = "group"
KINDS = (PASS, SELECT, COPY, MAP, COMBINE, GROUP)
COPYING = frozenset({PASS, SELECT, COPY})  # kinds whose output records are input records, unchanged
ROLES = ("predicate", "output", "condition", "preserved", "keys")


@dataclass(frozen=True)
class RecordFlow:
    """What an operator does with its records (see the module docstring for the kinds and fields).

    Build one with the constructors ``pass_through``, ``select``, ``copy``, ``map``, ``combine``, ``group``;
    they check that the fields fit the kind and raise ValueError (a package author's error) when not.
    """

    kind: str
    reads: tuple[Expression, ...] = ()
    whole: frozenset[int] = frozenset()
    predicate: Expression | None = None
    output: Expression | None = None
    condition: Expression | None = None
    preserved: tuple[int, ...] = ()
    keys: tuple[Expression | None, ...] = ()
    attrs: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"RecordFlow: unknown kind {self.kind!r} (one of {', '.join(KINDS)})")
        if (self.predicate is not None) != (self.kind == SELECT):
            raise ValueError("RecordFlow: a predicate is what a SELECT and only a SELECT declares")
        if self.kind in COPYING and self.output is not None:
            raise ValueError(f"RecordFlow: a {self.kind} copies records and has no output expression")
        if self.kind != COMBINE and (self.condition is not None or self.preserved):
            raise ValueError("RecordFlow: a condition and preserved inputs belong to a COMBINE")
        if self.kind != GROUP and self.keys:
            raise ValueError("RecordFlow: keys belong to a GROUP")
        for role, _attr in self.attrs:
            if role not in ROLES:
                raise ValueError(f"RecordFlow: unknown role {role!r} (one of {', '.join(ROLES)})")

    # -- constructors -------------------------------------------------------------------------------------------

    @classmethod
    def pass_through(cls, *, reads: Iterable[Expression] = (), whole: Iterable[int] = ()) -> "RecordFlow":
        """Every record of every input, unchanged (a bag union, an identity)."""
        return cls(PASS, tuple(reads), frozenset(whole))

    @classmethod
    def select(cls, predicate: Expression, *, attr: str | None = None, reads: Iterable[Expression] = (),
               whole: Iterable[int] = ()) -> "RecordFlow":
        """The records of the one input where ``predicate`` (over ``InputRef(0)``) holds, unchanged, in order;
        ``attr``: the attribute holding the predicate (then rewrites may move and split the selection)."""
        return cls(SELECT, tuple(reads), frozenset(whole), predicate=predicate, attrs=_attrs(predicate=attr))

    @classmethod
    def copy(cls, *, reads: Iterable[Expression] = (), whole: Iterable[int] = ()) -> "RecordFlow":
        """Some input records, unchanged, chosen or ordered looking at other records too (a sort, a limit)."""
        return cls(COPY, tuple(reads), frozenset(whole))

    @classmethod
    def map(cls, output: Expression | None, *, attr: str | None = None,
            reads: Iterable[Expression] = ()) -> "RecordFlow":
        """One ``output`` value per record of the one input (``attr``: the attribute holding ``output``)."""
        return cls(MAP, tuple(reads), output=output, attrs=_attrs(output=attr))

    @classmethod
    def combine(cls, output: Expression | None, *, condition: Expression | None = None,
                preserved: Iterable[int] = (), attrs: Mapping[str, str | None] | None = None,
                reads: Iterable[Expression] = ()) -> "RecordFlow":
        """One ``output`` value per combination of records satisfying ``condition`` (None: every combination);
        ``preserved`` inputs keep their unmatched records (the others' are then missing)."""
        return cls(COMBINE, tuple(reads), output=output, condition=condition, preserved=tuple(sorted(preserved)),
                   attrs=_attrs(**(attrs or {})))

    @classmethod
    def group(cls, keys: Iterable[Expression | None], output: Expression | None, *,
              attrs: Mapping[str, str | None] | None = None, reads: Iterable[Expression] = ()) -> "RecordFlow":
        """One ``output`` value per group of records with equal keys (one key per input, None: one group)."""
        return cls(GROUP, tuple(reads), output=output, keys=tuple(keys), attrs=_attrs(**(attrs or {})))

    # -- queries ------------------------------------------------------------------------------------------------

    @property
    def copies(self) -> bool:
        """Whether every output record is an input record, unchanged (PASS, SELECT, COPY)."""
        return self.kind in COPYING

    def record_expressions(self) -> tuple[Expression, ...]:
        """The expressions evaluated over single records: ``reads``, the predicate, a condition, the keys."""
        found = [*self.reads, self.predicate, self.condition, *self.keys]
        return tuple(e for e in found if e is not None)

    def expressions(self) -> tuple[Expression, ...]:
        """Every expression of the declaration (the record expressions and the output)."""
        return self.record_expressions() + ((self.output,) if self.output is not None else ())

    def attr(self, role: str) -> str | None:
        """The operator attribute holding ``role``, or None when the operator did not name one."""
        return dict(self.attrs).get(role)

    def can_set(self, *roles: str) -> bool:
        """Whether ``rebuilt`` may give the operator new values for all of ``roles``."""
        return all(self.attr(role) is not None for role in roles)


def _attrs(**roles: str | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((role, attr) for role, attr in roles.items() if attr is not None))


def flow_of(op: Any) -> RecordFlow | None:
    """``op``'s declaration, or None when it declares nothing or has more than one output (opaque)."""
    flow = op.record_flow()
    if flow is not None and not isinstance(flow, RecordFlow):
        raise TypeError(f"{type(op).__name__}.record_flow() returned {flow!r}, not a RecordFlow or None")
    return flow if flow is not None and op.output_count() == 1 else None


def rebuilt(op: Any, flow: RecordFlow, inputs: list[Any] | None = None, **roles: Any) -> Any:
    """A shallow copy of ``op`` reading ``inputs`` (default: its own) with new values for ``roles`` (set on the
    attributes ``flow.attrs`` names). Raises ValueError for a role the operator did not name an attribute for."""
    new = copy.copy(op)
    new.inputs = list(op.inputs if inputs is None else inputs)
    for role, value in roles.items():
        attr = flow.attr(role)
        if attr is None:
            raise ValueError(f"{type(op).__name__} declares no attribute for its {role}")
        setattr(new, attr, value)
    return new
