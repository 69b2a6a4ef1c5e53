"""Pair tests: a duplicate condition as per-record *features* computed once plus one test over two feature tuples.

The generic test evaluates the compiled condition over the two records for every pair. When the condition is a
threshold on similarities, such as ``average(jaroWinkler($p.firstName), levenshtein($p.lastName),
dateSim($p.birthDay)) >= 0.85`` (also weighted ``average([...], [w...])``, ``min``, ``max``, one similarity
alone, and ``and`` of such comparisons), it is *fused*: each record gets its features once (the text of a
string similarity, the day number of a date, the token set of jaccard/dice) and one function tests a pair:
cheapest similarities first, each with the cut-off its term must reach for the threshold to stay reachable
(rapidfuzz's ``score_cutoff``, a length bound for levenshtein), rejecting as soon as the threshold is out of
reach. The decision is the generic one: the accepted values are combined in the written order, so fused and
generic tests accept exactly the same pairs.
"""

from __future__ import annotations

from typing import Any, Callable

from sopremo.api import (And, ArrayConstruction, Comparison, Constant, Expression, FunctionCall, InputRef, input_refs,
                         replace_inputs, truthy)

from . import features
from .pairs import compile_one, compile_pair_condition, pairwise

EPS = 1e-6  # margin of the cut-offs: rapidfuzz rounds its own score_cutoff by about 1e-9
_FLIP = {"<=": ">=", "<": ">"}


class PairTest:
    """``features(record, side)`` once per record (side 0 = left input, 1 = right); ``test(fl, fr)`` per pair.
    ``fused``: whether the condition was fused (else the features are the records themselves); ``symmetric``:
    ``test(a, b) == test(b, a)``, so a pair may be tested before it is oriented."""

    def __init__(self, features: Callable[[Any, int], Any], test: Callable[[Any, Any], bool], fused: bool,
                 symmetric: bool = False):
        self.features, self.test, self.fused, self.symmetric = features, test, fused, symmetric


def _term(expr: Expression, functions: frozenset[int]) -> tuple | None:
    """A similarity call over (left, right) as (cost, left expr, right expr, feature, sim, symmetric), else
    None."""
    if not (isinstance(expr, FunctionCall) and id(expr.function) in functions and len(expr.args) >= 2):
        return None
    left, right, *rest = expr.args
    if input_refs(left) != {0} or input_refs(right) != {1} or not all(isinstance(r, Constant) for r in rest):
        return None
    kind = features.kind(expr.function.name, tuple(r.value for r in rest))
    if kind is None or (rest and expr.function.name not in ("dateSim", "numericSim")):
        return None
    cost, feature, sim = kind
    return cost, left, replace_inputs(right, {1: InputRef(0)}), feature, sim, expr.function.name != "mongeElkan"


def _combination(expr: Expression, functions: frozenset[int]) -> tuple[str, list, list] | None:
    """``(combinator, terms, weights)`` of average/min/max over similarities or of one similarity."""
    single = _term(expr, functions)
    if single is not None:
        return "max", [single], [1]
    if not isinstance(expr, FunctionCall) or expr.function.name not in ("average", "min", "max"):
        return None
    from . import package

    if expr.function is not package.functions.get(expr.function.name):
        return None
    args, weights = list(expr.args), None
    if expr.function.name == "average" and len(args) == 2 and all(isinstance(a, ArrayConstruction) for a in args):
        args, weights = list(args[0].items), args[1].items
        if len(weights) != len(args) or not all(isinstance(w, Constant) and type(w.value) in (int, float)
                                                and w.value > 0 for w in weights):
            return None
        weights = [w.value for w in weights]
    if expr.function.name != "average" and len(args) < 2:
        return None
    terms = [_term(a, functions) for a in args]
    if not terms or any(t is None for t in terms):
        return None
    return expr.function.name, terms, weights or [1] * len(terms)


def _clause(expr: Expression, functions: frozenset[int]) -> tuple | None:
    """``(combinator, terms, weights, op, threshold, weighted)`` of ``<combination> >= t`` (or ``>``, or the
    mirrored ``t <= <combination>``), else None."""
    if not isinstance(expr, Comparison):
        return None
    op, combination, limit = expr.op, expr.left, expr.right
    if op in _FLIP:
        op, combination, limit = _FLIP[op], expr.right, expr.left
    if op not in (">=", ">") or not isinstance(limit, Constant) or type(limit.value) not in (int, float):
        return None
    found = _combination(combination, functions)
    if found is None:
        return None
    name, terms, weights = found
    weighted = name == "average" and isinstance(combination.args[0], ArrayConstruction)
    return name, terms, weights, op, limit.value, weighted


