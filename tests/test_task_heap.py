"""``heap.task_heap``: a Dask task allocates big buffers from the heap, not by mmap, although the nanny fixed
glibc's thresholds; between tasks the worker's fixed thresholds are back. Observed through glibc's own count
of mmapped chunks (``mallinfo2().hblks``) in a fresh interpreter started as a Dask nanny starts a worker."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = r"""
import ctypes, json
from pact_backend.executors.heap import task_heap

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2

def mmapped_by(size):
    before = libc.mallinfo2().hblks
    buffers = [bytearray(size) for _ in range(4)]
    during = libc.mallinfo2().hblks
    del buffers
    return during - before

seen = {"before": mmapped_by(2**20)}
with task_heap():
    seen["task"] = mmapped_by(2**20)
    with task_heap():  # a second task of the same worker overlapping
        seen["nested"] = mmapped_by(2**20)
    seen["still"] = mmapped_by(2**20)
seen["after"] = mmapped_by(2**20)
print(json.dumps(seen))
"""


def _probe(environ: dict[str, str]) -> dict[str, int]:
    import json

    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env.update(environ)
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_a_task_allocates_from_the_heap_and_the_worker_gets_its_thresholds_back():
    seen = _probe({"MALLOC_TRIM_THRESHOLD_": "65536"})  # what distributed's nanny sets for its workers
    assert seen["before"] == 4 and seen["after"] == 4  # the nanny's setting: every MiB buffer is an mmap
    assert seen["task"] == seen["nested"] == seen["still"] == 0  # inside tasks: from the heap


def test_a_process_without_fixed_thresholds_is_left_alone():
    seen = _probe({})
    # glibc adapts by itself: after the first MiB chunk is freed, the next ones come from the heap
    assert seen["task"] == seen["after"] == 0


def test_dask_workers_start_with_the_fixed_threshold_task_heap_undoes(dask_cluster):
    """The premise: distributed's nanny sets MALLOC_TRIM_THRESHOLD_ for its workers (if a later distributed
    stops doing so, task_heap does nothing and this test says why)."""
    from distributed import Client

    with Client(dask_cluster.scheduler_address, set_as_default=False) as client:
        values = set(client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_")).values())
    assert values == {"65536"}
