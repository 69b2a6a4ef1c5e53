"""examples/custom_package installs into a fresh virtual environment and works there through its entry point.

One slow test (about half a minute): ``python -m venv``, ``pip install`` of this checkout (the repository root
next to this tests directory), ``pip install --no-deps`` of the example package, then ``meteor run`` of the
example's demo script with ``using example;``, ``meteor packages`` and ``meteor help stamp`` in that environment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "custom_package"


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done


def test_example_package_in_a_fresh_virtual_environment(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("METEOR_PACKAGE_PATH", "PYTHONPATH", "VIRTUAL_ENV")}
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    pip = [str(bin_dir / "python"), "-m", "pip", "install", "--quiet"]
    _run([*pip, str(ROOT)], tmp_path, env)
    _run([*pip, "--no-deps", str(EXAMPLE)], tmp_path, env)

    demo = shutil.copytree(EXAMPLE / "demo", tmp_path / "demo")
    meteor = str(bin_dir / "meteor")
    _run([meteor, "run", "stamp.meteor"], demo, env)
    assert json.loads((demo / "stamped.json").read_text()) == [
        {"name": "ann", "city": "berlin", "stamp": "ANN!"},
        {"name": "bob", "city": "paris", "stamp": "BOB!"},
    ]

    listing = subprocess.run([meteor, "packages"], cwd=demo, env=env, capture_output=True, text=True, timeout=120)
    assert "example: an example package" in listing.stdout
    assert "  operators: stamp" in listing.stdout and "shout" in listing.stdout
    assert "example" not in listing.stderr, listing.stderr
    assert "stamp $in with <expr>" in _run([meteor, "help", "stamp"], demo, env).stdout
