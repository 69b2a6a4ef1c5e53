"""Sopremo functions: the callable values of the function registry (built-ins, ``fn`` definitions, pyudf).

A ``SopremoFunction`` is called by compiled expressions with already-evaluated JSON argument values. An
aggregation function additionally carries an ``Aggregation`` (an incremental fold) so that ``group ... into``
can compute ``sum($g[*].x)`` in one pass and, when algebraic, pre-aggregate in a combiner (docs/language.md,
"Aggregations"; VLDB J. 2014, sec. 7.3).
"""

from __future__ import annotations

from typing import Any, Callable

from sopremo.quick_dataclass import dataclass

VARIABLE = object()  # stands for an argument that is not a constant when a function is specialized


@dataclass(frozen=True, eq=False)
class Aggregation:
    """An incremental fold: ``initial()`` -> acc; ``add(acc, value)`` -> acc; ``merge(acc, acc)`` -> acc;
    ``result(acc)`` -> JSON value. ``algebraic``: partial accumulators may be merged (a combiner may run).
    ``length``: for a fold whose result depends only on how many items it saw (``count``), the result from
    that number, so a whole array is not walked (a group read back from a spill file would be read once
    more)."""

    initial: Callable[[], Any]
    add: Callable[[Any, Any], Any]
    result: Callable[[Any], Any]
    merge: Callable[[Any, Any], Any] | None = None
    algebraic: bool = False
    length: Callable[[int], Any] | None = None


@dataclass(frozen=True, eq=False)
class SopremoFunction:
    """A named function: ``impl(*values)`` on evaluated arguments.

    ``min_args``/``max_args`` (None = variadic) are checked at bind time. ``aggregation``: set for aggregation
    functions (their first argument is an array; ``impl`` still works on a whole array). ``higher_order``: the
    function takes function values (``Lambda`` arguments arrive as Python callables). ``deterministic``: the
    same arguments always give the same value and the call has no other effect, so a call with constant
    arguments may be computed once when the plan is compiled (``sopremo.rewrite.fold_constant_calls``); off by
    default (``generateId`` and a pyudf are not). ``doc``: one line for ``meteor help`` and docs.
    ``specialize`` (optional): called once per compiled call with the arguments' values where they are
    constants and ``VARIABLE`` where not; returns an impl taking only the other arguments, with the same
    results and errors (e.g. a pattern compiled once), or None to keep ``impl``.
    """

    name: str
    impl: Callable[..., Any]
    min_args: int = 0
    max_args: int | None = None
    aggregation: Aggregation | None = None
    higher_order: bool = False
    doc: str = ""
    deterministic: bool = False
    specialize: Callable[..., Callable[..., Any] | None] | None = None

    def __call__(self, *args: Any) -> Any:
        return self.impl(*args)

    def accepts(self, n: int) -> bool:
        """Whether ``n`` arguments are within the arity."""
        return n >= self.min_args and (self.max_args is None or n <= self.max_args)
