"""Faults as an operator meets them, driven through ``python -m meteor run`` like a user: the main process or a
worker killed mid-run (SIGKILL, SIGTERM), a worker that keeps dying, and what a killed run leaves behind.

After every fault: no process of the run is left after 15 s (every process of its session is checked through
/proc), no temp file or run directory is left (TMPDIR is a directory of the test's own), the old output is
intact, and the run either finished with the right records or failed with one clear line.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pact_backend.runtime.temp_files import owner_tag

RECORDS = 600
UDF = '''
import os, time

def slow(x):
    open(os.path.join(os.environ["MARKER_DIR"], f"started-{os.getpid()}"), "w").close()
    time.sleep(0.01)
    return x

def fatal(x):
    if x == 7:
        os.kill(os.getpid(), 9)
    return x
'''
SCRIPT = """f = pyudf('fault_udf:{udf}');
$a = read from 'in.jsonl';
$b = transform $a into {{i: f($a.i)}};
write $b to 'out.jsonl';
"""
OLD_OUTPUT = '{"old": true}\n'


def start(tmp_path: Path, *options: str, udf: str = "slow") -> subprocess.Popen:
    """``meteor run`` of a script mapping RECORDS records through the UDF ``udf``, in its own session, with
    TMPDIR in ``tmp_path/tmp``; out.jsonl holds an old output."""
    (tmp_path / "fault_udf.py").write_text(UDF)
    (tmp_path / "in.jsonl").write_text("".join(f'{{"i": {i}}}\n' for i in range(RECORDS)))
    (tmp_path / "s.meteor").write_text(SCRIPT.format(udf=udf))
    (tmp_path / "out.jsonl").write_text(OLD_OUTPUT)
    (tmp_path / "markers").mkdir(exist_ok=True)
    (tmp_path / "tmp").mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "MARKER_DIR": str(tmp_path / "markers"),
           "TMPDIR": str(tmp_path / "tmp")}
    return subprocess.Popen([sys.executable, "-m", "meteor", "run", "-q", *options, "s.meteor"], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def wait_for_tasks(tmp_path: Path, process: subprocess.Popen) -> list[int]:
    """The pids of the processes that started running the UDF, once there is one."""
    deadline = time.monotonic() + 60
    while not any((tmp_path / "markers").iterdir()):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the script never started its tasks"
        time.sleep(0.05)
    return [int(p.name.split("-")[1]) for p in (tmp_path / "markers").iterdir()]


def stat_fields(pid: int) -> list[str] | None:
    """Fields 3.. of /proc/<pid>/stat (state, ppid, pgrp, session, ...), None when the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text[text.rindex(")") + 2:].split()


