"""The ``bucketize`` function of a batch kernel (``batch_kernel``): filters rows and groups them by key.

Filters run column-wise: each filter reads its fields as columns (``operator.itemgetter`` over the rows, in C),
evaluates to one bool per row in a comprehension and keeps the passing rows with ``itertools.compress``. A
filter that only compares fields of known type with constants (or each other) is plain Python comparisons;
any other filter uses the generated code of the record path, which is correct for every value. Grouping: when
the key is one field or an array of fields of known types, rows are grouped by the raw field values in C
iterators and every group's key is computed once from its raw values (equal raw values give equal keys, and
two raw values that gave one key would raise, so the batch goes the record path); any other key is computed
row by row with the record path's key code (``fused.key_code``).
"""

from __future__ import annotations

import collections
import itertools
import math
import operator
from typing import Any, Callable

from sopremo.errors import MeteorError
from sopremo.expressions.batch_kernel import FIELD, NotFusable, emit, hoist, var_names
from sopremo.expressions.codegen import Generator
from sopremo.expressions.fused import key_code
from sopremo.expressions.nodes import (And, ArrayConstruction, Comparison, Constant, Expression, FunctionCall, InputRef,
                                       Not, Or, Var)
from sopremo.function import VARIABLE

_PLAIN_COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")


class KeyCollision(Exception):
    """Two raw key values of one batch gave one group key (the batch is redone on the record path)."""


BUCKETIZE_NAMESPACE = {"_compress": itertools.compress, "_KeyCollision": KeyCollision,
                       "_groups": collections.defaultdict, "_drain": collections.deque, "_append": list.append}


def bucketize_source(generator: Generator, positions: dict[str, int], fields: dict[str, str],
                     known: dict[str, str], predicates: list[Expression], key: Expression | None) -> str:
    """Source of ``_bucketize(_rows, _buckets)`` and ``_select(_rows)`` (see ``BatchKernel``); ``known``: {field
    variable: "number" or "string"} guaranteed for every row."""
    lines, counters = [], []
    for i, predicate in enumerate(predicates):
        hoisted = hoist(predicate, InputRef(0), fields)
        names = var_names(hoisted, FIELD)
        code = _plain(hoisted, generator.variables, known, generator.constant) or emit(generator, hoisted, True)
        if not names:
            mask = f"[{code}] * len(_rows)"
        elif len(names) == 1:
            mask = f"[{code} for {fields[names[0]]} in map(_get{fields[names[0]]}, _rows)]"
        else:
            targets = ", ".join(fields[n] for n in names)
            mask = f"[{code} for {targets} in zip({', '.join(f'map(_get{fields[n]}, _rows)' for n in names)})]"
        lines += [f"_rows = list(_compress(_rows, {mask}))", f"_n{i} = len(_rows)"]
        counters.append(f"_n{i}")
    selecting = ("def _select(_rows):\n    " + "\n    ".join(lines + [f"return _rows, [{', '.join(counters)}]"])
                 + "\n")
    lines += _grouping(generator, positions, fields, known, key)
    return ("def _bucketize(_rows, _buckets):\n    " + "\n    ".join(lines)
            + f"\n    return [{', '.join(counters)}]\n\n" + selecting)


def raw_key_position(generator: Generator, positions: dict[str, int], fields: dict[str, str],
                     known: dict[str, str], key: Expression | None) -> int | None:
    """The row index of the key when the key is one field of known type (then a row's raw value is its group
    key: ``hashable`` of a str, int or float is itself), else None."""
    if key is None:
        return None
    hoisted = hoist(key, InputRef(0), fields)
    if not isinstance(hoisted, Var) or generator.variables.get(hoisted.name) not in known:
        return None
    return positions[hoisted.name[len(FIELD):]]


