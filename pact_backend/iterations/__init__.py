"""Iterations of PACT programs (VLDB J. 2014, sec. 5.3): bulk and incremental (workset) iteration contracts, the
step-plan preparation that caches the constant data path, and the driver that runs them on any executor."""

from pact_backend.iterations.contracts import (PARTIAL, SOLUTION, WORKSET, BulkIteration, Iteration,
                                               IterationStats, Placeholder, SuperstepStats, WorksetIteration,
                                               iterations_of)
from pact_backend.iterations.driver import ProgramResult, collect, run_once, run_program, unchanged

__all__ = ["PARTIAL", "SOLUTION", "WORKSET", "BulkIteration", "Iteration", "IterationStats", "Placeholder",
           "ProgramResult", "SuperstepStats", "WorksetIteration", "collect", "iterations_of", "run_once",
           "run_program", "unchanged"]


def has_iterations(plan) -> bool:
    """Whether the PACT program ``plan`` holds an iteration contract."""
    return bool(iterations_of(plan))
