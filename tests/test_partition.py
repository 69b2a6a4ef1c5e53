"""The stable partitioner: canonical key bytes follow Python equality, and routing agrees across processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pact_backend.runtime.partition import bucket_of, canonical_bytes, partitioner, stable_hash

ROOT = Path(__file__).resolve().parent.parent
KEYS = [None, 0, 1, -7, 2**80, 1.5, float("inf"), "", "a", "N", "ünïcode", "x" * 300, (1, "a"), ((1, 2), None),
        frozenset({1, 2, 3}), (3, frozenset({("k", 1), ("j", (2, "b"))})), True, False, b"raw"]


def test_equal_keys_have_equal_bytes():
    assert canonical_bytes(1) == canonical_bytes(1.0) == canonical_bytes(True)
    assert canonical_bytes(0) == canonical_bytes(-0.0) == canonical_bytes(False)
    assert canonical_bytes((1, "a")) == canonical_bytes((1.0, "a"))
    assert canonical_bytes(frozenset({1, 2, 3})) == canonical_bytes(frozenset({3.0, 2, 1}))
    assert canonical_bytes(2**80) == canonical_bytes(float(2**80))


def test_distinct_keys_have_distinct_bytes():
    distinct = [None, 0, 1, 1.5, "", "N", "1", ("a",), ("a", ""), (("a",),), frozenset(), (), b"", b"N",
                ("ab", "c"), ("a", "bc"), frozenset({"a"}), ("a", None)]
    encoded = [canonical_bytes(k) for k in distinct]
    assert len(set(encoded)) == len(encoded)


def test_objects_fall_back_to_their_pickle():
    from sopremo.values import MISSING

    assert canonical_bytes(MISSING) == canonical_bytes(MISSING)
    assert canonical_bytes(MISSING) != canonical_bytes(None)
    with pytest.raises(TypeError, match="no canonical bytes"):
        canonical_bytes(lambda: 1)


def test_partitioner_routes_by_key_and_checks_buckets():
    route = partitioner(lambda r: r["k"], 4)
    assert route({"k": "a"}) == bucket_of("a", 4) == stable_hash("a") % 4
    assert route({"k": 1}) == route({"k": 1.0})
    assert partitioner(None, 8)({"k": 1}) == 0
    assert all(0 <= bucket_of(k, 3) < 3 for k in KEYS)
    with pytest.raises(ValueError):
        partitioner(None, 0)


def test_buckets_spread_keys():
    counts = [0] * 4
    for i in range(4000):
        counts[bucket_of(f"key{i}", 4)] += 1
    assert min(counts) > 800, counts


CHILD = """
import json, sys
from pact_backend.runtime.partition import stable_hash
from tests_keys import KEYS
print(json.dumps([stable_hash(k) for k in KEYS]))
"""


@pytest.mark.parametrize("seed", ["0", "12345"])
def test_hashes_agree_in_a_child_process_with_another_hash_seed(tmp_path, seed):
    (tmp_path / "tests_keys.py").write_text(f"KEYS = {KEYS!r}\n".replace("inf", "float('inf')"))
    env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=f"{tmp_path}{os.pathsep}{ROOT}")
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [stable_hash(k) for k in KEYS]
