"""Translation of an elementary Sopremo plan into a PACT program: one contract per elementary operator (VLDB J.
2014, sec. 4), the last stage of the compile pipeline (``sopremo.compilation``).

``translate`` walks the elementary operators inputs-first and asks each for its contract
(``ElementaryOperator.to_contract(input contracts, ctx)``), where the operator compiles its expressions into
UDFs and key functions. A stream read by several operators maps to one contract read several times, so the
executor computes it once. ``to_pact`` runs the whole pipeline for callers that only need the program.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any

from pact_backend import contracts as pact
from sopremo.decompose import PlanError
from sopremo.flow import SELECT, flow_of
from sopremo.operator import ElementaryOperator, Operator, SopremoPlan
from sopremo.quick_dataclass import dataclass


@dataclass
class PactContext:
    """What operators may consult while building their contracts.

    ``dop``: the default degree of parallelism of the run (None = executor default); an operator's own
    ``parallel N`` hint is copied to its contract by ``to_pact``. ``options``: free-form settings by name
    (``option(name, default)`` reads one), e.g. for packages that need run-wide configuration. ``optimize``:
    the logical rewrites and projection pushdown ran (``--no-optimize`` turns them off).
    ``source_fields``: the fields each Source's records are read through (``sopremo.projection``), set by
    the compile pipeline when optimizing, keyed by ``id(source)``.
    """

    dop: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    optimize: bool = True
    source_fields: dict[int, Any] = field(default_factory=dict, compare=False)  # sopremo.projection, per Source

    def option(self, name: str, default: Any = None) -> Any:
        """The option ``name``, or ``default`` when it is not set."""
        return self.options.get(name, default)


def to_pact(plan: SopremoPlan, ctx: PactContext | None = None) -> pact.PactPlan:
    """The PACT program of ``plan`` through the whole compile pipeline (``sopremo.compilation.compile_plan``
    with ``ctx``'s optimize, dop and options): a convenience for callers that need only the program."""
    from sopremo.compilation import compile_plan

    ctx = ctx if ctx is not None else PactContext()
    return compile_plan(plan, optimize=ctx.optimize, dop=ctx.dop, options=ctx.options).program


def translate(elementary: SopremoPlan, ctx: PactContext) -> pact.PactPlan:
    """The PACT program of an elementary plan: one contract per operator, inputs first (the ``translate``
    stage of the compile pipeline).

    Each contract gets the operator's ``dop`` hint when it has none, and the operator's display name when
    its name is empty; an operator whose record flow is a selection (``sopremo.flow.SELECT``: it emits input
    records unchanged, in order) marks its contract's hints so (``Hints.preserves_records``). Raises PlanError (with the
    operator's source location) for an operator that is not elementary, an elementary operator with several
    outputs, a read of output > 0, a ``to_contract`` that returns no Contract, or a sink operator whose
    contract is not a Sink; errors of ``to_contract`` itself propagate unchanged.
    """
    contracts: dict[int, pact.Contract] = {}
    for op in elementary.operators():
        contracts[id(op)] = _contract(op, contracts, ctx)
    sinks = []
    for op in elementary.sinks:
        contract = contracts[id(op)]
        if not isinstance(contract, pact.Sink):
            raise PlanError(f"sink operator {op!r} translated to {contract!r}, not to a Sink contract", op)
        sinks.append(contract)
    return pact.PactPlan(sinks=sinks)


def _contract(op: Operator, done: dict[int, pact.Contract], ctx: PactContext) -> pact.Contract:
    """The contract of the elementary operator ``op`` over the contracts already built for its inputs."""
    if not isinstance(op, ElementaryOperator):
        raise PlanError(f"{op!r} is not an elementary operator after decomposition", op)
    if op.output_count() > 1:
        raise PlanError(f"elementary operator {op!r} declares {op.output_count()} outputs; an operator with "
                        f"several outputs must be composite", op)
    for stream in op.inputs:
        if stream.index != 0:
            raise PlanError(f"{op!r} reads output {stream.index} of the elementary operator "
                            f"{stream.operator!r}, which has only output 0", op)
    contract = op.to_contract([done[id(s.operator)] for s in op.inputs], ctx)
    if not isinstance(contract, pact.Contract):
        raise PlanError(f"{type(op).__name__}.to_contract returned {contract!r}, not a PACT contract", op)
    if contract.dop is None:
        contract.dop = op.dop
    if not contract.name:
        contract.name = op.display_name()
    flow = flow_of(op)
    if flow is not None and flow.kind == SELECT and len(op.inputs) == 1:
        contract.hints.preserves_records = True  # the optimizer may keep partitioning and order across it
    return contract
