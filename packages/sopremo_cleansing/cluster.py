"""``cluster transitively $pairs`` (pairs -> connected components) and ``global match $pair in $pairs with <score>``.

Both read pairs ``[r1, r2]`` (the output of detect duplicates or link records; more elements, e.g. a score,
are allowed and kept) and identify records by their canonical text (sopremo_cleansing.pairs). Both are one
global Reduce at DOP 1: connected components and a greedy 1:1 assignment need to see every pair.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from sopremo.api import (CONSTANT, EXPRESSION, MISSING, Comparison, Constant, ElementaryOperator, OperatorError, Var,
                         PropertySpec, Reduce, compile_expression, sort_key, truthy)

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
    records, groups = _connected(pairs, lambda a, b: (canonical(a), canonical(b)))
    return [[records[k] for k in keys] for keys in groups]


def _connected(pairs: Iterable[Any], keys_of: Any) -> tuple[dict[Any, Any], list[list[Any]]]:
    """Union-find over ``pairs`` (``[a, b, ...]``), records identified by ``keys_of(a, b) -> (key of a, key of
    b)``: (the record of each key, the connected components as sorted lists of keys, in the order of their
    smallest key)."""
    parent: dict[Any, Any] = {}
    records: dict[Any, Any] = {}

    def find(x: Any) -> Any:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for value in pairs:
        a, b = as_pair(value)
        ka, kb = keys_of(a, b)
        for k, r in ((ka, a), (kb, b)):
            if k not in parent:
                parent[k], records[k] = k, r
        ra, rb = find(ka), find(kb)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)  # a component's root is its smallest key
    groups: dict[Any, list[Any]] = {}
    for k in parent:
        groups.setdefault(find(k), []).append(k)
    return records, [sorted(keys) for _, keys in sorted(groups.items())]


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


CLUSTER_ALGORITHMS = ("transitive_closure",)  # the original's Clustering.Algorithm


@package.operator
class Cluster(ClusterTransitively):
    """``cluster $pairs [using | with transitive_closure]``: the original's Clustering, an operator whose
    algorithm is a property; its one algorithm is the transitive closure (``cluster transitively``). In:
    pairs; out: one array of records per connected component."""

    verb = "cluster"
    doc = "cluster $pairs [using transitive_closure]: clusters of the pairs (the only algorithm: transitive closure)"
    properties = (
        PropertySpec("using", "algorithm", CONSTANT, choices=CLUSTER_ALGORITHMS, aliases=("with",),
                     doc="the clustering algorithm: transitive_closure (the default and only one)"),
    )


def _or_null(value: Any) -> Any:
    return None if value is MISSING else value


def split_threshold(expr: Any) -> tuple[Any, Any]:
    """``(score, keep)`` of a ``with`` expression: ``score > 0.7`` (any comparison of the score with a
    constant, also written ``0.7 < score``) is the score and a test of its value, as in the original; anything
    else the score alone (keep None)."""
    if isinstance(expr, Comparison) and isinstance(expr.left, Constant) and not isinstance(expr.right, Constant):
        expr = Comparison(_MIRRORED[expr.op], expr.right, expr.left)  # 0.7 < jaro(...) is jaro(...) > 0.7
    if isinstance(expr, Comparison) and isinstance(expr.right, Constant):
        op, bound = expr.op, expr.right.value
        test = compile_expression(Comparison(op, Var("s"), Constant(bound)), 0, ("s",))
        return expr.left, lambda value: truthy(test(value))
    return expr, None


_MIRRORED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def greedy_matches(pairs: Iterable[Any], score: Any, keep: Any = None, tiebreak: Any = None) -> Iterator[list]:
    """The original's GlobalMatching over ``pairs`` ``[a, b, ...]`` (a on the left, b on the right side):
    the records of both sides form connected components (left and right kept apart even when equal); in
    each component every left record is scored against every right record (``score([l, r])``, kept when
    ``keep(score)``), and the candidates, best score first, are taken when neither record is taken yet.
    Ties: ``tiebreak([l, r])`` descending when given, then canonical text. Yields ``[l, r]``: components in
    the canonical order of their first record, best match first."""
    records, groups = _connected(pairs, lambda a, b: ((canonical(a), 0), (canonical(b), 1)))
    for keys in groups:
        lefts = [k for k in keys if k[1] == 0]
        rights = [k for k in keys if k[1] == 1]
        ranked = []
        for kl in lefts:
            for kr in rights:
                pair = [records[kl], records[kr]]
                value = _or_null(score(pair))
                if keep is not None and not keep(value):
                    continue
                tie = sort_key(_or_null(tiebreak(pair))) if tiebreak is not None else 0
                ranked.append((sort_key(value), tie, kl[0], kr[0], pair))
        ranked.sort(key=lambda t: (t[2], t[3]))
        ranked.sort(key=lambda t: (t[0], t[1]), reverse=True)
        left_taken, right_taken = set(), set()
        for _, _, kl, kr, pair in ranked:
            if kl not in left_taken and kr not in right_taken:
                left_taken.add(kl)
                right_taken.add(kr)
                yield pair


@package.operator
class GlobalMatch(ElementaryOperator):
    """A 1:1 assignment over candidate pairs, the original's GlobalMatching (``greedy_matches``): per connected
    component of the pairs, every left record against every right record, scored by ``with`` (``with <score>
    > 0.7`` also drops candidates below the threshold), greedy by descending score. In: pairs ``[a, b, ...]``;
    out: ``[l, r]``. A missing or null score ranks last; ``tiebreak with <expr>`` orders equal scores
    (descending), then canonical text. Raises OperatorError for an input record that is not a pair."""

    verb = "global match"
    doc = ("global match $pair in $pairs with <score> [> threshold] [tiebreak with <expr>]: greedy 1:1 "
           "assignment by descending score within connected components")
    properties = (
        PropertySpec("with", "score", EXPRESSION, required=True,
                     doc="score of a candidate [l, r] (higher = better); '<score> > t' also drops those below t"),
        PropertySpec("tiebreak with", "tiebreak", EXPRESSION,
                     doc="orders candidates of equal score, higher first (default: canonical order)"),
    )

    def to_contract(self, inputs: list[Any], ctx: Any) -> Reduce:
        expr, keep = split_threshold(self.score)
        score = compile_one(expr)
        tiebreak = compile_one(self.tiebreak) if self.tiebreak is not None else None

        def assign(_key: Any, group: list[Any]) -> Iterable[Any]:
            yield from greedy_matches(group, score, keep, tiebreak)

        return Reduce(key=None, udf=assign, **contract_args(self, inputs, 1))
