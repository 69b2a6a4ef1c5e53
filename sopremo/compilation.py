"""The compile pipeline: a bound Sopremo plan becomes a PACT program through one ordered list of stages
(VLDB J. 2014, sec. 4 to 6; DESIGN.md, "The pipeline and its objects").

``compile_plan(plan)`` runs ``STAGES`` in order and returns a frozen ``Compilation`` holding every
intermediate plan, so ``meteor explain`` renders exactly what a run executes and nothing is computed twice.
Physical planning (strategies, chaining, fusion) happens afterwards, for the executor that will run the
program (``sopremo.engine``).
"""

from __future__ import annotations

from dataclasses import field
from types import MappingProxyType
from typing import Any, Callable, Mapping

from pact_backend.contracts import PactPlan
from sopremo.decompose import decompose
from sopremo.decorrelate import decorrelate
from sopremo.operator import SopremoPlan
from sopremo.projection import Fields, source_fields
from sopremo.quick_dataclass import dataclass
from sopremo.rewrite import rewrite
from sopremo.to_pact import PactContext, translate


@dataclass(frozen=True)
class Compilation:
    """Every layer of one compiled plan.

    ``sopremo``: the plan as the binder made it; ``decorrelated``: without nested operators and data sets
    inside expressions (``sopremo.decorrelate``; the same object when it held none); ``rewritten``: after the
    logical rewrites (the same object as ``decorrelated`` when they are off or none applied); ``source_fields``: per Source operator (``id(operator)``) the
    top-level fields its records are decoded with (None: whole records; empty without optimization);
    ``elementary``: composites expanded; ``program``: the PACT program; ``optimize`` and ``dop`` as given.
    """

    sopremo: SopremoPlan
    decorrelated: SopremoPlan
    rewritten: SopremoPlan
    source_fields: Mapping[int, Fields]
    elementary: SopremoPlan
    program: PactPlan
    optimize: bool = True
    dop: int | None = None
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def decorrelation_applied(self) -> bool:
        """Whether the plan held nested operators or data sets inside expressions (decorrelation changed it)."""
        return self.decorrelated is not self.sopremo

    @property
    def rewrites_applied(self) -> bool:
        """Whether the logical rewrites changed the plan."""
        return self.rewritten is not self.decorrelated


def _decorrelate(state: dict[str, Any]) -> None:
    state["decorrelated"] = decorrelate(state["sopremo"])


def _rewrite(state: dict[str, Any]) -> None:
    state["rewritten"] = rewrite(state["decorrelated"]) if state["optimize"] else state["decorrelated"]


def _project(state: dict[str, Any]) -> None:
    state["source_fields"] = MappingProxyType(source_fields(state["rewritten"]) if state["optimize"] else {})


def _decompose(state: dict[str, Any]) -> None:
    state["elementary"] = decompose(state["rewritten"])


def _translate(state: dict[str, Any]) -> None:
    ctx = PactContext(dop=state["dop"], options=dict(state["options"]), optimize=state["optimize"],
                      source_fields=dict(state["source_fields"]))
    state["program"] = translate(state["elementary"], ctx)


# The stages, in order. Each reads what the earlier ones left in the state and adds one entry.
STAGES: tuple[tuple[str, Callable[[dict[str, Any]], None]], ...] = (
    ("decorrelate", _decorrelate),  # nested operators and side channels as joins and groupings (sopremo.decorrelate);
                                    # always: a nested value cannot run as written
    ("rewrite", _rewrite),      # logical rewrites to a fixpoint (sopremo.rewrite.RULES, sec. 6.2); off: as written
    ("project", _project),      # projection pushdown: the fields every source decodes (sopremo.projection, sec. 7)
    ("decompose", _decompose),  # composite operators expanded until only elementary ones remain (sec. 4)
    ("translate", _translate),  # one PACT contract per elementary operator, expressions compiled (sec. 5)
)


def compile_plan(plan: SopremoPlan, optimize: bool = True, dop: int | None = None,
                 options: Mapping[str, Any] | None = None) -> Compilation:
    """The Compilation of ``plan``: every stage of STAGES in order. ``optimize`` False skips the logical
    rewrites and projection pushdown (``--no-optimize``), never the decorrelation; ``dop`` is the default degree of parallelism the
    operators may consult; ``options`` free-form settings for packages (``PactContext.option``). Raises
    PlanError (a MeteorError with the operator's location) for plans that cannot be decomposed or translated;
    errors of an operator's ``to_contract`` propagate unchanged."""
    state: dict[str, Any] = {"sopremo": plan, "optimize": optimize, "dop": dop,
                             "options": MappingProxyType(dict(options or {}))}
    for _, stage in STAGES:
        stage(state)
    return Compilation(**state)