def _clause_test(clause: tuple, start: int) -> Callable[[Any, Any], bool]:
    """The test of one clause whose terms' features sit at ``start``, ``start + 1``, ... of the tuples."""
    name, terms, weights, op, limit, weighted = clause
    strict = op == ">"
    order = sorted(range(len(terms)), key=lambda k: terms[k][0])
    if name in ("min", "max"):
        steps = [(k, start + k, terms[k][4]) for k in order]
        cut = limit - EPS
        if name == "max":
            def any_reaches(fa: Any, fb: Any) -> bool:
                for _, i, sim in steps:
                    v = sim(fa[i], fb[i], cut)
                    if v > limit or (not strict and v == limit):
                        return True
                return False
            return any_reaches

        def all_reach(fa: Any, fb: Any) -> bool:
            values = []
            for _, i, sim in steps:
                v = sim(fa[i], fb[i], cut)
                if v < cut:
                    return False
                values.append(v)
            low = min(values)
            return low > limit if strict else low >= limit
        return all_reach
    return _average_test(terms, weights, limit, strict, weighted, start, order)


def _average_test(terms: list, weights: list, limit: float, strict: bool, weighted: bool, start: int,
                  order: list[int]) -> Callable[[Any, Any], bool]:
    """The average clause as one generated function without loops: term ``k`` in cost ``order``, each called
    with the cut-off it must reach (what the threshold needs minus what the other terms can still give), the
    mean then computed as the generic ``average`` does (same order of additions)."""
    total, lines, remaining = sum(weights), [], sum(weights)
    namespace: dict[str, Any] = {}
    for step, k in enumerate(order):
        remaining -= weights[k]
        namespace[f"sim{k}"] = terms[k][4]
        lines.append(f"    c = ({limit * total!r} - acc - {remaining!r}) / {weights[k]!r} - {EPS!r}")
        lines.append(f"    v{k} = sim{k}(fa[{start + k}], fb[{start + k}], c)")
        lines.append(f"    if v{k} < c:\n        return False")
        lines.append(f"    acc {'=' if step == 0 else '+='} {weights[k]!r} * v{k}")
    lines[0] = lines[0].replace("acc", "0.0")
    if weighted:
        mean = f"({' + '.join(f'v{k} * {w!r}' for k, w in enumerate(weights))}) / {total!r}"
    else:
        mean = f"({' + '.join(f'v{k}' for k in range(len(terms)))}) / {len(terms)}"
    lines.append(f"    return {mean} {'>' if strict else '>='} {limit!r}")
    source = "def average_reaches(fa, fb):\n" + "\n".join(lines) + "\n"
    exec(compile(source, "<fused average>", "exec"), namespace)  # noqa: S102 - generated from constants only
    return namespace["average_reaches"]


def _features(getters: list[tuple[Callable, Callable]]) -> Callable[[Any], tuple]:
    def features(record: Any) -> tuple:
        return tuple(feature(get(record)) for get, feature in getters)
    return features


def fused_test(expr: Expression, functions: frozenset[int], link: bool) -> PairTest | None:
    """The fused PairTest of a pairwise-rewritten condition, or None when it is no threshold on similarities
    (or, for one data set, when the left and right sides read different paths)."""
    clauses = [_clause(item, functions) for item in (expr.items if isinstance(expr, And) else (expr,))]
    if any(c is None for c in clauses):
        return None
    terms = [t for c in clauses for t in c[1]]
    if not link and any(t[1] != t[2] for t in terms):
        return None
    left = _features([(compile_one(t[1]), t[3]) for t in terms])
    right = left if not link else _features([(compile_one(t[2]), t[3]) for t in terms])
    tests, start = [], 0
    for clause in clauses:
        tests.append(_clause_test(clause, start))
        start += len(clause[1])
    if len(tests) == 1:
        test = tests[0]
    else:
        def test(fa: Any, fb: Any) -> bool:
            return all(t(fa, fb) for t in tests)
    symmetric = all(t[5] for t in terms)
    return PairTest(lambda record, side: left(record) if side == 0 else right(record), test, True, symmetric)


def pair_test(condition: Expression, functions: frozenset[int], link: bool) -> PairTest:
    """The PairTest of a duplicate/linkage condition: fused when possible (module doc), else generic (the
    compiled condition over the two records)."""
    fused = fused_test(pairwise(condition, functions), functions, link)
    if fused is not None:
        return fused
    cond = compile_pair_condition(condition, functions)
    return PairTest(lambda record, side: record, lambda a, b: truthy(cond(a, b)), False)
