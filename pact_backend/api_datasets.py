"""Data sets of the PACT API: a fluent, immutable handle on a contract of the program being built, with one
method per second-order function (VLDB J. 2014, sec. 5.1: Map, Reduce with combiner, Match, Cross, CoGroup,
Union) and the sinks. ``ds.flat_map(split).group_by(0).sum(1)`` builds Map -> Reduce(+combiner); nothing runs
until ``env.execute()`` or ``ds.collect()``.

UDFs: ``map``/``join``/``cross`` functions return one record (None: none); ``flat_map``/``reduce_group``/
``cogroup`` functions return an iterable of records; any UDF may instead be a generator or take one extra
argument, a Collector (``out.collect(record)``): both emit 0..n records.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Callable, Iterable

from pact_backend import contracts as pact
from pact_backend.api_annotations import checked, hints_for
from pact_backend.api_records import KeySpec, describe, emitter, group_order, key_of, map_udf, replace_field
from pact_backend.api_sinks import SinkMethods

if TYPE_CHECKING:
    from pact_backend.api import ExecutionEnvironment


def _pair(left: Any, right: Any) -> tuple:
    return (left, right)


class DataSet(SinkMethods):
    """A bag of records: the output of ``contract`` in the program of ``env``. Every method returns a new
    DataSet (or registers a sink); the contract graph is shared, never copied."""

    def __init__(self, env: "ExecutionEnvironment", contract: pact.Contract):
        self.env, self.contract = env, contract

    def __repr__(self) -> str:
        return f"DataSet({self.contract!r})"

    # -- helpers --------------------------------------------------------------------------------------------------

    def _udf(self, fn: Callable, arity: int, many: bool, shape: str, hints: pact.Hints, name: str) -> Callable:
        call = emitter(fn, arity, many)
        return checked(call, hints, name, shape) if self.env.debug else call

    def _name(self, fn: Any, kind: str) -> str:
        text = describe(fn) if fn is not None else "fn"
        return text if text != "fn" else kind

    # -- record at a time -----------------------------------------------------------------------------------------

    def map(self, fn: Callable[[Any], Any], many: bool = False) -> "DataSet":
        """Map: ``fn(record)`` for every record (one record out, None for none; or generator / collector)."""
        name = self._name(fn, "map")
        hints = hints_for(fn)
        if self.env.debug:
            call = self._udf(fn, 1, many, "record", hints, f"Map({name})")

            def udf(records: Iterable[Any]) -> Iterable[Any]:
                for record in records:
                    yield from call(record)
        else:
            udf = map_udf(fn, many)
        return DataSet(self.env, pact.Map(name=name, inputs=[self.contract], udf=udf, hints=hints))

    def flat_map(self, fn: Callable[[Any], Iterable[Any]]) -> "DataSet":
        """Map whose ``fn(record)`` returns an iterable of 0..n records."""
        return self.map(fn, many=True)

    def filter(self, predicate: Callable[[Any], bool]) -> "DataSet":
        """The records for which ``predicate(record)`` is true (a selection: records, partitioning and order
        are kept, which the optimizer knows)."""
        name = self._name(predicate, "filter")
        hints = hints_for(predicate, preserves_records=True, cardinality=(0, 1))

        def udf(records: Iterable[Any]) -> Iterable[Any]:
            return filter(predicate, records)
        udf.description = name  # type: ignore[attr-defined]
        return DataSet(self.env, pact.Map(name=name, inputs=[self.contract], udf=udf, hints=hints))

    def map_partition(self, fn: Callable[[Iterable[Any]], Iterable[Any]]) -> "DataSet":
        """The raw Map contract: ``fn(records)`` gets the stream of a whole partition, returns a stream."""
        return DataSet(self.env, pact.Map(name=self._name(fn, "map partition"), inputs=[self.contract], udf=fn,
                                          hints=hints_for(fn)))

    # -- grouping -------------------------------------------------------------------------------------------------

    def group_by(self, key: KeySpec) -> "Grouping":
        """The records grouped by ``key`` (fields or a function), for ``reduce``/``reduce_group``/aggregates."""
        return Grouping(self, key_of(key), ())

    def reduce_group(self, fn: Callable, combine: Callable | None = None) -> "DataSet":
        """All records as one group: ``fn(None, records)`` (see Grouping.reduce_group)."""
        return Grouping(self, None, ()).reduce_group(fn, combine)

    def reduce(self, fn: Callable[[Any, Any], Any]) -> "DataSet":
        """All records folded into one by the associative ``fn(a, b)``."""
        return Grouping(self, None, ()).reduce(fn)

    # -- two inputs -----------------------------------------------------------------------------------------------

    def join(self, other: "DataSet", left_key: KeySpec, right_key: KeySpec | None = None,
             fn: Callable[[Any, Any], Any] | None = None) -> "DataSet":
        """Match: ``fn(left, right)`` for every pair with ``left_key(left) == right_key(right)`` (default
        ``right_key`` = ``left_key``; default ``fn`` makes the pair ``(left, right)``)."""
        fn = fn or _pair
        name = self._name(fn if fn is not _pair else None, "join")
        hints = hints_for(fn)
        keys = (key_of(left_key), key_of(right_key if right_key is not None else left_key))
        return DataSet(self.env, pact.Match(name=name, inputs=[self.contract, other.contract], keys=keys,
                                            udf=self._udf(fn, 2, False, "pair", hints, f"Match({name})"),
                                            hints=hints))

    def cross(self, other: "DataSet", fn: Callable[[Any, Any], Any] | None = None) -> "DataSet":
        """Cross: ``fn(left, right)`` for every pair of the Cartesian product (default: the pair)."""
        fn = fn or _pair
        name = self._name(fn if fn is not _pair else None, "cross")
        hints = hints_for(fn)
        return DataSet(self.env, pact.Cross(name=name, inputs=[self.contract, other.contract],
                                            udf=self._udf(fn, 2, False, "pair", hints, f"Cross({name})"),
                                            hints=hints))

    def cogroup(self, other: "DataSet", left_key: KeySpec, right_key: KeySpec | None = None,
                fn: Callable[[Any, list, list], Iterable[Any]] | None = None,
                left_order: list[tuple[KeySpec, bool]] | None = None,
                right_order: list[tuple[KeySpec, bool]] | None = None, sequences: bool = False) -> "DataSet":
        """CoGroup: ``fn(key, left_records, right_records)`` per key of either input (a missing side is []),
        returning 0..n records; ``left_order``/``right_order``: [(field, descending), ...] sort each group;
        ``sequences``: ``fn`` reads both groups as read-only sequences (``CoGroup.sequence_groups``: a side
        larger than its share of the budget comes from a spill file), else they are lists."""
        if fn is None:
            raise TypeError("cogroup needs fn(key, left_records, right_records)")
        name = self._name(fn, "cogroup")
        hints = hints_for(fn)
        keys = (key_of(left_key), key_of(right_key if right_key is not None else left_key))
        orders = (group_order(left_order or ()), group_order(right_order or ()))
        return DataSet(self.env, pact.CoGroup(
            name=name, inputs=[self.contract, other.contract], keys=keys,
            udf=self._udf(fn, 3, True, "cogroup", hints, f"CoGroup({name})"),
            group_order=orders if any(orders) else None, hints=hints, sequence_groups=sequences))

    def sort_by(self, *order: KeySpec | tuple[KeySpec, bool], limit: int | None = None) -> "DataSet":
        """All records in one sorted sequence (a global Reduce with a group order, written in order by a
        sink): ``order`` items are fields or (field, descending) pairs; ``limit``: only the first records."""
        parts = tuple(o if isinstance(o, tuple) and len(o) == 2 and isinstance(o[1], bool) else (o, False)
                      for o in order)
        grouping = Grouping(self, None, parts)
        ds = (grouping.first(limit) if limit is not None else grouping.reduce_group(_in_order)).named("sort")
        ds.contract.hints.preserves_records = True
        return ds

    def union(self, *others: "DataSet") -> "DataSet":
        """The bag union of this and ``others``."""
        return DataSet(self.env, pact.Union(name="union", inputs=[self.contract, *(o.contract for o in others)]))

    # -- iterations -----------------------------------------------------------------------------------------------

    def iterate(self, step: Callable[["DataSet"], Any], times: int | None = None,
                until: Callable[[list, list, int], bool] | str | None = None) -> "DataSet":
        """Bulk iteration with this data set as the initial partial solution (see api_iterations.bulk)."""
        from pact_backend.api_iterations import bulk

        return bulk(self, step, times, until)

    def iterate_delta(self, workset: "DataSet", key: KeySpec,
                      step: Callable[["DataSet", "DataSet"], tuple["DataSet", "DataSet"]],
                      max_supersteps: int | None = None) -> "DataSet":
        """Workset iteration with this data set as the initial solution set (see api_iterations.incremental)."""
        from pact_backend.api_iterations import incremental

        return incremental(self, workset, key, step, max_supersteps)

    # -- settings -------------------------------------------------------------------------------------------------

    def named(self, name: str) -> "DataSet":
        """Name the contract (plans and statistics show it)."""
        self.contract.name = name
        return self

    def with_parallelism(self, dop: int) -> "DataSet":
        """Run this contract with ``dop`` parallel instances (a DOP hint)."""
        self.contract.dop = dop
        return self

    def with_hints(self, **hints: Any) -> "DataSet":
        """Set contract hints (``output_records``, ``selectivity``, ``record_bytes``, ...) for the optimizer."""
        updated = copy.copy(self.contract.hints)
        for name, value in hints.items():
            if not hasattr(updated, name):
                raise TypeError(f"unknown hint {name!r}")
            setattr(updated, name, value)
        self.contract.hints = updated
        return self


def _in_order(key: Any, records: list[Any]) -> list[Any]:
    """The records of a group as the runtime ordered them."""
    return records


_in_order.description = "sorted"  # type: ignore[attr-defined]


class Grouping:
    """A data set grouped by ``key`` (None: one global group), optionally with a group order."""

    def __init__(self, ds: DataSet, key: Callable | None, order: tuple[tuple[KeySpec, bool], ...]):
        self.ds, self.key, self.order = ds, key, order

    def sort_group(self, field: KeySpec, descending: bool = False) -> "Grouping":
        """Deliver every group sorted on ``field`` (then on fields of later calls): a secondary sort."""
        return Grouping(self.ds, self.key, (*self.order, (field, descending)))

    def reduce_group(self, fn: Callable[[Any, list], Iterable[Any]], combine: Callable | None = None,
                     streams: bool = False, sequences: bool = False) -> DataSet:
        """Reduce: ``fn(key, records)`` once per group returning 0..n records; ``combine(key, records)``
        (optional) pre-aggregates partial groups before shipping and must return valid input of ``fn``; a
        ``pact_backend.contracts.Combiner`` is used as it is (with its fusion hook). ``streams``: ``fn`` reads
        ``records`` once, front to back, as any iterable (``Reduce.streams_group``), so a group larger than the
        memory budget is never held; ``sequences``: ``fn`` reads ``records`` as a read-only sequence (len,
        indexes, several passes; ``Reduce.sequence_groups``), so a group larger than its share of the budget
        comes from a spill file; without either ``records`` is a list."""
        ds = self.ds
        name = ds._name(fn, "reduce")
        hints = hints_for(fn)
        udf = ds._udf(fn, 2, True, "group", hints, f"Reduce({name})")
        combiner = combine if isinstance(combine, pact.Combiner) or combine is None else emitter(combine, 2, True)
        return DataSet(ds.env, pact.Reduce(name=name, inputs=[ds.contract], key=self.key, udf=udf,
                                           combiner=combiner, group_order=group_order(self.order), hints=hints,
                                           streams_group=streams, sequence_groups=sequences))

    def first(self, limit: int) -> DataSet:
        """The first ``limit`` records of every group in its order (top-k per group; needs ``sort_group``, or
        ``sort_by`` for one global group): a Reduce with a limit, kept by bounded heaps before shipping too."""
        if not self.order:
            raise ValueError("first(n) needs a group order: call sort_group(field) first")
        if type(limit) is not int or limit < 0:
            raise ValueError(f"first(n) needs an int n >= 0, got {limit!r}")
        ds = self.reduce_group(_in_order)
        ds.contract.limit = limit
        ds.contract.hints.preserves_records = True
        return ds

    def reduce(self, fn: Callable[[Any, Any], Any]) -> DataSet:
        """Fold every group with the associative ``fn(a, b) -> record``; runs as a combiner too, and reads each
        group as a stream (a group larger than memory is never held)."""
        def fold(key: Any, group: list[Any]) -> tuple:
            records = iter(group)
            acc = next(records)
            for record in records:
                acc = fn(acc, record)
            return (acc,)

        fold.description = describe(fn)  # type: ignore[attr-defined]
        fold.__dict__.update({k: v for k, v in getattr(fn, "__dict__", {}).items() if k == "pact_annotations"})
        ds = self.reduce_group(fold, combine=None if self.order else fold, streams=True)
        if "pact_annotations" not in fold.__dict__:
            ds.contract.hints.cardinality = (1, 1)
        return ds

    def _aggregate(self, field: Any, fold: Callable[[Iterable[Any]], Any], label: str) -> DataSet:
        """Per group, its first record with ``field`` replaced by ``fold`` of the group's values (as reducer and
        as combiner: sum, min and max are algebraic); all other fields are annotated as constant."""
        def aggregate(key: Any, group: list[Any]) -> Any:
            if len(group) == 1:
                return group
            return (replace_field(group[0], field, fold([r[field] for r in group])),)

        aggregate.description = f"{label}({field})"  # type: ignore[attr-defined]
        ds = self.reduce_group(aggregate, combine=None if self.order else aggregate)
        ds.contract.hints.cardinality = (1, 1)
        ds.contract.hints.constant_fields = (pact.ConstantFields(0, frozenset(), frozenset((field,))),)
        return ds

    def sum(self, field: Any) -> DataSet:
        """Per group, the first record with ``field`` replaced by the group's sum of it."""
        return self._aggregate(field, sum, "sum")

    def min(self, field: Any) -> DataSet:
        """Per group, the first record with ``field`` replaced by the group's minimum of it."""
        return self._aggregate(field, min, "min")

    def max(self, field: Any) -> DataSet:
        """Per group, the first record with ``field`` replaced by the group's maximum of it."""
        return self._aggregate(field, max, "max")
