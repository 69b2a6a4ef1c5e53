"""Memory budgets: parsing sizes such as '512MB', the default share of RAM, and estimating records' sizes.

Sorts and hash tables spill to disk once the records they hold exceed their budget (VLDB J. 2014, sec. 7.3).
Measuring every record's footprint costs more than holding it, so ``SizeEstimator`` measures a sample of
records (``deep_size``: the bytes of its Python objects, as ``sys.getsizeof`` counts them) and charges every
record the running average. ``merge_layout`` sizes the blocks and the fan-in of an external merge so that the
blocks a merge holds decoded stay within the budget too.
"""

from __future__ import annotations

import os
import re
from sys import getsizeof
from typing import Any, Callable

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
          "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30, "t": 1 << 40, "tb": 1 << 40,
          "tib": 1 << 40}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*")
RAM_SHARE = 0.5             # the default budget: this share of physical memory
FALLBACK_RAM = 4 << 30      # assumed physical memory where the OS does not tell
MIN_BUDGET = 16 << 10       # no budget is smaller than this (a few blocks)
SLOT = 8                    # bytes of the list slot that holds a record in a buffer
MAX_FAN_IN = 64             # runs merged at once at most
MIN_BLOCK_BYTES = 32 << 10  # a merge reads blocks of at least this many (decoded) bytes from each run
MAX_BLOCK_RECORDS = 4096    # records per spilled block at most
GROUP_SHARE = 0.25          # of a task's budget: what the groups handed to one UDF call hold before they spill


def parse_memory(text: str | int) -> int:
    """Bytes of a size such as '512MB', '2g', '64 KiB' or a plain number of bytes (units: powers of 1024).

    Raises ValueError naming the text when it is not a positive size.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    else:
        match = _SIZE.fullmatch(str(text))
        unit = match.group(2).lower() if match else None
        if match is None or unit not in _UNITS:
            raise ValueError(f"not a memory size: {text!r} (use e.g. 512MB, 2GB, 65536)")
        value = int(float(match.group(1)) * _UNITS[unit])
    if value <= 0:
        raise ValueError(f"memory size must be positive, got {text!r}")
    return value


def physical_memory() -> int:
    """Bytes of physical memory of this machine (FALLBACK_RAM when the OS does not say)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return FALLBACK_RAM


def default_memory() -> int:
    """The default memory budget of a run in bytes: RAM_SHARE of physical memory."""
    return int(physical_memory() * RAM_SHARE)


def task_budget(total: int, concurrent: int) -> int:
    """The budget of one task when ``concurrent`` tasks share ``total`` bytes (at least MIN_BUDGET)."""
    return max(MIN_BUDGET, total // max(1, concurrent))


def deep_size(value: Any) -> int:
    """Bytes of the Python objects of ``value`` (``sys.getsizeof`` of it and everything it holds), without
    the strings that are dict keys (decoders and compiled expressions share one object per field name) and
    without the singletons None, True and False. Iterative, so values nested 1000 deep are measured too.
    Objects other than dicts, lists, tuples and scalars count their ``__dict__`` (e.g. dataclasses)."""
    total, stack = 0, [value]
    pop, push = stack.pop, stack.append
    while stack:
        item = pop()
        kind = type(item)
        if item is None or kind is bool:
            continue
        total += getsizeof(item)
        if kind is dict:
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        elif kind not in _SCALARS:
            state = getattr(item, "__dict__", None)
            if state is not None:
                push(state)
    return total


_SCALARS = frozenset({str, int, float, bytes, complex})


def merge_layout(budget: float, record_bytes: float) -> tuple[int, int]:
    """``(fan_in, block_records)`` of an external merge within ``budget`` bytes of records of about
    ``record_bytes`` each: a merge holds one decoded block of every run it merges, so ``fan_in`` blocks of
    ``block_records`` records fill at most half the budget (the rest is for the merged stream's consumer and
    the bytes being decoded). At least 2 runs and 1 record per block."""
    half = max(float(MIN_BUDGET), budget) / 2
    fan_in = int(max(2, min(MAX_FAN_IN, half // MIN_BLOCK_BYTES)))
    block_records = int(max(1, min(MAX_BLOCK_RECORDS, half / fan_in / max(1.0, record_bytes))))
    return fan_in, block_records


def group_limit(budget: float, sides: int = 1) -> float:
    """Bytes one group of a UDF call may hold in memory before it spills (``runtime.groups``): GROUP_SHARE of
    the task's ``budget`` shared by the ``sides`` groups of the call (2 for a CoGroup). The rest of the budget
    is the sort or hash table the groups come from (its merge holds at most half, ``merge_layout``) and the
    UDF's own work."""
    return max(float(MIN_BUDGET), budget) * GROUP_SHARE / max(1, sides)


class SizeEstimator:
    """Estimated in-memory bytes of records: ``charge(record) -> bytes`` measures every ``sample``-th record
    (records 1, 1 + sample, 1 + 2 * sample, ...: ``deep_size`` plus the list slot that holds it, plus
    ``deep_size(extra(record))`` when ``extra`` is given, e.g. the sort key a sort keeps per record) and
    returns the running average for the others. A record whose ``extra`` raises counts as ``fallback`` bytes
    (the error itself surfaces where the record is used)."""

    def __init__(self, sample: int = 64, fallback: int = 256, extra: Callable[[Any], Any] | None = None):
        self.sample = sample
        self.fallback = fallback
        self.extra = extra
        self.countdown = 1  # records until the next measured one (the first record is measured)
        self.measured = 0
        self.total = 0.0
        self.average = float(fallback)

    def charge(self, record: Any) -> float:
        """Bytes to charge for ``record``: measures it if it is a sampled one, else the running average."""
        self.countdown -= 1
        if not self.countdown:
            self.countdown = self.sample
            return self.measure(record)
        return self.average

    def measure(self, record: Any) -> float:
        """Measure ``record`` (see the class) into the running average; returns the new average in bytes. Does not touch ``countdown``: loops that inline ``charge`` (a method call per record
        is measurable) count ``countdown`` down themselves, call ``measure`` when it reaches 0 (then reset it to
        ``sample``), charge ``average`` for the other records and store ``countdown`` back."""
        try:
            size = float(deep_size(record) + SLOT)
            if self.extra is not None:
                size += deep_size(self.extra(record)) + SLOT
        except Exception:  # noqa: BLE001 - an estimate only; the record itself is never lost
            size = float(self.fallback)
        self.measured += 1
        self.total += size
        self.average = self.total / self.measured
        return self.average
