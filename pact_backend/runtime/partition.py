"""Stable hash partitioning: canonical bytes of a key, a process-independent hash, bucket numbers.

Python's ``hash()`` of strings is salted per process (PYTHONHASHSEED), so two workers would route one key to
different partitions. Here a key is turned into canonical bytes (equal keys -> equal bytes, following Python
equality: ``1 == 1.0 == True``) and hashed with CRC-32, which every process computes alike (DESIGN.md,
"Records, expressions, speed"; the hash partitioning ship strategy of VLDB J. 2014, sec. 6.3).
"""

from __future__ import annotations

import math
import pickle
import struct
import zlib
from typing import Any, Callable

_pack_double = struct.Struct(">d").pack
_pack_len = struct.Struct(">I").pack


def _number(value: int | float) -> bytes:
    """Integral numbers (bools, ints, integral floats) as decimal ints, the rest as IEEE doubles."""
    if isinstance(value, float):
        if value.is_integer():
            return b"I" + str(int(value)).encode() + b";"
        if math.isnan(value):
            return b"D" + b"nan"
        return b"D" + _pack_double(value)
    return b"I" + str(int(value)).encode() + b";"


def canonical_bytes(key: Any) -> bytes:
    """The canonical bytes of a hashable key: equal keys (Python ``==``) give equal bytes.

    Inputs: None, bool, int, float, str, bytes, tuples and frozensets of these (nested), or any other
    picklable object (encoded as its type name and pickle, stable for singletons such as a MISSING
    sentinel). Output: bytes; unambiguous (type tags and length prefixes), so distinct supported keys give
    distinct bytes. Raises TypeError for an object that cannot be pickled.
    """
    if key is None:
        return b"N"
    kind = type(key)
    if kind is str:
        data = key.encode("utf-8", "surrogatepass")
        return b"S" + _pack_len(len(data)) + data
    if kind is int or kind is bool or kind is float:
        return _number(key)
    if kind is tuple:
        return b"(" + _pack_len(len(key)) + b"".join(canonical_bytes(item) for item in key)
    if kind is frozenset:
        items = sorted(canonical_bytes(item) for item in key)
        return b"{" + _pack_len(len(items)) + b"".join(items)
    if isinstance(key, (int, float)):
        return _number(key)
    if isinstance(key, str):
        return canonical_bytes(str(key))
    if isinstance(key, bytes):
        return b"B" + _pack_len(len(key)) + bytes(key)
    if isinstance(key, tuple):
        return canonical_bytes(tuple(key))
    if isinstance(key, frozenset):
        return canonical_bytes(frozenset(key))
    try:
        data = pickle.dumps(key, protocol=5)
    except Exception as exc:
        raise TypeError(f"key of type {kind.__qualname__} has no canonical bytes: {exc}") from None
    name = f"{kind.__module__}.{kind.__qualname__}".encode()
    return b"O" + _pack_len(len(name)) + name + _pack_len(len(data)) + data


def stable_hash(key: Any) -> int:
    """A 32-bit hash of ``key`` that is the same in every process and run (CRC-32 of its canonical bytes)."""
    return zlib.crc32(canonical_bytes(key))


def bucket_of(key: Any, buckets: int) -> int:
    """The partition (0 .. buckets-1) of ``key`` among ``buckets`` partitions; stable across processes."""
    if buckets == 1:
        return 0
    return stable_hash(key) % buckets


def partitioner(key_function: Callable[[Any], Any] | None, buckets: int) -> Callable[[Any], int]:
    """A function ``record -> partition number`` routing by ``key_function(record)`` (None: one global key,
    so everything lands in partition 0). Raises ValueError for fewer than one bucket."""
    if buckets < 1:
        raise ValueError(f"need at least one partition, got {buckets}")
    if key_function is None or buckets == 1:
        return lambda record: 0
    crc, canon = zlib.crc32, canonical_bytes

    def route(record: Any) -> int:
        return crc(canon(key_function(record))) % buckets

    return route
