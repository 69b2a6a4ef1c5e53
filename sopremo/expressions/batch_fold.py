"""Batch kernels: a source's filters, a group key and the algebraic aggregations of ``group ... into``, generated
as two Python functions over decoded rows, so a chunk of input is filtered, grouped and folded without building a
record per line (VLDB J. 2014, sec. 7: source -> map -> combine chained in one task, each UDF compiled once).

The rows are projected Structs (``sopremo.io.projected.RowDecoder``): the field ``name`` of a row is the
attribute ``attributes[name]``, an absent field reads ``MISSING``. ``bucketize(rows, buckets)`` applies the
filters in order and appends every passing row to ``buckets[key]`` (the key equals ``hashable(key(record))`` of
the generic path, see ``fused.key_code``); ``fold(rows, accumulators)`` folds one bucket column by column: each
field is read once per row (``operator.attrgetter`` in C), each distinct element expression is computed once
per row in a list comprehension, and ``sum`` / ``mean`` over an all-number column add in C (``sum`` with the
running total as start value: the additions of the generic fold, in the same order, before Python 3.12, which
made ``sum`` of floats compensated; there the kernel adds with ``functools.reduce``). Anything else goes
through the aggregation's own ``add``, as in ``fused.compile_fold``. ``fold`` returns new accumulators and
never changes the ones it is given, so a batch that raises can be redone by the generic path.
"""

from __future__ import annotations

import functools
import math
import operator
import sys
from dataclasses import dataclass
from typing import Any, Callable

from sopremo.errors import MeteorError
from sopremo.expressions.codegen import Generator
from sopremo.expressions.fused import aggregation_kind, key_code
from sopremo.expressions.nodes import Arithmetic, Constant, Expression, FieldAccess, InputRef, Var, map_children

_FIELD = "__row field "  # prefix of the Var standing for a field of the row (read once)
_COLUMN = "__row column "  # prefix of the Var standing for an element computed for an earlier slot

if sys.version_info < (3, 12):
    _SUM: Callable[[list, Any], Any] = sum  # sequential double additions, like ``a += x``
else:
    def _SUM(values: list, start: Any) -> Any:
        return functools.reduce(operator.add, values, start)


class NotFusable(Exception):
    """The expressions read the row otherwise than through decoded top-level fields."""


@dataclass
class BatchKernel:
    """The generated functions of one filter -> group -> combine chain (see the module docstring).

    ``bucketize(rows, buckets) -> [records passing filter 1, filter 2, ...]``; ``fold(rows, accumulators) ->
    accumulators`` (one per slot: a number, ``[sum, count]`` for mean, or the aggregation's own state);
    ``initial()`` the accumulators of an empty group. ``source`` holds the generated code (for debugging).
    """

    bucketize: Callable[[list[Any], dict[Any, list[Any]]], list[int]]
    fold: Callable[[list[Any], list[Any]], list[Any]]
    initial: Callable[[], list[Any]]
    source: str


def compile_batch_kernel(attributes: dict[str, str], predicates: list[Expression], key: Expression | None,
                         slots: list[tuple[Any, Expression | None]], element: str) -> BatchKernel:
    """The kernel for rows with ``attributes`` (field name -> attribute), filtered by ``predicates`` (over
    ``InputRef(0)``, the record), grouped by ``key`` (over ``InputRef(0)``; None: one group) and folding
    ``slots`` (aggregation, element expression over ``Var(element)`` or None = the record itself).

    Raises NotFusable when an expression reads the record other than by a decoded field, or a slot other than
    ``count`` folds the record itself."""
    fields = {name: f"_f{i}" for i, name in enumerate(sorted(attributes))}
    generator = Generator(0, ())
    generator.variables.update({_FIELD + name: var for name, var in fields.items()})
    source = (_bucketize_source(generator, attributes, fields, predicates, key) + "\n"
              + _fold_source(generator, fields, slots, element))
    namespace = generator.namespace
    namespace.update({f"_get{fields[name]}": operator.attrgetter(attr) for name, attr in attributes.items()})
    namespace.update(_SUM=_SUM, _all_numbers=namespace["_NUM"].issuperset)
    namespace.update({f"_add{i}": aggregation.add for i, (aggregation, _) in enumerate(slots)})
    generator.define(source, "_bucketize")
    initials = [aggregation.initial for aggregation, _ in slots]
    return BatchKernel(namespace["_bucketize"], namespace["_batch_fold"],
                       lambda: [initial() for initial in initials], source)


