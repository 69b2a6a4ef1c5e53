"""The values of CSV fields: typing a row's text fields into a record, inferring which columns hold numbers, and
the text of a value written to a cell.

Typing per column, not per field (``types="infer"``): a column whose every non-empty field in the whole input
is a JSON number (``-12``, ``3.5``, ``1e3``; no leading zeros, no spaces, finite) is read as numbers (ints of any
size exactly, floats), every other column as text, so "007", zip codes and phone numbers stay text in every
row, and every split of a file reads a column the same way. An empty field is null in either kind of column.
Inference reads the input once before its records (docs/language.md, "Formats").
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable, Sequence

from pact_backend.io.json_values import check_finite, dumps
from pact_backend.io.paths import input_files

INFER = "infer"
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def number(text: str) -> int | float | None:
    """The number a field's text is (int or float), None when it is no finite JSON number."""
    match = _NUMBER.fullmatch(text)
    if match is None:
        return None
    if not (match.group(1) or match.group(2)):
        return int(text)
    value = float(text)
    return value if math.isfinite(value) else None


def _as_number(text: str) -> Any:
    return number(text) if text else None


def _as_text(text: str) -> Any:
    return text or None


def infer_numeric(fmt: Any) -> frozenset:
    """The columns of the delimited format ``fmt`` (names, or positions without names) whose every non-empty
    field in every file of its path is a number; only the projected ``fmt.fields`` are looked at."""
    seen: set = set()
    rejected: set = set()
    wanted = fmt.fields
    for file in input_files(fmt.path):
        for _, row, names in fmt.rows(file):
            for key, text in zip(names if names is not None else range(len(row)), row):
                if not text or key in rejected or (wanted is not None and names is not None and key not in wanted):
                    continue
                if number(text) is None:
                    rejected.add(key)
                else:
                    seen.add(key)
    return frozenset(seen - rejected)


def _converters(types: Any, count: int, keys: Sequence[Any], numeric: frozenset) -> list[Callable[[str], Any]]:
    """One converter per column: the text itself, the given callables, or by the inferred kind."""
    if types is None:
        return [str] * count
    if types == INFER:
        return [_as_number if key in numeric else _as_text for key in keys]
    if len(types) != count:
        raise ValueError(f"{len(types)} types for {count} columns")
    return list(types)


def typed(types: Any, names: list[str] | None, fields: frozenset[str] | None, numeric: frozenset,
          row_type: type) -> Callable[[list[str]], Any]:
    """The function of a row's text fields to its record (see the module docstring of
    pact_backend.io.delimited), returning None for a row with the wrong number of fields. Raises ValueError
    when ``types`` and ``names`` disagree in number."""
    if names is not None:
        width = len(names)
        convert = _converters(types, width, names, numeric)
        plan = [(i, name, convert[i]) for i, name in enumerate(names) if fields is None or name in fields]
        return lambda row: {name: f(row[i]) for i, name, f in plan} if len(row) == width else None
    if types is None:
        return row_type
    if types == INFER:
        number_at = numeric
        return lambda row: row_type([_as_number(v) if i in number_at else _as_text(v) for i, v in enumerate(row)])
    convert = list(types)
    return lambda row: row_type([f(v) for f, v in zip(convert, row)]) if len(row) == len(convert) else None


def cell_text(value: Any, normalize: Callable[[Any], Any] | None = None) -> str:
    """The CSV text of one value: '' for null, ``true``/``false``, numbers as JSON writes them, text as is,
    arrays and objects as compact JSON. ``normalize`` rewrites other values (e.g. a higher layer's marker of a
    missing value) first; what is still unknown is written as ``str(value)``. NaN and Infinity are an
    OutputError."""
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        check_finite(value)
        return repr(float(value))
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, (list, tuple, dict)):
        return dumps(value, normalize).decode("utf-8")
    if normalize is not None:
        plain = normalize(value)
        if plain is not value:
            return cell_text(plain)
    return str(value)

