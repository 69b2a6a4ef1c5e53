"""Size estimates per contract: records and bytes, from Source sizes and a sample of records, overridable by
hints (VLDB J. 2014, sec. 6.3: "estimates ... from file sizes and sampled records").

A Source reads its first ``SAMPLE_SIZE`` records through ``input_format.read()`` to learn the record size (and
so the record count from the file size). The sample flows through Maps that keep records (selections,
``Hints.preserves_records``), which measures their selectivity on it; other UDFs are never run at planning
time. Keyed contracts estimate their groups from the distinct keys of the sample. Hints always win.
"""

from __future__ import annotations

import itertools
import pickle
from dataclasses import field
from typing import Any

import orjson

from pact_backend import contracts as pact
from pact_backend.physical import Estimate
from pact_backend.quick_dataclass import dataclass

SAMPLE_SIZE = 100
DEFAULT_SELECTIVITY = 0.5     # a Map / Match residual we cannot measure
DEFAULT_GROUP_RATIO = 0.1     # groups per input record when the sample tells nothing
DEFAULT_RECORD_BYTES = 100.0  # a record of unknown size


@dataclass
class Sized:
    """The estimate of one contract plus the sample of its output (None when not known) and a note on where
    the numbers came from (for explain)."""

    estimate: Estimate
    sample: list[Any] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def record_bytes(self) -> float:
        e = self.estimate
        if e.records and e.bytes is not None:
            return e.bytes / e.records
        return DEFAULT_RECORD_BYTES


def record_size(record: Any) -> int:
    """Bytes of one record serialised (orjson for JSON-like values, else pickle)."""
    try:
        return len(orjson.dumps(record, default=str)) + 1
    except TypeError:
        return len(pickle.dumps(record, protocol=5))


def sample_source(source: pact.Source) -> list[Any] | None:
    """The first SAMPLE_SIZE records of ``source`` (None when it cannot be read: errors surface at run time)."""
    read = getattr(source.input_format, "read", None)
    if read is None:
        return None
    records = None
    try:
        records = read()
        return list(itertools.islice(records, SAMPLE_SIZE))
    except Exception:  # noqa: BLE001 - a bad input is the executor's error to report, with file and line
        return None
    finally:
        close = getattr(records, "close", None)
        if close is not None:
            close()  # release the file of a generator read only partly


def estimate_source(source: pact.Source) -> Sized:
    """Records and bytes of a Source: size hint (file bytes) / sampled record size."""
    sample = sample_source(source)
    per_record = sum(map(record_size, sample)) / len(sample) if sample else None
    total = source.hints.output_bytes
    records = source.hints.output_records
    notes = [f"sampled {len(sample)} records"] if sample is not None else []
    if records is None and total is not None and per_record:
        records = total / per_record
    if total is None and records is not None:
        total = records * (per_record or DEFAULT_RECORD_BYTES)
    if sample is not None and len(sample) < SAMPLE_SIZE:
        records = float(len(sample))
        total = float(sum(map(record_size, sample)))
        notes.append("whole input sampled")
    return Sized(Estimate(records, total), sample, notes)


def _run_sample(udf: Any, sample: list[Any] | None) -> list[Any] | None:
    if sample is None:
        return None
    try:
        return list(udf(iter(sample)))
    except Exception:  # noqa: BLE001 - the run reports UDF errors with their record
        return None


def estimate_map(contract: pact.Map, source: Sized) -> Sized:
    """A Map: records kept in proportion to the selectivity (measured on the sample for a selection)."""
    sample = _run_sample(contract.udf, source.sample) if contract.hints.preserves_records else None
    cardinality = contract.hints.cardinality
    if contract.hints.selectivity is not None:
        selectivity, note = contract.hints.selectivity, "selectivity hint"
    elif cardinality is not None and cardinality[0] == cardinality[1]:
        selectivity, note = float(cardinality[0]), "output cardinality hint"
    elif sample is not None and source.sample:
        kept, seen = len(sample), len(source.sample)  # Laplace: a biased sample never gives exactly 0 or 1
        selectivity, note = (kept + 1) / (seen + 2), f"selectivity {kept}/{seen} on sample"
    elif contract.hints.preserves_records:
        selectivity, note = DEFAULT_SELECTIVITY, "selectivity guessed"
    elif cardinality is not None and cardinality[1] is not None:
        selectivity, note = (cardinality[0] + cardinality[1]) / 2, "output cardinality bounds"
    else:
        selectivity, note = 1.0, "one record per record assumed"
    records = _scale(source.estimate.records, selectivity)
    return Sized(Estimate(records, _scale(records, source.record_bytes)), sample, [note])


def estimate_grouping(key: Any, source: Sized, selectivity: float | None) -> tuple[float | None, str]:
    """Groups of a Reduce / CoGroup input: a hint, else the GEE estimate from the keys of the sample."""
    records = source.estimate.records
    if selectivity is not None:
        return _scale(records, selectivity), "selectivity hint"
    if key is None:
        return 1.0, "one global group"
    counts = _key_counts(key, source.sample)
    if counts is None or records is None:
        return _scale(records, DEFAULT_GROUP_RATIO), "groups guessed"
    return distinct_keys(counts, records), f"{len(counts)} keys in {sum(counts.values())} sampled"


