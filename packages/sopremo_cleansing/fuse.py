"""``fuse $c in $clusters [with weights {...}] with resolutions {...} | retain <choice>``: one record per cluster.

A cluster is an array of records (cluster transitively emits them). Per field, the distinct values of the
cluster's records (missing and null left out) go through the field's resolutions in order until one value is
left: ``mostFrequent`` (keeps the values of highest weighted frequency), ``mergeDistinct`` (all distinct values
as one array, arrays flattened), ``chooseRandom`` (one value, seeded by the cluster: reproducible),
``defaultResolution(v)`` (``v`` when values still conflict), ``longest`` / ``shortest`` (by text length), ``min`` /
``max``. Values still in conflict afterwards, and fields without resolutions, take the value of the highest
total weight, then the first in cluster order. A record's weight is ``with weights`` of its ``_source`` (1 when
unlisted); a weight may carry per-field evidences, ``cia: 0.7*{addresses: 0.8*{street: 0.7}, name: 0.3}`` (the
original's CompositeEvidence): as in the original only the base weight (0.7) weighs a record. ``_source`` itself
is metadata and not part of the fused record (as in the original). ``retain longest($p.name)`` (also shortest,
min, max) keeps the whole record with that choice.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any, Callable, Iterable, Iterator

from sopremo.api import (CONSTANT, EXPRESSION, MISSING, ElementaryOperator, FieldAssignment, FunctionCall, Map,
                         ObjectConstruction, OperatorError, PropertyError, PropertySpec, evaluate_constant,
                         expressions, hashable, sort_key, string_form)

from . import package
from .detect_internal import contract_args
from .pairs import canonical, compile_one
from .vocabulary import is_descriptor

RETAIN_CHOICES = ("longest", "shortest", "min", "max")
SOURCE_FIELD = "_source"


def _length(value: Any) -> int:
    return len(string_form(value))


def _keep_best(values: list, score: Callable[[Any], Any]) -> list:
    best = max(score(v) for v in values)
    return [v for v in values if score(v) == best]


def resolve(resolution: dict, values: list, weights: dict, seed: bytes) -> list:
    """One resolution step on the distinct ``values`` (``weights``: hashable value -> total weight)."""
    name = resolution["name"]
    if name == "mostFrequent":
        return _keep_best(values, lambda v: weights[hashable(v)])
    if name == "mergeDistinct":
        merged: list = []
        for v in values:
            for item in v if isinstance(v, list) else [v]:
                if all(hashable(item) != hashable(m) for m in merged):
                    merged.append(item)
        return [merged]
    if name == "chooseRandom":
        rng = random.Random(int.from_bytes(hashlib.sha256(seed).digest()[:8], "big"))
        return [rng.choice(sorted(values, key=sort_key))]
    if name == "default":
        return values if len(values) == 1 else [resolution["args"][0]]
    if name in ("longest", "shortest"):
        sign = 1 if name == "longest" else -1
        return _keep_best(values, lambda v: sign * _length(v))
    if name in ("min", "max"):
        pick = min if name == "min" else max
        best = sort_key(pick(values, key=sort_key))
        return [v for v in values if sort_key(v) == best]
    raise OperatorError(f"fuse: {name} is not a resolution")


def fuse_cluster(cluster: list, resolutions: dict, weights: dict) -> dict:
    """The fused record of one cluster (see the module docstring)."""
    records = [r for r in cluster if isinstance(r, dict)]
    record_weights = [weights.get(r.get(SOURCE_FIELD), 1) if weights else 1 for r in records]
    seed = canonical(cluster)
    fused: dict = {}
    for field in dict.fromkeys(k for r in records for k in r if k != SOURCE_FIELD):
        values, totals = [], {}
        for r, w in zip(records, record_weights):
            v = r.get(field, MISSING)
            if v is MISSING or v is None:
                continue
            h = hashable(v)
            if h not in totals:
                values.append(v)
                totals[h] = 0
            totals[h] += w
        if not values:
            fused[field] = None
            continue
        for resolution in resolutions.get(field, ()):
            if len(values) == 1:
                break
            values = resolve(resolution, values, totals, seed + field.encode())
        fused[field] = values[0] if len(values) == 1 else _keep_best(values, lambda v: totals[hashable(v)])[0]
    return fused


def retain_function(expr: Any) -> Callable[[list], Any]:
    """``retain longest($p.name)`` as a function cluster -> the record whose value is longest (first on ties)."""
    if not (isinstance(expr, FunctionCall) and expr.name in RETAIN_CHOICES and len(expr.args) == 1):
        raise PropertyError("retain takes longest(<path>), shortest(<path>), min(<path>) or max(<path>)", "retain")
    value, name = compile_one(expr.args[0]), expr.name
    if name in ("longest", "shortest"):
        key = lambda record: _length(value(record))  # noqa: E731
    else:
        key = lambda record: sort_key(_or_null(value(record)))  # noqa: E731
    pick = max if name in ("longest", "max") else min
    return lambda cluster: pick(cluster, key=key)


def _or_null(value: Any) -> Any:
    return None if value is MISSING else value


def normalise_resolutions(value: Any) -> dict[str, list[dict]]:
    """``{field: resolution | [resolutions]}`` checked; raises PropertyError naming the bad entry."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PropertyError("'with resolutions' needs an object such as {name: [mostFrequent, longest]}",
                            "with resolutions")
    result = {}
    for field, items in value.items():
        items = items if isinstance(items, list) else [items]
        for item in items:
            if not is_descriptor(item, "resolution"):
                raise PropertyError(f"'with resolutions': {field} needs resolutions such as mostFrequent, "
                                    f"got {string_form(item)[:40]}", "with resolutions")
        result[field] = items
    return result


