"""The Sopremo data model: plain JSON values (dict, list, str, int, float, bool, None) plus ``MISSING``.

``MISSING`` is the value of a path that does not exist (``$x.nosuchfield``). It is falsy, never equal to
``None``, and never written to JSON: inside objects its fields are dropped, inside arrays it becomes ``null``
(docs/language.md, "Data").

Values of different types compare in one fixed order, null < boolean < number < string < array < object, so
sorting and grouping never fail on mixed data (docs/language.md, "Comparisons, casts and sets").
"""

from __future__ import annotations

from typing import Any


class _Missing:
    """The singleton type of ``MISSING``; falsy, hashable, prints as ``missing``."""

    _instance: "_Missing | None" = None

    def __new__(cls) -> "_Missing":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "MISSING"

    def __reduce__(self):
        return (_Missing, ())


MISSING: Any = _Missing()

# Type ranks of the fixed cross-type order. MISSING sorts with null.
_RANK_NULL, _RANK_BOOL, _RANK_NUMBER, _RANK_STRING, _RANK_ARRAY, _RANK_OBJECT = range(6)


def type_rank(value: Any) -> int:
    """Rank of ``value``'s JSON type in the order null < boolean < number < string < array < object."""
    if value is None or value is MISSING:
        return _RANK_NULL
    if value is True or value is False:
        return _RANK_BOOL
    if isinstance(value, (int, float)):
        return _RANK_NUMBER
    if isinstance(value, str):
        return _RANK_STRING
    if isinstance(value, (list, tuple)):
        return _RANK_ARRAY
    if isinstance(value, dict):
        return _RANK_OBJECT
    raise TypeError(f"not a JSON value: {value!r} ({type(value).__name__})")


def sort_key(value: Any) -> tuple:
    """A Python-comparable key that orders any JSON values by the fixed cross-type order.

    Numbers compare by value (``1 == 1.0``); arrays element-wise; objects by their sorted (field, value) items.
    """
    rank = type_rank(value)
    if rank == _RANK_NULL:
        return (rank,)
    if rank == _RANK_ARRAY:
        return (rank, tuple(sort_key(v) for v in value))
    if rank == _RANK_OBJECT:
        return (rank, tuple((k, sort_key(v)) for k, v in sorted(value.items())))
    return (rank, value)


def compare(left: Any, right: Any) -> int:
    """-1, 0 or 1 as ``left`` sorts before, equal to, or after ``right`` (cross-type order)."""
    a, b = sort_key(left), sort_key(right)
    return (a > b) - (a < b)


def hashable(value: Any) -> Any:
    """A hashable stand-in for a JSON value, equal for values Meteor considers equal.

    Used as grouping, join and set-operation key. ``True`` and ``1`` stay distinct (they are different JSON
    types); ``1`` and ``1.0`` are equal; ``MISSING`` and ``None`` are distinct keys.
    """
    if value is True or value is False:
        return (_RANK_BOOL, value)
    if isinstance(value, (str, int, float)) or value is None or value is MISSING:
        return value
    if isinstance(value, (list, tuple)):
        return (_RANK_ARRAY, tuple(hashable(v) for v in value))
    if isinstance(value, dict):
        return (_RANK_OBJECT, frozenset((k, hashable(v)) for k, v in value.items()))
    raise TypeError(f"not a JSON value: {value!r} ({type(value).__name__})")


def truthy(value: Any) -> bool:
    """Meteor truthiness: booleans as is, numbers != 0, non-empty text/array/object; null and missing false."""
    if value is True or value is False:
        return value
    if value is None or value is MISSING:
        return False
    return bool(value)


def to_json(value: Any) -> Any:
    """``value`` with every ``MISSING`` removed: dropped from objects, ``None`` inside arrays and at top level."""
    if value is MISSING:
        return None
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items() if v is not MISSING}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value


def contains_missing(value: Any) -> bool:
    """True when ``MISSING`` occurs anywhere inside ``value`` (so ``to_json`` must rewrite it)."""
    if value is MISSING:
        return True
    if isinstance(value, dict):
        return any(contains_missing(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_missing(v) for v in value)
    return False


def type_name(value: Any) -> str:
    """The Meteor name of ``value``'s type: missing, null, boolean, int, decimal, string, array, object."""
    if value is MISSING:
        return "missing"
    if value is None:
        return "null"
    if value is True or value is False:
        return "boolean"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "decimal"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
