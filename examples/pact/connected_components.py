"""Connected components of an undirected graph as a bulk and as an incremental (workset) iteration (VLDB J.
2014, sec. 5.3 and Fig. 6): every vertex starts in the component of its own id and repeatedly takes the
smallest component id among its neighbours.

- bulk: every superstep recomputes every vertex's component from all vertices and edges, until unchanged;
- incremental: the solution set holds (vertex, component); the workset holds the vertices whose component
  changed in the last superstep; only their neighbours are looked at, so supersteps shrink with the workset.

    python examples/pact/connected_components.py ../shared/data/twitter/twitter_25k.json --mode both --stats
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pact_backend.api import ExecutionEnvironment, constant_fields, output_cardinality


@output_cardinality(2)
def both_directions(edge: dict):
    """{"k": a, "fk": b} -> (a, b) and (b, a)."""
    yield (edge["k"], edge["fk"])
    yield (edge["fk"], edge["k"])


@output_cardinality(2)
def endpoints(edge: tuple):
    """An edge's two vertices, each as its own initial component (v, v)."""
    yield (edge[0], edge[0])
    yield (edge[1], edge[1])


def distinct_vertex(vertex: int, records: list) -> list:
    return records[:1]


def to_neighbour(state: tuple, edge: tuple) -> tuple:
    """(vertex, component) and an edge (vertex, neighbour) -> the candidate (neighbour, component)."""
    return (edge[1], state[1])


@constant_fields(0)
@output_cardinality(0, 1)
def if_smaller(candidate: tuple, current: tuple) -> tuple | None:
    """The candidate when it lowers the vertex's component (the delta), else nothing."""
    return candidate if candidate[1] < current[1] else None


def graph(env: ExecutionEnvironment, input_path: str | None, edges: list | None = None):
    """(vertices as (v, v), directed edges both ways) of a JSON array of {"k", "fk"} or a list of pairs."""
    if input_path is not None:
        raw = env.read_json(input_path)
    else:
        raw = env.from_collection([{"k": a, "fk": b} for a, b in edges or [(1, 2), (2, 3), (4, 5)]], "edges")
    directed = raw.flat_map(both_directions).named("edges both ways")
    vertices = directed.map(lambda e: (e[0], e[0])).group_by(0).reduce_group(
        distinct_vertex, combine=distinct_vertex).named("vertices")
    return vertices, directed


def bulk_components(vertices, edges, max_supersteps: int = 1000):
    """Bulk iteration: partial solution (vertex, component) -> min over itself and its neighbours' candidates."""
    def step(components):
        candidates = components.join(edges, 0, 0, to_neighbour).named("candidates")
        return components.union(candidates).group_by(0).min(1).named("minimum component")
    return vertices.iterate(step, times=max_supersteps, until="unchanged").named("bulk components")


def incremental_components(vertices, edges, max_supersteps: int | None = None):
    """Workset iteration: the workset's vertices send their component to their neighbours; a neighbour whose
    component drops goes into the delta and into the next workset."""
    def step(solution, workset):
        candidates = workset.join(edges, 0, 0, to_neighbour).named("candidates")
        best = candidates.group_by(0).min(1).named("minimum candidate")
        changes = best.join(solution, 0, 0, if_smaller).named("changed components")
        return changes, changes
    return vertices.iterate_delta(vertices, 0, step, max_supersteps).named("incremental components")


def program(input_path: str | None = None, output_path: str = "components.jsonl", mode: str = "incremental",
            env: ExecutionEnvironment | None = None) -> ExecutionEnvironment:
    """Connected components (``mode`` 'bulk' or 'incremental') of the graph in ``input_path`` (default: a small
    built-in graph) written as JSON Lines [vertex, component] to ``output_path``."""
    env = env or ExecutionEnvironment()
    vertices, edges = graph(env, input_path)
    solve = bulk_components if mode == "bulk" else incremental_components
    solve(vertices, edges).write_jsonl(output_path)
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("input", type=Path)
    parser.add_argument("--output", type=Path, default=Path("components.jsonl"))
    parser.add_argument("--mode", choices=["bulk", "incremental", "both"], default="incremental")
    parser.add_argument("--executor", choices=["inline", "process"], default="process")
    parser.add_argument("--parallelism", type=int, default=None)
    parser.add_argument("--stats", action="store_true", help="per-superstep statistics (workset, delta, work)")
    args = parser.parse_args(argv)
    for mode in (["bulk", "incremental"] if args.mode == "both" else [args.mode]):
        env = program(str(args.input), str(args.output), mode, ExecutionEnvironment(args.executor, args.parallelism))
        result = env.execute()
        if args.stats:
            print(result.table(), file=sys.stderr)
        print(f"{mode}: {result.seconds:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
