"""Run Meteor scripts from Python: compile a script to a Sopremo plan, translate it to PACT and execute it.

``run_file('q15.meteor')`` is what ``meteor run q15.meteor`` does. Relative paths inside a script resolve
against the current working directory (or ``setWorkingDirectory``); includes resolve against the script.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from meteor.frontend import compile_script
from pact_backend.contracts import PactPlan
from pact_backend.executors.inline import InlineExecutor
from pact_backend.runtime.stats import RunStats
from sopremo.errors import MeteorError
from sopremo.operator import SopremoPlan
from sopremo.to_pact import PactContext, to_pact


def read_script(path: str | Path) -> str:
    """The text of the script file ``path``; raises MeteorError naming the path when it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MeteorError(f"script not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MeteorError(f"cannot read script {path}: {exc}") from None


def compile_file(path: str | Path, params: dict[str, Any] | None = None) -> SopremoPlan:
    """The Sopremo plan of the script file ``path`` (parsed and bound, not run)."""
    return compile_script(read_script(path), path=str(path), params=params)


def plan_pact(plan: SopremoPlan, dop: int | None = None, optimize: bool = True) -> PactPlan:
    """The PACT program of a Sopremo plan (composites decomposed, one contract per elementary operator);
    ``optimize`` False skips the logical rewrites (``--no-optimize``)."""
    return to_pact(plan, PactContext(dop=dop, optimize=optimize))


EXECUTORS = ("process", "inline", "dask")
DEFAULT_EXECUTOR = "process"


def make_executor(executor: str | None = None, parallelism: int | None = None,
                  memory: str | int | None = None, address: str | None = None) -> Any:
    """An executor by name: 'process' (worker processes; ``parallelism`` default all cores, ``memory`` a
    budget such as '512MB', default a share of RAM), 'inline' (one process; both settings ignored) or 'dask'
    (the Dask cluster at ``address`` or METEOR_DASK_ADDRESS, else a local 2-worker cluster); None is
    DEFAULT_EXECUTOR. Raises MeteorError for an unknown name, a bad parallelism or memory size, or an
    unreachable Dask cluster."""
    executor = executor or DEFAULT_EXECUTOR
    if executor == "inline":
        return InlineExecutor()
    if executor == "dask":
        return _dask_executor(parallelism, memory, address)
    if executor != "process":
        raise MeteorError(f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}")
    from pact_backend.executors.process import ProcessExecutor
    from pact_backend.runtime.memory import parse_memory

    try:
        budget = parse_memory(memory) if memory is not None else None
    except ValueError as exc:
        raise MeteorError(str(exc)) from None
    if parallelism is not None and parallelism < 1:
        raise MeteorError(f"parallelism must be at least 1, got {parallelism}")
    return ProcessExecutor(parallelism=parallelism, memory_bytes=budget)


def _dask_executor(parallelism: int | None, memory: str | int | None, address: str | None) -> Any:
    """A DaskExecutor connected to ``address`` (or METEOR_DASK_ADDRESS, or a local cluster); MeteorError when
    dask is not installed, the settings are bad or the cluster cannot be reached (docs/distributed.md)."""
    from pact_backend.runtime.memory import parse_memory

    try:
        from pact_backend.executors.dask import DaskExecutor

        engine = DaskExecutor(address or os.environ.get("METEOR_DASK_ADDRESS") or None, parallelism,
                              parse_memory(memory) if memory is not None else None)
        engine.client  # connect now: an unreachable cluster is a user error
    except ImportError as exc:
        raise MeteorError(f"the dask executor needs dask and distributed (pip install 'meteor[dask]'): "
                          f"{exc}") from None
    except (ValueError, ConnectionError) as exc:
        raise MeteorError(str(exc)) from None
    return engine


def run_plan(plan: SopremoPlan, optimize: bool = True, executor: str | None = None,
             parallelism: int | None = None, memory: str | int | None = None,
             address: str | None = None, quiet: bool = False) -> RunStats:
    """Execute a Sopremo plan on the embedded engine (``executor`` 'process' or 'inline' with its
    ``parallelism`` and ``memory``, see ``make_executor``) or on a Dask cluster ('dask' at ``address``);
    returns per-contract statistics. Progress goes to stderr when it is a terminal, unless ``quiet``."""
    engine = make_executor(executor, parallelism, memory, address)
    if hasattr(engine, "progress"):
        from pact_backend.progress import progress_for

        engine.progress = progress_for(quiet=quiet)
    program = plan_pact(plan, dop=parallelism, optimize=optimize)
    from pact_backend.iterations import has_iterations, run_program

    if has_iterations(program):  # `iterate` statements: the driver runs their step plans (sec. 5.3)
        result = run_program(program, engine, optimize)
        result.stats.iterations = result.iterations  # per-superstep statistics for --stats
        return result.stats
    if optimize and not isinstance(engine, InlineExecutor):  # the optimizer's strategies (sec. 6.3)
        from pact_backend.optimizer import optimize as choose_physical

        share = engine.memory_bytes // max(1, engine.parallelism)  # what one instance may hold
        return engine.run(program, choose_physical(program, engine.parallelism, memory=share))
    return engine.run(program)


def run_script(text: str, path: str | None = None, params: dict[str, Any] | None = None) -> RunStats:
    """Compile and run Meteor source ``text`` (``path`` names it in errors and anchors includes)."""
    return run_plan(compile_script(text, path=path, params=params))


def run_file(path: str | Path, params: dict[str, Any] | None = None, optimize: bool = True,
             executor: str | None = None, parallelism: int | None = None,
             memory: str | int | None = None) -> RunStats:
    """Compile and run the Meteor script file ``path`` (executor settings as ``run_plan``); raises
    MeteorError subclasses on user errors."""
    return run_plan(compile_file(path, params), optimize=optimize, executor=executor, parallelism=parallelism,
                    memory=memory)
