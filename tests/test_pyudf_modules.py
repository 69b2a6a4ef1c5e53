"""pyudf('module:function') finds the module next to the script that names it, from any working directory, on
every executor (worker processes import it too)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import meteor

UDF = '''
import os

def tag(text):
    """The text marked, with the process that ran it."""
    return {"t": text + "!", "parent": os.getppid()}
'''


def meteor_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "meteor.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_module_next_to_the_script_and_next_to_an_included_file(tmp_path):
    scripts, lib, elsewhere = tmp_path / "scripts", tmp_path / "lib", tmp_path / "elsewhere"
    for directory in (scripts, lib, elsewhere):
        directory.mkdir()
    (scripts / "tagging.py").write_text(UDF)
    (lib / "shouting.py").write_text("def shout(s):\n    return s.upper()\n")
    (lib / "shout.meteor").write_text("shout = pyudf('shouting:shout');\n")
    (scripts / "q.meteor").write_text(
        "tag = pyudf('tagging:tag');\ninclude '../lib/shout.meteor';\n"
        f"$d = {json.dumps([{'w': f'w{i}'} for i in range(400)])};\n"
        "$t = transform $d into {a: tag($d.w), b: shout($d.w)};\nwrite $t to 'out.json';\n")
    done = meteor_cli("run", str(scripts / "q.meteor"), "--executor", "process", "--parallelism", "2",
                      cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    records = json.loads((elsewhere / "out.json").read_text())
    assert [r["a"]["t"] for r in records] == [f"w{i}!" for i in range(400)]
    assert [r["b"] for r in records] == [f"W{i}" for i in range(400)]
    # worker processes (children of meteor, not of this test) imported the module from the script's directory;
    # which of the two runs the tasks is the pool's business (a worker slow to start may get none)
    assert {r["a"]["parent"] for r in records}.isdisjoint({os.getpid()})


def test_a_module_found_nowhere_is_an_error_at_the_pyudf(tmp_path):
    (tmp_path / "q.meteor").write_text("$d = [1];\nf = pyudf('nosuchmodule:f');\nwrite $d to 'o.json';\n")
    done = meteor_cli("run", "q.meteor", cwd=tmp_path)
    assert done.returncode == 1
    assert "q.meteor:2:5: pyudf cannot import module 'nosuchmodule'" in done.stderr


def test_query_finds_modules_in_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "tagging_cwd.py").write_text(UDF)
    monkeypatch.chdir(tmp_path)
    result = meteor.query("tag = pyudf('tagging_cwd:tag');\n$t = transform $d into tag($d.w);\n$t;",
                          d=[{"w": "x"}])
    assert [r["t"] for r in result.records()] == ["x!"]
