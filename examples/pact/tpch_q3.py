"""TPC-H Q3 (shipping priority) written directly as a PACT program (VLDB J. 2014, Fig. 2 and sec. 5): selections
and projections as Maps, two Matches (customer-orders, then lineitem), a Reduce with combiner summing the revenue
per order, and a global Reduce with a group order for ORDER BY revenue DESC, o_orderdate. Annotations tell the
optimizer which fields the UDFs keep, so the join key's partitioning is reused.

    python scripts/make_tpch.py --sf 0.01 --out data/tpch
    python examples/pact/tpch_q3.py data/tpch q3.jsonl --stats
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pact_backend.api import ExecutionEnvironment, constant_fields, output_cardinality

DATE, SEGMENT = "1995-03-15", "BUILDING"


@output_cardinality(1)
def customer_key(c: dict) -> tuple:
    return (c["c_custkey"],)


@output_cardinality(1)
def order_fields(o: dict) -> tuple:
    return (o["o_orderkey"], o["o_custkey"], o["o_orderdate"], o["o_shippriority"])


@output_cardinality(1)
def line_revenue(li: dict) -> tuple:
    return (li["l_orderkey"], li["l_extendedprice"] * (1 - li["l_discount"]))


@constant_fields(0, 1, 2, 3)
def keep_order(order: tuple, customer: tuple) -> tuple:
    """Orders of a customer of the segment, unchanged."""
    return order


@constant_fields(0)
def order_revenue(line: tuple, order: tuple) -> tuple:
    """(l_orderkey, o_orderdate, o_shippriority, revenue of the line)."""
    return (line[0], order[2], order[3], line[1])


def q3(env: ExecutionEnvironment, tpch_dir: str, date: str = DATE, segment: str = SEGMENT):
    """Rows (l_orderkey, revenue, o_orderdate, o_shippriority) ordered by revenue desc, o_orderdate."""
    customers = env.read_jsonl(f"{tpch_dir}/customer.jsonl").filter(
        lambda c: c["c_mktsegment"] == segment).map(customer_key).named("building customers")
    orders = env.read_jsonl(f"{tpch_dir}/orders.jsonl").filter(
        lambda o: o["o_orderdate"] < date).map(order_fields).named("early orders")
    lines = env.read_jsonl(f"{tpch_dir}/lineitem.jsonl").filter(
        lambda li: li["l_shipdate"] > date).map(line_revenue).named("late lines")
    customer_orders = orders.join(customers, 1, 0, keep_order).named("orders of customers")
    revenue = lines.join(customer_orders, 0, 0, order_revenue).named("line revenue")
    per_order = revenue.group_by((0, 1, 2)).sum(3).named("revenue per order")
    rows = per_order.map(lambda r: (r[0], r[3], r[1], r[2])).named("select")
    return rows.sort_by((1, True), 2)


def program(tpch_dir: str = "tpch", output_path: str = "q3.jsonl",
            env: ExecutionEnvironment | None = None) -> ExecutionEnvironment:
    """Q3 over ``tpch_dir/{customer,orders,lineitem}.jsonl`` (scripts/make_tpch.py) written as JSON Lines
    [l_orderkey, revenue, o_orderdate, o_shippriority] to ``output_path``."""
    env = env or ExecutionEnvironment()
    q3(env, tpch_dir).write_jsonl(output_path)
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("tpch_dir", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--executor", choices=["inline", "process"], default="process")
    parser.add_argument("--parallelism", type=int, default=None)
    parser.add_argument("--stats", action="store_true")
    args = parser.parse_args(argv)
    env = program(str(args.tpch_dir), str(args.output), ExecutionEnvironment(args.executor, args.parallelism))
    result = env.execute()
    if args.stats:
        print(result.table(), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