def _hoist(expr: Expression, base: Expression, fields: dict[str, str]) -> Expression:
    """``expr`` with every field read of ``base`` (``base.name`` or ``base?.name``: the row is an object) replaced
    by the Var of that field; NotFusable for a field the rows do not hold."""
    if isinstance(expr, FieldAccess) and expr.base == base:
        if expr.name not in fields:
            raise NotFusable(expr.name)
        return Var(_FIELD + expr.name)
    return map_children(expr, lambda child: _hoist(child, base, fields))


def _emit(generator: Generator, expr: Expression, predicate: bool = False) -> str:
    """Source of ``expr`` (its truth as a bool when ``predicate``); NotFusable when it still reads the record
    (an input or variable the generator does not know) or needs a per-record preamble."""
    try:
        code = generator.emit(expr)
    except MeteorError:
        raise NotFusable(str(expr)) from None
    if generator.records:
        raise NotFusable(str(expr))
    return generator.truth(code) if predicate else code.text


def _field_vars(expr: Expression, prefix: str) -> list[str]:
    """Names (without ``prefix``) of the Vars with ``prefix`` that ``expr`` reads, in first-read order."""
    names = dict.fromkeys(node.name[len(prefix):] for node in expr.walk()
                          if isinstance(node, Var) and node.name.startswith(prefix))
    return list(names)


def _bucketize_source(generator: Generator, attributes: dict[str, str], fields: dict[str, str],
                      predicates: list[Expression], key: Expression | None) -> str:
    """Source of ``_bucketize(_rows, _buckets)`` (see BatchKernel)."""
    read: set[str] = set()
    body, counters = [], []

    def reads(expr: Expression) -> list[str]:
        lines = [f"{fields[name]} = _row.{attributes[name]}" for name in _field_vars(expr, _FIELD)
                 if name not in read]
        read.update(_field_vars(expr, _FIELD))
        return lines

    for i, predicate in enumerate(predicates):
        hoisted = _hoist(predicate, InputRef(0), fields)
        body.extend(reads(hoisted))
        body.append(f"if not ({_emit(generator, hoisted, True)}): continue")
        body.append(f"_n{i} += 1")
        counters.append(f"_n{i}")
    if key is None:
        value = "None"
    else:
        hoisted = _hoist(key, InputRef(0), fields)
        body.extend(reads(hoisted))
        try:
            lines, value = key_code(generator, hoisted)
        except MeteorError:
            raise NotFusable(str(key)) from None
        if generator.records:
            raise NotFusable(str(key))
        body.extend(lines)
    body += [f"_k = {value}", "_b = _get(_k)", "if _b is None: _buckets[_k] = [_row]", "else: _b.append(_row)"]
    pad = "\n" + " " * 8
    source = ("def _bucketize(_rows, _buckets):\n    _get = _buckets.get\n"
              + "".join(f"    {c} = 0\n" for c in counters) + "    for _row in _rows:"
              + "".join(pad + line for line in body) + f"\n    return [{', '.join(counters)}]\n")
    return source


def _fold_source(generator: Generator, fields: dict[str, str], slots: list[tuple[Any, Expression | None]],
                 element: str) -> str:
    """Source of ``_batch_fold(_rows, _acc)`` (see BatchKernel)."""
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
        hoisted = _hoist(expr, Var(element), fields)
        column = _column(generator, hoisted, fields, columns, loaded, lines)
        lines.extend(_slot_lines(i, kind, column))
    for name, var in fields.items():  # columns of the fields, read first; _n<column>: all numbers
        if var in loaded:
            lines[len(slots):len(slots)] = [f"_c{var} = list(map(_get{var}, _rows))",
                                             f"_n_c{var} = _all_numbers(map(type, _c{var}))"]
    result = ", ".join(f"[a{i}, n{i}]" if kind == "mean" else f"a{i}" for i, kind in enumerate(kinds))
    return "def _batch_fold(_rows, _acc):\n    " + "\n    ".join(lines) + f"\n    return [{result}]\n"


