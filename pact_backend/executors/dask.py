"""The Dask executor: runs a PACT program's physical plan as Dask tasks on a dask.distributed cluster.

The plan is cut into the process executor's stages (a head contract plus its chained Maps, VLDB J. 2014,
sec. 7.3); every partition of a stage is one ``client.submit`` of ``dask_tasks.run_stage`` whose arguments are
the futures of the blocks it reads. Ship strategies become routing of futures (DESIGN.md, "Execution"):
forward passes partition i to partition i, hash and range partitioning pick bucket i of every producer task
(a small pick task next to the producer, so only that bucket travels; range boundaries come from keys
sampled next to every producer task), a broadcast side is collected into one
future that every worker running a consumer fetches once, a gather hands everything to partition 0. The
cloudpickled stage spec (the UDFs) is shipped once per job as a constant task that each worker fetches once.
Partition i of every stage prefers the same worker (``workers=``, ``allow_other_workers=True``), so
co-partitioned inputs meet. Nothing is ``scatter``-ed: scattered data has no lineage and Dask's active memory
manager drops its extra replicas within seconds, so a lost worker would lose it for good; every future here
can be recomputed, so Dask survives lost workers (it reruns their tasks), and failing tasks are retried
``retries`` times. A user error is re-raised in the client as its own exception type.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import sys
import threading
import uuid
from dataclasses import dataclass
from time import perf_counter
from typing import Any, Callable

from pact_backend import contracts as pact
from pact_backend import physical as phys
from pact_backend.executors import dask_tasks as dt
from pact_backend.executors.modules import client_path
from pact_backend.executors.registry import ExecutorError
from pact_backend.executors.base import StageExecutor, pack_spec, run_stats, write_sinks
from pact_backend.executors.stage_graph import Stage, StageGraph
from pact_backend.io import parts
from pact_backend.runtime.blocks import decode_block
from pact_backend.runtime.checks import check_plan
from pact_backend.runtime.memory import RAM_SHARE, default_memory, task_budget
from pact_backend.runtime.ranges import choose_boundaries
from pact_backend.runtime.stats import RunStats

DEFAULT_RETRIES = 1           # extra attempts of a task that raised (a lost worker does not count)
LOCAL_WORKERS = 2             # worker processes of the local cluster started without an address
CONNECT_TIMEOUT = "10s"       # how long to wait for the scheduler, and then for a first worker

# The local cluster's background work, made rarer (dask config keys): the event-loop tick (a diagnostic), the
# statistical profiler sampling task threads 100 times a second, the system and memory monitors and work
# stealing. With distributed's defaults an idle local cluster of 2 workers burns about 0.045 CPU s per
# second (0.012 with these), paid for every second a run takes; docs/distributed.md ("How fast it is") gives
# the same settings for a long-lived cluster.
QUIET_CLUSTER = {
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.scheduler.work-stealing-interval": "1s",
}

_CLUSTERS: dict[tuple[int, int], Any] = {}
_SIZES: dict[str, tuple[int, int]] = {}  # scheduler address -> largest (threads, memory limits) seen
_CLIENTS: dict[str, Any] = {}
_LOCK = threading.Lock()


def local_cluster(workers: int = LOCAL_WORKERS, threads: int = 1) -> Any:
    """The process-wide ``distributed.LocalCluster`` of ``workers`` processes with ``threads`` threads each on
    127.0.0.1 (started on first use, ~2 s), with the settings of QUIET_CLUSTER. Every port it opens is on
    127.0.0.1: the scheduler's and workers' HTTP servers too (a dashboard address without a host would listen
    on every interface)."""
    import dask
    from distributed import LocalCluster

    with _LOCK:
        cluster = _CLUSTERS.get((workers, threads))
        if cluster is None or cluster.status.name in ("closing", "closed", "failed"):
            with dask.config.set(QUIET_CLUSTER):  # read by the scheduler and nannies as they start
                cluster = _CLUSTERS[(workers, threads)] = LocalCluster(
                    n_workers=workers, threads_per_worker=threads, processes=True, host="127.0.0.1",
                    dashboard_address="127.0.0.1:0", worker_dashboard_address="127.0.0.1:0",
                    silence_logs=logging.CRITICAL)
        return cluster


def connect(address: str | None, workers: int = LOCAL_WORKERS, threads: int = 1) -> Any:
    """A ``distributed.Client`` of the scheduler at ``address`` (``tcp://HOST:8786``; None: the local cluster),
    shared by every executor of this process, once at least one worker is there. Raises ConnectionError
    naming the address when the scheduler or its workers cannot be reached within CONNECT_TIMEOUT."""
    from distributed import Client

    _close_at_exit()
    if address is None:
        address = local_cluster(workers, threads).scheduler_address
    with _LOCK:
        client = _CLIENTS.get(address)
        if client is not None and client.status == "running":
            return client
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        try:
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError):
            client.close()
            raise ConnectionError(f"the Dask scheduler at {address} has no workers") from None
        _CLIENTS[address] = client
        return client


def close_all() -> None:
    """Close every client and local cluster of this process (registered to run at interpreter exit)."""
    with _LOCK:
        clients, clusters = list(_CLIENTS.values()), list(_CLUSTERS.values())
        _CLIENTS.clear()
        _CLUSTERS.clear()
    for resource in clients + clusters:
        try:
            resource.close()
        except Exception:  # noqa: BLE001 - shutting down: nothing left to report to
            pass


def _close_at_exit() -> None:
    """Register ``close_all`` after distributed registered its own exit handlers, so it runs before them
    (handlers run last-in first-out): clients close before their clusters, without reconnect attempts."""
    global _REGISTERED
    if not _REGISTERED:
        atexit.register(close_all)
        _REGISTERED = True


_REGISTERED = False


@dataclass
class DaskRunReport:
    """What the last run of a DaskExecutor did: ``stages``, ``tasks`` (stage partitions and part writes),
    spill ``spill_files`` / ``spill_bytes`` written by tasks, the ``workers`` it saw at the start, and the
    ``blocks`` the stage tasks handed on (to other tasks or the client): their ``block_bytes`` and the
    ``block_records`` they hold (records travel many to a block, never one message each)."""

    stages: int = 0
    tasks: int = 0
    spill_files: int = 0
    spill_bytes: int = 0
    workers: int = 0
    blocks: int = 0
    block_bytes: int = 0
    block_records: int = 0


class DaskExecutor(StageExecutor):
    """Runs a ``PactPlan`` on a Dask cluster; ``run(plan, physical=None) -> RunStats`` like ProcessExecutor.

    ``address``: the scheduler (``tcp://HOST:8786``; None: a local cluster of ``local_workers`` processes with
    ``threads_per_worker`` threads, started once per process). ``parallelism``: default DOP (None: the
    cluster's threads). ``memory_bytes``: the budget of all concurrent tasks (None: RAM_SHARE of the
    workers' memory limits). ``retries``: extra attempts of a task that raised. ``on_task_done(done, total)``
    is called in the client as tasks finish. Workers must see the input and output paths (shared storage).
    Raises ConnectionError for an unreachable cluster, PlanStructureError for malformed programs, and the
    exception of a failing UDF or format (with a note naming the operators and the split it read).
    ``memory_per_instance``: one task's share of the budget (the budget divided among ``parallelism`` tasks).
    """

    name = "dask"

    def __init__(self, address: str | None = None, parallelism: int | None = None,
                 memory_bytes: int | None = None, retries: int = DEFAULT_RETRIES,
                 local_workers: int = LOCAL_WORKERS, threads_per_worker: int = 1, combine_threshold: int = 1024,
                 on_task_done: Callable[[int, int], None] | None = None):
        if parallelism is not None and parallelism < 1:
            raise ValueError(f"parallelism must be at least 1, got {parallelism}")
        self.address, self.retries = address, retries
        self.local_workers, self.threads_per_worker = local_workers, threads_per_worker
        self._parallelism, self._memory = parallelism, memory_bytes
        self.combine_threshold, self.on_task_done = combine_threshold, on_task_done
        self.last_run: DaskRunReport | None = None

    @property
    def client(self) -> Any:
        """The shared ``distributed.Client`` (connecting on first use)."""
        return connect(self.address, self.local_workers, self.threads_per_worker)

    def workers(self) -> dict[str, dict[str, Any]]:
        """The scheduler's workers: address -> info (``nthreads``, ``memory_limit`` in bytes, ...)."""
        return self.client.scheduler_info(n_workers=-1)["workers"]

    def live_workers(self) -> list[str]:
        """The addresses of the scheduler's workers, sorted; waits up to CONNECT_TIMEOUT for one when there is
        none at the moment (a cluster whose workers are restarting). Raises ExecutorError (the registry's: an
        executor that cannot run) when none comes."""
        homes = sorted(self.workers())
        if not homes:
            try:
                self.client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
            except Exception:  # noqa: BLE001 - distributed raises TimeoutError or its own errors here
                raise ExecutorError(f"the Dask scheduler at {self.client.scheduler.address} has no workers "
                                    f"(none joined within {CONNECT_TIMEOUT})") from None
            homes = sorted(self.workers())
        return homes

    def cluster_size(self) -> tuple[int, int]:
        """(worker threads, summed worker memory limits in bytes; 0 when a worker has none) of the cluster: the
        largest seen by this process at this scheduler. A worker that is restarting for a moment does not
        shrink it, so ``meteor explain`` and the run that follows plan with the same DOP and memory share
        (issue "One engine"); workers that join grow it."""
        workers = self.workers().values()
        limits = [w.get("memory_limit") or 0 for w in workers]
        live = (sum(w["nthreads"] for w in workers), sum(limits) if all(limits) else 0)
        address = self.client.scheduler.address  # outside the lock: connecting takes it
        with _LOCK:
            seen = _SIZES.get(address, (0, 0))
            size = _SIZES[address] = (max(seen[0], live[0]), max(seen[1], live[1]))
        return size

    @property
    def parallelism(self) -> int:
        """The default DOP: as given, else the number of worker threads of the cluster (``cluster_size``)."""
        return self._parallelism or max(1, self.cluster_size()[0])

    @property
    def memory_bytes(self) -> int:
        """The memory budget of all concurrent tasks, in bytes: as given, else RAM_SHARE of the workers' memory
        limits (``cluster_size``), else the local default."""
        if self._memory:
            return self._memory
        limits = self.cluster_size()[1]
        return int(limits * RAM_SHARE) if limits else default_memory()

    @property
    def memory_per_instance(self) -> int:
        """Bytes one task may hold before it spills: the budget shared by ``parallelism`` concurrent tasks."""
        return task_budget(self.memory_bytes, self.parallelism)

    def run(self, plan: pact.PactPlan, physical: phys.PhysicalPlan | None = None) -> RunStats:
        """Execute ``plan`` with ``physical``'s strategies (None: the planner's default strategies for this
        executor); every sink commits. Raises UnsupportedPlan before running anything it cannot run."""
        start = perf_counter()
        order = check_plan(plan)
        physical = self.checked(plan, physical)
        graph = StageGraph(order, physical)
        homes = self.live_workers()
        self.last_run = report = DaskRunReport(workers=len(homes))
        template = {"budget": physical.memory_per_instance, "sys_path": client_path(),
                    "combine_threshold": self.combine_threshold}
        job = _Job(self.client, graph, order, homes, template, self.retries)
        try:
            job.submit(plan.sinks)
            job.wait(self.on_task_done, report)
            written = write_sinks([s for s in plan.sinks if s.id not in job.parts], job.sink_partitions)
            written.update(job.commit_parts())
        except BaseException:
            job.abort()
            raise
        finally:
            job.release()
        stats = run_stats(order, job.produced(written), perf_counter() - start)
        stats.executed = graph.executed(job.task_reports())
        return stats


class _Job:
    """One run on the cluster: submits every stage's tasks, routes their futures, waits, reads the sinks."""

    def __init__(self, client: Any, graph: StageGraph, order: list[pact.Contract], homes: list[str],
                 template: dict[str, Any], retries: int):
        self.client, self.graph, self.order, self.homes = client, graph, order, homes
        self.template, self.retries = template, retries
        self.token = uuid.uuid4().hex[:10]
        self.tasks: dict[int, list[Any]] = {}                 # stage index -> result future per partition
        self.picks: dict[tuple[int, int, int, int], Any] = {}  # (stage, task, output, bucket) -> blocks future
        self.broadcasts: dict[tuple[int, int], Any] = {}       # (stage, output) -> all its blocks
        self.stats: list[Any] = []                             # per task: future of dask_tasks.stats_of
        self.stats_stage: list[int] = []                       # per task: its stage index
        self.gathered: list[Any] = []                          # per task: its stats, once the job finished
        self.sinks: dict[int, list[dt.Piece]] = {}             # single-file sink id -> pieces in order
        self.parts: dict[int, tuple[str, str, list[Any]]] = {}  # part-directory sink id -> (dir, staging, writes)

    def _options(self, name: str, part: int) -> dict[str, Any]:
        """Submit options of partition ``part``: preferably on home worker ``part`` modulo the workers seen
        at the start (so co-partitioned tasks meet), on any worker when that one is gone or none was seen."""
        options = {"key": f"{name}-{self.token}-{part}", "pure": False, "retries": self.retries}
        if self.homes:
            options.update(workers=[self.homes[part % len(self.homes)]], allow_other_workers=True)
        return options

    def submit(self, sinks: list[pact.Sink]) -> None:
        """Ship the stage specs (one constant task each), then submit every stage's tasks and the sinks'."""
        for stage in self.graph.stages:
            if stage.ranges is not None:
                self._choose_boundaries(stage.ranges)
            blob, digest = pack_spec(stage.spec)
            shipped = self.client.submit(dt.constant, blob, key=f"meteor-udfs{stage.index}-{self.token}", pure=False)
            self._submit_stage(stage, shipped, digest)
        for sink in sinks:
            producer = self.graph.stage_of[sink.inputs[0].id]
            if parts.is_part_directory(sink.output_format):
                self._submit_parts(sink, producer)
            else:
                self.sinks[sink.id] = self._pieces(producer, self.graph.sink_outputs[sink.id], phys.GATHER, 0, 1)
        self.tasks.clear()  # intermediate results are freed by Dask once their consumers ran
        self.picks.clear()
        self.broadcasts.clear()

    def _choose_boundaries(self, channel: Any) -> None:
        """Set the key ranges of a range-partitioned channel before its shuffle stages are shipped: every
        producer task samples its own output next to it, the client chooses the boundaries from all samples
        (TeraSort-style; the process executor samples the same way, from its block files)."""
        if channel.boundaries is None:
            samples = []
            for producer, output, key in channel.sources:
                if key is None:
                    continue
                for task in range(producer.parts):
                    piece = self._piece(producer, task, output, 0)
                    samples.append(self.client.submit(dt.sample, key, producer.parts, piece, pure=False,
                                                      key=f"meteor-sample{producer.index}-{self.token}-{task}"))
            keys = [k for sampled in self.client.gather(samples) for k in sampled]
            channel.boundaries = choose_boundaries(keys, channel.consumer.parts)
        channel.prepare()

    def _submit_stage(self, stage: Stage, blob: Any, digest: bytes) -> None:
        names = ", ".join(repr(c) for c in self.order if self.graph.stage_of.get(c.id) is stage)
        futures = self.tasks[stage.index] = []
        for part in range(stage.parts):
            inputs = [self._pieces(producer, output, ship, part, stage.parts)
                      for producer, output, ship in stage.inputs]
            splits = stage.splits[part] if stage.splits is not None else None
            where = f"stage {stage.index} ({names}), partition {part + 1} of {stage.parts}"
            future = self.client.submit(dt.run_stage, blob, digest, self.template, part, splits, inputs, where,
                                        **self._options(f"meteor-stage{stage.index}", part))
            futures.append(future)
            self.stats.append(self.client.submit(dt.stats_of, future, key=f"meteor-stats-{future.key}",
                                                 pure=False))
            self.stats_stage.append(stage.index)

    def _pieces(self, producer: Stage, output: int, ship: str, part: int, parts: int) -> list[dt.Piece]:
        """The pieces partition ``part`` of ``parts`` reads from ``output`` of ``producer`` (the process
        executor's routing: a bucketed output sends bucket ``part``, forward keeps partitions, broadcast and
        gather hand over everything, gather to partition 0 only)."""
        if producer.spec.outputs[output].buckets > 1:
            return [self._piece(producer, task, output, part) for task in range(producer.parts)]
        if ship == phys.BROADCAST:
            return [self._broadcast(producer, output)]
        if ship == phys.FORWARD:
            chosen = range(part, producer.parts, parts) if parts < producer.parts else \
                range(part, min(part + 1, producer.parts))
        else:
            chosen = range(producer.parts) if part == 0 else range(0)
        return [self._piece(producer, task, output, 0) for task in chosen]

    def _piece(self, producer: Stage, task: int, output: int, bucket: int) -> dt.Piece:
        future = self.tasks[producer.index][task]
        if len(producer.spec.outputs) == 1 and producer.spec.outputs[0].buckets == 1:
            return future, output, bucket
        index = (producer.index, task, output, bucket)
        if index not in self.picks:
            self.picks[index] = self.client.submit(dt.pick, future, output, bucket, pure=False,
                                                   key=f"meteor-pick-{future.key}-{output}-{bucket}")
        return self.picks[index], None, None

    def _broadcast(self, producer: Stage, output: int) -> dt.Piece:
        """One future of all blocks of ``output`` of every ``producer`` task; every worker that runs a consumer
        fetches it once (a task, not scattered data: it has lineage, so a lost worker loses nothing)."""
        index = (producer.index, output)
        if index not in self.broadcasts:
            pieces = self._pieces(producer, output, phys.GATHER, 0, 1)
            self.broadcasts[index] = self.client.submit(dt.collect, *pieces, pure=False,
                                                        key=f"meteor-broadcast{producer.index}-{self.token}")
        return self.broadcasts[index], None, None

    def _submit_parts(self, sink: pact.Sink, producer: Stage) -> None:
        """One task per producer partition writing ``part-NNNNN.ext`` into ``<dir>/_temporary/<job>``."""
        directory = sink.output_format.path
        staging = parts.staging_directory(directory, self.token)
        writes = []
        output = self.graph.sink_outputs[sink.id]
        for task in range(producer.parts):
            path = os.path.join(staging, parts.part_name(sink.output_format, task))
            piece = self._piece(producer, task, output, 0)
            writes.append(self.client.submit(dt.write_part, sink.output_format, path, [piece], repr(sink),
                                             **self._options(f"meteor-sink{sink.id}", task)))
        self.parts[sink.id] = (directory, staging, writes)

    def wait(self, on_task_done: Callable[[int, int], None] | None, report: DaskRunReport) -> None:
        """Wait for every task; the first failure is re-raised (the task's own exception)."""
        from distributed import as_completed

        watched = self.stats + [w for _, _, writes in self.parts.values() for w in writes]
        report.stages, report.tasks = len(self.graph.stages), len(watched)
        for done, future in enumerate(as_completed(watched, loop=self.client.loop), 1):
            future.result()
            if on_task_done is not None:
                on_task_done(done, len(watched))
        self.gathered = self.client.gather(self.stats)  # once: task_reports and produced read them too
        for stats, files, spilled, _, _, (blocks, bytes_, records) in self.gathered:
            report.spill_files += files
            report.spill_bytes += spilled
            report.blocks += blocks
            report.block_bytes += bytes_
            report.block_records += records

    def task_reports(self) -> dict[int, list[tuple[dict[int, str], bool]]]:
        """Stage index -> (strategies the drivers ran, ran fused) of every task (the tasks' own reports)."""
        reports: dict[int, list[tuple[dict[int, str], bool]]] = {}
        for stage, (_, _, _, ran, fused, _) in zip(self.stats_stage, self.gathered):
            if ran:
                reports.setdefault(stage, []).append((ran, fused))
        return reports

    def sink_partitions(self, sink: pact.Sink) -> list[Any]:
        """The records of a single-file sink: one iterator over its producer's partitions in order (each
        fetched when it is written)."""
        return [self._sink_records(sink)]

    def _sink_records(self, sink: pact.Sink) -> Any:
        for future, output, bucket in self.sinks[sink.id]:
            for block in dt.blocks_of((future.result(), output, bucket)):
                yield from decode_block(block)

    def commit_parts(self) -> dict[int, tuple[int, float]]:
        """Move the written parts of every part-directory sink into place; per sink id (records, seconds)."""
        written = {}
        for sink_id, (directory, staging, writes) in self.parts.items():
            counts = [w.result() for w in writes]
            parts.commit_parts(directory, staging)
            written[sink_id] = (sum(c for c, _ in counts), sum(s for _, s in counts))
        return written

    def produced(self, sinks: dict[int, tuple[int, float]]) -> dict[int, list[float]]:
        """Contract id -> [records out, own seconds] summed over all tasks, sinks' from ``sinks``."""
        out: dict[int, list[float]] = {}
        for gathered in self.gathered:
            for contract_id, (records, spent) in gathered[0].items():
                entry = out.setdefault(contract_id, [0, 0.0])
                entry[0] += records
                entry[1] += spent
        out.update({sink_id: [records, spent] for sink_id, (records, spent) in sinks.items()})
        return out

    def abort(self) -> None:
        """Cancel whatever still runs and remove the staged parts."""
        self.client.cancel(self.stats + [w for _, _, ws in self.parts.values() for w in ws], force=True)
        for _, staging, _ in self.parts.values():
            shutil.rmtree(staging, ignore_errors=True)

    def release(self) -> None:
        """Drop the references to the sinks' futures (Dask frees them)."""
        self.sinks.clear()
