"""``cluster transitively $pairs`` (pairs -> connected components) and ``global match $pair in $pairs with <score>``.

Both read pairs ``[r1, r2]`` (the output of detect duplicates or link records; more elements, e.g. a score,
are allowed and kept) and identify records by their canonical text (sopremo_cleansing.pairs). Both are one
global Reduce at DOP 1: connected components and a greedy 1:1 assignment need to see every pair.
"""

from __future__ import annotations

from typing import Any, Iterable

from sopremo.api import EXPRESSION, MISSING, ElementaryOperator, OperatorError, PropertySpec, Reduce, sort_key

from . import package
from .detect_internal import contract_args
from .pairs import canonical, compile_one


def as_pair(value: Any) -> tuple[Any, Any]:
    if not isinstance(value, list) or len(value) < 2:
        text = canonical(value).decode()[:80]
        raise OperatorError(f"expected a pair [r1, r2] such as detect duplicates emits, got {text}")
    return value[0], value[1]


def components(pairs: Iterable[Any]) -> list[list[Any]]:
    """The connected components of the pairs' records: each a list of records sorted by canonical text; the
    components sorted by their first record's canonical text."""
    parent: dict[bytes, bytes] = {}
    records: dict[bytes, Any] = {}

    def find(x: bytes) -> bytes:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for value in pairs:
        a, b = as_pair(value)
        ka, kb = canonical(a), canonical(b)
        for k, r in ((ka, a), (kb, b)):
            if k not in parent:
                parent[k], records[k] = k, r
        ra, rb = find(ka), find(kb)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[bytes, list[bytes]] = {}
    for k in parent:
        groups.setdefault(find(k), []).append(k)
    return [[records[k] for k in sorted(keys)] for _, keys in sorted(groups.items())]


@package.operator
class ClusterTransitively(ElementaryOperator):
    """Duplicate pairs to clusters (transitive closure); in: pairs ``[r1, r2]``; out: one array of records per
    cluster (sorted by canonical text). Raises OperatorError for an input record that is not a pair."""

    verb = "cluster transitively"
    doc = "cluster transitively $pairs: one array of records per connected component of the pairs"

    def to_contract(self, inputs: list[Any], ctx: Any) -> Reduce:
        def cluster(_key: Any, group: list[Any]) -> Iterable[Any]:
            yield from components(group)

        return Reduce(key=None, udf=cluster, **contract_args(self, inputs, 1))


def _or_null(value: Any) -> Any:
    return None if value is MISSING else value


@package.operator
class GlobalMatch(ElementaryOperator):
    """A 1:1 assignment over scored pairs, greedy by score: pairs by descending ``with`` score (ties: canonical
    order), a pair kept when neither its left nor its right record is taken yet. In: pairs ``[a, b]``; out: the
    kept pairs, best first. A missing or null score ranks last."""

    verb = "global match"
    doc = "global match $pair in $pairs with <score>: greedy 1:1 assignment by descending score"
    properties = (
        PropertySpec("with", "score", EXPRESSION, required=True, doc="score of a pair (higher = better)"),
    )

    def to_contract(self, inputs: list[Any], ctx: Any) -> Reduce:
        score = compile_one(self.score)

        def assign(_key: Any, group: list[Any]) -> Iterable[Any]:
            ranked = sorted(((sort_key(_or_null(score(p))), canonical(p), p) for p in group),
                            key=lambda t: t[1])
            ranked.sort(key=lambda t: t[0], reverse=True)
            left_taken, right_taken = set(), set()
            for _, _, pair in ranked:
                a, b = (canonical(r) for r in as_pair(pair))
                if a not in left_taken and b not in right_taken:
                    left_taken.add(a)
                    right_taken.add(b)
                    yield pair

        return Reduce(key=None, udf=assign, **contract_args(self, inputs, 1))
