"""Run Meteor scripts from Python: compile a script to a Sopremo plan, translate it to PACT and execute it.

``run_file('q15.meteor')`` is what ``meteor run q15.meteor`` does. Relative paths inside a script resolve
against the current working directory (or ``setWorkingDirectory``); includes resolve against the script.
"""

from __future__ import annotations

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


EXECUTORS = ("process", "inline")
DEFAULT_EXECUTOR = "process"


def make_executor(executor: str | None = None, parallelism: int | None = None,
                  memory: str | int | None = None) -> Any:
    """An executor by name: 'process' (worker processes; ``parallelism`` default all cores, ``memory`` a
    budget such as '512MB', default a share of RAM) or 'inline' (one process; both settings ignored); None
    is DEFAULT_EXECUTOR. Raises MeteorError for an unknown name, a bad parallelism or memory size."""
    executor = executor or DEFAULT_EXECUTOR
    if executor == "inline":
        return InlineExecutor()
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


def run_plan(plan: SopremoPlan, optimize: bool = True, executor: str | None = None,
             parallelism: int | None = None, memory: str | int | None = None) -> RunStats:
    """Execute a Sopremo plan on the embedded engine (``executor`` 'process' or 'inline' with its
    ``parallelism`` and ``memory``, see ``make_executor``); returns per-contract statistics."""
    engine = make_executor(executor, parallelism, memory)
    program = plan_pact(plan, dop=parallelism, optimize=optimize)
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
