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

from pact_backend.executors import registry
from pact_backend.iterations import has_iterations
from pact_backend.physical import PhysicalPlan
from pact_backend.planner import UnsupportedPlan, plan_physical
from pact_backend.runtime import record_origin
from pact_backend.runtime.blocks import DiskFull
from pact_backend.runtime.stats import RunStats
from sopremo.compilation import Compilation, compile_plan
from sopremo.errors import MeteorError

DEFAULT_EXECUTOR = registry.DEFAULT_EXECUTOR

# What only explanations need is imported on first use (module ``__getattr__``), so that ``meteor run`` does
# not load the plan renderers and the program loader: each name maps to the module that defines it.
_LAZY = {"ProgramNotFound": "pact_backend.api_explain", "step_sections": "pact_backend.api_explain",
         "contract_details": "pact_backend.plan_text", "physical_dict": "pact_backend.plan_text",
         "physical_dot": "pact_backend.plan_text", "physical_text": "pact_backend.plan_text",
         "plan_text": "pact_backend.plan_text"}


def __getattr__(name: str) -> Any:
    """The renderers and explanation helpers of ``_LAZY``, imported when first asked for."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Compilation", "DEFAULT_EXECUTOR", "PhysicalPlan", "ProgramNotFound", "RunStats", "SMALL_INPUT_BYTES",
           "compile_plan", "contract_details", "default_executor", "executor_names", "explain_program",
           "find_typos", "input_bytes", "make_executor", "physical_dict", "physical_dot", "physical_text", "plan",
           "plan_text", "raise_typos", "run", "step_sections"]


def find_typos(compilation: Compilation) -> list[Any]:
    """The field reads of ``compilation`` that never find a value (``sopremo.typos.Typo``s, script order)."""
    from sopremo.typos import find_typos as find  # imported when a script runs, not when meteor starts

    return find(compilation)


def raise_typos(typos: list[Any]) -> None:
    """``--strict``: a ``sopremo.typos.TypoError`` listing ``typos``, when there are any."""
    from sopremo.typos import raise_typos as fail

    fail(typos)


SMALL_INPUT_BYTES = 1 << 20  # below this much input, a run without a chosen executor runs inline
AD_HOC_VALUE_BYTES = 64  # what one value of an ad-hoc source counts as, for SMALL_INPUT_BYTES


def input_bytes(plan: Any) -> int | None:
    """The bytes the sources of the Sopremo ``plan`` read: file sizes on disk plus AD_HOC_VALUE_BYTES per
    ad-hoc value; None when a source's size is unknown (a URL, a missing file, a source of another kind)."""
    from sopremo.io.operators import Source

    total = 0
    for op in plan.operators():
        if not isinstance(op, Source):
            continue
        if op.values is not None:
            total += AD_HOC_VALUE_BYTES * len(op.values)
            continue
        try:
            size = getattr(op.input_format(), "size_bytes", None)
            size = size() if size is not None else None
        except Exception:  # noqa: BLE001 - a source that cannot be sized is reported by the compilation, not here
            return None
        if size is None:
            return None
        total += size
    return total


def default_executor(plan: Any) -> str:
    """The executor a run of the Sopremo ``plan`` gets when none is chosen: 'inline' when its sources read
    less than SMALL_INPUT_BYTES in all (starting worker processes, shipping the plan to them and collecting
    their blocks costs more than it saves on so little data), else DEFAULT_EXECUTOR ('process')."""
    size = input_bytes(plan)
    return "inline" if size is not None and size < SMALL_INPUT_BYTES else DEFAULT_EXECUTOR


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
            from pact_backend.iterations import run_program

            result = run_program(program, executor, compilation.optimize)
            result.stats.iterations = result.iterations
            return result.stats
        return executor.run(program, plan(compilation, executor))
    except (UnsupportedPlan, registry.ExecutorError) as exc:
        raise MeteorError(str(exc)) from None
    except DiskFull as exc:
        raise MeteorError(exc.describe()) from None
    except MeteorError as exc:  # a record an error names but its task could not place: look in every input
        formats = [c.input_format for c in program.contracts() if getattr(c, "input_format", None) is not None]
        record_origin.locate_in_sources(exc, formats)
        raise
    except Exception as exc:
        from pact_backend.executors.scheduler import WorkerLost  # loaded by every executor that can lose one

        if isinstance(exc, WorkerLost):
            raise MeteorError(str(exc)) from None
        raise


def explain_program(target: str, executor: Any, fmt: str = "text", optimize: bool = True) -> str:
    """``meteor explain module:function``: the PACT program a Python program function returns (docs/pact.md),
    planned for ``executor``. Raises ProgramNotFound when ``target`` names no program function."""
    from pact_backend.api_explain import explain_plan, load_program

    return explain_plan(load_program(target), executor.resources(), fmt, optimize)
