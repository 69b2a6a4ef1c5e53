"""Interesting properties of a data stream: how it is partitioned and how each partition is ordered (VLDB J.
2014, sec. 6.3; the Stratosphere PACT compiler's global and local properties).

Key functions are opaque to this layer, so a property names its key by a *key token* (``Key.token``): the
record fields of a key on fields, else its ``description`` when the layer above set one (equal descriptions =
the same key), else the function object's identity. A UDF that keeps records unchanged
(``Hints.preserves_records``, e.g. a selection) keeps every property of its input; a UDF whose
``Hints.kept_keys`` maps a key of its input to an equal key of its output keeps a hash partitioning on it under
the new name; any other UDF output is unpartitioned and unordered.
"""

from __future__ import annotations

from typing import Any, Hashable

from pact_backend import contracts as pact
from pact_backend.physical import BROADCAST, FORWARD, GATHER, HASH_PARTITION, RANGE_PARTITION
from pact_backend.quick_dataclass import dataclass

# Partitioning kinds (global properties).
ANY = "any"                  # records spread over the partitions in no known way
HASHED = "hashed"            # equal key values in one partition (by a stable hash of the key)
RANGED = "ranged"            # hashed, and partition i holds smaller keys than partition i + 1
REPLICATED = "replicated"    # every partition holds all records (after a broadcast)
SINGLE = "single"            # one partition holds everything (DOP 1): satisfies any partitioning


def key_token(key: pact.Key | None) -> Hashable | None:
    """The token naming ``key`` in properties (``Key.token``: its fields, its description or its function's
    identity); None for no key."""
    return None if key is None else key.token


@dataclass(frozen=True)
class StreamProperties:
    """What holds for the records a contract emits: ``partitioning`` (one of the kinds above) on the key
    ``partition_key`` (a token, None for ANY / REPLICATED / SINGLE), and ``order``: the token of the key every
    partition is sorted (or at least grouped) on, None = unordered."""

    partitioning: str = ANY
    partition_key: Hashable | None = None
    order: Hashable | None = None

    def partitioned_on(self, token: Hashable | None) -> bool:
        """Whether equal values of key ``token`` are already in one partition (SINGLE always is)."""
        if self.partitioning == SINGLE:
            return True
        return token is not None and self.partitioning in (HASHED, RANGED) and self.partition_key == token

    def sorted_on(self, token: Hashable | None) -> bool:
        """Whether every partition is already sorted (grouped) on key ``token``."""
        return token is not None and self.order == token

    def describe(self) -> str:
        """Short text for explain: ``hashed(k3)``, ``single, sorted``, ``any``."""
        text = self.partitioning
        if self.partition_key is not None:
            text += f"({_short(self.partition_key)})"
        return text + (f", sorted({_short(self.order)})" if self.order is not None else "")


def _short(token: Hashable) -> str:
    kind, value = token if isinstance(token, tuple) and len(token) == 2 else ("", token)
    return str(value) if kind == "description" else f"key@{str(value)[-4:]}"


def after_ship(ship: str, produced: StreamProperties, key: Any, consumer_dop: int) -> StreamProperties:
    """The properties of a stream after shipping it with ``ship`` partitioned on ``key`` into ``consumer_dop``
    partitions. Forward keeps everything; a partitioning ship loses the order (partitions interleave)."""
    if consumer_dop == 1 and ship in (GATHER, FORWARD, HASH_PARTITION, RANGE_PARTITION):
        return StreamProperties(SINGLE, None, produced.order if ship == FORWARD else None)
    if ship == FORWARD:
        return produced
    if ship == HASH_PARTITION:
        return StreamProperties(HASHED, key_token(key))
    if ship == RANGE_PARTITION:
        return StreamProperties(RANGED, key_token(key))
    if ship == BROADCAST:
        return StreamProperties(REPLICATED)
    return StreamProperties(SINGLE)


def output_properties(contract: pact.Contract, inputs: list[StreamProperties], local: str,
                      sorted_key: Any = None) -> StreamProperties:
    """The properties of ``contract``'s output given the properties its inputs arrive with (after shipping).

    Only a UDF that keeps records (``preserves_records``) keeps properties; a Reduce with a ``group_order``
    and no key (a global sort) emits one partition sorted on that order, or key ranges each sorted on it.
    ``sorted_key``: the key a sort-based local strategy sorted input 0 on (its output stays grouped on it
    only when records are kept).
    """
    if isinstance(contract, pact.Reduce) and contract.key is None and contract.group_order is not None:
        order = key_token(contract.group_order[0])
        if inputs and inputs[0].partitioning == RANGED:  # a global sort on key ranges (partitions in order)
            return StreamProperties(RANGED, order, order)
        return StreamProperties(SINGLE, None, order)
    if contract.hints.preserves_records and inputs:
        kept = inputs[0]
        if sorted_key is not None and kept.order is None:
            kept = StreamProperties(kept.partitioning, kept.partition_key, key_token(sorted_key))
        return kept
    renamed = _through_kept_keys(contract, inputs)
    if renamed is not None:
        return renamed
    for constant in contract.hints.constant_fields:
        if constant.input < len(inputs):
            kept = _through_constant_fields(inputs[constant.input], constant)
            if kept.partitioning != ANY or kept.order is not None:
                return kept
    if inputs and all(p.partitioning == SINGLE for p in inputs):
        return StreamProperties(SINGLE)
    return StreamProperties()


def _through_kept_keys(contract: pact.Contract, inputs: list[StreamProperties]) -> StreamProperties | None:
    """The hash partitioning that survives a UDF declaring ``Hints.kept_keys`` ({input key description: output
    key description}, e.g. a Reduce whose output copies its group key into a field): input 0 hashed on a key it
    keeps is hashed on the output key (same values, so same partitions); None when nothing survives."""
    kept = contract.hints.kept_keys
    if not kept or not inputs or inputs[0].partitioning != HASHED:
        return None
    token = inputs[0].partition_key
    if isinstance(token, tuple) and len(token) == 2 and token[0] == "description" and token[1] in kept:
        return StreamProperties(HASHED, ("description", kept[token[1]]))
    return None


def _covered(token: Hashable | None, constant: Any) -> bool:
    """Whether the key ``token`` is a key on fields that the UDF all keeps (``ConstantFields``)."""
    return (isinstance(token, tuple) and len(token) == 2 and token[0] == "fields"
            and all(constant.keeps(f) for f in token[1]))


def _through_constant_fields(props: StreamProperties, constant: Any) -> StreamProperties:
    """What of ``props`` survives a UDF that keeps the fields of ``constant`` (sec. 6.3: a partitioning or order
    on constant fields is still valid after the UDF); a single stream stays so, a replicated (broadcast) input
    says nothing about the output's partitioning."""
    if props.partitioning == SINGLE:
        partitioning, key = SINGLE, None
    elif _covered(props.partition_key, constant):
        partitioning, key = props.partitioning, props.partition_key
    else:
        partitioning, key = ANY, None
    order = props.order if _covered(props.order, constant) else None
    return StreamProperties(partitioning, key, order)