_WEIGHTS_USAGE = ("'with weights' needs an object of numbers such as {dblp: 0.9}, a number optionally times an "
                  "object of field evidences: {cia: 0.7*{name: 0.3}}")


def evidence(expr: Any) -> dict:
    """One weight of ``with weights`` as ``{"base": number, "fields": {field: evidence}}``: a constant number, or
    ``number * {field: weight, ...}`` (either order; the original's CompositeEvidence). Raises PropertyError."""
    if isinstance(expr, expressions.Arithmetic) and expr.op == "*" and (
            isinstance(expr.left, ObjectConstruction) or isinstance(expr.right, ObjectConstruction)):
        nested, base = (expr.left, expr.right) if isinstance(expr.left, ObjectConstruction) else (expr.right, expr.left)
        return {"base": _number(base), "fields": evidences(nested)}
    return {"base": _number(expr), "fields": {}}


def _number(expr: Any) -> float:
    try:
        value = evaluate_constant(expr)
    except Exception:  # noqa: BLE001 - reads a field or fails: not a weight either way
        value = None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise PropertyError(_WEIGHTS_USAGE, "with weights")
    return value


def evidences(expr: Any) -> dict[str, dict]:
    """``with weights {...}`` as ``{source: evidence}`` (see ``evidence``); None -> {}. Raises PropertyError."""
    if expr is None:
        return {}
    if not isinstance(expr, ObjectConstruction) or not all(isinstance(e, FieldAssignment) for e in expr.entries):
        raise PropertyError(_WEIGHTS_USAGE, "with weights")
    return {e.name: evidence(e.value) for e in expr.entries}


def base_weights(expr: Any) -> dict[str, float]:
    """``{source: base weight}`` of a ``with weights`` expression (what weighs a record)."""
    return {source: ev["base"] for source, ev in evidences(expr).items()}


FUSE_PROPERTIES = (
    PropertySpec("with weights", "weights", EXPRESSION,
                 doc="{source: weight | weight*{field: evidence}}: trust of the records' _source"),
    PropertySpec("with resolutions", "resolutions", CONSTANT, doc="{field: resolution | [resolutions]}"),
    PropertySpec("retain", "retain", EXPRESSION, doc="longest(<path>) etc.: keep the whole chosen record"),
)


@package.operator
class Fuse(ElementaryOperator):
    """Fuses each cluster (an array of records) into one record; out: one record per non-empty cluster.

    Raises PropertyError for malformed weights or resolutions, or for ``retain`` together with resolutions.
    """

    bare_names_are_fields = True  # the paper's levenshtein(name), retain longest(name)
    verb = "fuse"
    doc = "fuse $c in $clusters [with weights {source: w}] with resolutions {field: resolution | [...]}"
    properties = FUSE_PROPERTIES

    def validate(self) -> None:
        super().validate()
        validate_fusion(self)

    def to_contract(self, inputs: list[Any], ctx: Any) -> Map:
        resolutions, weights = normalise_resolutions(self.resolutions), base_weights(self.weights)
        choose = retain_function(self.retain) if self.retain is not None else None

        def fuse(clusters: Iterator[Any]) -> Iterable[Any]:
            for cluster in clusters:
                if not isinstance(cluster, list):
                    raise OperatorError(f"fuse: expected a cluster array, got {canonical(cluster).decode()[:80]}")
                if cluster:
                    yield choose(cluster) if choose is not None else fuse_cluster(cluster, resolutions, weights)

        return Map(udf=fuse, **contract_args(self, inputs))


def validate_fusion(op: Any) -> None:
    """Checks shared by fuse and remove duplicates (weights, resolutions, retain)."""
    normalise_resolutions(op.resolutions)
    evidences(op.weights)
    if op.retain is not None:
        if op.resolutions is not None:
            raise PropertyError("give either 'retain' or 'with resolutions', not both", "retain")
        retain_function(op.retain)