def distinct_keys(counts: dict[Any, int], records: float) -> float:
    """The GEE estimator of distinct keys (Charikar et al., PODS 2000): keys seen once in a sample of n out of N
    records stand for sqrt(N / n) keys each; keys seen more often are counted once. At most ``records``."""
    n = sum(counts.values())
    once = sum(1 for c in counts.values() if c == 1)
    estimate = (max(records, n) / n) ** 0.5 * once + (len(counts) - once)
    return float(min(max(records, len(counts)), estimate))


def _key_counts(key: Any, sample: list[Any] | None) -> dict[Any, int] | None:
    """How often each key occurs in ``sample`` (None without a sample or when the key function fails)."""
    if not sample:
        return None
    counts: dict[Any, int] = {}
    try:
        for record in sample:
            k = key(record)
            counts[k] = counts.get(k, 0) + 1
    except Exception:  # noqa: BLE001 - the run reports key errors with their record
        return None
    return counts


def estimate(contract: pact.Contract, inputs: list[Sized]) -> Sized:
    """The estimate of ``contract`` from those of its inputs, then overridden by its hints."""
    sized = _derive(contract, inputs)
    hints = contract.hints
    e = sized.estimate
    if hints.output_records is not None and not isinstance(contract, pact.Source):
        e.records, e.bytes = float(hints.output_records), hints.output_records * sized.record_bytes
        sized.notes.append("records hint")
    if hints.record_bytes is not None and e.records is not None:
        e.bytes = e.records * hints.record_bytes
    if hints.output_bytes is not None and not isinstance(contract, pact.Source):
        e.bytes = float(hints.output_bytes)
    return sized


def _derive(c: pact.Contract, inputs: list[Sized]) -> Sized:
    own = c.derive_estimate(inputs)  # contracts defined elsewhere (iterations) estimate themselves
    if own is not None:
        return own
    if isinstance(c, pact.Source):
        return estimate_source(c)
    if isinstance(c, pact.Map):
        return estimate_map(c, inputs[0])
    if isinstance(c, pact.Reduce):
        if c.key is None and c.group_order is not None and c.limit is not None:  # a top-k: its first records
            records = _at_most(inputs[0].estimate.records, float(c.limit))
            return Sized(Estimate(records, _scale(records, inputs[0].record_bytes)), None, [f"first {c.limit}"])
        if c.key is None and c.group_order is not None:  # a global sort: every record
            return Sized(Estimate(inputs[0].estimate.records, inputs[0].estimate.bytes), None, ["all records"])
        groups, note = estimate_grouping(c.key, inputs[0], c.hints.selectivity)
        return Sized(Estimate(groups, _scale(groups, inputs[0].record_bytes)), None, [note])
    if isinstance(c, (pact.Union, pact.Sink)):
        return Sized(Estimate(_sum(i.estimate.records for i in inputs), _sum(i.estimate.bytes for i in inputs)),
                     None, [])
    left, right = inputs
    width = left.record_bytes + right.record_bytes
    if isinstance(c, pact.Cross):
        records = _product(left.estimate.records, right.estimate.records)
        return Sized(Estimate(records, _scale(records, width)), None, ["cartesian product"])
    unique = [i for i in (0, 1) if _unique_on_key(c, i)]
    if len(unique) == 1:
        other = 1 - unique[0]
        records = inputs[other].estimate.records
        return Sized(Estimate(records, _scale(records, width)), None,
                     [f"input {other}'s records (input {unique[0]} has one record per key)"])
    records = _max(left.estimate.records, right.estimate.records)
    return Sized(Estimate(records, _scale(records, width)), None, ["larger input's records (key-foreign key)"])


def _unique_on_key(c: pact.Contract, index: int) -> bool:
    """Whether input ``index`` of the Match or CoGroup ``c`` holds at most one record per key of ``c``: it is a
    Reduce whose output copies its group key into the field ``c`` keys it on (``Hints.kept_keys``; a grouped
    join of a decorrelated aggregate). Every record of the other input then meets at most one partner: the
    output has about the other input's records (exactly, for a left outer join), not the larger input's."""
    keys = getattr(c, "keys", None)
    if not isinstance(c, (pact.Match, pact.CoGroup)) or keys is None or index >= len(c.inputs):
        return False
    source = c.inputs[index]
    if not isinstance(source, pact.Reduce) or source.key is None or source.limit is not None:
        return False
    description = keys[index].description
    return description is not None and description in source.hints.kept_keys.values()


def _scale(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor


def _sum(values: Any) -> float | None:
    values = list(values)
    return None if any(v is None for v in values) else float(sum(values))


def _at_most(value: float | None, bound: float) -> float:
    return bound if value is None else min(value, bound)


def _max(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else max(a, b)


def _product(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a * b
