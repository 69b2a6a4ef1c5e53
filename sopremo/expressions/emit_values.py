"""Source generation for the value operators (arithmetic, comparison, logic, membership, conditionals, casts).

A mixin of ``sopremo.expressions.codegen.Generator``: numeric arithmetic and comparisons against a constant are
inlined with type guards, everything else calls ``sopremo.expressions.runtime`` (docs/language.md,
"A script"; the runtime module documents the missing/null/string rules).
"""

from __future__ import annotations

import math
from typing import Any, Callable

from sopremo.errors import MeteorError
from sopremo.expressions import nodes as n
from sopremo.expressions.render import render
from sopremo.quick_dataclass import dataclass
from sopremo.types import caster
from sopremo.values import hashable

_PY_OPS = {"+": "+", "-": "-", "*": "*", "/": "/"}
_RUNTIME = {"+": "_add", "-": "_subtract", "*": "_multiply", "/": "_divide"}
_COMPARE = {"==": "_equal", "!=": "_not_equal", "<": "_less", "<=": "_less_equal", ">": "_greater",
            ">=": "_greater_equal"}
_MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_UNARY = {"-": "_negate", "++": "_increment", "--": "_decrement", "~": "_bitwise_not"}


@dataclass(frozen=True)
class Code:
    """Generated Python expression text; ``is_bool``: always a bool; ``maybe_missing``: may yield MISSING."""

    text: str
    is_bool: bool = False
    maybe_missing: bool = True


def _is_number(value: Any) -> bool:
    return type(value) is int or (type(value) is float and math.isfinite(value))


