"""Structural checks of a PACT program before it runs: input counts, UDFs, keys and formats per contract."""

from __future__ import annotations

from pact_backend import contracts as pact


class PlanStructureError(ValueError):
    """A PACT program that cannot run: wrong number of inputs, missing UDF, key or format, or a non-Sink sink.

    This is a bug in whatever built the program (an operator's ``to_contract``, a hand-written program), not
    a user error in a script; the message names the contract.
    """


# kind -> (min inputs, max inputs or None, required attributes)
_SHAPES: dict[type, tuple[int, int | None, tuple[str, ...]]] = {
    pact.Source: (0, 0, ("input_format",)),
    pact.Sink: (1, 1, ("output_format",)),
    pact.Map: (1, 1, ("udf",)),
    pact.Reduce: (1, 1, ("udf",)),
    pact.Match: (2, 2, ("udf", "keys")),
    pact.Cross: (2, 2, ("udf",)),
    pact.CoGroup: (2, 2, ("udf", "keys")),
    pact.Union: (0, None, ()),
}


def check_contract(contract: pact.Contract) -> None:
    """Raise PlanStructureError if ``contract`` is of an unknown kind or misses inputs or attributes."""
    shape = _SHAPES.get(type(contract))
    if shape is None:
        shape = next((s for cls, s in _SHAPES.items() if isinstance(contract, cls)), None)
    if shape is None:
        raise PlanStructureError(f"{contract!r}: unknown contract kind {type(contract).__name__}")
    low, high, required = shape
    n = len(contract.inputs)
    if n < low or (high is not None and n > high):
        wanted = str(low) if low == high else f"at least {low}"
        raise PlanStructureError(f"{contract!r} needs {wanted} input(s), has {n}")
    for attr in required:
        if getattr(contract, attr, None) is None:
            raise PlanStructureError(f"{contract!r} has no {attr}")
    keys = getattr(contract, "keys", None)
    if keys is not None and len(keys) != 2:
        raise PlanStructureError(f"{contract!r} needs one key function per input, has {len(keys)}")


def check_plan(plan: pact.PactPlan) -> list[pact.Contract]:
    """Check every contract of ``plan``; return them in topological order. Raises PlanStructureError."""
    for sink in plan.sinks:
        if not isinstance(sink, pact.Sink):
            raise PlanStructureError(f"plan sink {sink!r} is not a Sink contract")
    order = plan.contracts()
    for contract in order:
        check_contract(contract)
        for source in contract.inputs:
            if isinstance(source, pact.Sink):
                raise PlanStructureError(f"{contract!r} reads from the sink {source!r}")
    return order


def consumer_counts(order: list[pact.Contract]) -> dict[int, int]:
    """How many times each contract id is read as an input (a self-join's input counts twice)."""
    counts = {c.id: 0 for c in order}
    for contract in order:
        for source in contract.inputs:
            counts[source.id] += 1
    return counts
