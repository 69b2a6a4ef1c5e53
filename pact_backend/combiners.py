"""Combiners of PACT Reduce contracts and their optional fusion hook (VLDB J. 2014, sec. 5.1 and 7.3).

A ``Combiner`` pre-aggregates partial groups before they are shipped; a plain function ``(key, group) ->
records`` given as a Reduce's combiner becomes a ``FunctionCombiner``. A combiner class may also declare the
fusion hook ``fuse_source``, which lets a whole source stage fold batches of input straight into the combiner's
table (``pact_backend.runtime.fused_source`` runs the returned ``FusedSource``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable, Iterable, Protocol, Sequence


class FusedSource(Protocol):
    """What a combiner's fusion hook returns (``pact_backend.runtime.fused_source`` runs it): ``batches(split)``
    reads one split (None: the whole input) as opaque batches; ``fold(batch, table)`` folds a batch into
    ``table`` ({key: combined record}) and returns [records read, records out of each chained Map], or None to
    refuse the batch; ``records(batch)`` is the batch's records as the unfused source yields them. It may also
    define ``settle(table)``, which turns values it kept in a cheaper form into combined records; the runtime
    calls it before reading the table."""

    def batches(self, split: Any) -> Iterable[Any]: ...

    def fold(self, batch: Any, table: dict[Any, Any]) -> list[int] | None: ...

    def records(self, batch: Any) -> Iterable[Any]: ...


class Combiner(ABC):
    """The combiner of a Reduce (VLDB J. 2014, sec. 5.1 and 7.3): ``combine(key, partial_group) -> records``
    pre-aggregates part of a group before it is shipped; what it returns must be valid input of the Reduce's
    UDF (and of ``combine`` again). Calling a combiner calls ``combine``.

    ``fuse_source(input_format, selections)`` is the optional fusion hook: for a stage ``Source -> Map* ->
    this combiner`` it returns a ``FusedSource`` that reads ``input_format`` in batches and folds them straight
    into the combiner's table, or None (the default: no fusion). ``selections`` holds the ``Map.fusion_fact``
    of every chained Map, in order (its declared ``selection`` or ``expansion``; None for a Map that declares
    neither); the hook must give exactly the results of running the Maps and ``combine`` record by record.
    """

    @abstractmethod
    def combine(self, key: Any, group: list[Any]) -> Iterable[Any]:
        """The pre-aggregated records of ``group`` (records of one key), valid input of the Reduce's UDF."""

    def __call__(self, key: Any, group: list[Any]) -> Iterable[Any]:
        return self.combine(key, group)

    def fuse_source(self, input_format: Any, selections: Sequence[Any]) -> FusedSource | None:
        return None

    @staticmethod
    def of(combiner: "Combiner | Callable[[Any, list[Any]], Iterable[Any]] | None") -> "Combiner | None":
        """``combiner`` as a Combiner: a Combiner as it is, a function ``(key, group) -> records`` wrapped, None
        kept. Raises TypeError for anything else."""
        if combiner is None or isinstance(combiner, Combiner):
            return combiner
        if not callable(combiner):
            raise TypeError(f"a combiner is a Combiner or a function (key, group) -> records, not {combiner!r}")
        return FunctionCombiner(combiner)


class FunctionCombiner(Combiner):
    """A combiner given as a plain function ``fn(key, group) -> records`` (no fusion hook)."""

    def __init__(self, fn: Callable[[Any, list[Any]], Iterable[Any]]):
        self.fn = fn

    def combine(self, key: Any, group: list[Any]) -> Iterable[Any]:
        return self.fn(key, group)

    def __repr__(self) -> str:
        return f"FunctionCombiner({getattr(self.fn, '__name__', 'fn')})"
