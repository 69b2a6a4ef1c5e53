"""The type registry of Meteor casts (``(int) $x``, ``$x as string``) and the string form of JSON values.

The original's TypeCoercer converted between JSON node types; we keep its names (``int``, ``decimal``, ``string``,
``boolean``, ``array``, ``object``, ``null``) plus the usual aliases, and raise ``OperatorError`` when a value
cannot be converted (docs/language.md, "Comparisons, casts and sets"). ``MISSING`` and ``null`` pass through
every cast unchanged (``(int) $x.absent`` stays missing), except that ``string`` renders null as ``'null'``.
"""

from __future__ import annotations

import json
import math
from typing import Any, Callable

from sopremo.errors import MeteorError, OperatorError
from sopremo.values import MISSING, to_json, truthy, type_name


def string_form(value: Any) -> str:
    """The text of a value as ``+``, ``concat`` and ``format`` see it.

    Strings as is; ``true``/``false``/``null``; ints in decimal; floats by Python's shortest repr; arrays and
    objects as compact JSON; missing as ``missing``.
    """
    if type(value) is str:
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if value is MISSING:
        return "missing"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(to_json(value), ensure_ascii=False, separators=(",", ":"))


def _fail(value: Any, target: str) -> OperatorError:
    return OperatorError(f"cannot cast {type_name(value)} {string_form(value)[:60]!r} to {target}")


def to_int(value: Any) -> Any:
    """``(int) value``: truncates floats, parses text ('12', ' 3.7 ' -> 3), booleans 1/0; raises OperatorError."""
    kind = type(value)
    if kind is int:
        return value
    if kind is bool:
        return int(value)
    if kind is float:
        if math.isfinite(value):
            return int(value)
        raise _fail(value, "int")
    if kind is str:
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                return to_int(float(text))
            except (ValueError, OperatorError):
                raise _fail(value, "int") from None
    raise _fail(value, "int")


def to_decimal(value: Any) -> Any:
    """``(decimal) value``: a float from a number, a boolean (1.0/0.0) or numeric text; raises OperatorError, also
    for a value beyond the double range and for text naming no finite number ('NaN', 'Infinity')."""
    kind = type(value)
    if kind is float:
        return value
    if kind is int or kind is bool:
        try:
            return float(value)
        except OverflowError:
            raise OperatorError(f"cannot cast int {string_form(value)[:40]!r}... to decimal: beyond the double "
                                "range (±1.8e308)") from None
    if kind is str:
        try:
            result = float(value.strip())
        except ValueError:
            raise _fail(value, "decimal") from None
        if math.isfinite(result):
            return result
    raise _fail(value, "decimal")


def to_boolean(value: Any) -> Any:
    """``(boolean) value``: text 'true'/'false' (any case) is parsed, everything else by Meteor truthiness."""
    if type(value) is str and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return truthy(value)


def to_array(value: Any) -> Any:
    """``(array) value``: arrays as is (tuples become lists); any other value becomes a one-element array."""
    if type(value) is list:
        return value
    if type(value) is tuple:
        return list(value)
    return [value]


def to_object(value: Any) -> Any:
    """``(object) value``: objects as is; anything else raises OperatorError."""
    if type(value) is dict:
        return value
    raise _fail(value, "object")


def to_null(value: Any) -> Any:
    """``(null) value``: only null converts to null."""
    raise _fail(value, "null")


def _passing_null(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``convert`` with missing and null passed through unchanged."""

    def cast_value(value: Any) -> Any:
        if value is None or value is MISSING:
            return value
        return convert(value)

    cast_value.__doc__ = convert.__doc__
    return cast_value


def _to_string(value: Any) -> Any:
    return MISSING if value is MISSING else string_form(value)


_CASTS: dict[str, Callable[[Any], Any]] = {}
for _names, _convert in (
    (("int", "integer", "long"), to_int),
    (("decimal", "double", "float", "number"), to_decimal),
    (("boolean", "bool"), to_boolean),
    (("array",), to_array),
    (("object",), to_object),
    (("null",), to_null),
):
    for _name in _names:
        _CASTS[_name] = _passing_null(_convert)
for _name in ("string", "text"):
    _CASTS[_name] = _to_string

TYPE_NAMES: tuple[str, ...] = tuple(sorted(_CASTS))
"""All type names a cast accepts (aliases included)."""


def caster(type_name_: str) -> Callable[[Any], Any]:
    """The conversion function for ``type_name_`` (case-insensitive); raises MeteorError for unknown names."""
    try:
        return _CASTS[type_name_.lower()]
    except KeyError:
        raise MeteorError(f"unknown type {type_name_!r}; known types: {', '.join(TYPE_NAMES)}") from None


def cast(value: Any, type_name_: str) -> Any:
    """``value`` converted to ``type_name_``; raises OperatorError when impossible, MeteorError for unknown types."""
    return caster(type_name_)(value)
