"""The planner: the one place where a PACT program becomes the physical plan an executor runs (VLDB J. 2014,
sec. 6.3 and 7.3).

``plan_physical(program, resources, optimize)`` takes the resources of the executor that will run the program
(its real parallelism and the memory one task may hold), asks the optimizer for ship and local strategies (or
takes the default strategies when ``optimize`` is off), then decides how the contracts run together
(``pact_backend.chaining``: chained contracts, combiners before shipping, fused source stages) and records all
of it on the physical nodes. Runs, ``meteor explain``, the REPL, the PACT API and iterations all plan through
here with the executor's own ``Resources``, so what explain prints is what runs; an executor refuses a plan
it cannot execute (``check_supported``) instead of running it another way.
"""

from __future__ import annotations


from pact_backend.chaining import decide_execution
from pact_backend.contracts import PactPlan
from pact_backend.optimizer import optimize as choose_strategies
from pact_backend.physical import LOCAL_STRATEGIES, SHIP_STRATEGIES, PhysicalPlan, default_physical
from pact_backend.quick_dataclass import dataclass


class UnsupportedPlan(ValueError):
    """A physical plan uses a strategy the executor's runtime does not have; the message names the contract
    and the strategy."""


@dataclass(frozen=True)
class Resources:
    """What an executor offers one run: ``parallelism`` (the default DOP, >= 1), ``memory_per_instance``
    (bytes one task may hold before it spills) and the ship and local strategies its runtime implements."""

    parallelism: int
    memory_per_instance: int
    ship_strategies: frozenset[str] = frozenset(SHIP_STRATEGIES)
    local_strategies: frozenset[str] = frozenset(LOCAL_STRATEGIES)


def plan_physical(program: PactPlan, resources: Resources, optimize: bool = True) -> PhysicalPlan:
    """The physical plan of ``program`` for ``resources``: the optimizer's cheapest strategies (``optimize``)
    or the default ones, with chaining, combining and fusion decided. Raises UnsupportedPlan when a strategy
    chosen is not among the resources' strategies (the optimizer only chooses strategies every runtime has)."""
    if optimize:
        physical = choose_strategies(program, resources.parallelism, memory=resources.memory_per_instance)
    else:
        physical = default_physical(program, resources.parallelism, resources.memory_per_instance)
    decide_execution(physical)
    check_supported(physical, resources)
    return physical


def check_supported(physical: PhysicalPlan, resources: Resources) -> None:
    """Raise UnsupportedPlan naming every contract whose ship or local strategy ``resources`` lack."""
    problems = []
    for node in physical.nodes.values():
        missing = [s for s in node.ship if s not in resources.ship_strategies]
        if node.local not in resources.local_strategies:
            missing.append(node.local)
        if missing:
            problems.append(f"#{node.contract.id} {node.contract.kind} {node.contract.name}: "
                            f"{', '.join(missing)}")
    if problems:
        raise UnsupportedPlan("the executor cannot run strategies of this plan: " + "; ".join(problems))
