"""Ctrl-C during ``meteor run`` (a subprocess, as from a terminal): status 130, one line, no processes, outputs
or temp files left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

UDF = '''
import os, time

def slow(x):
    open(os.path.join(os.environ["MARKER_DIR"], f"started-{os.getpid()}"), "w").close()
    time.sleep(0.05)
    return x
'''
SCRIPT = """slow = pyudf('slow_udf:slow');
$a = read from 'in.jsonl';
$b = transform $a into {i: slow($a.i)};
write $b to 'out.jsonl';
"""


def start(tmp_path: Path, *options: str) -> subprocess.Popen:
    (tmp_path / "slow_udf.py").write_text(UDF)
    (tmp_path / "in.jsonl").write_text("".join(f'{{"i": {i}}}\n' for i in range(3000)))
    (tmp_path / "s.meteor").write_text(SCRIPT)
    (tmp_path / "markers").mkdir()
    (tmp_path / "tmp").mkdir()
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "MARKER_DIR": str(tmp_path / "markers"),
           "TMPDIR": str(tmp_path / "tmp")}
    return subprocess.Popen([sys.executable, "-m", "meteor", "run", "-q", *options, "s.meteor"], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def wait_for_tasks(tmp_path: Path, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while not any((tmp_path / "markers").iterdir()):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the script never started its tasks"
        time.sleep(0.05)


def group_members(group: int) -> list[str]:
    listing = subprocess.run(["ps", "-o", "pid=,stat=", "-g", str(group)], capture_output=True, text=True)
    return [line for line in listing.stdout.splitlines() if line.split()[1:2] != ["Z"]]


def assert_interrupted(tmp_path: Path, process: subprocess.Popen) -> None:
    try:
        _, err = process.communicate(timeout=30)
    finally:
        leftover = group_members(process.pid)
        if leftover:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, err
    assert err == "meteor: interrupted\n"
    assert leftover == []
    assert not (tmp_path / "out.jsonl").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "markers", "s.meteor", "slow_udf.py", "tmp"]
    assert list((tmp_path / "tmp").iterdir()) == []  # the run directory is gone


@pytest.mark.parametrize("executor", ["process", "inline"])
def test_ctrl_c_at_the_terminal_stops_the_run_with_status_130(tmp_path, executor):
    process = start(tmp_path, "--executor", executor)
    wait_for_tasks(tmp_path, process)
    os.killpg(process.pid, signal.SIGINT)  # a terminal sends SIGINT to the whole foreground process group
    assert_interrupted(tmp_path, process)


@pytest.mark.parametrize("executor", ["process", "inline"])
def test_sigint_to_the_main_process_alone_stops_workers_too(tmp_path, executor):
    process = start(tmp_path, "--executor", executor)
    wait_for_tasks(tmp_path, process)
    os.kill(process.pid, signal.SIGINT)
    assert_interrupted(tmp_path, process)


def test_ctrl_c_while_starting_up_is_one_line(tmp_path):
    process = start(tmp_path)
    time.sleep(0.3)  # importing modules, reading the script
    os.killpg(process.pid, signal.SIGINT)
    assert_interrupted(tmp_path, process)


@pytest.mark.parametrize("module, runner, argv", [
    ("meteor.cli", "invoke", ["meteor", "run", "--param", "a=1", "s.meteor"]),  # a command line for click
    ("meteor.run_command", "run_quick", ["meteor", "run", "s.meteor"]),  # one meteor.run_command runs itself
])
def test_a_ctrl_c_the_import_system_swallowed_still_ends_the_run(tmp_path, module, runner, argv):
    """CPython reports an exception raised in a callback of the import system as "Exception ignored in ..." and
    goes on: a Ctrl-C landing there must neither be lost nor print that report. Simulated by delivering SIGINT
    from a weakref callback (where the interpreter swallows it) while main() imports the module that runs the
    command line (click's, or meteor.run_command's for a plain ``meteor run SCRIPT``)."""
    code = f"""if True:
        import os, signal, sys, types, weakref
        import meteor.entry as entry
        class Anchor: pass
        held = [Anchor()]
        keep = weakref.ref(held[0], lambda ref: os.kill(os.getpid(), signal.SIGINT))
        def attribute(name):  # `from {module} import ...` asks for the names here
            held.clear()  # the callback's KeyboardInterrupt is swallowed: "Exception ignored in ..."
            if name == "quick_run":
                return lambda args: (lambda: None) if "--param" not in args else None
            return lambda *args: None
        fake = types.ModuleType("{module}")
        fake.__getattr__ = attribute
        sys.modules["{module}"] = fake
        def runner(*args):
            raise AssertionError("the run went on after Ctrl-C")
        entry.{runner} = runner
        sys.argv = {argv!r}
        entry.main()
    """
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 130, done.stderr
    assert done.stderr == "meteor: interrupted\n"
