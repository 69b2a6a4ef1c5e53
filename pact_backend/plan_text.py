"""Plain-text rendering of a PACT program (for ``explain`` and debugging): one tree per sink, inputs below.

Every contract prints as ``#id Kind name`` followed by what defines it: formats of sources and sinks, keys
(a Key's ``description``, else its function's ``__name__``), combiner, group order, DOP and
hints. A contract read by several consumers is printed in full once; later reads show ``(shared, see above)``.
With run statistics, each line also shows records in/out and seconds. ``physical_text``,
``physical_dict`` and ``physical_dot`` render a PhysicalPlan (ship and local strategies, DOP, estimates, reasons)
as text, JSON and Graphviz.
"""

from __future__ import annotations

from typing import Any

from pact_backend import contracts as pact


def describe_function(fn: Any) -> str:
    """A short name for a UDF or key function: its ``description`` attribute, else its name, else 'fn'."""
    text = getattr(fn, "description", None)
    if text:
        return str(text)
    name = getattr(fn, "__name__", None)
    return name if name and not name.startswith("<") else "fn"


def describe_key(key: pact.Key) -> str:
    """A short name for a key: its description, else its function's name, else 'fn'."""
    return key.description or describe_function(key.fn)


def _describe_format(fmt: Any) -> str:
    describe = getattr(fmt, "describe", None)
    return describe() if callable(describe) else repr(fmt)


def _order(order: pact.GroupOrder | None) -> str:
    return f"{describe_key(order[0])} {'desc' if order[1] else 'asc'}" if order else "-"


def contract_details(c: pact.Contract) -> list[str]:
    """The defining attributes of ``c`` as ``name=value`` words."""
    parts: list[str] = []
    if isinstance(c, pact.Source):
        parts.append(f"from {_describe_format(c.input_format)}")
    elif isinstance(c, pact.Sink):
        parts.append(f"to {_describe_format(c.output_format)}")
        parts += ["ordered"] if c.ordered else []
    elif isinstance(c, pact.Reduce):
        parts.append(f"key={describe_key(c.key)}" if c.key is not None else "global")
        parts += ["combiner"] if c.combiner is not None else []
        parts += [f"order={_order(c.group_order)}"] if c.group_order else []
        parts += [f"limit={c.limit}"] if c.limit is not None else []
    elif isinstance(c, (pact.Match, pact.CoGroup)) and c.keys is not None:
        parts.append(f"keys=({', '.join(describe_key(k) for k in c.keys)})")
        orders = getattr(c, "group_order", None)
        parts += [f"order=({', '.join(_order(o) for o in orders)})"] if orders else []
    udf = getattr(c, "udf", None)
    if udf is not None and describe_function(udf) != "fn":
        parts.append(f"udf={describe_function(udf)}")
    if c.dop is not None:
        parts.append(f"dop={c.dop}")
    parts += _hints(c.hints)
    parts += ["keeps-records"] if c.hints.preserves_records else []
    return parts


def _hints(hints: pact.Hints) -> list[str]:
    names = (("selectivity", "selectivity"), ("output_records", "records"), ("output_bytes", "bytes"),
             ("record_bytes", "record_bytes"))
    return [f"{label}~{getattr(hints, attr)}" for attr, label in names if getattr(hints, attr) is not None]


def contract_line(c: pact.Contract, stats: Any = None) -> str:
    """One line for ``c``: ``#id Kind name  details`` (and ``[in=.. out=.. s]`` from ``stats`` if given)."""
    line = " ".join([f"#{c.id}", c.kind, c.name or "-", *contract_details(c)])
    if stats is not None:
        try:
            entry = stats.of(c)
        except KeyError:
            return line
        line += f"  [in={entry.records_in} out={entry.records_out} {entry.seconds:.3f}s]"
    return line


def plan_text(plan: pact.PactPlan, stats: Any = None) -> str:
    """The whole program as indented trees, one per sink, in sink order; ``stats`` is an optional RunStats."""
    lines: list[str] = []
    printed: set[int] = set()
    for sink in plan.sinks:
        _render(sink, "", "", printed, lines, stats)
    return "\n".join(lines)


