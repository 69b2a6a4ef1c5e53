"""Triangle enumeration on a follower graph as one PACT flow (the Stratosphere example "EnumTrianglesOpt", VLDB
J. 2014, sec. 5): Map (undirected edges, no self-loops) -> Reduce (one copy per edge) -> Map + Reduce (vertex
degrees) -> two Matches (each edge with the degrees of its ends) -> Map (orient every edge from its lower- to its
higher-ranked end, rank = (degree, id)) -> Reduce with a group order (per vertex, every pair of its neighbours in
rank order is an open triad) -> Match (the triads whose closing edge exists) -> Sink.

Orienting by degree keeps the triads few on skewed graphs: a hub's edges point at it, so it builds no triads.

    python examples/pact/triangles.py ../shared/data/twitter/twitter_25k.json triangles.jsonl --stats
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pact_backend.api import ExecutionEnvironment, constant_fields, output_cardinality


@output_cardinality(0, 1)
def undirected(edge: dict) -> tuple | None:
    """{"k": follower, "fk": followed} -> (smaller id, larger id); None for a self-loop."""
    a, b = edge["k"], edge["fk"]
    if a == b:
        return None
    return (a, b) if a < b else (b, a)


@constant_fields(0, 1)
def first(key: tuple, edges: list) -> list:
    """One copy of an edge (its duplicates have the same key)."""
    return edges[:1]


@output_cardinality(2)
def ends(edge: tuple):
    yield (edge[0], 1)
    yield (edge[1], 1)


@constant_fields(0, 1)
def with_first_degree(edge: tuple, degree: tuple) -> tuple:
    return (edge[0], edge[1], degree[1])


@constant_fields(0, 1, 2)
def with_second_degree(edge: tuple, degree: tuple) -> tuple:
    return (edge[0], edge[1], edge[2], degree[1])


@output_cardinality(1)
def by_rank(edge: tuple) -> tuple:
    """(a, b, degree a, degree b) -> (lower-ranked end, higher-ranked end, rank of the higher one)."""
    a, b, da, db = edge
    return (a, b, (db, b)) if (da, a) < (db, b) else (b, a, (da, a))


@constant_fields(0)
def triads(vertex: int, edges: list):
    """Every pair (y, z) of ``vertex``'s higher-ranked neighbours, in rank order: the triad (vertex, y, z)."""
    neighbours = [edge[1] for edge in edges]  # sorted by rank (the group order)
    for i, y in enumerate(neighbours):
        for z in neighbours[i + 1:]:
            yield (vertex, y, z)


def close(triad: tuple, edge: tuple) -> tuple:
    """A triad whose closing edge exists is a triangle: its ids in ascending order."""
    return tuple(sorted(triad))


def triangles(env: ExecutionEnvironment, edges):
    """The triangles (x, y, z), x < y < z, of the undirected graph of ``edges`` ({"k", "fk"} records)."""
    unique = edges.map(undirected).group_by((0, 1)).reduce_group(first, combine=first).named("unique edges")
    degrees = unique.flat_map(ends).group_by(0).sum(1).named("degrees")
    annotated = (unique.join(degrees, 0, 0, with_first_degree).named("degree of first end")
                 .join(degrees, 1, 0, with_second_degree).named("degree of second end"))
    oriented = annotated.map(by_rank).named("oriented by rank")
    open_triads = oriented.group_by(0).sort_group(2).reduce_group(triads).named("open triads")
    return open_triads.join(oriented, (1, 2), (0, 1), close).named("closed triads")


def program(input_path: str | None = None, output_path: str = "triangles.jsonl",
            env: ExecutionEnvironment | None = None) -> ExecutionEnvironment:
    """Triangles of the follower graph in ``input_path`` (a JSON array of {"k", "fk"}; default: a small
    built-in graph) written as JSON Lines [x, y, z] to ``output_path``."""
    env = env or ExecutionEnvironment()
    if input_path is None:
        edges = env.from_collection([{"k": a, "fk": b} for a, b in
                                     [(1, 2), (2, 3), (3, 1), (3, 4), (4, 1), (4, 5)]], "small graph")
    else:
        edges = env.read_json(input_path)
    triangles(env, edges).write_jsonl(output_path)
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("input", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--executor", choices=["inline", "process"], default="process")
    parser.add_argument("--parallelism", type=int, default=None)
    parser.add_argument("--stats", action="store_true")
    args = parser.parse_args(argv)
    env = program(str(args.input), str(args.output), ExecutionEnvironment(args.executor, args.parallelism))
    result = env.execute()
    if args.stats:
        print(result.table(), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
