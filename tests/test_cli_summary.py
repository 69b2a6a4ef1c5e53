"""What ``meteor run`` tells a user after a run (``python -m meteor`` in a subprocess): one line per output with
its records, path and seconds unless ``--quiet``, and ``--stats`` totals that say what they measure."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = """$a = read from 'in.json';
$big = filter $a where $a.x > 2;
write $big to 'out/big.json';
write $a to 'all.jsonl';
"""


def meteor_run(cwd: Path, *options: str) -> subprocess.CompletedProcess:
    (cwd / "in.json").write_text(json.dumps([{"x": x} for x in range(6)]))
    (cwd / "out").mkdir(exist_ok=True)
    (cwd / "s.meteor").write_text(SCRIPT)
    done = subprocess.run([sys.executable, "-m", "meteor", "run", "s.meteor", *options], cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # stdout stays free for data
    return done


def test_one_summary_line_per_output_with_records_path_and_seconds(tmp_path):
    lines = meteor_run(tmp_path).stderr.splitlines()
    assert len(lines) == 2, lines
    big, everything = (re.fullmatch(r"wrote (\d+) records? to (\S+) \((\d+\.\d{3}) s\)", line) for line in lines)
    assert big.group(1, 2) == ("3", "out/big.json") and everything.group(1, 2) == ("6", "all.jsonl")
    assert json.loads((tmp_path / "out" / "big.json").read_text()) == [{"x": 3}, {"x": 4}, {"x": 5}]
    assert 0 < float(big.group(3)) < 60


def test_quiet_prints_nothing(tmp_path):
    assert meteor_run(tmp_path, "--quiet").stderr == ""


def test_stats_label_the_run_and_the_whole_command(tmp_path):
    lines = meteor_run(tmp_path, "--stats", "--executor", "inline").stderr.splitlines()
    run = next(line for line in lines if line.lstrip().startswith("run "))
    assert re.fullmatch(r"\s+run\s+wall clock of the whole run\s+(\d+\.\d{3})", run)
    last = re.fullmatch(r"meteor run in all \(compile, plan and run; wall clock\): (\d+\.\d{3}) s", lines[-1])
    assert last, lines[-1]
    assert float(last.group(1)) >= float(run.split()[-1])  # the command includes the run
    assert not any(re.match(r"\s*total\b", line) for line in lines)  # no unlabelled total any more
