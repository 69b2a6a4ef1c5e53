"""Python data in and out of Meteor: the inputs of ``meteor.query`` as records, its results as data frames.

In: a list (or tuple, or other iterable) of JSON-like values, a pandas or polars DataFrame, or an Arrow Table or
RecordBatch becomes a list of Meteor values, one per row: a DataFrame row is an object keyed by column name
(the pandas index is not a column). Values map as JSON does: ``datetime.date`` -> ``'YYYY-MM-DD'`` (the form the
date functions read), ``datetime.datetime`` -> ISO 8601 text, ``Decimal`` and NumPy scalars -> numbers, tuples ->
arrays. A pandas missing value (NaN, NaT, None, ``pd.NA``) is null; anywhere else NaN and Infinity have no
Meteor value and are an error naming the input, the row and the field, as is any value JSON cannot hold.

Out: ``frame_columns`` gives the columns of a list of records (the union of the objects' fields in first-seen
order; a list of non-objects is one column ``value``); ``to_pandas``, ``to_arrow`` and ``to_polars`` build the
frames, importing each library only when called; one that is not installed is a MeteorError naming the extra
that brings it.
"""

from __future__ import annotations

import datetime
import decimal
import math
from typing import Any, Iterable

from sopremo.errors import MeteorError

VALUE_COLUMN = "value"


class InputError(MeteorError):
    """A Python input of ``meteor.query`` that cannot become Meteor records (names the input, row and field)."""


def _library(name: str) -> Any:
    """The module ``name``; a MeteorError with the install hint when it is missing."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        raise MeteorError(f"{name} is not installed (pip install {name}, or pip install 'meteor[all]')") from None


def _kind(data: Any) -> str:
    """'pandas', 'polars', 'arrow' or 'python' by the type of ``data`` (no library is imported to tell)."""
    module = type(data).__module__.split(".")[0]
    name = type(data).__name__
    if module == "pandas" and name == "DataFrame":
        return "pandas"
    if module == "polars" and name == "DataFrame":
        return "polars"
    if module == "pyarrow" and name in ("Table", "RecordBatch"):
        return "arrow"
    return "python"


def to_records(name: str, data: Any) -> list[Any]:
    """The records of the input ``$name`` given as ``data`` (see the module docstring); raises InputError."""
    kind = _kind(data)
    if kind == "pandas":
        rows = data.to_dict(orient="records")
    elif kind == "polars":
        rows = data.to_dicts()
    elif kind == "arrow":
        rows = data.to_pylist()
    elif isinstance(data, (str, bytes, dict)) or not isinstance(data, Iterable):
        raise InputError(f"input ${name} must be a list of records, a pandas or polars DataFrame or an Arrow "
                         f"table, got {type(data).__name__}")
    else:
        rows = data
    convert = _Converter(name, missing_is_null=kind == "pandas")
    return [convert.value(row, index, None) for index, row in enumerate(rows)]


class _Converter:
    """Turns Python values into Meteor values for the input ``name`` (pandas: missing values are null)."""

    def __init__(self, name: str, missing_is_null: bool):
        self.name, self.missing_is_null = name, missing_is_null

    def fail(self, why: str, row: int, field: str | None) -> InputError:
        where = f"row {row}" + (f", field {field!r}" if field is not None else "")
        return InputError(f"input ${self.name}, {where}: {why}")

    def value(self, value: Any, row: int, field: str | None) -> Any:
        """The Meteor value of ``value`` (row and field name it in errors)."""
        if value is None or isinstance(value, (bool, int, str)):
            return value
        if isinstance(value, float):
            if math.isfinite(value):
                return value
            if self.missing_is_null and math.isnan(value):
                return None
            raise self.fail(f"{value} has no Meteor value (numbers are finite)", row, field)
        if isinstance(value, dict):
            return {str(k): self.value(v, row, str(k) if field is None else f"{field}.{k}")
                    for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v, row, field) for v in value]
        return self.other(value, row, field)

    def other(self, value: Any, row: int, field: str | None) -> Any:
        """Dates, decimals, NumPy scalars and arrays, pandas missing markers; anything else is an error."""
        if isinstance(value, datetime.datetime):
            if self.missing_is_null and _is_missing(value):
                return None
            return value.isoformat()
        if isinstance(value, datetime.date):
            return value.isoformat()
        if isinstance(value, decimal.Decimal):
            return self.value(int(value) if value == value.to_integral_value() else float(value), row, field)
        if self.missing_is_null and _is_missing(value):
            return None
        if type(value).__module__ == "numpy":
            return self.value(value.tolist(), row, field)  # a NumPy scalar or array as Python values
        raise self.fail(f"a {type(value).__name__} is not a JSON value", row, field)


def _is_missing(value: Any) -> bool:
    """Whether ``value`` is a pandas missing marker (NaT, ``pd.NA``)."""
    if type(value).__module__.split(".")[0] != "pandas":
        return False
    import pandas

    try:
        return bool(pandas.isna(value))
    except (TypeError, ValueError):
        return False


def frame_columns(records: list[Any]) -> list[str] | None:
    """The columns of ``records``: every field of the objects in first-seen order; None when no record is an
    object (one column ``value``). Raises MeteorError when objects and other values are mixed."""
    objects = [isinstance(r, dict) for r in records]
    if not any(objects):
        return None
    if not all(objects):
        at = objects.index(False)
        raise MeteorError(f"record {at} is a {type(records[at]).__name__}, not an object like the others: "
                          "a table needs objects (use .records())")
    return list(dict.fromkeys(key for record in records for key in record))


def _columns(records: list[Any]) -> dict[str, list[Any]]:
    """Column name -> values (None where a record lacks the field)."""
    names = frame_columns(records)
    if names is None:
        return {VALUE_COLUMN: list(records)}
    return {name: [record.get(name) for record in records] for name in names}


def to_pandas(records: list[Any]) -> Any:
    """A pandas DataFrame of ``records`` (a missing field is NaN/None, nested values stay objects)."""
    pandas = _library("pandas")
    columns = _columns(records)
    return pandas.DataFrame(columns, columns=list(columns))


def to_arrow(records: list[Any]) -> Any:
    """A pyarrow Table of ``records``, each column's type inferred from all of its values; raises MeteorError
    naming the column whose values have no common Arrow type (e.g. numbers and text)."""
    pyarrow = _library("pyarrow")
    arrays = {}
    for name, values in _columns(records).items():
        try:
            arrays[name] = pyarrow.array(values)
        except (pyarrow.ArrowInvalid, pyarrow.ArrowTypeError, OverflowError) as exc:
            kinds = sorted({type(v).__name__ for v in values if v is not None})
            raise MeteorError(f"column {name!r} holds {', '.join(kinds)} values, which no Arrow type holds "
                              f"together ({exc}); use .records() or .to_pandas()") from None
    return pyarrow.table(arrays)


def to_polars(records: list[Any]) -> Any:
    """A polars DataFrame of ``records``; raises MeteorError when a column's values have no common type."""
    polars = _library("polars")
    columns = _columns(records)
    try:
        return polars.DataFrame(columns, strict=False)
    except (TypeError, ValueError, OverflowError, polars.exceptions.PolarsError) as exc:
        raise MeteorError(f"the records do not make a polars DataFrame: {exc}; use .records()") from None


__all__ = ["InputError", "VALUE_COLUMN", "frame_columns", "to_arrow", "to_pandas", "to_polars", "to_records"]
