"""``meteor explain``: the Sopremo plan, its rewrites, the PACT program and the physical plan, as text, JSON or
Graphviz (VLDB J. 2014, sec. 6: what the optimizer decided and why)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from meteor.api import compile_plan, make_executor
from sopremo import engine
from sopremo.compilation import Compilation
from sopremo.engine import PhysicalPlan
from sopremo.expressions.nodes import Expression
from sopremo.expressions.render import render
from sopremo.operator import Operator, SopremoPlan

FORMATS = ("text", "json", "dot")


VALUE_WIDTH = 200  # characters of a property value shown (the records of an ad-hoc source can be many)


def _value_text(value: Any, inputs: tuple[str, ...]) -> str:
    if isinstance(value, Expression):
        return render(value, inputs)
    if isinstance(value, tuple):
        return "(" + ", ".join(_value_text(v, inputs) for v in value) + ")"
    if isinstance(value, list):  # repr of the first elements only: the list may hold a whole data frame
        shown, width = [], 0
        for item in value:
            shown.append(repr(item))
            width += len(shown[-1]) + 2
            if width > VALUE_WIDTH:
                return "[" + ", ".join(shown)[:VALUE_WIDTH] + f"… ({len(value)} values)"
        return "[" + ", ".join(shown) + "]"
    text = repr(value)
    return text if len(text) <= VALUE_WIDTH else f"{text[:VALUE_WIDTH]}… ({len(text)} characters)"


def _describe(op: Operator) -> str:
    describe = getattr(op, "describe", None)
    return describe() if callable(describe) else (op.verb or type(op).__name__)


def _variable(name: str) -> str:
    """``$name`` for a display name (names of script variables already start with ``$``)."""
    return name if name.startswith("$") else "$" + name


def _distinct(names: tuple[str, ...]) -> tuple[str, ...]:
    """Input names told apart where an operator reads one data set twice (``$late``, ``$late_2``)."""
    return tuple(name if names[:i].count(name) == 0 else f"{name}_{names[:i].count(name) + 1}"
                 for i, name in enumerate(names))


def sopremo_entries(plan: SopremoPlan) -> list[dict[str, Any]]:
    """One dict per operator in topological order: ``id``, ``operator``, ``name``, ``inputs`` (ids, with
    ``#k`` for output k > 0), ``parallel`` and ``properties`` (Meteor words -> rendered value)."""
    ids = {id(op): i for i, op in enumerate(plan.operators(), 1)}
    entries = []
    for op in plan.operators():
        names = _distinct(tuple(_variable(s.operator.name or str(ids[id(s.operator)])) for s in op.inputs))
        props = {spec.words or spec.attr: _value_text(value, names) for spec, value in op.property_values()
                 if value is not None and value != spec.default}
        entries.append({"id": ids[id(op)], "operator": _describe(op), "name": op.name,
                        "inputs": [f"{ids[id(s.operator)]}" + (f"#{s.index}" if s.index else "") for s in op.inputs],
                        "parallel": op.dop, "properties": props})
    return entries


def render_sopremo(plan: SopremoPlan) -> str:
    """One line per operator in topological order: ``[id] verb -> $name <- inputs`` then its set properties."""
    lines = []
    for entry in sopremo_entries(plan):
        head = f"[{entry['id']}] {entry['operator']}"
        head += f" -> {_variable(entry['name'])}" if entry["name"] else ""
        head += "  <- " + ", ".join(f"[{i}]" for i in entry["inputs"]) if entry["inputs"] else ""
        head += f"  (parallel {entry['parallel']})" if entry["parallel"] else ""
        lines.append(head)
        lines += [f"      {words}: {text}" for words, text in entry["properties"].items()]
    return "\n".join(lines)


@dataclass(frozen=True)
class Explanation:
    """What ``meteor explain`` shows of one script: its Compilation (the Sopremo plan as written, after
    decorrelation, after the logical rewrites, the PACT program) and the physical plan the executor would run."""

    compilation: Compilation
    physical: PhysicalPlan
    executor: str

    @property
    def optimize(self) -> bool:
        return self.compilation.optimize


def explain_plan(plan: SopremoPlan, optimize: bool = True, executor: Any = None) -> Explanation:
    """Compile ``plan`` and plan it for ``executor`` (an executor object, as ``meteor.api.make_executor``
    returns; None: the default executor), exactly as a run on that executor would; ``optimize`` False = no
    rewrites and the default physical strategies (``--no-optimize``)."""
    executor = executor if executor is not None else make_executor(quiet=True, plan=plan)
    compilation = compile_plan(plan, executor, optimize)
    return Explanation(compilation, engine.plan(compilation, executor), executor.name)


def explain_text(e: Explanation) -> str:
    """The text report: one section per layer."""
    c = e.compilation
    parts = ["== Sopremo plan ==", render_sopremo(c.sopremo)]
    if c.decorrelation_applied:
        parts += ["", "== Sopremo plan after decorrelation ==", render_sopremo(c.decorrelated)]
    if c.rewrites_applied:
        parts += ["", "== Sopremo plan after logical rewrites ==", render_sopremo(c.rewritten)]
    parts += ["", "== PACT program ==", engine.plan_text(c.program)]
    parts += engine.step_sections(c.program)  # the step plans of `iterate` statements
    title = "optimized" if e.optimize else "default strategies, not optimized"
    resources = (f"{e.executor} executor, parallelism {e.physical.parallelism}, "
                 f"{_megabytes(e.physical.memory_per_instance)} per task")
    parts += ["", f"== Physical plan ({title}; {resources}) ==", engine.physical_text(e.physical)]
    return "\n".join(parts)


def _megabytes(value: int) -> str:
    return f"{value / (1 << 20):.0f} MB"


def explain_dict(e: Explanation) -> dict[str, Any]:
    """The JSON report: ``sopremo``, ``decorrelated`` and ``rewritten`` (or null), ``pact`` and ``physical``
    lists, ``optimized``."""
    c = e.compilation
    pact_entries = [{"id": k.id, "kind": k.kind, "name": k.name, "inputs": [i.id for i in k.inputs],
                     "details": engine.contract_details(k)} for k in c.program.contracts()]
    return {"optimized": e.optimize, "sopremo": sopremo_entries(c.sopremo),
            "decorrelated": sopremo_entries(c.decorrelated) if c.decorrelation_applied else None,
            "rewritten": sopremo_entries(c.rewritten) if c.rewrites_applied else None,
            "pact": pact_entries, "physical": engine.physical_dict(e.physical),
            "executor": {"name": e.executor, "parallelism": e.physical.parallelism,
                         "memory_per_instance": e.physical.memory_per_instance},
            "total_cost": e.physical.total_cost()}


def explain(plan: SopremoPlan, fmt: str = "text", optimize: bool = True, executor: Any = None) -> str:
    """``meteor explain`` output for ``plan`` in ``fmt`` (one of FORMATS) as planned for ``executor`` (None:
    the default executor); raises ValueError for another format."""
    e = explain_plan(plan, optimize, executor)
    if fmt == "text":
        return explain_text(e)
    if fmt == "json":
        return json.dumps(explain_dict(e), indent=2, default=str)
    if fmt == "dot":
        return engine.physical_dot(e.physical)
    raise ValueError(f"unknown explain format {fmt!r}; expected one of {', '.join(FORMATS)}")
