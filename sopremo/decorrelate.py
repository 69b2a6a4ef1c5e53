"""Decorrelation: nested operators and data sets inside expressions become joins, groupings and broadcast values.

``filter $p where $p.q < 0.2 * mean((filter $l in $li where $l.pk == $p.pk)[*].q)`` reads, for every record of
``$p``, the records of ``$li`` with its key; run as written it would scan ``$li`` once per record (the original's
NestedOperatorExpression could be parsed but not evaluated). The classic unnesting rewrites turn such a plan into
set operations (Kim, TODS 1982; Dayal, VLDB 1987; Neumann and Kemper, BTW 2015):

- EXISTS (``count(N) > 0``) and IN (``$x.v in (transform $b into $b.v)``) filter through a semi join, NOT
  EXISTS and NOT IN through an anti join;
- a scalar use of a correlated N (``mean(N[*].q)``, ``N[0].cost``, ``count(N)``) becomes a group of N's source
  per correlation key and a left outer join bringing each record its group's value (a grouped join);
- an N that is not correlated, and a data set named in an expression (``contains($dict[*].v, $x.v)``, the
  original's JsonStreamExpression), are computed once and broadcast to every record (a side channel);
- a correlated N without an equality to join on reads its whole source, broadcast, per record.

``RULES`` is the ordered list: each rule looks at one operator that holds a nested value and returns the stream
replacing its output, or None; ``decorrelate(plan)`` applies them until no operator holds one (a copy on write,
as ``sopremo.rewrite`` does: the plan as written stays, so ``meteor explain`` shows both). The last rule raises
a PlanError at the nested operator's line and column, naming what cannot be decorrelated.

Semantics: a correlation ``inner == outer`` compares like a join key: a missing value on either side matches
nothing (null matches null). ``not in`` keeps a record when no value equals it, unlike SQL's NOT IN, which
rejects every record once the subquery holds a null.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Callable

from sopremo.correlation import one_input
from sopremo.decompose import PlanError
from sopremo.expressions.nodes import DataSetRef
from sopremo.flow import MAP, SELECT
from sopremo.nested import nested_in, outer_levels
from sopremo.operator import JsonStream, Operator, SopremoPlan
from sopremo.plan_pass import rewrite_pass
from sopremo.side_channel import data_set_to_attached_value, uncorrelated_to_data_set
from sopremo.subqueries import correlated_to_broadcast, exists_to_semi_join, in_to_exists, scalar_to_grouped_join
from sopremo.unnesting import holder_flow

MAX_PASSES = 100  # every pass removes one nested value per operator; the bound guards against a loop


def unsupported(op: Operator) -> JsonStream | None:
    """The last rule: raise a PlanError at the first nested value no rule could remove, saying why."""
    node = nested_in(op)[0]
    verb = op.verb or type(op).__name__
    if isinstance(node, DataSetRef):
        name = node.stream.operator.display_name()
        raise _error(f"the data set {name} is read inside an expression of '{verb}', which cannot read a data "
                     f"set that way (filter, transform, join and one-input group can): join {name} instead",
                     node.span, op)
    inner = node.operator
    what = f"the nested '{inner.verb or type(inner).__name__}'"
    if holder_flow(op) is None:
        reason = (f"'{verb}' cannot hold a nested operator (filter, transform, join and one-input group can): "
                  f"assign it to a variable first")
    elif one_input(inner, SELECT, MAP) is None:
        reason = ("it reads the records of the enclosing operator, which only a nested filter or transform of one "
                  "data set may do: compute it as a statement of its own and join it")
    elif outer_levels(inner) - {1}:
        reason = "it reads the records of an operator two or more levels out, which is not supported"
    else:
        reason = ("an operator nested inside it reads its records, which is not supported: assign the inner "
                  "filter to a variable")
    raise _error(f"cannot decorrelate {what}: {reason}", inner.source_span, op)


def _error(message: str, span, op: Operator) -> PlanError:
    """A PlanError at ``span`` (the nested value in the script), else at ``op``."""
    return PlanError(message, SimpleNamespace(source_span=span) if span is not None else op)


# The rules, in the order they are tried on each operator holding a nested value (the first that applies wins;
# passes repeat until no operator holds one).
RULES: tuple[Callable[[Operator], JsonStream | None], ...] = (
    in_to_exists,                 # e in N / not in: EXISTS / NOT EXISTS with one more equality
    exists_to_semi_join,          # count(N) > 0 / == 0 as a where conjunct: semi / anti join
    scalar_to_grouped_join,       # any other use of an equi-correlated N: group per key + left outer join
    correlated_to_broadcast,      # correlated without equalities: N's source whole, N applied per record
    uncorrelated_to_data_set,     # N reads no outer record: its output is a data set
    data_set_to_attached_value,   # a data set in an expression: computed once, broadcast to every record
    unsupported,                  # anything left: a PlanError at the nested operator
)


# ---- the driver --------------------------------------------------------------------------------------------------


def decorrelate(plan: SopremoPlan, rules=RULES) -> SopremoPlan:
    """``plan`` without nested operators and data sets inside expressions (``plan`` itself when it has none).

    Raises PlanError at the script location of a nested value that cannot be decorrelated."""
    for _ in range(MAX_PASSES):
        plan, changed = _pass(plan, rules)
        if not changed:
            return plan
    raise PlanError(f"decorrelation did not finish after {MAX_PASSES} passes")


def _pass(plan: SopremoPlan, rules) -> tuple[SopremoPlan, bool]:
    """One pass (``sopremo.plan_pass``): each operator holding a nested value is offered to the rules once."""

    def offer(op: Operator) -> JsonStream | None:
        return next((s for rule in rules if (s := rule(op)) is not None), None) if nested_in(op) else None

    return rewrite_pass(plan, offer)
