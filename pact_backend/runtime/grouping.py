"""Hash grouping for Reduce and CoGroup: groups keep input order; optional combiner and group order.

The local strategy "hash grouping" of the PACT runtime (VLDB J. 2014, sec. 7.3): one dict from key to the
list of the group's records, groups emitted in first-seen key order. A combiner (sec. 5.1) may shrink a
group while it grows, which bounds memory for algebraic aggregations; correctness never depends on it.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

from pact_backend.runtime.topk import FirstRecords

KeyFunction = Callable[[Any], Any]
GroupOrder = tuple[KeyFunction, bool]


def hash_groups(records: Iterable[Any], key: KeyFunction | None) -> dict[Any, list[Any]]:
    """Map every distinct ``key(record)`` to the list of its records in input order (insertion-ordered).

    ``key`` None puts all records in one group under the key None; an empty input gives no group at all.
    """
    if key is None:
        group = list(records)
        return {None: group} if group else {}
    groups: dict[Any, list[Any]] = {}
    get = groups.get
    for record in records:
        k = key(record)
        group = get(k)
        if group is None:
            groups[k] = [record]
        else:
            group.append(record)
    return groups


def combined_hash_groups(records: Iterable[Any], key: KeyFunction | None,
                         combiner: Callable[[Any, list[Any]], Iterable[Any]],
                         threshold: int = 1024) -> dict[Any, list[Any]]:
    """Like ``hash_groups``, but a group reaching ``threshold`` records is replaced by ``combiner(key, group)``.

    The combiner's output must be valid input of the reduce function (PACT combiner contract, sec. 5.1). A
    group whose combined size stays large is combined again only after doubling, so a combiner that does not
    shrink its input costs linear, not quadratic, time.
    """
    if threshold < 1:
        raise ValueError(f"combine threshold must be at least 1, got {threshold}")
    groups: dict[Any, list[Any]] = {}
    limits: dict[Any, int] = {}
    for record in records:
        k = None if key is None else key(record)
        group = groups.get(k)
        if group is None:
            groups[k] = group = []
        group.append(record)
        if len(group) >= limits.get(k, threshold):
            group[:] = list(combiner(k, group))
            limits[k] = max(threshold, 2 * len(group))
    return groups


def order_group(group: list[Any], order: GroupOrder | None) -> list[Any]:
    """Sort ``group`` in place by ``order = (key function, descending)``, stably; None leaves it as is."""
    if order is not None:
        order_key, descending = order
        group.sort(key=order_key, reverse=descending)
    return group


def reduce_groups(records: Iterable[Any], key: KeyFunction | None, order: GroupOrder | None = None,
                  combiner: Callable[[Any, list[Any]], Iterable[Any]] | None = None,
                  combine_threshold: int = 1024, limit: int | None = None) -> Iterator[tuple[Any, list[Any]]]:
    """The (key, group) pairs a Reduce hands its UDF, in first-seen key order.

    The combiner is used only when no group order is requested (combining would lose the records the
    secondary sort needs to see). With a ``limit`` (and an ``order``) each group is only its first ``limit``
    records, kept by a bounded heap while the group grows (``topk.FirstRecords`` replaces the combiner).
    """
    if limit is not None and order is not None:
        combiner, combine_threshold = FirstRecords(order, limit), max(combine_threshold, limit)
        groups = combined_hash_groups(records, key, combiner, combine_threshold)
        for k, group in groups.items():
            yield k, combiner(k, group)
        return
    if combiner is not None and order is None:
        groups = combined_hash_groups(records, key, combiner, combine_threshold)
    else:
        groups = hash_groups(records, key)
    for k, group in groups.items():
        yield k, order_group(group, order)


def cogroups(left: Iterable[Any], right: Iterable[Any], keys: tuple[KeyFunction, KeyFunction],
             orders: tuple[GroupOrder | None, GroupOrder | None] | None = None
             ) -> Iterator[tuple[Any, list[Any], list[Any]]]:
    """(key, left group, right group) for every key of either side; a missing side is an empty list.

    Keys come in first-seen order of the left input, then right-only keys in first-seen order of the right.
    """
    left_order, right_order = orders if orders is not None else (None, None)
    left_groups = hash_groups(left, keys[0])
    right_groups = hash_groups(right, keys[1])
    for k, group in left_groups.items():
        other = right_groups.pop(k, [])
        yield k, order_group(group, left_order), order_group(other, right_order)
    for k, group in right_groups.items():
        yield k, [], order_group(group, right_order)
