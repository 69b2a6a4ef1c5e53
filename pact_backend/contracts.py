"""PACT contracts: the second-order functions of a PACT program (VLDB J. 2014, sec. 5.1).

A contract pairs an input contract (how records are grouped into parallelization units) with a user function
(UDF) that is opaque to this layer. Records are opaque Python objects; keys are ``Key`` values: an opaque key
function ``fn(record) -> hashable`` with what the optimizer may know of it (a description, the record fields it
reads). Nothing here knows Meteor, Sopremo or JSON paths.

What the optimizer and the runtime know of a UDF is declared here, as fields of the IR, never as attributes
stuck onto functions: ``Key`` (equal keys for interesting properties), ``Reduce.sorts_only``,
``Hints.kept_keys``, ``Hints.preserves_records`` / ``constant_fields`` / ``read_fields``, the ``Combiner`` with
its optional fusion hook and the ``Map.selection`` / ``Map.expansion`` that hook reads, the batch hooks
``Map.batch_selection`` and ``Match.batch_probe``, and ``Contract.derive_estimate``.

UDF shapes (every UDF may emit 0..n records by returning or yielding an iterable):
- ``Map.udf(records: Iterator[R]) -> Iterable[R]`` over a stream of records (a chained, per-partition map);
- ``Reduce.udf(key, group: list[R]) -> Iterable[R]``, once per distinct key; ``combiner`` has the same shape
  and pre-aggregates a partial group before shipping (its output must be valid input of ``udf``);
- ``Match.udf(left: R, right: R) -> Iterable[R]``, once per pair of records with equal keys;
- ``Cross.udf(left: R, right: R) -> Iterable[R]``, once per pair of the Cartesian product;
- ``CoGroup.udf(key, left: list[R], right: list[R]) -> Iterable[R]``, once per key of either side;
- ``Union`` has no UDF: the bag union of its inputs.
"""

from __future__ import annotations

import itertools
from dataclasses import field
from typing import Any, Callable, Iterable, Iterator, Mapping, Protocol

from pact_backend.combiners import Combiner, FunctionCombiner, FusedSource
from pact_backend.keys import GroupOrder, Key, KeyFunction, group_order_of, key_function, order_function
from pact_backend.quick_dataclass import dataclass

_ids = itertools.count(1)

__all__ = ["Key", "KeyFunction", "GroupOrder", "key_function", "order_function", "Combiner", "FunctionCombiner",
           "FusedSource", "InputFormat", "OutputFormat", "ConstantFields", "Hints", "Contract", "Source", "Sink",
           "Map", "Reduce", "Match", "Cross", "CoGroup", "Union", "PactPlan"]


class InputFormat(Protocol):
    """What a Source reads: ``read()`` streams records; ``describe()`` names it for explain and errors.

    ``splits(n)`` (optional) returns up to ``n`` independent parts and ``read_split(part)`` streams one of them,
    so a parallel executor can read byte ranges on all cores. ``size_bytes()`` (optional) estimates the input.
    """

    def read(self) -> Iterator[Any]: ...

    def describe(self) -> str: ...


class OutputFormat(Protocol):
    """What a Sink writes: ``open()`` returns a writer with ``write(record)``, ``commit()`` and ``abort()``.

    ``commit`` makes the output visible atomically (temp file, then rename); ``abort`` removes the temp file.
    """

    def open(self) -> Any: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class ConstantFields:
    """User-code annotation (VLDB J. 2014, sec. 6.2 and 6.3): the fields the UDF copies unchanged from its input
    ``input`` (0 or 1) to the same field (position of a tuple, name of a dict) of every output record.

    ``fields``: those fields; or ``all_except`` (not None): every field but these is copied.
    """

    input: int = 0
    fields: frozenset = frozenset()
    all_except: frozenset | None = None

    def keeps(self, field: Any) -> bool:
        """Whether ``field`` holds the same value in the output record as in the input record."""
        if self.all_except is not None:
            return field not in self.all_except
        return field in self.fields


