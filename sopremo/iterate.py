"""Iterations in Sopremo plans: the operator behind Meteor's ``iterate`` statement and the two operators that
stand for the loop's inputs and outputs inside its body (VLDB J. 2014, sec. 5.3, brought to the language level).

``Iterate`` is elementary: its inputs are the initial partial solution (bulk) or the initial solution set and
workset (workset iteration); its ``body`` is a small Sopremo plan whose ``IterationInput`` operators read the
current partial solution / solution set / workset and whose ``IterationOutput`` sinks are the step's results.
``to_contract`` translates the body into the step plan of a pact_backend iteration contract; operators of the
enclosing script that the body reads become the step's constant data path (computed once per run).
"""

from __future__ import annotations

from typing import Any

from pact_backend import contracts as pact
from pact_backend.io.memory import CollectOutput
from pact_backend.iterations import (PARTIAL, SOLUTION, WORKSET, BulkIteration, Placeholder, WorksetIteration,
                                     unchanged)
from sopremo.operator import CONSTANT, ElementaryOperator, PropertyError, PropertySpec, SopremoPlan

DEFAULT_MAX_SUPERSTEPS = 1000  # the bound of an iteration without `times`
BULK, WORKSET_KIND = "bulk", "workset"


def roles_for(kind: str, outputs: bool = False) -> tuple[str, ...]:
    """The roles of an iteration's variables, in order: as the body reads them (``outputs`` False: partial
    solution; or solution set and workset) or as its results (next partial solution; or delta, next workset)."""
    if kind == BULK:
        return ("next partial solution",) if outputs else (PARTIAL,)
    return ("delta", "next workset") if outputs else (SOLUTION, WORKSET)


class IterationInput(ElementaryOperator):
    """Inside an ``iterate`` body: the current partial solution, solution set or workset (``role``)."""

    verb = ""
    min_inputs = max_inputs = 0
    properties = (PropertySpec("role", "role", CONSTANT, doc="partial solution, solution set or workset"),)

    def to_contract(self, inputs: list[Any], ctx: Any) -> Any:
        return Placeholder(name=self.display_name(), role=self.role)


class IterationOutput(ElementaryOperator):
    """A result of an ``iterate`` body (next partial solution, termination criterion, delta, next workset)."""

    verb = ""
    properties = (PropertySpec("role", "role", CONSTANT, doc="what the step computes"),)

    def to_contract(self, inputs: list[Any], ctx: Any) -> Any:
        return pact.Sink(name=self.role, inputs=list(inputs), output_format=CollectOutput(self.role))


class Iterate(ElementaryOperator):
    """``iterate $p from $init [times N] [until unchanged | until empty $t] { ... }`` (``kind`` 'bulk') or
    ``iterate $s from $init by <key>, $w from $work [times N] { ... }`` (``kind`` 'workset').

    ``outputs_``: the IterationOutput sinks of the body (bulk: next partial solution [, termination];
    workset: delta, next workset); ``key``: the solution set's key expression over ``$0``; ``times``: the
    superstep bound (default DEFAULT_MAX_SUPERSTEPS); ``until``: 'unchanged', 'empty' or None.
    """

    verb = ""
    min_inputs, max_inputs = 1, 2
    properties = (
        PropertySpec("kind", "kind", CONSTANT, choices=(BULK, WORKSET_KIND), default=BULK),
        PropertySpec("body", "outputs_", CONSTANT, doc="the IterationOutput sinks of the body"),
        PropertySpec("by", "key", doc="the key of the solution set (workset iterations)"),
        PropertySpec("times", "times", CONSTANT, doc="the number (bound) of supersteps"),
        PropertySpec("until", "until", CONSTANT, choices=("unchanged", "empty"), doc="the convergence criterion"),
    )

    def describe(self) -> str:
        words = [f"iterate ({self.kind}"]
        words += [f"times {self.times}"] if self.times is not None else []
        words += [f"until {self.until}"] if self.until else []
        return " ".join(words) + ")"

    def validate(self) -> None:
        super().validate()
        if self.times is not None and (not isinstance(self.times, int) or isinstance(self.times, bool)
                                       or self.times < 1):
            raise PropertyError(f"times needs a positive number of supersteps, got {self.times!r}", "times")
        if self.kind == WORKSET_KIND and (self.key is None or len(self.inputs) != 2):
            raise PropertyError("a workset iteration needs a keyed solution set and a workset", "by")
        if self.kind == BULK and self.times is None and self.until is None:
            raise PropertyError("a bulk iteration needs 'times N' or 'until ...'", "times")

    def to_contract(self, inputs: list[Any], ctx: Any) -> Any:
        from sopremo.to_pact import to_pact

        step = to_pact(SopremoPlan(sinks=list(self.outputs_)), ctx)
        placeholders = {c.role: c for c in step.contracts() if isinstance(c, Placeholder)}
        bound = self.times or DEFAULT_MAX_SUPERSTEPS
        name = self.display_name()
        if self.kind == BULK:
            return BulkIteration(name=name, inputs=list(inputs), step=step, max_supersteps=bound,
                                 partial=placeholders.get(PARTIAL), has_termination=self.until == "empty",
                                 until=unchanged if self.until == "unchanged" else None)
        return WorksetIteration(name=name, inputs=list(inputs), step=step, max_supersteps=bound,
                                solution_key=solution_key(self.key), solution=placeholders.get(SOLUTION),
                                workset=placeholders.get(WORKSET))


def solution_key(expr: Any) -> pact.Key:
    """The key ``record -> hashable(expr(record))`` of the solution set, described like the join keys of base
    (``$0.id``), so a join of the solution set on its key runs as a look-up in its index."""
    from sopremo.expressions.compiler import compile_expression
    from sopremo.expressions.render import render
    from sopremo.values import hashable

    f = compile_expression(expr, 1)

    def key(record: Any) -> Any:
        return hashable(f(record))

    return pact.Key(key, render(expr))
