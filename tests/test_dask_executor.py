"""The Dask executor on a real cluster (a scheduler and 2 worker processes on 127.0.0.1): the same records and
statistics as the inline executor, TPC-H answers equal to DuckDB's, user errors as themselves with the failing
operator and data line, a worker killed in the middle of a query, part-file outputs, and the commands of
docs/distributed.md typed as a new user would (scheduler and worker started with ``dask scheduler`` /
``dask worker``, then Q15 run with ``--address``)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pact_backend import contracts as pact
from pact_backend import physical as phys
from pact_backend.executors.dask import DaskExecutor
from pact_backend.executors.inline import InlineExecutor
from test_process_executor import Collect, Numbers, UserError, bag, counts, fail_on_1234, plan_of_every_contract
from test_tpch import EXAMPLES, ORDER_KEYS, QUERIES, assert_same_multiset, assert_same_order, meteor_answer
from test_tpch import run_query, sql_records
from agreement import assert_ran_as_explained
from test_tpch import duck, tpch_dir  # noqa: F401 - fixtures shared with the TPC-H oracle tests

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def executor(dask_cluster) -> DaskExecutor:
    return DaskExecutor(dask_cluster.scheduler_address)


def test_every_contract_agrees_with_inline(executor):
    plan = plan_of_every_contract()
    inline_stats = InlineExecutor().run(plan)
    expected = [bag(s.output_format.records) for s in plan.sinks]
    stats = executor.run(plan)
    assert [bag(s.output_format.records) for s in plan.sinks] == expected
    assert counts(stats) == counts(inline_stats)
    assert executor.last_run.workers == 2 and executor.parallelism == 2


def test_broadcast_range_and_sort_strategies_give_the_same_records(executor):
    plan = plan_of_every_contract()
    physical = phys.default_physical(plan, 2)
    for c in plan.contracts():
        node = physical.node(c)
        if isinstance(c, pact.Match):
            node.ship, node.local = [phys.FORWARD, phys.BROADCAST], phys.HYBRID_HASH_BUILD_FIRST
        elif isinstance(c, pact.Reduce):
            node.local = phys.SORT_GROUP
        elif isinstance(c, pact.CoGroup):
            node.ship = [phys.RANGE_PARTITION, phys.RANGE_PARTITION]
        elif isinstance(c, pact.Cross):
            node.ship = [phys.BROADCAST, phys.FORWARD]
    InlineExecutor().run(plan)
    expected = [bag(s.output_format.records) for s in plan.sinks]
    executor.run(plan, physical)
    assert [bag(s.output_format.records) for s in plan.sinks] == expected


def test_a_sorted_input_keeps_its_order(executor):
    source = pact.Source("numbers", input_format=Numbers(3000))
    ordered = pact.Reduce("sort", [source], udf=lambda k, g: g, group_order=(lambda r: -r["i"], False), dop=1)
    sink = pact.Sink("out", [ordered], output_format=Collect(), ordered=True)
    executor.run(pact.PactPlan([sink]))
    assert [r["i"] for r in sink.output_format.records] == list(range(2999, -1, -1))


def test_a_user_error_arrives_as_itself_naming_the_operator(executor):
    source = pact.Source("numbers", input_format=Numbers(5000))
    good = pact.Sink("good", [source], output_format=Collect())
    bad = pact.Sink("bad", [pact.Map("check", [source], udf=fail_on_1234)], output_format=Collect())
    with pytest.raises(UserError) as info:
        executor.run(pact.PactPlan([good, bad]))
    assert str(info.value) == "bad record" and info.value.line == 1234
    assert any("Map(check)" in note and "partition" in note for note in info.value.__notes__)
    assert good.output_format.opened == 0 and bad.output_format.opened == 0


def test_bad_data_names_file_line_and_operator_on_the_command_line(dask_cluster, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from meteor.cli import main

    monkeypatch.chdir(tmp_path)
    lines = [json.dumps({"a": i}) for i in range(4000)]
    lines[3500] = "{not json"
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "s.meteor").write_text("$x = read from 'in.jsonl';\n$y = filter $x where $x.a > 1;\n"
                                       "write $y to 'out.json';\n")
    result = CliRunner().invoke(main, ["run", "s.meteor", "--executor", "dask", "--address",
                                       dask_cluster.scheduler_address])
    assert result.exit_code == 1
    assert f"error: {tmp_path / 'in.jsonl'}:3501:" in result.output
    assert re.search(r"in stage \d+ \(Source\(\$x\).*partition \d of 2, reading .*in.jsonl bytes", result.output)
    assert "Traceback" not in result.output and not (tmp_path / "out.json").exists()


def test_an_unreachable_scheduler_is_a_user_error(monkeypatch):
    from meteor.api import make_executor
    from pact_backend.executors import dask as dask_executor
    from sopremo.errors import MeteorError

    monkeypatch.setattr(dask_executor, "CONNECT_TIMEOUT", "1s")

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once the socket is closed
    with pytest.raises(MeteorError, match=f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}"):
        make_executor("dask", address=f"tcp://127.0.0.1:{port}")


def test_a_directory_path_writes_part_files(dask_cluster, tmp_path, monkeypatch):
    from meteor.api import run_file

    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.jsonl").write_text("".join(json.dumps({"k": i % 7, "v": i}) + "\n" for i in range(3000)))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "part-00009.json").write_text("[]")  # a part of an earlier run: replaced
    (tmp_path / "s.meteor").write_text("$x = read from 'in.jsonl';\n"
                                       "$g = group $x by $x.k into {k: $x[0].k, n: count($x)};\n"
                                       "write $g to 'out/';\n"
                                       "write jsonl $x to 'copy/';\n")
    (tmp_path / "copy").mkdir()
    run_file("s.meteor", executor="dask")
    assert sorted(os.listdir(tmp_path / "out")) == ["part-00000.json", "part-00001.json"]
    groups = [r for p in sorted((tmp_path / "out").iterdir()) for r in json.loads(p.read_text())]
    assert sorted((r["k"], r["n"]) for r in groups) == [(k, 429 - (k > 3)) for k in range(7)]
    assert sorted(os.listdir(tmp_path / "copy")) == ["part-00000.jsonl", "part-00001.jsonl"]
    (tmp_path / "back.meteor").write_text("$c = read jsonl from 'copy/';\nwrite $c to 'back.json';\n")
    run_file("back.meteor", executor="inline")
    assert sorted(r["v"] for r in json.loads((tmp_path / "back.json").read_text())) == list(range(3000))


def test_workers_read_fsspec_urls(dask_cluster, tmp_path, monkeypatch):
    from meteor.api import run_file

    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.jsonl").write_text("".join(json.dumps({"v": i}) + "\n" for i in range(500)))
    (tmp_path / "s.meteor").write_text(f"$x = read from 'local://{tmp_path}/in.jsonl';\n"
                                       f"$y = filter $x where $x.v < 250;\nwrite $y to 'out.json';\n")
    run_file("s.meteor", executor="dask")
    assert sorted(r["v"] for r in json.loads((tmp_path / "out.json").read_text())) == list(range(250))


@pytest.mark.parametrize("query", QUERIES)
def test_tpch_on_dask_matches_duckdb(dask_cluster, tpch_dir, duck, query, monkeypatch):  # noqa: F811
    """Every TPC-H query on the cluster writes DuckDB's answer (inline and process: tests/test_tpch.py)."""
    monkeypatch.chdir(tpch_dir)
    got = run_query(query, tpch_dir, "dask")
    expected = meteor_answer(sql_records(duck, query))
    assert_same_multiset(got, expected)
    assert_same_order(got, expected, ORDER_KEYS[query])


