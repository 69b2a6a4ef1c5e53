"""Keys of PACT contracts: a key function with what the optimizer may know of it (VLDB J. 2014, sec. 5.1, 6.3).

A ``Key`` is a frozen value: the opaque function ``fn(record) -> hashable`` and, when the layer that built it
knows them, a ``description`` (equal descriptions = equal keys) and the record ``fields`` it reads. The optimizer
compares keys by their ``token`` to reuse a partitioning or an order across contracts (interesting properties);
the runtime calls ``fn``. Contracts store every key they are given (a Key or a plain function) as a Key.
"""

from __future__ import annotations

from typing import Any, Callable, Hashable

from pact_backend.quick_dataclass import dataclass

KeyFunction = Callable[[Any], Any]


@dataclass(frozen=True, eq=False)
class Key:
    """A PACT key: ``fn(record) -> hashable`` and what the optimizer knows of it (VLDB J. 2014, sec. 5.1, 6.3).

    ``description``: a text naming the key (the layer above renders its key expression, e.g. ``$0.k``); keys
    with equal descriptions are equal keys, so a partitioning or order on one holds for the other (interesting
    properties). ``fields``: the record fields the key reads, in order, when it is the value (or tuple of values)
    of those fields (a key built by the PACT API on positions or names); equal fields are equal keys and a UDF
    that keeps the fields (``ConstantFields``) keeps a partitioning on them. Without either, a key equals only
    itself (keys over the same function object are equal).

    Calling a key calls ``fn``; per-record loops of the runtime call ``fn`` directly.
    """

    fn: KeyFunction
    description: str | None = None
    fields: tuple | None = None

    def __call__(self, record: Any) -> Any:
        return self.fn(record)

    @property
    def token(self) -> Hashable:
        """What identifies the key for the optimizer: ``("fields", ...)``, ``("description", ...)`` or
        ``("function", id(fn))``."""
        if self.fields is not None:
            return ("fields", self.fields)
        if self.description:
            return ("description", self.description)
        return ("function", id(self.fn))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Key) and self.token == other.token

    def __hash__(self) -> int:
        return hash(self.token)

    def __repr__(self) -> str:
        label = self.description or getattr(self.fn, "__name__", "fn")
        return f"Key({label})"

    @staticmethod
    def of(key: "Key | KeyFunction | None") -> "Key | None":
        """``key`` as a Key: a Key as it is, a plain function wrapped (equal only to itself), None kept.
        Raises TypeError for anything else."""
        if key is None or isinstance(key, Key):
            return key
        if not callable(key):
            raise TypeError(f"a key is a Key or a function record -> key, not {key!r}")
        return Key(key)


GroupOrder = tuple[Key, bool]  # (key every group is sorted on, descending)


def key_function(key: Key | None) -> KeyFunction | None:
    """The plain function of ``key`` (None stays None), for loops that call it once per record."""
    return None if key is None else key.fn


def order_function(order: GroupOrder | None) -> tuple[KeyFunction, bool] | None:
    """A group order with its key as a plain function (None stays None)."""
    return None if order is None else (order[0].fn, order[1])


def group_order_of(order: Any) -> GroupOrder | None:
    """``(key, descending)`` with the key as a Key (None stays None)."""
    return None if order is None else (Key.of(order[0]), bool(order[1]))
