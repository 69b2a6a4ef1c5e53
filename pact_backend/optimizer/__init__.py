"""The PACT optimizer's physical part: ``optimize(plan, parallelism)`` chooses ship and local strategies, DOPs and
size estimates for every contract of a PACT program (VLDB J. 2014, sec. 6.3).

Modules: ``properties`` (interesting properties: partitioning and order), ``strategies`` (one descriptor per
ship and local strategy), ``estimates`` (sizes from source files and sampled records, hints win), ``costs``
(network + disk bytes), ``enumeration`` (the choice per contract). The logical rewrites (sec. 6.2) run earlier,
on the Sopremo plan where expressions are known (``sopremo.rewrite``).
"""

from __future__ import annotations

from pact_backend.contracts import PactPlan
from pact_backend.optimizer.costs import DEFAULT_MEMORY
from pact_backend.optimizer.enumeration import Enumerator
from pact_backend.physical import PhysicalPlan

__all__ = ["optimize", "DEFAULT_MEMORY"]


def optimize(plan: PactPlan, parallelism: int, memory: int | None = None) -> PhysicalPlan:
    """The cheapest physical plan found for ``plan`` at ``parallelism`` (>= 1; smaller values count as 1).

    ``memory``: bytes one contract instance may hold before spilling (default DEFAULT_MEMORY); it prices
    spilling in the cost model. Reads up to 100 records of every Source to estimate sizes; never runs UDFs
    other than record-keeping ones (selections) on those samples.
    """
    return Enumerator(plan, parallelism, float(memory or DEFAULT_MEMORY)).run()
