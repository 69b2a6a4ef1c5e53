"""The parser cache loads nothing from shared places: planted files never run, unsafe directories are refused."""

from __future__ import annotations

import os
import pickle
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from lark import Lark

import meteor.parser
import meteor.parser_cache as cache
from meteor.frontend import compile_script
from meteor.grammar import full_grammar
from meteor.parser import parser_for
from sopremo.package import PACKAGES
from sopremo.scope import Scope

OPTIONS = dict(parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=False)
SCRIPT = "$a = [{x: 1}, {x: 5}];\n$b = filter $a where $a.x > 2;\nwrite $b to 'out.json';\n"


class _Plant:
    """A pickle that creates ``marker`` when it is unpickled (what an attacker would plant)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


@pytest.fixture
def user_cache(tmp_path, monkeypatch):
    """An empty cache root and temp dir for this test; the in-process parser cache starts empty."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(cache, "_warned", set())
    meteor.parser._lark.cache_clear()
    yield tmp_path / "cache" / "meteor"
    meteor.parser._lark.cache_clear()


def _grammar() -> str:
    return full_grammar(Scope(PACKAGES))


def test_a_file_planted_where_lark_caches_in_the_temp_dir_is_never_loaded(user_cache, tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    Lark(_grammar(), cache=True, **OPTIONS)  # Lark names its cache file: find out where it would read it
    (planted,) = (tmp_path / "tmp").glob(".lark_cache_*")
    marker = tmp_path / "owned"
    planted.write_bytes(b"x\n" + pickle.dumps(_Plant(marker)))
    plan = compile_script(SCRIPT)
    assert len(plan.sinks) == 1
    assert not marker.exists()


def test_the_cache_lives_in_a_0700_directory_of_the_user_and_is_reused(user_cache):
    parser_for(Scope(PACKAGES))
    info = os.lstat(user_cache)
    assert stat.S_IMODE(info.st_mode) == 0o700 and info.st_uid == os.getuid()
    (saved,) = user_cache.glob("parser-*.pickle")
    assert stat.S_IMODE(saved.stat().st_mode) & 0o077 == 0
    assert saved == cache.cache_file(_grammar(), OPTIONS)
    meteor.parser._lark.cache_clear()
    before = saved.stat().st_mtime_ns
    assert len(compile_script(SCRIPT).sinks) == 1
    assert saved.stat().st_mtime_ns == before  # loaded, not rebuilt


def test_a_planted_pickle_in_the_user_cache_runs_nothing_and_is_rebuilt(user_cache, tmp_path):
    user_cache.mkdir(parents=True, mode=0o700)
    target = cache.cache_file(_grammar(), OPTIONS)
    marker = tmp_path / "owned"
    target.write_bytes(pickle.dumps({"format": "meteor-parser-1", "data": _Plant(marker), "memo": {}}))
    target.chmod(0o600)
    assert len(compile_script(SCRIPT).sinks) == 1
    assert not marker.exists()
    assert cache._load(target) is not None  # replaced by good tables


def _wrong_tables(target: Path) -> None:
    """Valid tables of another grammar at ``target``: a parser loaded from them cannot read SCRIPT."""
    other = Lark('start: "nothing"', **OPTIONS)
    data, memo = other.memo_serialize([cache.TerminalDef, cache.Rule])
    target.write_bytes(pickle.dumps({"format": "meteor-parser-1", "data": data, "memo": memo}))


@pytest.mark.parametrize("fault", ["group-writable", "world-readable", "someone else's", "symlink"])
def test_an_unsafe_cache_directory_is_not_used(user_cache, tmp_path, monkeypatch, capsys, fault):
    real = tmp_path / "elsewhere" if fault == "symlink" else user_cache
    real.mkdir(parents=True, mode=0o700)
    _wrong_tables(real / cache.cache_file(_grammar(), OPTIONS).name)
    if fault == "group-writable":
        real.chmod(0o770)
    elif fault == "world-readable":
        real.chmod(0o755)
    elif fault == "someone else's":
        uid = os.getuid()
        monkeypatch.setattr(os, "getuid", lambda: uid + 1)
    else:
        user_cache.parent.mkdir(parents=True, exist_ok=True)
        user_cache.symlink_to(real)
    assert len(compile_script(SCRIPT).sinks) == 1
    err = capsys.readouterr().err
    assert f"not using the parser cache {user_cache}" in err


def test_a_cache_file_others_can_write_is_not_loaded(user_cache):
    user_cache.mkdir(parents=True, mode=0o700)
    target = cache.cache_file(_grammar(), OPTIONS)
    _wrong_tables(target)
    target.chmod(0o622)
    assert len(compile_script(SCRIPT).sinks) == 1


def test_a_run_leaves_nothing_in_the_temp_dir(tmp_path):
    (tmp_path / "s.meteor").write_text(SCRIPT)
    (tmp_path / "tmp").mkdir()
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-m", "meteor.cli", "run", "-q", "s.meteor"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert list((tmp_path / "tmp").iterdir()) == []
    assert list((tmp_path / "cache" / "meteor").glob("parser-*.pickle"))
