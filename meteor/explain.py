"""Text rendering of a Sopremo plan for ``meteor explain``: one line per operator with its properties."""

from __future__ import annotations

from typing import Any

from sopremo.expressions.nodes import Expression
from sopremo.expressions.render import render
from sopremo.operator import Operator, SopremoPlan


def _value_text(value: Any, inputs: tuple[str, ...]) -> str:
    if isinstance(value, Expression):
        return render(value, inputs)
    if isinstance(value, tuple):
        return "(" + ", ".join(_value_text(v, inputs) for v in value) + ")"
    return repr(value)


def _describe(op: Operator) -> str:
    describe = getattr(op, "describe", None)
    return describe() if callable(describe) else (op.verb or type(op).__name__)


def render_sopremo(plan: SopremoPlan) -> str:
    """One line per operator in topological order: ``[id] verb <- inputs`` then its set properties."""
    ids = {id(op): i for i, op in enumerate(plan.operators(), 1)}
    lines = []
    for op in plan.operators():
        inputs = tuple(f"[{ids[id(s.operator)]}]" + (f"#{s.index}" if s.index else "") for s in op.inputs)
        names = tuple("$" + (s.operator.name or str(ids[id(s.operator)])) for s in op.inputs)
        head = f"[{ids[id(op)]}] {_describe(op)}"
        if op.name:
            head += f" -> ${op.name}"
        if inputs:
            head += "  <- " + ", ".join(inputs)
        if op.dop:
            head += f"  (parallel {op.dop})"
        lines.append(head)
        for spec, value in op.property_values():
            if value is not None and value != spec.default:
                lines.append(f"      {spec.words or spec.attr}: {_value_text(value, names)}")
    return "\n".join(lines)
