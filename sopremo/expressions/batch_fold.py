"""The ``fold`` function of a batch kernel (``batch_kernel``): one group's rows folded column by column.

The group's rows (tuples) are transposed into columns once (``zip(*rows)``, in C, stopping after the last field
the fold reads); each distinct element expression is computed once per row, as nested ``map``s of ``operator``
functions when it only applies ``+ - *`` to number columns and constants (Python's arithmetic on ints and floats
is Meteor's), else in a comprehension of the record path's generated code. ``sum`` / ``mean`` over an all-number column add in C: ``sum`` with the running total as
start value, the additions of the generic fold in the same order (before Python 3.12, which made ``sum`` of
floats compensated; there the kernel adds with ``functools.reduce``). A column is known to hold numbers when the
decoder validated its field, else checked once. Anything else goes through the aggregation's own ``add``, as in
``fused.compile_fold``. The fold returns new accumulators and never changes the ones it is given.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
import sys
from typing import Any, Callable

from sopremo.expressions.batch_kernel import FIELD, NotFusable, emit, hoist, var_names
from sopremo.expressions.codegen import BASE_NAMESPACE, Generator
from sopremo.expressions.fused import aggregation_kind
from sopremo.expressions.nodes import Arithmetic, Constant, Expression, Var, map_children

_COLUMN = "__row column "  # prefix of the Var standing for an element computed for an earlier slot

if sys.version_info < (3, 12):
    _SUM: Callable[[list, Any], Any] = sum  # sequential double additions, like ``a += x``
else:
    def _SUM(values: list, start: Any) -> Any:
        return functools.reduce(operator.add, values, start)

_OPERATORS = {"+": "_op_add", "-": "_op_sub", "*": "_op_mul"}
FOLD_NAMESPACE = {"_SUM": _SUM, "_all_numbers": BASE_NAMESPACE["_NUM"].issuperset, "_repeat": itertools.repeat,
                  "_islice": itertools.islice,
                  "_op_add": operator.add, "_op_sub": operator.sub, "_op_mul": operator.mul}


def fold_source(generator: Generator, fields: dict[str, str], positions: dict[str, int], known: dict[str, str],
                slots: list[tuple[Any, Expression | None]], element: str) -> str:
    """Source of ``_batch_fold(_rows, _acc)`` (see ``BatchKernel``); ``positions``: {field: index in a row};
    ``known``: {field variable: "number" or "string"} guaranteed for every row."""
    kinds = [aggregation_kind(aggregation) for aggregation, _ in slots]
    columns: list[tuple[Expression, str]] = []  # (hoisted element expression, column name) computed so far
    lines = [f"a{i}, n{i} = _acc[{i}]" if kind == "mean" else f"a{i} = _acc[{i}]" for i, kind in enumerate(kinds)]
    loaded: set[str] = set()
    for i, ((_, expr), kind) in enumerate(zip(slots, kinds)):
        if expr is None:
            if kind != "count":
                raise NotFusable("an aggregation over whole records")
            lines.append(f"a{i} += len(_rows)")
            continue
        hoisted = hoist(expr, Var(element), fields)
        column = _column(generator, hoisted, fields, columns, loaded, lines)
        lines.extend(_slot_lines(i, kind, column))
    # the rows transposed in C, up to the last field read (zip is lazy: the columns after it are never built)
    width = 1 + max((positions[name] for name, var in fields.items() if var in loaded), default=-1)
    reads = [f"_cols = list(_islice(zip(*_rows), {width}))"] if loaded else []
    for name, var in fields.items():  # the columns of the fields, read first; _n<column>: all numbers
        if var in loaded:
            check = "True" if known.get(var) == "number" else f"_all_numbers(map(type, _c{var}))"
            reads += [f"_c{var} = _cols[{positions[name]}]", f"_n_c{var} = {check}"]
    lines[len(slots):len(slots)] = reads
    result = ", ".join(f"[a{i}, n{i}]" if kind == "mean" else f"a{i}" for i, kind in enumerate(kinds))
    return "def _batch_fold(_rows, _acc):\n    " + "\n    ".join(lines) + f"\n    return [{result}]\n"


def _column(generator: Generator, hoisted: Expression, fields: dict[str, str],
            columns: list[tuple[Expression, str]], loaded: set[str], lines: list[str]) -> str:
    """The name of the column holding ``hoisted`` per row, appending the statements computing it (and
    ``_n<column>``, whether it holds only numbers) to ``lines``; a field is its own column, an element equal
    to an earlier one reuses that column."""
    if isinstance(hoisted, Var) and hoisted.name.startswith(FIELD):
        var = fields[hoisted.name[len(FIELD):]]
        loaded.add(var)
        return f"_c{var}"
    for earlier, column in columns:
        if earlier == hoisted:
            return column
    for earlier, column in columns:  # reuse earlier elements inside this one
        hoisted = _replace(hoisted, earlier, Var(_COLUMN + column))
    name = f"_cx{len(columns)}"
    row_vars = []
    for field in var_names(hoisted, FIELD):
        loaded.add(fields[field])
        row_vars.append((fields[field], f"_c{fields[field]}"))
    for column in var_names(hoisted, _COLUMN):
        generator.variables[_COLUMN + column] = f"_v{column}"
        row_vars.append((f"_v{column}", column))
    text = emit(generator, hoisted)
    columns.append((hoisted, name))
    if not row_vars:
        lines.extend([f"{name} = [{text} for _ in _rows]", f"_n{name} = _all_numbers(map(type, {name}))"])
        return name
    if len(row_vars) == 1:
        loop = f"for {row_vars[0][0]} in {row_vars[0][1]}"
    else:
        loop = f"for {', '.join(var for var, _ in row_vars)} in zip({', '.join(col for _, col in row_vars)})"
    plain = _plain_map(hoisted, {var: col for var, col in row_vars}, generator.variables)
    if plain is None:
        lines.extend([f"{name} = [{text} {loop}]", f"_n{name} = _all_numbers(map(type, {name}))"])
    else:  # numbers only: the type guards go once per column
        numbers = " and ".join(f"_n{col}" for _, col in row_vars)
        lines.extend([f"_n{name} = {numbers}", f"if _n{name}: {name} = list({plain[0]})",
                      f"else: {name} = [{text} {loop}]"])
    return name


def _plain_map(expr: Expression, column_of: dict[str, str], variables: dict[str, str]
               ) -> tuple[str, bool] | None:
    """(source of an iterable, whether it is per row) computing ``expr`` over number columns with ``map`` and
    ``operator`` functions, when ``expr`` only applies ``+ - *`` to columns and number constants; else None."""
    if isinstance(expr, Var):
        return (column_of[variables[expr.name]], True) if variables.get(expr.name) in column_of else None
    if isinstance(expr, Constant):
        plain = type(expr.value) in (int, float) and math.isfinite(expr.value)
        return (f"_repeat({expr.value!r})", False) if plain else None
    if isinstance(expr, Arithmetic) and expr.op in _OPERATORS:
        left = _plain_map(expr.left, column_of, variables)
        right = _plain_map(expr.right, column_of, variables)
        if left is None or right is None or not (left[1] or right[1]):
            return None
        return f"map({_OPERATORS[expr.op]}, {left[0]}, {right[0]})", True
    return None


def _replace(expr: Expression, old: Expression, new: Expression) -> Expression:
    """``expr`` with every subexpression equal to ``old`` replaced by ``new``."""
    if expr == old:
        return new
    return map_children(expr, lambda child: _replace(child, old, new))


def _slot_lines(i: int, kind: str, column: str) -> list[str]:
    """Statements folding ``column`` into the accumulator(s) of slot ``i`` (``fused._slot_lines`` per column)."""
    if kind == "count":
        return [f"a{i} += len({column})"]
    if kind == "sum":
        return [f"if type(a{i}) in _NUM and _n{column}: a{i} = _SUM({column}, a{i})",
                "else:", f"    for _v in {column}:", f"        if type(_v) in _NUM: a{i} += _v",
                f"        else: a{i} = _add{i}(a{i}, _v)"]
    if kind == "mean":
        return [f"if type(a{i}) in _NUM and _n{column}:",
                f"    a{i} = _SUM({column}, a{i})", f"    n{i} += len({column})", "else:",
                f"    for _v in {column}:", "        if type(_v) in _NUM:", f"            a{i} += _v",
                f"            n{i} += 1", f"        else: a{i}, n{i} = _add{i}([a{i}, n{i}], _v)"]
    return [f"for _v in {column}: a{i} = _add{i}(a{i}, _v)"]