def session_members(session: int) -> list[int]:
    """Live (not zombie) processes of ``session``."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = stat_fields(int(entry.name))
            if fields is not None and fields[0] != "Z" and int(fields[3]) == session:
                members.append(int(entry.name))
    return members


def assert_no_processes_left(session: int, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while (left := session_members(session)) and time.monotonic() < deadline:
        time.sleep(0.1)
    if left:
        os.killpg(session, signal.SIGKILL)
    assert left == [], f"processes left after {within} s"


def assert_nothing_left(tmp_path: Path, output: str = OLD_OUTPUT) -> None:
    """No temp file next to the output, no run directory in TMPDIR, the output as given."""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fault_udf.py", "in.jsonl", "markers", "out.jsonl",
                                                         "s.meteor", "tmp"]
    assert list((tmp_path / "tmp").iterdir()) == []
    assert (tmp_path / "out.jsonl").read_text() == output


def expected_output() -> str:
    return "".join(json.dumps({"i": i}, separators=(",", ":")) + "\n" for i in range(RECORDS))


def test_sigkill_of_meteor_ends_its_workers_and_their_run_directory(tmp_path):
    process = start(tmp_path, "--parallelism", "2")
    workers = wait_for_tasks(tmp_path, process)
    assert all(stat_fields(w) is not None and int(stat_fields(w)[1]) == process.pid for w in workers)
    process.kill()
    process.wait()
    assert_no_processes_left(process.pid)
    assert_nothing_left(tmp_path)


@pytest.mark.parametrize("executor", ["process", "inline"])
def test_sigterm_of_meteor_stops_with_one_line(tmp_path, executor):
    process = start(tmp_path, "--executor", executor, "--parallelism", "2")
    wait_for_tasks(tmp_path, process)
    process.terminate()
    _, err = process.communicate(timeout=30)
    assert (process.returncode, err) == (143, "meteor: terminated\n")
    assert_no_processes_left(process.pid)
    assert_nothing_left(tmp_path)


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_worker_is_replaced_and_its_task_run_again(tmp_path, how):
    process = start(tmp_path, "--parallelism", "2")
    os.kill(wait_for_tasks(tmp_path, process)[0], how)
    _, err = process.communicate(timeout=120)
    assert (process.returncode, err) == (0, "")
    assert_no_processes_left(process.pid)
    assert_nothing_left(tmp_path, expected_output())


def test_a_worker_that_keeps_dying_fails_the_run_with_one_line(tmp_path):
    process = start(tmp_path, "--parallelism", "2", udf="fatal")
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: a worker process was killed by SIGKILL (the system may have run out of memory) "
                          "while running stage 0 (")
    assert err.rstrip().endswith("4 times; giving up")
    assert_no_processes_left(process.pid)
    assert_nothing_left(tmp_path)


def test_a_later_run_removes_what_gone_processes_left(tmp_path):
    """Run directories and temp outputs named after a process that is gone are removed by the next run that
    makes one in the same place; those of a live process, of another host or without an owner stay."""
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead, me = f"{int(gone.stdout)}-1-", owner_tag()
    host = me.rsplit("-", 1)[1]
    (tmp_path / "tmp").mkdir()
    stale = tmp_path / "tmp" / f"meteor-run-{dead}{host}-x1"
    (stale / "sub").mkdir(parents=True)
    (stale / "sub" / "s0p0o0.blk").write_bytes(b"left by a killed run")
    kept = [tmp_path / "tmp" / f"meteor-run-{me}-x2",               # this test's own process: alive
            tmp_path / "tmp" / f"meteor-run-{dead}00000000-x3",     # another host: not ours to judge
            tmp_path / "tmp" / "meteor-run-abc"]                    # no owner in the name
    for directory in kept:
        directory.mkdir()
    stale_output = tmp_path / f".out.jsonl.{dead}{host}.k2j4.tmp"
    live_output = tmp_path / f".out.jsonl.{me}.k2j5.tmp"
    stale_output.write_text('{"i": 0}\n{"i"')
    live_output.write_text('{"i": 0}\n')
    process = start(tmp_path, "--parallelism", "2")
    _, err = process.communicate(timeout=120)
    assert (process.returncode, err) == (0, "")
    assert sorted(p.name for p in (tmp_path / "tmp").iterdir()) == sorted(d.name for d in kept)
    assert not stale_output.exists() and live_output.exists()
    assert (tmp_path / "out.jsonl").read_text() == expected_output()


def test_a_dask_cluster_serves_jobs_from_deleted_working_directories(tmp_path, dask_cluster):
    """Two jobs, each from its own working directory with its own UDF module of the same name, each directory
    deleted after its job: the long-lived workers run both with the right module and keep their own state."""
    from distributed import Client

    with Client(dask_cluster.scheduler_address, set_as_default=False) as client:
        before = client.run(os.getcwd)
        for step in (10, 20):
            job = tmp_path / f"job{step}"
            job.mkdir()
            (job / "shift_udf.py").write_text(f"def shift(x):\n    return x + {step}\n")
            (job / "in.jsonl").write_text("".join(f'{{"i": {i}}}\n' for i in range(50)))
            (job / "s.meteor").write_text("f = pyudf('shift_udf:shift');\n$a = read from 'in.jsonl';\n"
                                          "$b = transform $a into {i: f($a.i)};\nwrite $b to 'out.jsonl';\n")
            done = subprocess.run([sys.executable, "-m", "meteor", "run", "-q", "--executor", "dask", "--address",
                                   dask_cluster.scheduler_address, "s.meteor"], cwd=job, capture_output=True,
                                  text=True, timeout=300, env={**os.environ, "PYTHONPATH": "."})
            assert (done.returncode, done.stderr) == (0, "")
            assert [json.loads(line)["i"] for line in (job / "out.jsonl").read_text().splitlines()] == \
                [i + step for i in range(50)]
            shutil.rmtree(job)
        assert client.run(os.getcwd) == before
        assert not any(str(tmp_path) in entry for path in client.run(lambda: sys.path).values() for entry in path)


def test_a_task_adds_the_clients_module_path_only_while_it_runs(tmp_path, monkeypatch):
    from pact_backend.executors.modules import client_path, task_modules

    (tmp_path / "only_here_udf.py").write_text("VALUE = 42\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", sys.path + [""])
    shipped = client_path()
    assert str(tmp_path) in shipped and "" not in shipped
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != ""])
    before = list(sys.path)
    with task_modules(shipped):
        import only_here_udf
        assert only_here_udf.VALUE == 42
    assert sys.path == before and "only_here_udf" not in sys.modules


FULL_DISK = '''
import builtins, errno, os
from pact_backend.runtime import blocks

class FullDevice:
    """A file on a device that holds 100 kB: a write past that writes what fits and fails with ENOSPC."""

    def __init__(self, file):
        self.file, self.written = file, 0

    def write(self, data):
        room = 100_000 - self.written
        if len(data) > room:
            self.file.write(data[:room])
            self.file.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.written += len(data)
        return self.file.write(data)

    def close(self):
        self.file.close()

def spill_on_a_full_device(path, mode="r", *args, **kwargs):
    file = builtins.open(path, mode, *args, **kwargs)
    return FullDevice(file) if "w" in mode and "-run-" in os.path.basename(path) else file

blocks.open = spill_on_a_full_device
'''


def sort_run(tmp_path: Path, env: dict[str, str], preexec=None) -> subprocess.CompletedProcess:
    """``meteor run --memory 2MB`` of a global sort of 60k records (it spills), TMPDIR in ``tmp_path/tmp``, in
    its own session; afterwards no process of that session is left."""
    (tmp_path / "tmp").mkdir()
    (tmp_path / "in.jsonl").write_text("".join(f'{{"k": {(i * 7919) % 60000}, "pad": "{"x" * 60}"}}\n'
                                               for i in range(60000)))
    (tmp_path / "s.meteor").write_text("$r = read from 'in.jsonl';\n$s = sort $r on $r.k;\n"
                                       "write $s to 'out.jsonl';\n")
    (tmp_path / "out.jsonl").write_text(OLD_OUTPUT)
    args = [sys.executable, "-m", "meteor", "run", "-q", "--memory", "2MB", "--parallelism", "2", "s.meteor"]
    process = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "TMPDIR": str(tmp_path / "tmp"), **env}, preexec_fn=preexec,
                               start_new_session=True)
    out, err = process.communicate(timeout=300)
    assert_no_processes_left(process.pid)
    return subprocess.CompletedProcess(args, process.returncode, out, err)


def test_a_full_disk_while_spilling_fails_with_one_line_and_leaves_nothing(tmp_path):
    """Simulated: a ``sitecustomize`` module (imported by meteor and inherited by its forked workers) puts the
    spill files of sorts on a device that fills after 100 kB, failing the write(2) as the kernel would, with
    ENOSPC and part of the data written. (A small tmpfs, the real thing, needs privileges tests lack.)"""
    (tmp_path / "inject").mkdir()
    (tmp_path / "inject" / "sitecustomize.py").write_text(FULL_DISK)
    done = sort_run(tmp_path, {"PYTHONPATH": str(tmp_path / "inject")})
    assert done.returncode == 1 and len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith(f"error: no space left on device while writing spill file {tmp_path / 'tmp'}/")
    assert done.stderr.rstrip().endswith(f"(free space on the disk of {tmp_path / 'tmp'} or point TMPDIR at a "
                                         "larger one; a larger --memory spills less)")
    assert list((tmp_path / "tmp").iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "inject", "out.jsonl", "s.meteor", "tmp"]
    assert (tmp_path / "out.jsonl").read_text() == OLD_OUTPUT


def test_a_file_size_limit_fails_with_one_line_and_leaves_nothing(tmp_path):
    """Real: ``ulimit -f`` (RLIMIT_FSIZE) of 1 MB; the kernel fails the first write past it with EFBIG (Python
    ignores SIGXFSZ), here on the blocks the source stage ships to the sort."""
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))

    done = sort_run(tmp_path, {}, limit)
    assert done.returncode == 1 and len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith(f"error: file too large while writing exchanged blocks {tmp_path / 'tmp'}/")
    assert list((tmp_path / "tmp").iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl", "s.meteor", "tmp"]
    assert (tmp_path / "out.jsonl").read_text() == OLD_OUTPUT