@pytest.mark.parametrize("query", ["q1", "q3", "q15"])
def test_dask_runs_the_stages_explain_shows_and_ships_blocks(dask_cluster, tpch_dir, query, monkeypatch):  # noqa: F811
    """The physical plan explain prints for Dask runs as the same fused and chained stages on the cluster as
    explain says and as the process executor runs it; between Dask tasks records travel in blocks of many
    records (issue "Speed": no per-record pickling), counted by the tasks themselves."""
    from meteor.api import compile_file
    from pact_backend.executors.process import ProcessExecutor
    from sopremo import engine

    monkeypatch.chdir(tpch_dir)
    script = EXAMPLES / f"{query}.meteor"
    executor = DaskExecutor(dask_cluster.scheduler_address)
    compilation = engine.compile_plan(compile_file(script), dop=executor.parallelism)
    physical = engine.plan(compilation, executor)
    ran = executor.run(compilation.program, physical)
    assert_ran_as_explained(str(script), "dask", ran)
    assert ran.executed == ProcessExecutor(parallelism=2).run(compilation.program, physical).executed
    if query != "q3":  # Q1 and Q15 scan lineitem fused into the combiner of their grouping
        assert any(entry["fused"] for entry in ran.executed.values())
    report = executor.last_run
    assert report.blocks and report.block_bytes and report.block_records
    # a few blocks per bucket of a task's output, more only past thousands of records: never one per record
    assert report.blocks <= 4 * report.tasks + report.block_records // 1000, report
    if query == "q3":  # joins and a grouping that ship many records between tasks
        assert report.block_records > 20 * report.blocks, report