def _column(generator: Generator, hoisted: Expression, fields: dict[str, str],
            columns: list[tuple[Expression, str]], loaded: set[str], lines: list[str]) -> str:
    """The name of the column holding ``hoisted`` per row, appending the statement computing it to ``lines``
    (a field is its own column; an element equal to an earlier one reuses that column)."""
    if isinstance(hoisted, Var) and hoisted.name.startswith(_FIELD):
        var = fields[hoisted.name[len(_FIELD):]]
        loaded.add(var)
        return f"_c{var}"
    for earlier, column in columns:
        if earlier == hoisted:
            return column
    for earlier, column in columns:  # reuse earlier elements inside this one
        hoisted = _replace(hoisted, earlier, Var(_COLUMN + column))
    name = f"_cx{len(columns)}"
    row_vars = []
    for field in _field_vars(hoisted, _FIELD):
        loaded.add(fields[field])
        row_vars.append((fields[field], f"_c{fields[field]}"))
    for column in _field_vars(hoisted, _COLUMN):
        generator.variables[_COLUMN + column] = f"_v{column}"
        row_vars.append((f"_v{column}", column))
    text = _emit(generator, hoisted)
    if not row_vars:
        lines.extend([f"{name} = [{text} for _ in _rows]", f"_n{name} = _all_numbers(map(type, {name}))"])
        columns.append((hoisted, name))
        return name
    if len(row_vars) == 1:
        loop = f"for {row_vars[0][0]} in {row_vars[0][1]}"
    else:
        loop = f"for {', '.join(var for var, _ in row_vars)} in zip({', '.join(col for _, col in row_vars)})"
    plain = _plain_arithmetic(hoisted, generator.variables)
    if plain is None:
        lines.extend([f"{name} = [{text} {loop}]", f"_n{name} = _all_numbers(map(type, {name}))"])
    else:  # numbers only: Python's + - * are Meteor's, so the type guards go once per column
        numbers = " and ".join(f"_n{col}" for _, col in row_vars)
        lines.extend([f"_n{name} = {numbers}", f"if _n{name}: {name} = [{plain} {loop}]",
                      f"else: {name} = [{text} {loop}]"])
    columns.append((hoisted, name))
    return name


def _plain_arithmetic(expr: Expression, variables: dict[str, str]) -> str | None:
    """``expr`` as plain Python arithmetic when it only applies ``+ - *`` to row values and number constants
    (then equal to the generated code whenever every row value is an int or float), else None."""
    if isinstance(expr, Var):
        return variables.get(expr.name)
    if isinstance(expr, Constant):
        return repr(expr.value) if type(expr.value) in (int, float) and math.isfinite(expr.value) else None
    if isinstance(expr, Arithmetic) and expr.op in ("+", "-", "*"):
        left, right = _plain_arithmetic(expr.left, variables), _plain_arithmetic(expr.right, variables)
        return None if left is None or right is None else f"({left} {expr.op} {right})"
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
                f"else:", f"    for _v in {column}:", f"        if type(_v) in _NUM: a{i} += _v",
                f"        else: a{i} = _add{i}(a{i}, _v)"]
    if kind == "mean":
        return [f"if type(a{i}) in _NUM and _n{column}:",
                f"    a{i} = _SUM({column}, a{i})", f"    n{i} += len({column})", "else:",
                f"    for _v in {column}:", f"        if type(_v) in _NUM:", f"            a{i} += _v",
                f"            n{i} += 1", f"        else: a{i}, n{i} = _add{i}([a{i}, n{i}], _v)"]
    return [f"for _v in {column}: a{i} = _add{i}(a{i}, _v)"]
