"""Memory budgets: parsing sizes such as '512MB', the default share of RAM, and estimating records' sizes.

Sorts and hash tables spill to disk once the records they hold exceed their budget (VLDB J. 2014, sec. 7.3).
Python cannot cheaply measure a record's footprint, so ``SizeEstimator`` measures a sample of records (the
pickled size times an overhead factor) and charges every record the running average.
"""

from __future__ import annotations

import os
import pickle
import re
from typing import Any

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
          "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30, "t": 1 << 40, "tb": 1 << 40,
          "tib": 1 << 40}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*")
RAM_SHARE = 0.5             # the default budget: this share of physical memory
FALLBACK_RAM = 4 << 30      # assumed physical memory where the OS does not tell
MIN_BUDGET = 16 << 10       # no budget is smaller than this (a few blocks)


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


class SizeEstimator:
    """Estimated in-memory bytes of records: ``charge(record) -> bytes`` measures every ``sample``-th record
    (records 1, 1 + sample, 1 + 2 * sample, ...: pickled size times ``overhead``, Python objects being larger
    than their pickles) and returns the running average for the others. Unpicklable records count as
    ``fallback`` bytes."""

    def __init__(self, sample: int = 64, overhead: float = 3.0, fallback: int = 256):
        self.sample = sample
        self.overhead = overhead
        self.fallback = fallback
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
        """Measure ``record`` (pickled size times ``overhead``) into the running average; returns the new
        average in bytes. Does not touch ``countdown``: loops that inline ``charge`` (a method call per record
        is measurable) count ``countdown`` down themselves, call ``measure`` when it reaches 0 (then reset it to
        ``sample``), charge ``average`` for the other records and store ``countdown`` back."""
        try:
            size = len(pickle.dumps(record, protocol=5)) * self.overhead
        except Exception:  # noqa: BLE001 - an estimate only; the record itself is never lost
            size = float(self.fallback)
        self.measured += 1
        self.total += size
        self.average = self.total / self.measured
        return self.average
