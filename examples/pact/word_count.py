"""Word count as a PACT program, the "hello world" of Stratosphere's Python binding: Map (split lines into
(word, 1)) -> Reduce with combiner (sum the counts per word) -> Sink (VLDB J. 2014, sec. 5.1).

    python examples/pact/word_count.py book.txt counts.csv --executor process --stats
    meteor explain examples/pact/word_count.py:program
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from pact_backend.api import ExecutionEnvironment

WORD = re.compile(r"[a-z0-9']+")


def tokenize(line: str):
    """(word, 1) for every lower-cased word of ``line``."""
    for word in WORD.findall(line.lower()):
        yield (word, 1)


def program(input_path: str | None = None, output_path: str = "word_counts.csv",
            env: ExecutionEnvironment | None = None) -> ExecutionEnvironment:
    """The word count program over the text file ``input_path`` (default: this file) writing CSV rows
    ``word,count`` to ``output_path``; returns the environment (run it with ``execute()``)."""
    env = env or ExecutionEnvironment()
    lines = env.read_text(input_path or __file__)
    counts = lines.flat_map(tokenize).group_by(0).sum(1).named("count words")
    counts.write_csv(output_path)
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("input", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--executor", choices=["inline", "process"], default="process")
    parser.add_argument("--parallelism", type=int, default=None)
    parser.add_argument("--stats", action="store_true", help="print records and seconds per contract")
    args = parser.parse_args(argv)
    env = program(str(args.input), str(args.output), ExecutionEnvironment(args.executor, args.parallelism))
    result = env.execute()
    if args.stats:
        print(result.table(), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