def _render(c: pact.Contract, head: str, rest: str, printed: set[int], lines: list[str], stats: Any) -> None:
    """Append ``c`` (prefixed by ``head``) and its inputs (prefixed by ``rest`` plus tree branches)."""
    if c.id in printed:
        lines.append(f"{head}#{c.id} {c.kind} {c.name or '-'} (shared, see above)")
        return
    printed.add(c.id)
    lines.append(head + contract_line(c, stats))
    for i, source in enumerate(c.inputs):
        last = i == len(c.inputs) - 1
        _render(source, rest + ("`- " if last else "|- "), rest + ("   " if last else "|  "),
                printed, lines, stats)


# ---- the physical plan ----------------------------------------------------------------------------------------


def _amount(value: float | None, unit: str = "") -> str:
    """A rounded number with a K/M/G suffix (``?`` when unknown): ``380``, ``12.4K``, ``2.1G``."""
    if value is None:
        return "?"
    for suffix, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.1f}{suffix}{unit}"
    return f"{value:.0f}{unit}"


def physical_line(node: Any) -> str:
    """One line for a PhysicalNode: ``#id Kind name  dop=N ship=[..] local=.. est=R rec/B cost=C`` and how it
    runs with its neighbours: ``chained`` (in its input's tasks), ``combined`` (combiner before shipping),
    ``fused`` (a source stage folded over batches into the consumer's combiner)."""
    c = node.contract
    ship = f" ship=[{', '.join(node.ship)}]" if node.ship else ""
    local = f" local={node.local}" if node.local != "none" else ""
    est = f" est={_amount(node.estimate.records)} rec/{_amount(node.estimate.bytes, 'B')}"
    runs = "".join(f" {word}" for word in ("chained", "combined", "fused") if getattr(node, word, False))
    return (f"#{c.id} {c.kind} {c.name or '-'}  dop={node.dop}{ship}{local}{runs}{est} "
            f"cost={_amount(node.cost, 'B')}")


def physical_text(physical: Any, reasons: bool = True) -> str:
    """The physical plan as indented trees (like ``plan_text``), each node followed by its reason."""
    lines: list[str] = []
    printed: set[int] = set()

    def render(c: pact.Contract, head: str, rest: str) -> None:
        if c.id in printed:
            lines.append(f"{head}#{c.id} {c.kind} {c.name or '-'} (shared, see above)")
            return
        printed.add(c.id)
        node = physical.node(c)
        lines.append(head + physical_line(node))
        if reasons and node.reason:
            lines.append(rest + ("|    " if c.inputs else "     ") + "why: " + node.reason)
        for i, source in enumerate(c.inputs):
            last = i == len(c.inputs) - 1
            render(source, rest + ("`- " if last else "|- "), rest + ("   " if last else "|  "))

    for sink in physical.plan.sinks:
        render(sink, "", "")
    lines.append(f"total cost {_amount(physical.total_cost(), 'B')} (network + disk bytes)")
    return "\n".join(lines)


def physical_dict(physical: Any) -> list[dict[str, Any]]:
    """The physical plan as JSON-ready dicts, one per contract in topological order (inputs by id)."""
    out = []
    for c in physical.plan.contracts():
        node = physical.node(c)
        out.append({"id": c.id, "kind": c.kind, "name": c.name, "details": contract_details(c),
                    "inputs": [i.id for i in c.inputs], "dop": node.dop, "ship": list(node.ship),
                    "local": node.local, "estimate": {"records": node.estimate.records, "bytes": node.estimate.bytes},
                    "chained": node.chained, "combined": node.combined, "fused": node.fused,
                    "cost": node.cost, "reason": node.reason,
                    "output_properties": getattr(node, "output_properties", "")})
    return out


def physical_dot(physical: Any) -> str:
    """The physical plan as a Graphviz digraph: a box per contract, an edge per channel labelled by its ship."""
    lines = ["digraph physical {", "  rankdir=BT;", "  node [shape=box, fontname=\"monospace\"];"]
    for c in physical.plan.contracts():
        node = physical.node(c)
        label = [f"#{c.id} {c.kind} {c.name or '-'}", f"dop {node.dop}"]
        label += [node.local] if node.local != "none" else []
        label += [word for word in ("chained", "combined", "fused") if getattr(node, word)]
        label.append(f"est {_amount(node.estimate.records)} rec / {_amount(node.estimate.bytes, 'B')}")
        lines.append(f"  c{c.id} [label={_quote(chr(10).join(label))}];")
        for i, (source, ship) in enumerate(zip(c.inputs, node.ship)):
            lines.append(f"  c{source.id} -> c{c.id} [label={_quote(ship)}];")
    lines.append("}")
    return "\n".join(lines)


def _quote(text: str) -> str:
    """A Graphviz double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
