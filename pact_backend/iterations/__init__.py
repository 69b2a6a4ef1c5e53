"""Iterations of PACT programs (VLDB J. 2014, sec. 5.3): bulk and incremental (workset) iteration contracts, the
step-plan preparation that caches the constant data path, and the driver that runs them on any executor."""

from pact_backend.iterations.contracts import (PARTIAL, SOLUTION, WORKSET, BulkIteration, Iteration,
                                               IterationStats, Placeholder, SuperstepStats, WorksetIteration,
                                               iterations_of)

_DRIVER = frozenset({"ProgramResult", "collect", "run_once", "run_program", "unchanged"})

__all__ = ["PARTIAL", "SOLUTION", "WORKSET", "BulkIteration", "Iteration", "IterationStats", "Placeholder",
           "ProgramResult", "SuperstepStats", "WorksetIteration", "collect", "iterations_of", "run_once",
           "run_program", "unchanged"]


def __getattr__(name: str):
    """The driver's names, imported on first use: a program without iterations never loads the driver (and
    what it imports), which keeps ``meteor run`` of such programs quick to start."""
    if name in _DRIVER:
        from pact_backend.iterations import driver

        return getattr(driver, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def has_iterations(plan) -> bool:
    """Whether the PACT program ``plan`` holds an iteration contract."""
    return bool(iterations_of(plan))
