"""Sopremo's door to the engine: compile, plan, explain and run a Sopremo plan on a named executor (the one path
``meteor run``, ``meteor explain``, the REPL and the Python API take; VLDB J. 2014, sec. 4 to 7).

The layers talk one way (meteor -> sopremo -> pact_backend): the Meteor front end reaches compilation, the
planner, the executor registry and the plan renderers through this module only. ``plan(compilation,
executor)`` is the physical plan that ``run(compilation, executor)`` executes, made by the same planner for the
executor's own resources, so an explanation and a run agree by construction. Engine errors a user can cause
(an unknown executor, a bad memory size, an unreachable cluster, a plan an executor cannot run) are raised as
MeteorError.
"""

from __future__ import annotations

from typing import Any

from pact_backend.api_explain import ProgramNotFound, explain_plan, load_program, step_sections
from pact_backend.executors import registry
from pact_backend.executors.scheduler import WorkerLost
from pact_backend.iterations import has_iterations, run_program
from pact_backend.physical import PhysicalPlan
from pact_backend.runtime import record_origin
from pact_backend.plan_text import contract_details, physical_dict, physical_dot, physical_text, plan_text
from pact_backend.planner import UnsupportedPlan, plan_physical
from pact_backend.runtime.blocks import DiskFull
from pact_backend.runtime.stats import RunStats
from sopremo.compilation import Compilation, compile_plan
from sopremo.errors import MeteorError

DEFAULT_EXECUTOR = registry.DEFAULT_EXECUTOR

__all__ = ["Compilation", "DEFAULT_EXECUTOR", "PhysicalPlan", "ProgramNotFound", "RunStats", "compile_plan",
           "contract_details", "executor_names", "explain_program", "make_executor", "physical_dict",
           "physical_dot", "physical_text", "plan", "plan_text", "run", "step_sections", "find_typos",
           "raise_typos"]


def find_typos(compilation: Compilation) -> list[Any]:
    """The field reads of ``compilation`` that never find a value (``sopremo.typos.Typo``s, script order)."""
    from sopremo.typos import find_typos as find  # imported when a script runs, not when meteor starts

    return find(compilation)


def raise_typos(typos: list[Any]) -> None:
    """``--strict``: a ``sopremo.typos.TypoError`` listing ``typos``, when there are any."""
    from sopremo.typos import raise_typos as fail

    fail(typos)


def executor_names() -> list[str]:
    """The names of the installed executors (the ``meteor.executors`` entry points)."""
    return registry.executor_names()


def make_executor(name: str | None = None, parallelism: int | None = None, memory: str | int | None = None,
                  address: str | None = None, quiet: bool = True) -> Any:
    """The executor ``name`` (None: 'process', all local cores) with a default DOP of ``parallelism``, a run
    budget ``memory`` (bytes or '512MB') and, for 'dask', the scheduler ``address`` (None: a local cluster);
    progress lines go to stderr when it is a terminal unless ``quiet``. Raises MeteorError for an unknown
    name, bad settings, a backend that is not installed or a cluster that cannot be reached."""
    options = {"address": address} if address is not None else {}
    try:
        executor = registry.make_executor(name, parallelism, memory, **options)
    except registry.ExecutorError as exc:
        hint = " (pip install 'meteor[dask]')" if name == "dask" and "not available" in str(exc) else ""
        raise MeteorError(f"{exc}{hint}") from None
    if not quiet and hasattr(executor, "progress"):
        from pact_backend.progress import progress_for

        executor.progress = progress_for(quiet=False)
    return executor


def plan(compilation: Compilation, executor: Any) -> PhysicalPlan:
    """The physical plan ``executor`` runs for ``compilation`` (its parallelism and memory per task; the
    optimizer's strategies unless the compilation was made without optimization). Raises MeteorError when
    the executor cannot run the plan."""
    try:
        return plan_physical(compilation.program, executor.resources(), compilation.optimize)
    except UnsupportedPlan as exc:
        raise MeteorError(str(exc)) from None


def run(compilation: Compilation, executor: Any) -> RunStats:
    """Run ``compilation`` on ``executor`` with the physical plan ``plan`` gives (iterations included: their
    step plans are planned and run per superstep the same way); every sink commits. Returns per-contract
    statistics (``iterations`` holds per-superstep ones). Raises MeteorError for user errors and for a task
    whose worker process kept dying; exceptions of UDFs and formats propagate."""
    program = compilation.program
    try:
        if has_iterations(program):  # `iterate` statements: the driver runs their step plans (sec. 5.3)
            result = run_program(program, executor, compilation.optimize)
            result.stats.iterations = result.iterations
            return result.stats
        return executor.run(program, plan(compilation, executor))
    except (UnsupportedPlan, WorkerLost, registry.ExecutorError) as exc:
        raise MeteorError(str(exc)) from None
    except DiskFull as exc:
        raise MeteorError(exc.describe()) from None
    except MeteorError as exc:  # a record an error names but its task could not place: look in every input
        formats = [c.input_format for c in program.contracts() if getattr(c, "input_format", None) is not None]
        record_origin.locate_in_sources(exc, formats)
        raise


def explain_program(target: str, executor: Any, fmt: str = "text", optimize: bool = True) -> str:
    """``meteor explain module:function``: the PACT program a Python program function returns (docs/pact.md),
    planned for ``executor``. Raises ProgramNotFound when ``target`` names no program function."""
    return explain_plan(load_program(target), executor.resources(), fmt, optimize)
