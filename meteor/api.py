"""Run Meteor scripts from Python: compile a script to a Sopremo plan, then compile, plan and run it on an
executor through the one engine path (``sopremo.engine``).

``run_file('q15.meteor')`` is what ``meteor run q15.meteor`` does. Relative paths inside a script resolve
against the current working directory (or ``setWorkingDirectory``); includes resolve against the script.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from meteor.frontend import compile_script
from sopremo import engine
from sopremo.compilation import Compilation
from sopremo.errors import MeteorError
from sopremo.operator import SopremoPlan

DEFAULT_EXECUTOR = engine.DEFAULT_EXECUTOR


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


def make_executor(executor: str | None = None, parallelism: int | None = None,
                  memory: str | int | None = None, address: str | None = None, quiet: bool = False,
                  plan: SopremoPlan | None = None) -> Any:
    """An executor by name (``meteor.executors`` entry points): 'process' (the default: worker processes on
    ``parallelism`` cores, default all, within a budget ``memory`` such as '512MB', default half the RAM),
    'inline' (one process) or 'dask' (the cluster at ``address`` or METEOR_DASK_ADDRESS, else a local one).
    Given the ``plan`` it is for, with neither ``executor`` nor ``parallelism`` chosen, a plan whose sources
    read less than ``sopremo.engine.SMALL_INPUT_BYTES`` (1 MB) runs 'inline': worker processes would cost more
    than they save (``engine.default_executor``). Progress lines go to stderr when it is a terminal unless
    ``quiet``. Raises MeteorError for an unknown name, bad settings or an unreachable cluster."""
    import os

    if executor is None and parallelism is None and plan is not None:
        executor = engine.default_executor(plan)
    if executor != "dask":
        address = None  # the scheduler address (also from the environment) means nothing to other executors
    elif address is None:
        address = os.environ.get("METEOR_DASK_ADDRESS") or None
    return engine.make_executor(executor, parallelism, memory, address, quiet)


def compile_plan(plan: SopremoPlan, executor: Any, optimize: bool = True) -> Compilation:
    """The Compilation of ``plan`` for ``executor`` (its parallelism is the default DOP operators see);
    ``optimize`` False skips the logical rewrites and projection pushdown (``--no-optimize``)."""
    return engine.compile_plan(plan, optimize=optimize, dop=executor.parallelism)


def plan_pact(plan: SopremoPlan, dop: int | None = None, optimize: bool = True) -> Any:
    """The PACT program of a Sopremo plan (``compile_plan(...).program`` without an executor: operators see
    ``dop`` as the default DOP)."""
    return engine.compile_plan(plan, optimize=optimize, dop=dop).program


def run_plan(plan: SopremoPlan, optimize: bool = True, executor: str | None = None,
             parallelism: int | None = None, memory: str | int | None = None,
             address: str | None = None, quiet: bool = False) -> engine.RunStats:
    """Execute a Sopremo plan on the executor ``executor`` (see ``make_executor``: None runs a plan of small
    inputs inline, others on worker processes); returns per-contract
    statistics. Progress goes to stderr when it is a terminal, unless ``quiet``."""
    runner = make_executor(executor, parallelism, memory, address, quiet, plan=plan)
    return engine.run(compile_plan(plan, runner, optimize), runner)


def run_script(text: str, path: str | None = None, params: dict[str, Any] | None = None) -> engine.RunStats:
    """Compile and run Meteor source ``text`` (``path`` names it in errors and anchors includes)."""
    return run_plan(compile_script(text, path=path, params=params))


def run_file(path: str | Path, params: dict[str, Any] | None = None, optimize: bool = True,
             executor: str | None = None, parallelism: int | None = None,
             memory: str | int | None = None) -> engine.RunStats:
    """Compile and run the Meteor script file ``path`` (executor settings as ``run_plan``); raises
    MeteorError subclasses on user errors."""
    return run_plan(compile_file(path, params), optimize=optimize, executor=executor, parallelism=parallelism,
                    memory=memory)
