"""Records, keys and user functions of the PACT API: keys on field positions or names, group orders, the
collector, and the adapters that let a UDF return one record, return or yield many, or emit through a collector.

Records are tuples (fields by position) or dicts (fields by name), or any value a key function understands.
A key is a field (``0``, ``'word'``), several fields (``(0, 2)``: the key is the tuple of their values) or a
callable ``record -> key``; key values must hash and compare (VLDB J. 2014, sec. 5.1: keys of PACT records).
Each becomes a ``pact_backend.contracts.Key``; a key on fields declares them, so the optimizer knows it.
"""

from __future__ import annotations

import inspect
from operator import itemgetter
from typing import Any, Callable, Iterable, Sequence

from pact_backend.contracts import GroupOrder, Key

Field = int | str
KeySpec = Field | Sequence[Field] | Callable[[Any], Any] | Key


def field_key(fields: Sequence[Field]) -> Key:
    """The key over record fields: ``key(record)`` is ``record[f]`` for one field, the tuple of the fields'
    values for several; the Key declares the fields (and names them), so the optimizer knows what it reads.
    Raises ValueError for no field."""
    if not fields:
        raise ValueError("a key needs at least one field")
    fields = tuple(fields)
    return Key(itemgetter(*fields), ",".join(map(str, fields)), fields)


def key_of(spec: KeySpec) -> Key:
    """The Key of ``spec``: a field, a sequence of fields, a Key or a callable (a Key equal only to itself).
    Raises TypeError for anything else."""
    if isinstance(spec, (int, str)) and not isinstance(spec, bool):
        return field_key((spec,))
    if isinstance(spec, (tuple, list)) and all(isinstance(f, (int, str)) for f in spec):
        return field_key(tuple(spec))
    if callable(spec):
        return Key.of(spec)
    raise TypeError(f"a key is a field position or name, a list of them or a function, not {spec!r}")


class Descending:
    """Wraps a value so that sorting ascending orders it descending (for mixed-direction group orders)."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __lt__(self, other: "Descending") -> bool:
        return other.value < self.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Descending) and other.value == self.value

    def __reduce__(self) -> tuple:
        return Descending, (self.value,)


class OrderKey:
    """Sort key function of a group order: key functions each ascending or descending."""

    __slots__ = ("parts",)

    def __init__(self, parts: Sequence[tuple[Callable[[Any], Any], bool]]):
        self.parts = tuple(parts)

    def __call__(self, record: Any) -> tuple:
        return tuple(Descending(k(record)) if d else k(record) for k, d in self.parts)

    def __reduce__(self) -> tuple:
        return OrderKey, (self.parts,)


def group_order(parts: Sequence[tuple[KeySpec, bool]]) -> GroupOrder | None:
    """The contracts' ``group_order`` (key, descending) for a list of (field, descending)."""
    if not parts:
        return None
    keys = [(key_of(spec), bool(desc)) for spec, desc in parts]
    if len(keys) == 1:
        return keys[0]
    description = ", ".join(f"{k.description or 'fn'} {'desc' if d else 'asc'}" for k, d in keys)
    return Key(OrderKey([(k.fn, d) for k, d in keys]), description), False


class Collector:
    """What a UDF taking an extra ``out`` argument emits records to: ``out.collect(record)`` or ``out(record)``."""

    __slots__ = ("records",)

    def __init__(self) -> None:
        self.records: list[Any] = []

    def collect(self, record: Any) -> None:
        self.records.append(record)

    __call__ = collect


def _positional(fn: Callable) -> int | None:
    """Number of positional parameters of ``fn`` (None when unknown or variadic)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return None
    return sum(1 for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


ONE, MANY, COLLECT = "one", "many", "collect"


def emit_mode(fn: Callable, arity: int, many: bool) -> str:
    """How ``fn`` emits: COLLECT (it takes one argument more than ``arity``: the collector), MANY (a generator
    function, or ``many``: it returns an iterable of records) or ONE (it returns one record; None = none)."""
    if _positional(fn) == arity + 1:
        return COLLECT
    if many or inspect.isgeneratorfunction(fn):
        return MANY
    return ONE


def emitter(fn: Callable, arity: int, many: bool = False) -> Callable[..., Iterable[Any]]:
    """``fn`` as a function of ``arity`` arguments returning an iterable of the records it emits."""
    mode = emit_mode(fn, arity, many)
    if mode == COLLECT:
        def call(*args: Any) -> list[Any]:
            out = Collector()
            fn(*args, out)
            return out.records
    elif mode == MANY:
        def call(*args: Any) -> Iterable[Any]:
            result = fn(*args)
            return () if result is None else result
    else:
        def call(*args: Any) -> Iterable[Any]:
            result = fn(*args)
            return () if result is None else (result,)
    call.description = describe(fn)  # type: ignore[attr-defined]
    return call


def describe(fn: Any) -> str:
    """A short name of a UDF for plans: its ``description``, its ``__name__`` (not for lambdas) or 'fn'."""
    text = getattr(fn, "description", None)
    if text:
        return str(text)
    name = getattr(fn, "__name__", "")
    return name if name and not name.startswith("<") else "fn"


def map_udf(fn: Callable, many: bool = False) -> Callable[[Iterable[Any]], Iterable[Any]]:
    """The Map contract UDF (a stream of records in, a stream out) of a per-record ``fn``."""
    mode = emit_mode(fn, 1, many)
    if mode == ONE:
        def udf(records: Iterable[Any]) -> Iterable[Any]:
            for record in records:
                out = fn(record)
                if out is not None:
                    yield out
    else:
        call = emitter(fn, 1, many)

        def udf(records: Iterable[Any]) -> Iterable[Any]:
            for record in records:
                yield from call(record)
    udf.description = describe(fn)  # type: ignore[attr-defined]
    return udf


def replace_field(record: Any, field: Field, value: Any) -> Any:
    """``record`` with ``field`` set to ``value`` (a new tuple, or a new dict)."""
    if isinstance(record, tuple):
        return record[:field] + (value,) + record[field + 1:]
    if isinstance(record, list):
        return record[:field] + [value] + record[field + 1:]
    return {**record, field: value}
