"""The garbage collector's thresholds while tasks run (pact_backend.runtime.collector): raised for every task,
on every executor's path (run_task and the inline executor's streamed last stage), restored afterwards."""

from __future__ import annotations

import gc
import threading

import pytest

from pact_backend import contracts as pact
from pact_backend.executors.inline import InlineExecutor
from pact_backend.runtime.collector import TASK_THRESHOLDS, task_collection


@pytest.fixture
def default_thresholds():
    """The interpreter's default thresholds for the test, whatever the suite set before."""
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield (700, 10, 10)
    gc.set_threshold(*before)


def test_thresholds_are_raised_inside_and_restored_after(default_thresholds):
    with task_collection():
        assert gc.get_threshold() == TASK_THRESHOLDS
    assert gc.get_threshold() == default_thresholds


def test_higher_thresholds_are_kept():
    before = gc.get_threshold()
    gc.set_threshold(10**6, 5, 10**4)
    try:
        with task_collection():
            assert gc.get_threshold() == (10**6, TASK_THRESHOLDS[1], 10**4)
        assert gc.get_threshold() == (10**6, 5, 10**4)
    finally:
        gc.set_threshold(*before)


def test_overlapping_tasks_restore_when_the_last_ends(default_thresholds):
    first_in, second_out, done = threading.Event(), threading.Event(), threading.Event()
    seen = []

    def other_task():
        first_in.wait()
        with task_collection():
            pass
        seen.append(gc.get_threshold())  # the first task still runs: still raised
        second_out.set()

    thread = threading.Thread(target=other_task)
    thread.start()
    with task_collection():
        first_in.set()
        second_out.wait(10)
    thread.join()
    assert seen == [TASK_THRESHOLDS]
    assert gc.get_threshold() == default_thresholds


def test_an_error_in_a_task_restores_the_thresholds(default_thresholds):
    with pytest.raises(ZeroDivisionError):
        with task_collection():
            1 / 0
    assert gc.get_threshold() == default_thresholds


class _Input:
    def read(self):
        yield from range(5)

    def describe(self):
        return "memory"


class _Output:
    def __init__(self):
        self.records = None

    def open(self):
        output, pending = self, []

        class Writer:
            def write(self, record):
                pending.append(record)

            def commit(self):
                output.records = pending

            def abort(self):
                pass
        return Writer()


@pytest.mark.parametrize("shipped", [False, True], ids=["streamed-last-stage", "run-task"])
def test_udfs_run_with_the_task_thresholds(default_thresholds, shipped):
    """A Map's UDF sees the raised thresholds, in the stage the sink pulls and in a stage run by run_task (the
    one before a Reduce); the run leaves the defaults."""
    seen = []

    def look(records):
        for record in records:
            seen.append(gc.get_threshold())
            yield {"k": record % 2, "v": record}

    contract = pact.Map("look", [pact.Source("src", input_format=_Input())], udf=look)
    if shipped:
        contract = pact.Reduce("sum", [contract], key=lambda r: r["k"],
                               udf=lambda key, group: [{"k": key, "n": len(group)}])
    out = _Output()
    InlineExecutor().run(pact.PactPlan([pact.Sink("sink", [contract], output_format=out)]))
    assert len(out.records) == (2 if shipped else 5)
    assert seen and set(seen) == {TASK_THRESHOLDS}
    assert gc.get_threshold() == default_thresholds