@dataclass
class Hints:
    """Optimizer hints: ``selectivity`` (output records per input record or group), ``output_records`` and
    ``output_bytes`` estimates (None = unknown), ``record_bytes`` (average record size in bytes).

    ``preserves_records``: the UDF emits only records of its (first) input, unchanged (a selection), so every
    key value, partitioning and order of that input holds for the output (interesting properties, sec. 6.3).
    ``constant_fields``: ConstantFields per annotated input: partitioning and order on constant fields survive
    the UDF. ``cardinality``: (least, most) records emitted per UDF call (None = unbounded), sec. 6.2.
    ``read_fields``: the fields of its input the UDF reads (its read set; None = unknown, maybe all).
    ``kept_keys``: {description of a key of input 0: description of a key of the output with equal values}
    (e.g. a Reduce whose output copies its group key into a field), so a hash partitioning of the input on the
    first key holds for the output on the second (sec. 6.3).
    """

    selectivity: float | None = None
    output_records: int | None = None
    output_bytes: int | None = None
    record_bytes: int | None = None
    preserves_records: bool = False
    constant_fields: tuple[ConstantFields, ...] = ()
    cardinality: tuple[int, int | None] | None = None
    read_fields: frozenset | None = None
    kept_keys: Mapping[str, str] = field(default_factory=dict)


@dataclass(eq=False, repr=False)
class Contract:
    """Base of all contracts: a named node of a PACT program with input contracts, DOP hint and hints.

    ``derive_estimate(inputs)``: the hook of a contract defined outside this module (an iteration) that
    estimates its own output from its inputs' estimates (``pact_backend.optimizer.estimates.Sized``); None, the
    default, lets the optimizer derive it from the contract's kind.
    """

    name: str
    inputs: list["Contract"] = field(default_factory=list)
    dop: int | None = None
    hints: Hints = field(default_factory=Hints)
    id: int = field(default_factory=lambda: next(_ids))

    kind = "Contract"

    def __repr__(self) -> str:
        return f"{self.kind}({self.name})"

    def derive_estimate(self, inputs: list[Any]) -> Any:
        return None


@dataclass(eq=False, repr=False)
class Source(Contract):
    """A data source: reads records through ``input_format``."""

    input_format: Any = None
    kind = "Source"


@dataclass(eq=False, repr=False)
class Sink(Contract):
    """A data sink: writes the records of its single input through ``output_format``.

    ``ordered``: the input arrives in a meaningful order (after a sort) that the sink must keep.
    """

    output_format: Any = None
    ordered: bool = False
    kind = "Sink"


@dataclass(eq=False, repr=False)
class Map(Contract):
    """Map: every record independently; ``udf(records) -> records`` over a stream.

    ``selection``: set (opaque to this layer) by the layer above on a Map that emits exactly the records of its
    input that satisfy a condition, unchanged: that condition in the above layer's own terms (Sopremo: the
    expression). ``expansion``: set (opaque too) on a Map that emits, per input record, one record per element
    of a container computed from it (a flat map such as Sopremo's ``split array``): what it computes, in the
    above layer's terms. Only a combiner's fusion hook reads them (``Combiner.fuse_source``, through
    ``fusion_fact``); None for any other Map. ``batch_selection``: optional hook of a selection Map (opaque):
    ``plan(input_format, selections)`` gives a source stage whose leading Maps are selections a way to filter
    row batches before records are built (``pact_backend.runtime.filtered_source``).
    """

    udf: Callable[[Iterator[Any]], Iterable[Any]] | None = None
    selection: Any = None
    expansion: Any = None
    batch_selection: Any = None
    kind = "Map"

    @property
    def fusion_fact(self) -> Any:
        """What this Map declares for a combiner's fusion hook: its ``selection``, else its ``expansion``, else
        None."""
        return self.selection if self.selection is not None else self.expansion