class ValueEmitters:
    """``emit_*`` methods for operators on values; relies on the Generator's emit/bind/constant/truth/fresh."""

    def emit_arithmetic(self, expr: n.Arithmetic) -> Code:
        """``left op right``: numbers inline, everything else through ``runtime``.

        An inline result is checked against the double range (``runtime.finite``) where it leaves arithmetic:
        Infinity and NaN survive ``+ - *`` and a numerator, so a chain ``a * b + c`` is checked once at its top,
        and a divisor (``x / inf`` would hide the overflow as 0) on its own.
        """
        checked = not getattr(self, "_unchecked_operand", False)
        self._unchecked_operand = False
        op, slow = _PY_OPS[expr.op], _RUNTIME[expr.op]
        left = self._operand(expr.left, unchecked=True)
        right = self._operand(expr.right, unchecked=op != "/")
        check = self._checked(expr) if checked else self._plain
        missing = left.maybe_missing or right.maybe_missing
        lconst = expr.left.value if isinstance(expr.left, n.Constant) else None
        rconst = expr.right.value if isinstance(expr.right, n.Constant) else None
        if type(lconst) is str or type(rconst) is str:
            return Code(f"{slow}({left.text}, {right.text})", maybe_missing=missing)
        if _is_number(rconst) and not (op == "/" and rconst == 0):
            first, value = self.bind(left.text)
            inline = check(value, op, right.text)
            return Code(f"({inline} if type({first}) in _NUM else {slow}({value}, {right.text}))",
                        maybe_missing=missing)
        if _is_number(lconst):
            first, value = self.bind(right.text)
            guard = f"type({first}) in _NUM" + (f" and {value}" if op == "/" else "")
            inline = check(left.text, op, value)
            return Code(f"({inline} if {guard} else {slow}({left.text}, {value}))", maybe_missing=missing)
        lfirst, lvalue = self.bind(left.text)
        rfirst, rvalue = self.bind(right.text)
        if lvalue == rvalue and lfirst == lvalue:
            guard = f"type({lfirst}) in _NUM"
        else:
            guard = f"(type({lfirst}) in _NUM) & (type({rfirst}) in _NUM)"
        if op == "/":
            guard += f" and {rvalue}"
        inline = check(lvalue, op, rvalue)
        return Code(f"({inline} if {guard} else {slow}({lvalue}, {rvalue}))", maybe_missing=missing)

    def _operand(self, expr: n.Expression, unchecked: bool) -> Code:
        """The code of an operand; an arithmetic one skips its range check when ``unchecked`` (its parent checks)."""
        self._unchecked_operand = unchecked and isinstance(expr, n.Arithmetic)
        try:
            return self.emit(expr)
        finally:
            self._unchecked_operand = False

    @staticmethod
    def _plain(left: str, op: str, right: str) -> str:
        return f"{left} {op} {right}"

    def _checked(self, expr: n.Arithmetic) -> Callable[[str, str, str], str]:
        """A builder of ``left op right`` on two numbers whose result passes only within the double range (a fast
        chained comparison; beyond it, or NaN, ``runtime.finite_result`` raises an error naming ``expr``, and
        passes big ints)."""
        # the script's operator when the node is located (the error then points at it), never an internal $0
        result = self.fresh("_r")
        text = self.constant(f"'{expr.op}'" if expr.origin is not None else render(expr))

        def build(left: str, op: str, right: str) -> str:
            return (f"({result} if -_MAXD <= ({result} := {left} {op} {right}) <= _MAXD "
                    f"else _finite({result}, {text}))")

        return build

    def emit_comparison(self, expr: n.Comparison) -> Code:
        """``left op right``: specialised when one side is a constant, else ``runtime``."""
        op = expr.op
        if isinstance(expr.left, n.Constant) and not isinstance(expr.right, n.Constant):
            return self._compare_constant(_MIRROR[op], self.emit(expr.right), expr.left.value)
        if isinstance(expr.right, n.Constant) and not isinstance(expr.left, n.Constant):
            return self._compare_constant(op, self.emit(expr.left), expr.right.value)
        return Code(f"{_COMPARE[op]}({self.emit(expr.left).text}, {self.emit(expr.right).text})", True, False)

    def _compare_constant(self, op: str, operand: Code, value: Any) -> Code:
        """``operand op value`` with the constant on the right, specialised on the constant's type."""
        const = self.constant(value)
        if op in ("==", "!=") and (type(value) is str or value is None or type(value) is bool):
            py_op = {"==": "is", "!=": "is not"}[op] if type(value) is not str else op
            return Code(f"({operand.text} {py_op} {const})", True, False)
        if op in ("==", "!=") and _is_number(value):
            first, name = self.bind(operand.text)
            test = f"({first} == {const} and type({name}) is not bool)"
            return Code(test if op == "==" else f"(not {test})", True, False)
        guard = "is str" if type(value) is str else "in _NUM" if _is_number(value) else None
        if guard is None or op in ("==", "!="):
            return Code(f"{_COMPARE[op]}({operand.text}, {const})", True, False)
        first, name = self.bind(operand.text)
        return Code(f"({name} {op} {const} if type({first}) {guard} else {_COMPARE[op]}({name}, {const}))",
                    True, False)

    def emit_and(self, expr: n.And) -> Code:
        """n-ary ``and`` on Meteor truthiness, short-circuiting, a bool."""
        return Code("(" + " and ".join(self.truth(self.emit(item)) for item in expr.items) + ")", True, False)

    def emit_or(self, expr: n.Or) -> Code:
        """n-ary ``or`` on Meteor truthiness, short-circuiting, a bool."""
        return Code("(" + " or ".join(self.truth(self.emit(item)) for item in expr.items) + ")", True, False)

    def emit_not(self, expr: n.Not) -> Code:
        """``not x`` on Meteor truthiness."""
        return Code(f"(not {self.truth(self.emit(expr.operand))})", True, False)

    def emit_unary(self, expr: n.UnaryOp) -> Code:
        """``-x`` inline for numbers; ``++x``, ``--x``, ``~x`` through ``runtime``."""
        operand = self.emit(expr.operand)
        if expr.op == "-":
            first, name = self.bind(operand.text)
            return Code(f"(-{name} if type({first}) in _NUM else _negate({name}))", maybe_missing=operand.maybe_missing)
        if expr.op not in _UNARY:
            raise MeteorError(f"unknown unary operator {expr.op!r}")
        return Code(f"{_UNARY[expr.op]}({operand.text})", maybe_missing=operand.maybe_missing)

    def emit_element_in(self, expr: n.ElementIn) -> Code:
        """``x in y``: a frozenset probe for constant arrays, else ``runtime.element_in``."""
        element = self.emit(expr.element).text
        negation = "not " if expr.negate else ""
        if isinstance(expr.collection, n.Constant) and type(expr.collection.value) is list:
            keys = self.constant(frozenset(hashable(v) for v in expr.collection.value))
            return Code(f"(_hashable({element}) {negation}in {keys})", True, False)
        return Code(f"({negation}_element_in({element}, {self.emit(expr.collection).text}))", True, False)

    def emit_ternary(self, expr: n.Ternary) -> Code:
        """``c ? a : b`` and the Elvis form ``c ?: b`` (c evaluated once)."""
        otherwise = self.emit(expr.otherwise)
        if expr.then is None:
            condition = self.emit(expr.condition)
            first, name = self.bind(condition.text)
            text = f"({name} if {self.truth(Code(first, condition.is_bool))} else {otherwise.text})"
            return Code(text, maybe_missing=condition.maybe_missing or otherwise.maybe_missing)
        condition, then = self.truth(self.emit(expr.condition)), self.emit(expr.then)
        return Code(f"({then.text} if {condition} else {otherwise.text})", then.is_bool and otherwise.is_bool,
                    then.maybe_missing or otherwise.maybe_missing)

    def emit_if_postfix(self, expr: n.IfPostfix) -> Code:
        """``value if cond``: missing when the condition is not truthy."""
        condition, value = self.truth(self.emit(expr.condition)), self.emit(expr.value)
        return Code(f"({value.text} if {condition} else MISSING)")

    def emit_cast(self, expr: n.Cast) -> Code:
        """``(type) x`` through the converter of ``sopremo.types`` (resolved at compile time)."""
        convert = self.constant(caster(expr.type_name))
        return Code(f"{convert}({self.emit(expr.operand).text})")
