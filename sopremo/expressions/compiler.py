"""Compiles Sopremo expression trees into Python functions once per plan (never a tree walk per record).

``compile_expression`` generates the source of one Python function from the tree and compiles it: paths on dicts,
numeric arithmetic and comparisons with a constant side are inlined, everything else calls the semantics in
``sopremo.expressions.runtime`` (DESIGN.md, "Records, expressions, speed"; VLDB J. 2014, sec. 7 compiles UDFs
once per task the same way). Node translations live in ``sopremo.expressions.codegen``.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from sopremo.errors import MeteorError, OperatorError
from sopremo.expressions.codegen import Generator
from sopremo.expressions.located import annotate, failing_site
from sopremo.expressions.nodes import Expression

_LOCALS = ("*", "type=type", "MISSING=MISSING", "_NUM=_NUM", "_MAXD=_MAXD")
_TRANSLATED = (TypeError, ValueError, ArithmeticError, AttributeError, LookupError, re.error, RecursionError)
_NO_FIELDS: dict = {}


def _wrap_error(error: Exception, expr: Expression, spans: dict, sites: list) -> OperatorError:
    """A Python error raised inside an expression (a function, a UDF), as a user-facing error naming the failing
    node as the script writes it (``sum()``, ``'/'``), or the whole expression when no node is known."""
    site = failing_site(error.__traceback__, spans, sites)
    if site is not None:
        text = site.label
    else:
        try:
            from sopremo.expressions.render import render
            text = render(expr)[:200]
        except Exception:  # rendering is best effort: the error itself matters more
            text = repr(expr)[:200]
    if isinstance(error, OverflowError):  # an int beyond the double range met a float
        return OperatorError(f"numeric overflow in {text}: a value beyond the double range (±1.8e308)")
    if site is not None and text.endswith("()"):  # a function or UDF failed
        return OperatorError(f"{text} failed: {type(error).__name__}: {error}")
    return OperatorError(f"cannot evaluate {text}: {type(error).__name__}: {error}")


def compile_expression(expr: Expression, arity: int = 1, variables: tuple[str, ...] = ()) -> Callable[..., Any]:
    """A function taking ``arity`` input values then one value per name in ``variables``, returning ``expr``'s value.

    ``InputRef(i)`` reads the i-th input, ``Var(name)`` the variable ``name``. Raises MeteorError when the
    expression reads inputs beyond ``arity``, unknown variables, or holds nodes that cannot be evaluated; the
    returned function raises OperatorError on run-time errors (``'abc' * 2``).
    """
    return _compile(expr, arity, variables, predicate=False)


def compile_predicate(expr: Expression, arity: int = 1, variables: tuple[str, ...] = ()) -> Callable[..., bool]:
    """Like ``compile_expression``, but the function returns the Meteor truthiness of ``expr``'s value as a
    Python bool (``sopremo.values.truthy``, applied inside the generated code only when the compiler cannot
    tell that the value is already a bool), so callers can hand it to ``filter`` directly. Raises as
    ``compile_expression`` does.
    """
    return _compile(expr, arity, variables, predicate=True)


def _compile(expr: Expression, arity: int, variables: tuple[str, ...], predicate: bool) -> Callable[..., Any]:
    generator = Generator(arity, tuple(variables))
    code = generator.emit(expr)
    body = generator.truth(code) if predicate else code.text
    params = ", ".join(generator.inputs + tuple(generator.variables.values()) + _LOCALS)
    preamble = "".join(f"    {name} = {source} if type({source}) is dict else _NO_FIELDS\n"
                       for source, name in generator.records.items())
    inputs = "(" + "".join(f"{name}, " for name in generator.inputs) + ")"
    source = (f"def _meteor_expression({params}):\n{preamble}"
              f"    try:\n"
              f"        return {body}\n"
              f"    except _MeteorError as error:\n"
              f"        raise _annotate(error, _SPANS, _SITES, {inputs})\n"
              f"    except _TRANSLATED as error:\n"
              f"        raise _annotate(_wrap_error(error, _expression, _SPANS, _SITES), _SPANS, _SITES, {inputs},\n"
              f"                        error.__traceback__) from error\n")
    generator.namespace.update(_expression=expr, _NO_FIELDS=_NO_FIELDS, _MeteorError=MeteorError,
                               _TRANSLATED=_TRANSLATED, _wrap_error=_wrap_error, _annotate=annotate)
    function = generator.define(source, "_meteor_expression")
    function.__doc__ = f"Compiled Meteor expression {expr!r}"[:500]
    return function


def evaluate_constant(expr: Expression) -> Any:
    """The value of an expression that reads no inputs or variables (bind-time constants: ``'dir/' + 'x'``).

    Raises MeteorError when the expression reads an input or a variable, OperatorError when evaluation fails.
    """
    return compile_expression(expr, arity=0)()