def _grouping(generator: Generator, positions: dict[str, int], fields: dict[str, str], known: dict[str, str],
              key: Expression | None) -> list[str]:
    """Statements appending every row of ``_rows`` to ``_buckets[key]``."""
    if key is None:
        return ["if _rows: _buckets[None] = _rows"]
    hoisted = hoist(key, InputRef(0), fields)
    items = hoisted.items if isinstance(hoisted, ArrayConstruction) else (hoisted,)
    plain = all(isinstance(item, Var) and generator.variables.get(item.name) in known for item in items)
    try:  # fields of known types hold strings or numbers (never booleans): each its own ``hashable``
        key_lines, value = key_code(generator, hoisted, scalar=plain)
    except MeteorError:
        raise NotFusable(str(key)) from None
    if generator.records:
        raise NotFusable(str(key))
    if plain:  # group by the raw values in C (each row appended to its raw key's list), then one key per group
        names = [generator.variables[item.name] for item in items]
        generator.namespace["_raw_key"] = operator.itemgetter(*(positions[item.name[len(FIELD):]] for item in items))
        raw = "map(_raw_key, _rows)"  # the raw value, or a tuple of the raw values, of each row
        per_group = [f"{', '.join(names)} = _raw", *key_lines, f"_k = {value}",
                     "if _k in _buckets: raise _KeyCollision(_k)", "_buckets[_k] = _b"]
        return (["_local = _groups(list)", f"_drain(map(_append, map(_local.__getitem__, {raw}), _rows), 0)",
                 "for _raw, _b in _local.items():"] + ["    " + line for line in per_group])
    reads = [f"{fields[name]} = _row[{positions[name]}]" for name in var_names(hoisted, FIELD)]
    append = ["_b = _get(_k)", "if _b is None: _local[_k] = [_row]", "else: _b.append(_row)"]
    return (["_local = _buckets", "_get = _local.get", "for _row in _rows:"]
            + ["    " + line for line in reads + key_lines + [f"_k = {value}"] + append])


def _plain(expr: Expression, variables: dict[str, str], known: dict[str, str],
           bind: Callable[[Any], str]) -> str | None:
    """``expr`` (a filter) as plain Python comparisons of fields of known type, or None: comparisons of a
    field with a constant of its type or of two fields of one type, a text field matched by a function
    specialized to a regular expression (``like`` with a constant pattern: its ``fullmatch``, bound by
    ``bind``), and ``and`` / ``or`` / ``not`` of those (Python's order and equality on two strings or two
    numbers are Meteor's)."""
    if isinstance(expr, (And, Or)):
        parts = [_plain(item, variables, known, bind) for item in expr.items]
        joiner = " and " if isinstance(expr, And) else " or "
        return None if None in parts else "(" + joiner.join(parts) + ")"
    if isinstance(expr, Not):
        inner = _plain(expr.operand, variables, known, bind)
        return None if inner is None else f"(not {inner})"
    if isinstance(expr, FunctionCall):
        return _plain_match(expr, variables, known, bind)
    if isinstance(expr, Comparison) and expr.op in _PLAIN_COMPARISONS:
        left, right = _operand(expr.left, variables, known), _operand(expr.right, variables, known)
        if left is None or right is None or left[1] != right[1] or (left[2] and right[2]):
            return None
        return f"({left[0]} {expr.op} {right[0]})"
    return None


def _plain_match(call: FunctionCall, variables: dict[str, str], known: dict[str, str],
                 bind: Callable[[Any], str]) -> str | None:
    """A call on one text field of known type whose other arguments are constants, when the function's
    specialization to them declares ``fullmatch`` (on a text it is true exactly when ``fullmatch`` matches):
    the match in C, no call of the function per row."""
    specialize = getattr(call.function, "specialize", None)
    fields = [arg for arg in call.args if not isinstance(arg, Constant)]
    if specialize is None or len(fields) != 1 or _operand(fields[0], variables, known) is None:
        return None
    field, kind, _ = _operand(fields[0], variables, known)
    special = specialize(*(arg.value if isinstance(arg, Constant) else VARIABLE for arg in call.args))
    fullmatch = getattr(special, "fullmatch", None)
    if kind != "string" or fullmatch is None:
        return None
    return f"({bind(fullmatch)}({field}) is not None)"


def _operand(expr: Expression, variables: dict[str, str], known: dict[str, str]
             ) -> tuple[str, str, bool] | None:
    """(source, "number" or "string", is constant) of a field of known type or a constant, else None."""
    if isinstance(expr, Var) and variables.get(expr.name) in known:
        return variables[expr.name], known[variables[expr.name]], False
    if isinstance(expr, Constant) and type(expr.value) is str:
        return repr(expr.value), "string", True
    if isinstance(expr, Constant) and type(expr.value) in (int, float) and math.isfinite(expr.value):
        return repr(expr.value), "number", True
    return None
