"""Executors by name: the ``meteor.executors`` entry points (DESIGN.md, "Execution"; Ibis-style backends found
through entry points), and the protocol every executor follows.

``make_executor(name, parallelism=None, memory=None, **options)`` is the one factory of the command line, the
Python API and the PACT API. The project's own executors (``inline``, ``process``, ``dask``) are registered in
pyproject.toml like a third-party one would be::

    [project.entry-points."meteor.executors"]
    process = "pact_backend.executors.process:ProcessExecutor"

An entry point names a class (or factory) taking ``parallelism`` (default DOP or None), ``memory_bytes``
(budget of a run in bytes or None) and its own keyword options, returning an ``Executor``.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from pact_backend.entry_points import entry_points
from pact_backend.contracts import PactPlan
from pact_backend.physical import PhysicalPlan
from pact_backend.planner import Resources
from pact_backend.runtime.memory import parse_memory
from pact_backend.runtime.stats import RunStats

GROUP = "meteor.executors"
DEFAULT_EXECUTOR = "process"


class ExecutorError(ValueError):
    """An executor that cannot be made: unknown name (the message lists the known ones), a bad setting, an
    option it does not take, or a backend that is not installed or not reachable."""


@runtime_checkable
class Executor(Protocol):
    """What runs a physical plan: ``name``, ``parallelism`` (default DOP), ``memory_per_instance`` (bytes one
    task may hold), ``resources()`` (what the planner plans with), ``unsupported(physical)`` (why it cannot
    run a plan, or None) and ``run(program, physical) -> RunStats`` (``RunStats.executed`` says how every
    contract ran)."""

    name: str
    parallelism: int
    memory_per_instance: int

    def resources(self) -> Resources: ...

    def unsupported(self, physical: PhysicalPlan) -> str | None: ...

    def run(self, plan: PactPlan, physical: PhysicalPlan | None = None) -> RunStats: ...


def executor_names() -> list[str]:
    """The names of every registered executor, sorted."""
    return sorted({ep.name for ep in entry_points(GROUP)})


def executor_class(name: str) -> Any:
    """The class (or factory) registered as ``name``; ExecutorError naming the known executors otherwise, or
    when its module cannot be imported (e.g. dask is not installed)."""
    found = [ep for ep in entry_points(GROUP) if ep.name == name]
    if not found:
        raise ExecutorError(f"unknown executor {name!r}; choose one of {', '.join(executor_names())}")
    try:
        return found[0].load()
    except ImportError as exc:
        raise ExecutorError(f"the {name} executor is not available: {exc}") from None


def make_executor(name: str | None = None, parallelism: int | None = None, memory: int | str | None = None,
                  **options: Any) -> Executor:
    """The executor ``name`` (None: DEFAULT_EXECUTOR) for a default DOP of ``parallelism`` (None: the
    executor's default, e.g. all cores) and a run budget ``memory`` (bytes or a size such as '512MB'; None:
    the executor's default share of RAM); ``options`` go to the executor (e.g. ``address`` of a Dask
    scheduler, ``progress``). Raises ExecutorError for an unknown name, a bad setting or option."""
    if parallelism is not None and (not isinstance(parallelism, int) or parallelism < 1):
        raise ExecutorError(f"parallelism must be at least 1, got {parallelism}")
    try:
        budget = parse_memory(memory) if memory is not None else None
    except ValueError as exc:
        raise ExecutorError(str(exc)) from None
    name = name or DEFAULT_EXECUTOR
    cls = executor_class(name)
    try:
        executor = cls(parallelism=parallelism, memory_bytes=budget, **options)
    except TypeError as exc:
        raise ExecutorError(f"the {name} executor does not take these options: {exc}") from None
    try:
        executor.resources()  # connects where the executor has a cluster: an unreachable one is a user error
    except (ValueError, ConnectionError) as exc:
        raise ExecutorError(str(exc)) from None
    return executor
