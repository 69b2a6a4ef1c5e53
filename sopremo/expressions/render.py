"""Render expression trees back to Meteor-like text, for ``meteor explain`` and error messages."""

from __future__ import annotations

from typing import Callable

import orjson

from sopremo.expressions import nodes as n
from sopremo.values import MISSING


def render(expr: n.Expression | None, inputs: tuple[str, ...] = (), outer: tuple[tuple[str, ...], ...] = ()) -> str:
    """Meteor-like text of ``expr``; ``inputs`` names InputRef(i) (default ``$0``, ``$1``, ...), ``outer`` the
    inputs of the enclosing operators (innermost first) for the ``OuterRef`` nodes of a nested operator."""
    if expr is None:
        return "-"
    return _Renderer(inputs, outer).text(expr)


def _stream_name(stream: object) -> str:
    name = stream.operator.display_name()  # type: ignore[attr-defined]
    return name if name.startswith("$") else "$" + name


def _literal(value: object) -> str:
    if value is MISSING:
        return "missing"
    if isinstance(value, str):
        return "'" + value + "'"
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return repr(value)


class _Renderer:
    def __init__(self, inputs: tuple[str, ...], outer: tuple[tuple[str, ...], ...] = ()):
        self.inputs, self.outer = inputs, outer
        self.rules: dict[type, Callable[[n.Expression], str]] = {
            n.Constant: lambda e: _literal(e.value),
            n.InputRef: self._input,
            n.ElementRef: lambda e: "*",
            n.LambdaParam: lambda e: e.name,
            n.Var: lambda e: "$" + e.name,
            n.FieldAccess: lambda e: f"{self.text(e.base)}{'?.' if e.safe else '.'}{e.name}",
            n.ArrayIndex: lambda e: f"{self.text(e.base)}[{self.text(e.index)}]",
            n.ArraySlice: lambda e: f"{self.text(e.base)}[{self._opt(e.start)}:{self._opt(e.end)}]",
            n.ArrayProjection: self._projection,
            n.Arithmetic: lambda e: f"({self.text(e.left)} {e.op} {self.text(e.right)})",
            n.Comparison: lambda e: f"{self.text(e.left)} {e.op} {self.text(e.right)}",
            n.And: lambda e: " and ".join(self._paren(i) for i in e.items),
            n.Or: lambda e: " or ".join(self._paren(i) for i in e.items),
            n.Not: lambda e: f"!{self._paren(e.operand)}",
            n.UnaryOp: lambda e: f"{e.op}{self._paren(e.operand)}",
            n.ElementIn: lambda e: f"{self.text(e.element)} {'not in' if e.negate else 'in'} "
                                   f"{self.text(e.collection)}",
            n.Ternary: self._ternary,
            n.IfPostfix: lambda e: f"{self.text(e.value)} if {self.text(e.condition)}",
            n.Cast: lambda e: f"({e.type_name}) {self._paren(e.operand)}",
            n.ArrayConstruction: lambda e: "[" + ", ".join(self.text(i) for i in e.items) + "]",
            n.ObjectConstruction: lambda e: "{" + ", ".join(self.text(i) for i in e.entries) + "}",
            n.FieldAssignment: lambda e: f"{e.name}: {self.text(e.value)}",
            n.CopyFields: lambda e: f"{self.text(e.source)}.*",
            n.TagMapping: lambda e: f"{self.text(e.target)}: {self.text(e.value)}",
            n.FunctionCall: lambda e: f"{e.name}(" + ", ".join(self._argument(a) for a in e.args) + ")",
            n.Lambda: lambda e: f"fn({', '.join(e.params)}) {{ {self.text(e.body)} }}",
            n.Directed: lambda e: f"{self.text(e.operand)} {'desc' if e.descending else 'asc'}",
            n.NestedOperator: self._nested,
            n.OuterRef: self._outer,
            n.DataSetRef: lambda e: _stream_name(e.stream),
        }

    def text(self, expr: n.Expression) -> str:
        rule = self.rules.get(type(expr))
        return rule(expr) if rule else type(expr).__name__

    def _opt(self, expr: n.Expression | None) -> str:
        return "" if expr is None else self.text(expr)

    def _paren(self, expr: n.Expression) -> str:
        text = self.text(expr)
        return f"({text})" if isinstance(expr, (n.And, n.Or, n.Comparison, n.Ternary)) else text

    def _input(self, expr: n.InputRef) -> str:
        if expr.index < len(self.inputs):
            return self.inputs[expr.index]
        return f"${expr.index}"

    def _argument(self, expr: n.Expression) -> str:
        text = self.text(expr)
        return text[1:-1] if isinstance(expr, n.NestedOperator) and text.startswith("(") else text

    def _outer(self, expr: n.OuterRef) -> str:
        names = self.outer[expr.level - 1] if expr.level <= len(self.outer) else ()
        name = names[expr.index] if expr.index < len(names) else f"$outer{expr.index}"
        return name + "@outer" if name in self.inputs else name

    def _nested(self, expr: n.NestedOperator) -> str:
        """``(verb $in where ...)``: an operator inside an expression, its properties rendered over its inputs."""
        op = expr.operator
        if not hasattr(op, "property_values"):
            return f"<{getattr(op, 'verb', 'operator')}>"
        names = tuple(_stream_name(s) for s in op.inputs)
        inner = _Renderer(names, (self.inputs, *self.outer))
        words = [f"{spec.words} {inner.text(value)}" for spec, value in op.property_values()
                 if isinstance(value, n.Expression) and value != spec.default]
        return "(" + " ".join([op.verb, ", ".join(names), *words]) + ")"

    def _projection(self, expr: n.ArrayProjection) -> str:
        element = self.text(expr.element)
        if element.startswith("*"):
            element = element[1:]
        return f"{self.text(expr.base)}[*]{element}"

    def _ternary(self, expr: n.Ternary) -> str:
        then = "" if expr.then is None else f" {self.text(expr.then)} "
        return f"{self._paren(expr.condition)} ?{then}: {self.text(expr.otherwise)}"
