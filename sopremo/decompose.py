"""Decomposition: expand composite operators to a fixpoint, leaving a plan of elementary operators only.

As in the original Sopremo (VLDB J. 2014, sec. 4: "composite operators ... are decomposed into elementary
operators"), a composite only wires other operators (``CompositeOperator.expand``); decomposition replaces
every read of a composite's output by the stream its expansion returned, repeatedly, until every operator is
elementary and can be translated into exactly one PACT contract (``sopremo.to_pact``).

The input plan is left untouched: an elementary operator whose inputs change is replaced by a shallow copy
with rewired ``inputs``; operators whose inputs do not change (and all sinks of a plan without composites)
are kept as they are. Shared sub-plans stay shared: every operator and every composite is resolved once.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from sopremo.errors import MeteorError
from sopremo.operator import CompositeOperator, ElementaryOperator, JsonStream, Operator, SopremoPlan

MAX_NESTING = 32  # composites expanding into composites expanding into ...: deeper than this is a loop


class PlanError(MeteorError):
    """A plan that cannot be decomposed or translated to PACT (a composite expanding to itself, an expansion
    returning the wrong number of outputs, an elementary operator with several outputs, ...).

    Carries the operator's source location (path, line, column) when the binder recorded one.
    """

    def __init__(self, message: str, operator: Any = None):
        span = getattr(operator, "source_span", None)
        super().__init__(message, path=getattr(span, "path", None), line=getattr(span, "line", None),
                         column=getattr(span, "column", None))
        self.operator = operator


def decompose(plan: SopremoPlan) -> SopremoPlan:
    """The elementary plan of ``plan``: every CompositeOperator expanded, consumers rewired.

    Expanded operators without a ``dop``, ``name`` or ``source_span`` inherit the composite's (names become
    ``composite/verb``). Raises PlanError for a composite that expands to itself or never stops expanding,
    an expansion with the wrong number of outputs, a read of a non-existent output, an operator that is
    neither elementary nor composite, or a composite sink.
    """
    return _Decomposer().plan(plan)


class _Decomposer:
    """Memoised resolution of streams and operators of one plan (ids of original objects as keys)."""

    def __init__(self) -> None:
        self.rewired: dict[int, Operator] = {}
        self.expansions: dict[int, list[JsonStream]] = {}
        self.expanding: list[CompositeOperator] = []
        self.visiting: set[int] = set()
        self.keep: list[Operator] = []  # keeps the memo keys' objects alive

    def plan(self, plan: SopremoPlan) -> SopremoPlan:
        sinks = []
        for sink in plan.sinks:
            if isinstance(sink, CompositeOperator):
                raise PlanError(f"sink {sink!r} is a composite operator; sinks must be elementary", sink)
            sinks.append(self.operator(sink))
        return dataclasses.replace(plan, sinks=sinks)

    def stream(self, stream: JsonStream) -> JsonStream:
        """The elementary stream that ``stream`` denotes (the same object when nothing changes)."""
        op = stream.operator
        if isinstance(op, CompositeOperator):
            outputs = self.expansion(op)
            if not 0 <= stream.index < len(outputs):
                raise PlanError(f"{op!r} has {len(outputs)} output(s); output {stream.index} was read", op)
            return outputs[stream.index]
        new = self.operator(op)
        return stream if new is op else JsonStream(new, stream.index)

    def operator(self, op: Operator) -> Operator:
        """``op`` itself, or a copy of it whose inputs are the elementary streams of its inputs."""
        done = self.rewired.get(id(op))
        if done is not None:
            return done
        if not isinstance(op, ElementaryOperator):
            raise PlanError(f"{op!r} is neither an elementary nor a composite operator", op)
        if id(op) in self.visiting:
            raise PlanError(f"the plan has a cycle through {op!r}", op)
        self.visiting.add(id(op))
        inputs = [self.stream(s) for s in op.inputs]
        self.visiting.discard(id(op))
        new = op
        if any(a is not b for a, b in zip(inputs, op.inputs)):
            new = copy.copy(op)
            new.inputs = inputs
        self.rewired[id(op)] = new
        self.keep.append(op)
        return new

    def expansion(self, op: CompositeOperator) -> list[JsonStream]:
        """The elementary streams of the outputs of ``op``, expanding it (and what it expands to) once."""
        done = self.expansions.get(id(op))
        if done is not None:
            return done
        if any(other is op for other in self.expanding):
            raise PlanError(f"composite {op!r} expands to itself ({self._chain(op)})", op)
        if id(op) in self.visiting:
            raise PlanError(f"the plan has a cycle through {op!r}", op)
        self.visiting.add(id(op))
        for s in op.inputs:  # upstream first, so that nesting depth counts only expansions inside `op`
            self.stream(s)
        self.visiting.discard(id(op))
        if len(self.expanding) >= MAX_NESTING:
            raise PlanError(f"expansion does not terminate after {MAX_NESTING} nested composites "
                            f"({self._chain(op)})", op)
        self.expanding.append(op)
        try:
            outputs = self._expand(op)
            resolved = [self.stream(s) for s in outputs]
        finally:
            self.expanding.pop()
        self.expansions[id(op)] = resolved
        self.keep.append(op)
        return resolved

    def _expand(self, op: CompositeOperator) -> list[JsonStream]:
        outputs = op.expand()
        if not isinstance(outputs, (list, tuple)) or not all(isinstance(s, JsonStream) for s in outputs):
            raise PlanError(f"{type(op).__name__}.expand() must return a list of JsonStream, "
                            f"got {outputs!r}", op)
        if len(outputs) != op.output_count():
            raise PlanError(f"{type(op).__name__}.expand() returned {len(outputs)} stream(s) for "
                            f"{op.output_count()} output(s)", op)
        _inherit(op, list(outputs))
        return list(outputs)

    def _chain(self, op: CompositeOperator) -> str:
        return " -> ".join(type(o).__name__ for o in [*self.expanding, op])


def _upstream(op: Operator) -> set[int]:
    """Ids of all operators ``op`` reads from, directly or indirectly (not ``op`` itself)."""
    seen: set[int] = set()
    stack = [s.operator for s in op.inputs]
    while stack:
        current = stack.pop()
        if id(current) not in seen:
            seen.add(id(current))
            stack.extend(s.operator for s in current.inputs)
    return seen


def _inherit(composite: CompositeOperator, outputs: list[JsonStream]) -> None:
    """Give the operators new in ``composite``'s expansion its dop, source span and a derived name."""
    known = _upstream(composite)
    known.add(id(composite))
    stack = [s.operator for s in outputs]
    while stack:
        op = stack.pop()
        if id(op) in known:
            continue
        known.add(id(op))
        if op.dop is None:
            op.dop = composite.dop
        if op.source_span is None:
            op.source_span = composite.source_span
        if op.name is None:
            op.name = f"{composite.display_name()}/{op.verb or type(op).__name__}"
        stack.extend(s.operator for s in op.inputs)
