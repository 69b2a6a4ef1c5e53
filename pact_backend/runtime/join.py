"""Hash join and nested-loop cross product for Match and Cross (VLDB J. 2014, sec. 6.3 local strategies).

The build side is loaded into a dict from key to its records (input order kept); the probe side streams.
The UDF always receives the record of input 0 as ``left``, whichever side was built.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

from pact_backend.runtime.grouping import hash_groups

KeyFunction = Callable[[Any], Any]
PairFunction = Callable[[Any, Any], Iterable[Any]]


def hash_join(probe: Iterable[Any], build: Iterable[Any], probe_key: KeyFunction, build_key: KeyFunction,
              udf: PairFunction, build_is_left: bool = False) -> Iterator[Any]:
    """Records of ``udf(left, right)`` for every pair with equal keys (Python equality of the keys).

    ``build`` is consumed completely before the first probe record is read; the probe side is always read to
    its end (so a failing input fails the run even when the other side is empty). Output order: probe order, and
    for one probe record the build records in their input order. ``build_is_left`` tells which input of
    the Match the build side is, so ``udf`` still gets (input 0 record, input 1 record).
    """
    yield from probe_table(probe, hash_groups(build, build_key), probe_key, udf, build_is_left)


def probe_table(probe: Iterable[Any], table: dict[Any, list[Any]], probe_key: KeyFunction, udf: PairFunction,
                build_is_left: bool = False) -> Iterator[Any]:
    """Records of ``udf(left, right)`` for every probe record and its matches in the built ``table``
    (key -> build records); probe order, the build records of one key in their order."""
    get = table.get
    for record in probe:
        matches = get(probe_key(record))
        if matches is None:
            continue
        if build_is_left:
            for other in matches:
                yield from udf(other, record)
        else:
            for other in matches:
                yield from udf(record, other)


def nested_loop_cross(outer: Iterable[Any], inner: Iterable[Any], udf: PairFunction) -> Iterator[Any]:
    """Records of ``udf(left, right)`` for every pair of the Cartesian product; ``inner`` is materialised."""
    inner_records = list(inner)
    for left in outer:
        for right in inner_records:
            yield from udf(left, right)


def choose_build_side(left_hints: Any, right_hints: Any) -> int:
    """Index of the input to build the hash table on: the smaller one when both hints say, else input 1.

    Compares ``output_bytes`` when both inputs have it, else ``output_records`` when both have it.
    """
    for attr in ("output_bytes", "output_records"):
        left, right = getattr(left_hints, attr, None), getattr(right_hints, attr, None)
        if left is not None and right is not None:
            return 0 if left < right else 1
    return 1