def test_a_query_survives_a_killed_worker(dask_cluster, tpch_dir, duck, monkeypatch):  # noqa: F811
    """SIGKILL one worker process as soon as the first task of Q10 finished: Dask reruns what it held."""
    from meteor.api import compile_file, plan_pact
    from pact_backend.optimizer import optimize

    monkeypatch.chdir(tpch_dir)
    executor = DaskExecutor(dask_cluster.scheduler_address)
    client = executor.client
    pids = client.run(os.getpid)
    killed = []

    def kill_one(done: int, total: int) -> None:
        if not killed:
            victim = sorted(pids)[0]
            os.kill(pids[victim], signal.SIGKILL)
            killed.append((victim, done, total))

    executor.on_task_done = kill_one
    program = plan_pact(compile_file(EXAMPLES / "q10.meteor"))
    executor.run(program, optimize(program, 2, memory=executor.memory_bytes // 2))
    assert killed and killed[0][1] < killed[0][2]  # killed while tasks were still to come
    got = json.loads((tpch_dir / "q10.json").read_text())
    expected = sql_records(duck, "q10")
    assert_same_multiset(got, expected)
    assert_same_order(got, expected, ORDER_KEYS["q10"])
    client.wait_for_workers(2, timeout=30)  # the nanny restarted the killed worker for the next tests
    assert pids[killed[0][0]] not in client.run(os.getpid).values()


# ---- the commands of docs/distributed.md, as a new user types them -----------------------------------------------


def doc_commands() -> tuple[list[str], str]:
    """The cluster commands (``dask scheduler`` / ``dask worker`` lines of the norun blocks) and the first
    ``meteor run ... --executor dask`` command of docs/distributed.md."""
    text = (ROOT / "docs" / "distributed.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```bash( norun)?\n(.*?)^```", text, re.S | re.M)
    lines = [(norun, line.strip()) for norun, body in blocks for line in body.splitlines()]
    cluster = [line for norun, line in lines if norun and re.match(r"dask (scheduler|worker)\b", line)]
    meteor = next(line for norun, line in lines if not norun and "--executor dask" in line)
    return cluster, meteor


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_documented_cluster_runs_q15(tpch_dir, tmp_path, monkeypatch):  # noqa: F811
    """Start the scheduler and a worker with the documented commands (HOST = 127.0.0.1, a free port instead of
    8786), run the documented Q15 command with --address, and compare with the process executor."""
    from distributed import Client

    from meteor.api import run_file

    cluster, meteor = doc_commands()
    assert [c.split()[1] for c in cluster] == ["scheduler", "worker"], cluster
    port, env = free_port(), {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("METEOR_DASK_ADDRESS", None)
    shutil.copytree(tpch_dir / "tpch", tmp_path / "tpch")
    shutil.copytree(EXAMPLES, tmp_path / "examples" / "tpch")
    servers = []
    try:
        for command in cluster:
            command = command.split("#")[0].replace("HOST", "127.0.0.1").replace("8786", str(port))
            servers.append(subprocess.Popen(command, shell=True, cwd=tmp_path, env=env, start_new_session=True,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            time.sleep(0.5)
        with Client(f"tcp://127.0.0.1:{port}", timeout=60) as probe:  # a loaded machine starts them slowly
            probe.wait_for_workers(2, timeout=60)
        done = subprocess.run(f"{meteor} --address tcp://127.0.0.1:{port}", shell=True, cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)  # our own process groups (start_new_session above)
            server.wait(timeout=30)
    got = json.loads((tmp_path / "q15.json").read_text())
    (tmp_path / "q15.json").rename(tmp_path / "q15.dask.json")
    monkeypatch.chdir(tmp_path)
    run_file(tmp_path / "examples" / "tpch" / "q15.meteor", executor="process")
    assert bag(got) == bag(json.loads((tmp_path / "q15.json").read_text()))


class _StubScheduler:
    address = "tcp://10.0.0.1:8786"


class _StubClient:
    """A client of a cluster whose workers are restarting: none now, ``joining`` after a wait (or never)."""

    def __init__(self, joining: dict):
        self.scheduler, self.joining, self.known = _StubScheduler(), joining, {}

    def scheduler_info(self, n_workers: int = 5) -> dict:
        return {"workers": dict(self.known)}

    def wait_for_workers(self, n: int, timeout: str) -> None:
        if not self.joining:
            raise TimeoutError(f"no workers within {timeout}")
        self.known = self.joining


def test_a_run_waits_for_a_worker_when_the_cluster_has_none_at_the_moment():
    """Before, a run that found no worker (a cluster restarting its workers) failed with ZeroDivisionError while
    placing its tasks; now it waits for one, or says in one line that none came."""
    from pact_backend.executors.dask import DaskExecutor
    from pact_backend.executors.registry import ExecutorError

    class Stubbed(DaskExecutor):
        stub: _StubClient

        @property
        def client(self):
            return self.stub

    executor = Stubbed(address="tcp://10.0.0.1:8786")
    executor.stub = _StubClient({"tcp://10.0.0.2:4000": {"nthreads": 1}})
    assert executor.live_workers() == ["tcp://10.0.0.2:4000"]
    executor.stub = _StubClient({})
    with pytest.raises(ExecutorError, match=r"^the Dask scheduler at tcp://10.0.0.1:8786 has no workers"):
        executor.live_workers()


def test_a_restarting_worker_does_not_change_the_plan():
    """The default DOP and memory budget are the largest cluster seen at that scheduler: a worker missing for
    a moment (a nanny restarting it) between `meteor explain` and the run must not make them plan differently;
    a worker that joins counts at once."""
    from pact_backend.executors.dask import DaskExecutor

    class Stubbed(DaskExecutor):
        stub: _StubClient

        @property
        def client(self):
            return self.stub

    two = {"tcp://10.0.0.2:4000": {"nthreads": 1, "memory_limit": 2**30},
           "tcp://10.0.0.3:4000": {"nthreads": 1, "memory_limit": 2**30}}
    executor = Stubbed(address="tcp://10.0.0.9:8786")
    executor.stub = _StubClient({})
    executor.stub.scheduler = type("Scheduler", (), {"address": "tcp://10.0.0.9:8786"})()  # its own history
    executor.stub.known = two
    planned = (executor.parallelism, executor.memory_per_instance)
    assert planned[0] == 2
    executor.stub.known = dict(list(two.items())[:1])  # one worker restarting
    assert (executor.parallelism, executor.memory_per_instance) == planned
    executor.stub.known = {**two, "tcp://10.0.0.4:4000": {"nthreads": 2, "memory_limit": 2**30}}
    assert executor.parallelism == 4


LISTENERS = r'''
import os, sys
from pact_backend.executors.dask import DaskExecutor

def tree(pid):
    found, stack = [], [pid]
    while stack:
        parent = stack.pop()
        found.append(parent)
        for task in os.listdir(f"/proc/{parent}/task"):
            with open(f"/proc/{parent}/task/{task}/children") as f:
                stack += map(int, f.read().split())
    return found

if __name__ == "__main__":
    assert DaskExecutor().workers()  # starts meteor's local cluster
    inodes = set()
    for pid in tree(os.getpid()):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in open(table).read().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                print(fields[1].split(":")[0])
'''


def test_the_local_cluster_listens_on_the_loopback_interface_only(tmp_path):
    """Scheduler, workers, nannies and their HTTP servers (status pages, metrics) of the local cluster that
    ``--executor dask`` starts: every listening socket is on 127.0.0.1 (the HTTP servers were on 0.0.0.0)."""
    (tmp_path / "listeners.py").write_text(LISTENERS)
    done = subprocess.run([sys.executable, "listeners.py"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    addresses = done.stdout.split()
    assert len(addresses) >= 5  # scheduler, its HTTP server, and per worker at least its own and its HTTP's
    assert set(addresses) == {"0100007F"}, addresses  # 127.0.0.1, as /proc/net/tcp writes it


QUIET = r'''
import json
import dask
from pact_backend.executors.dask import QUIET_CLUSTER, DaskExecutor

if __name__ == "__main__":
    client = DaskExecutor().client  # starts meteor's local cluster
    read = lambda: {key: dask.config.get(key) for key in QUIET_CLUSTER}
    print(json.dumps({"workers": list(client.run(read).values()), "client": read()}))
'''


def test_the_local_cluster_runs_its_background_work_rarely(tmp_path):
    """The local cluster ``--executor dask`` starts has the QUIET_CLUSTER settings in every worker (the nannies
    hand them over; its scheduler, in the client process, reads them as it starts), so an idle second of it
    costs little CPU; the client process keeps distributed's defaults (nothing else is reconfigured)."""
    import dask
    import distributed  # noqa: F401 - loads distributed's default settings

    from pact_backend.executors.dask import QUIET_CLUSTER

    (tmp_path / "quiet.py").write_text(QUIET)
    done = subprocess.run([sys.executable, "quiet.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["workers"] == [QUIET_CLUSTER, QUIET_CLUSTER]
    defaults = {key: dask.config.get(key) for key in QUIET_CLUSTER}
    assert seen["client"] == defaults and defaults != QUIET_CLUSTER
