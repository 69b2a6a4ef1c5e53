"""The ``dask_cluster`` fixture: one real Dask cluster (a scheduler and 2 worker processes on 127.0.0.1) per
test session, shared by the golden cases, the TPC-H checks and the Dask executor's own tests."""

from __future__ import annotations

import logging
import os

import pytest


@pytest.fixture(scope="session")
def dask_cluster():
    """A ``distributed.LocalCluster`` of 2 worker processes (1 thread each, under nannies that restart a
    killed worker); METEOR_DASK_ADDRESS points at its scheduler while the session runs, so
    ``run_file(..., executor='dask')`` runs there."""
    from distributed import LocalCluster

    from pact_backend.executors import dask as dask_executor

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address="127.0.0.1:0",
                           worker_dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
    previous = os.environ.get("METEOR_DASK_ADDRESS")
    os.environ["METEOR_DASK_ADDRESS"] = cluster.scheduler_address
    try:
        yield cluster
    finally:
        if previous is None:
            os.environ.pop("METEOR_DASK_ADDRESS", None)
        else:
            os.environ["METEOR_DASK_ADDRESS"] = previous
        dask_executor.close_all()
        cluster.close()