@dataclass(eq=False, repr=False)
class Reduce(Contract):
    """Reduce: all records with an equal key form one group; ``udf(key, group)``.

    ``key`` None = one global group. ``combiner`` (a ``Combiner``) optionally pre-aggregates.
    ``group_order``: (key, descending) ordering the records inside each group (secondary sort).
    ``sorts_only``: the UDF only reorders its group (emits its records sorted on ``group_order``), so a global
    sort may run on key ranges in parallel (sec. 6.3) and stream an external sort.
    Keys and combiners may be given as plain functions; they are stored as ``Key`` and ``Combiner``.
    ``limit`` (needs ``group_order``): the UDF sees only the first ``limit`` records of each group in that order
    (top-k); the runtime keeps them with bounded heaps, on every producer partition before shipping as well
    (``pact_backend.runtime.topk``).
    ``streams_group``: the UDF reads its group once, front to back, and accepts any iterable (not only a list),
    as a Reduce function receives an iterator in the original PACT runtime. The runtime then hands it a group
    straight from the sorted run or the merged spill files, so a group larger than the memory budget is never
    held (a fold, an aggregation). Without it the UDF receives a list: that one group must fit in memory,
    everything else spills. The UDF must consume the group before it returns (the runtime moves on).
    ``sequence_groups``: the UDF accepts its group as any read-only sequence (``len``, indexing, slices,
    iterating it several times), not only a list; the runtime then hands it a group larger than its share of
    the budget as a ``runtime.groups.SpilledGroup`` read back from a spill file block by block, so the group
    is never held whole (the UDF's own output is the UDF's business). The sequence is valid during the call
    only (until the UDF's output for the group has been read).
    """

    key: Key | None = None
    udf: Callable[[Any, list[Any]], Iterable[Any]] | None = None
    combiner: Combiner | None = None
    group_order: GroupOrder | None = None
    limit: int | None = None
    sorts_only: bool = False
    streams_group: bool = False
    sequence_groups: bool = False
    kind = "Reduce"

    def __post_init__(self) -> None:
        self.key = Key.of(self.key)
        self.combiner = Combiner.of(self.combiner)
        self.group_order = group_order_of(self.group_order)
        if self.limit is not None and (self.group_order is None or self.limit < 0):
            raise ValueError(f"Reduce {self.name!r}: a limit needs a group order and must be >= 0, "
                             f"got {self.limit!r}")


@dataclass(eq=False, repr=False)
class Match(Contract):
    """Match: every pair of records of the two inputs with equal keys; ``udf(left, right)``.

    ``batch_probe``: optional hook (opaque to this layer, set by the layer above) for a Match chained to the
    stage of a source whose records it probes: ``plan(input_format, selections, side)`` returns None or a
    *probed source* that reads input ``side`` (a source, through chained Maps declaring ``selections``) as row
    batches, filters them and computes the keys of rows without building records; records are built only
    for the rows that find a match (``pact_backend.runtime.probed_source``).
    """

    keys: tuple[Key, Key] | None = None
    udf: Callable[[Any, Any], Iterable[Any]] | None = None
    batch_probe: Any = None
    kind = "Match"

    def __post_init__(self) -> None:
        self.keys = _pair_of_keys(self.keys)


@dataclass(eq=False, repr=False)
class Cross(Contract):
    """Cross: every pair of the Cartesian product of the two inputs; ``udf(left, right)``."""

    udf: Callable[[Any, Any], Iterable[Any]] | None = None
    kind = "Cross"


@dataclass(eq=False, repr=False)
class CoGroup(Contract):
    """CoGroup: per key of either input, both groups at once; ``udf(key, left_group, right_group)``.

    ``group_order`` as for Reduce, one entry per input (or None). ``sequence_groups`` as for Reduce: both
    groups of a call may come as read-only sequences, each spilled past its share of the budget.
    """

    keys: tuple[Key, Key] | None = None
    udf: Callable[[Any, list[Any], list[Any]], Iterable[Any]] | None = None
    group_order: tuple[GroupOrder | None, GroupOrder | None] | None = None
    sequence_groups: bool = False
    kind = "CoGroup"

    def __post_init__(self) -> None:
        self.keys = _pair_of_keys(self.keys)
        if self.group_order is not None:
            self.group_order = (group_order_of(self.group_order[0]), group_order_of(self.group_order[1]))


def _pair_of_keys(keys: Any) -> tuple[Key, Key] | None:
    if keys is None:
        return None
    left, right = keys
    return Key.of(left), Key.of(right)


@dataclass(eq=False, repr=False)
class Union(Contract):
    """Union: the bag union of all inputs (no UDF)."""

    kind = "Union"


@dataclass
class PactPlan:
    """A PACT program: its sinks; every contract is reachable from a sink through ``inputs``."""

    sinks: list[Sink] = field(default_factory=list)

    def contracts(self) -> list[Contract]:
        """All contracts in a topological order (inputs before consumers)."""
        order: list[Contract] = []
        seen: set[int] = set()

        def visit(c: Contract) -> None:
            if c.id in seen:
                return
            seen.add(c.id)
            for i in c.inputs:
                visit(i)
            order.append(c)

        for s in self.sinks:
            visit(s)
        return order
