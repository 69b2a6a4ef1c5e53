"""Explaining hand-written PACT programs (``meteor explain module:function``): the program, the step plan of
every iteration with its constant data path, and the physical plans the optimizer chose (VLDB J. 2014, sec. 6).

A *program function* takes no arguments and returns an ExecutionEnvironment (its sinks are the program), a
PactPlan, or a DataSet (the program that collects it). ``module:function`` names it by module (importable from
the current directory) or by file (``examples/pact/word_count.py:program``).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
from typing import Any

from pact_backend import contracts as pact
from pact_backend.iterations import SOLUTION, Iteration, Placeholder
from pact_backend.iterations.steps import dynamic_ids, same_key
from pact_backend.planner import Resources, plan_physical
from pact_backend.plan_text import contract_details, physical_dict, physical_dot, physical_text, plan_text

FORMATS = ("text", "json", "dot")


class ProgramNotFound(ValueError):
    """``module:function`` does not name a program function (bad form, import error, missing attribute)."""


def load_program(target: str) -> pact.PactPlan:
    """The PactPlan returned by the program function ``target`` ('module:function' or 'file.py:function')."""
    module_name, sep, attr = target.rpartition(":")
    if not sep or not module_name or not attr.isidentifier():
        raise ProgramNotFound(f"expected module:function or file.py:function, got {target!r}")
    try:
        if module_name.endswith(".py") or os.sep in module_name:
            spec = importlib.util.spec_from_file_location(os.path.basename(module_name)[:-3] or "program",
                                                          module_name)
            if spec is None or not os.path.exists(module_name):
                raise ProgramNotFound(f"no such file: {module_name}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        else:
            if os.getcwd() not in sys.path:
                sys.path.insert(0, os.getcwd())
            module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ProgramNotFound(f"cannot import {module_name}: {exc}") from None
    function = getattr(module, attr, None)
    if not callable(function):
        raise ProgramNotFound(f"{module_name} has no function {attr!r}")
    return as_plan(function())


def as_plan(value: Any) -> pact.PactPlan:
    """The PactPlan of what a program function returned; raises ProgramNotFound for anything else."""
    from pact_backend.api import DataSet, ExecutionEnvironment

    if isinstance(value, pact.PactPlan):
        return value
    if isinstance(value, ExecutionEnvironment):
        return value.plan()
    if isinstance(value, DataSet):
        from pact_backend.io.memory import CollectOutput
        return value.env.plan([pact.Sink(name="collect", inputs=[value.contract], output_format=CollectOutput())])
    raise ProgramNotFound(f"a program function returns an ExecutionEnvironment, a PactPlan or a DataSet, "
                          f"not {type(value).__name__}")


def _physical(plan: pact.PactPlan, resources: Resources, optimize: bool) -> Any:
    return plan_physical(plan, resources, optimize)


def _steps(plan: pact.PactPlan) -> list[Iteration]:
    """Every iteration of ``plan`` and of its step plans, outer ones first."""
    found = []
    for c in plan.contracts():
        if isinstance(c, Iteration):
            found.append(c)
            found.extend(_steps(c.step))
    return found


def _iteration_title(it: Iteration) -> str:
    bound = f"at most {it.max_supersteps} supersteps" if it.max_supersteps else "no superstep bound"
    return f"#{it.id} {it.kind} {it.name}: step plan ({bound})"


def _constant_path(it: Iteration) -> str:
    """The constant path of ``it``'s step and the joins that run as look-ups (what the driver will do)."""
    step = it.step
    dynamic = dynamic_ids(step)
    static = [f"#{c.id} {c.kind} {c.name}" for c in step.contracts()
              if c.id not in dynamic and not isinstance(c, pact.Sink)]
    lines = ["constant data path (computed once, cached): " + (", ".join(static) if static else "none")]
    key = getattr(it, "solution_key", None)
    for c in step.contracts():
        if not isinstance(c, (pact.Match, pact.CoGroup)) or c.id not in dynamic:
            continue
        if isinstance(c, pact.Match) and sum(i.id not in dynamic for i in c.inputs) == 1:
            lines.append(f"at run time #{c.id} {c.kind} {c.name} probes a hash table of its constant input, "
                         f"built once")
        elif key is not None and any(isinstance(i, Placeholder) and i.role == SOLUTION and same_key(k, key)
                                     for i, k in zip(c.inputs, c.keys)):
            lines.append(f"at run time #{c.id} {c.kind} {c.name} looks records up in the solution set's index")
    return "\n".join(lines)


def step_sections(plan: pact.PactPlan) -> list[str]:
    """Text sections (a blank line, a title, the plan, its constant path) for every iteration's step plan."""
    parts: list[str] = []
    for it in _steps(plan):
        parts += ["", f"== {_iteration_title(it)} ==", plan_text(it.step), _constant_path(it)]
    return parts


def explain_plan(plan: pact.PactPlan, resources: Resources, fmt: str = "text", optimize: bool = True) -> str:
    """``meteor explain`` output of a PACT program in ``fmt`` ('text', 'json' or 'dot'), planned by the planner
    for ``resources`` (those of the executor that would run it); ValueError for another format."""
    steps = _steps(plan)
    if fmt == "text":
        parts = ["== PACT program ==", plan_text(plan), *step_sections(plan)]
        title = "optimized" if optimize else "default strategies, not optimized"
        parts += ["", f"== Physical plan ({title}) ==", physical_text(_physical(plan, resources, optimize))]
        for it in steps:
            parts += ["", f"== Physical step plan of #{it.id} {it.kind} ==",
                      physical_text(_physical(it.step, resources, optimize))]
        return "\n".join(parts)
    if fmt == "json":
        def entries(p: pact.PactPlan) -> list[dict]:
            return [{"id": c.id, "kind": c.kind, "name": c.name, "inputs": [i.id for i in c.inputs],
                     "details": contract_details(c)} for c in p.contracts()]
        return json.dumps({"optimized": optimize, "pact": entries(plan),
                           "physical": physical_dict(_physical(plan, resources, optimize)),
                           "iterations": [{"id": it.id, "kind": it.kind, "step": entries(it.step),
                                           "constant": sorted(c.id for c in it.step.contracts()
                                                              if c.id not in dynamic_ids(it.step)),
                                           "physical": physical_dict(_physical(it.step, resources, optimize))}
                                          for it in steps]}, indent=2, default=str)
    if fmt == "dot":
        return "\n".join([physical_dot(_physical(plan, resources, optimize)),
                          *(physical_dot(_physical(it.step, resources, optimize)) for it in steps)])
    raise ValueError(f"unknown explain format {fmt!r}; expected one of {', '.join(FORMATS)}")
