"""JSON values in and out of files: integers of any size stay exact, NaN and Infinity are never written as null.

Decoding uses orjson, which refuses NaN, Infinity, numbers beyond the double range and values nested deeper
than 1024 levels as malformed JSON (naming line and column), but makes floats of integers beyond 64 bits: text
holding a run of 19 or more digits (``long_digits``, one C-speed scan) is decoded again by msgspec, which reads
such integers exactly. Chunks of JSON lines decode with msgspec directly (pact_backend.io.projected), which
reads them exactly too, refuses the same numbers, and leaves the depth rule to orjson. Encoding uses msgspec (any integer;
tuples and sets as arrays); a value the encoder does not know goes through the ``normalize`` hook of the caller
(Sopremo turns its MISSING into JSON this way) and is refused with an OutputError otherwise. JSON has no NaN or
Infinity: the encoders write them as ``null``, so every encoded value that holds a ``null`` is checked for them
and refused with an OutputError (docs/language.md, "Numbers": JSON values only; DESIGN.md, "nothing is
silently dropped").
"""

from __future__ import annotations

from typing import Any, Callable

import msgspec
import orjson

from pact_backend.errors import OutputError

_encode = msgspec.json.Encoder().encode
_exact = msgspec.json.Decoder().decode
_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_LONG = b"0" * 19  # 19 digits may be an integer beyond 64 bits (2**63 has 19)
MAX_DEPTH = 1024  # orjson's limit: JSON nested deeper is malformed data for every reader


class Malformed(ValueError):
    """Malformed JSON: ``msg``, and its ``line`` and ``column`` (1-based) within the decoded bytes."""

    def __init__(self, msg: str, line: int = 1, column: int | None = None):
        super().__init__(msg)
        self.msg, self.line, self.column = msg, line, column


def long_digits(data: bytes) -> bool:
    """Whether ``data`` holds a run of 19 or more digits (an integer orjson may turn into a float)."""
    return data.translate(_DIGITS).find(_LONG) >= 0


def loads(data: bytes) -> Any:
    """The JSON value of ``data`` (integers exact); raises Malformed with orjson's message, line and column."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise Malformed(exc.msg, exc.lineno, exc.colno) from None
    return exact(data) if long_digits(data) else value


def exact(data: bytes) -> Any:
    """``data`` (valid JSON, nested at most 1024 levels: orjson read it) decoded with integers exact."""
    try:
        return _exact(data)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise Malformed(str(exc)) from None


def dumps(value: Any, normalize: Callable[[Any], Any] | None = None) -> bytes:
    """Compact JSON bytes of ``value``; ``normalize`` rewrites a value the encoder refuses into plain JSON
    values. Raises OutputError (without a path: the writer adds its file) for NaN, Infinity and non-JSON values."""
    try:
        data = _encode(value)
    except TypeError as exc:
        if normalize is None:
            raise OutputError(f"cannot write {_short(value)} as JSON: {exc}") from None
        value = normalize(value)
        try:
            data = _encode(value)
        except TypeError as exc:
            raise OutputError(f"cannot write {_short(value)} as JSON: {exc}") from None
    if b"null" in data:
        check_finite(value)
    return data


def non_finite(value: Any) -> float | None:
    """The first NaN or infinite float inside ``value`` (objects, arrays), None when there is none."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is float:
            if item - item != 0.0:
                return item
        elif kind is dict:
            stack.extend(reversed(item.values()))
        elif kind is list or kind is tuple:
            stack.extend(reversed(item))
        elif isinstance(item, float) and item - item != 0.0:
            return item
    return None


def check_finite(value: Any) -> None:
    """Raise OutputError when ``value`` holds NaN or Infinity, which JSON cannot represent."""
    bad = non_finite(value)
    if bad is not None:
        name = "NaN" if bad != bad else "Infinity" if bad > 0 else "-Infinity"
        raise OutputError(f"cannot write {name}: JSON has no NaN or Infinity "
                          f"(in {_short(value)})")


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."
