"""The structure of a quick start-up (issue 17, item 2), pinned without timing anything.

A trivial ``meteor run`` should answer faster than ``python -c "import duckdb; duckdb.sql('select 1')"``; the
measurements are in docs/benchmarks.md ("Start-up"). What makes it quick is checked here on the modules a
process loads and the processes it starts: the command line loads no engine before it has a script to run,
a plain ``meteor run SCRIPT`` loads no click (and answers as click would), a run on small inputs starts no
worker processes, lark is loaded without ``regex``, explanations' renderers and the iteration driver load only
when used, entry points come from a cache that is safe and current, and start-up runs without the cyclic
garbage collector, which is back (with start-up's objects frozen) when data is processed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import pact_backend.entry_points as eps
from meteor import api
from sopremo import engine

SCRIPT = "$a = read from 'in.json';\n$b = filter $a where $a.x > 1;\nwrite $b to 'out.json';\n"


def _loaded_after(code: str, cwd: Path, env: dict | None = None) -> set[str]:
    """The modules loaded by a fresh interpreter after running ``code`` in ``cwd``."""
    probe = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))\n"
    done = subprocess.run([sys.executable, "-c", probe], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _tops(modules: set[str], *names: str) -> set[str]:
    """The modules of ``modules`` that are one of ``names`` or inside one of them."""
    return {m for m in modules if any(m == n or m.startswith(n + ".") for n in names)}


def test_the_command_line_loads_no_engine_parser_or_data_library_before_a_command_runs(tmp_path):
    loaded = _loaded_after("import meteor.cli", tmp_path)
    assert "click" in loaded and "meteor.cli" in loaded  # the probe saw the import
    heavy = _tops(loaded, "pact_backend.runtime", "pact_backend.executors", "pact_backend.optimizer", "lark",
                  "msgspec", "dask", "distributed", "numpy", "pyarrow", "multiprocessing", "importlib.metadata",
                  "sopremo.package", "sopremo.compilation")
    assert heavy == set()


def test_a_run_on_small_inputs_starts_no_worker_process(tmp_path):
    (tmp_path / "in.json").write_text(json.dumps([{"x": i} for i in range(5)]))
    (tmp_path / "s.meteor").write_text(SCRIPT)
    code = ("import sys\nfrom meteor.entry import main\nsys.argv = ['meteor', 'run', '-q', 's.meteor']\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n")
    loaded = _loaded_after(code, tmp_path, {"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert json.loads((tmp_path / "out.json").read_text()) == [{"x": i} for i in range(2, 5)]
    # `meteor run [flags] SCRIPT` needs no option parser: click is not loaded (meteor/run_command.py)
    assert _tops(loaded, "click") == set()
    # no pool was made: the modules that start worker processes were never loaded
    assert _tops(loaded, "multiprocessing", "concurrent.futures.process", "cloudpickle") == set()
    # nor what only explanations, iterations, other formats or a registry scan need
    assert _tops(loaded, "pact_backend.plan_text", "pact_backend.api_explain", "pact_backend.iterations.driver",
                 "pact_backend.io.sql", "pact_backend.io.binary", "regex", "dask") == set()


def test_a_run_with_warm_caches_loads_only_what_it_uses(tmp_path):
    (tmp_path / "in.json").write_text(json.dumps([{"x": i} for i in range(5)]))
    (tmp_path / "s.meteor").write_text(SCRIPT)
    code = ("import sys\nfrom meteor.entry import main\nsys.argv = ['meteor', 'run', '-q', 's.meteor']\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n")
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    _loaded_after(code, tmp_path, env)  # the first run fills the parser and entry-point caches
    loaded = _loaded_after(code, tmp_path, env)
    assert "lark" in loaded and "meteor.parser_cache" in loaded  # the probe saw the run
    # no command-line library (click), no scan of the installation (importlib.metadata, email), nothing that
    # only a misspelled name (difflib), month arithmetic (calendar) or a host name (socket) needs
    assert _tops(loaded, "click", "importlib.metadata", "email", "difflib", "calendar", "socket") == set()


def test_small_inputs_run_inline_by_default_and_larger_ones_on_worker_processes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    script = tmp_path / "s.meteor"
    script.write_text(SCRIPT)
    small = [{"x": i} for i in range(10)]
    (tmp_path / "in.json").write_text(json.dumps(small))
    plan = api.compile_file(script)
    assert engine.input_bytes(plan) == (tmp_path / "in.json").stat().st_size
    assert api.make_executor(plan=plan).name == "inline"
    assert api.make_executor("process", plan=plan).name == "process"  # a chosen executor stays chosen
    assert api.make_executor(parallelism=2, plan=plan).name == "process"  # asking for parallelism too
    big = [{"x": i, "pad": "p" * 100} for i in range(engine.SMALL_INPUT_BYTES // 100)]
    (tmp_path / "in.json").write_text(json.dumps(big))
    plan = api.compile_file(script)
    assert engine.input_bytes(plan) >= engine.SMALL_INPUT_BYTES
    assert api.make_executor(plan=plan).name == engine.DEFAULT_EXECUTOR == "process"


def test_a_source_of_unknown_size_keeps_the_process_executor(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.meteor").write_text(SCRIPT)  # in.json does not exist: its size is unknown
    plan = api.compile_file(tmp_path / "s.meteor")
    assert engine.input_bytes(plan) is None
    assert engine.default_executor(plan) == "process"


def test_explain_plans_for_the_executor_a_run_would_choose(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.json").write_text(json.dumps([{"x": 1}]))
    (tmp_path / "s.meteor").write_text(SCRIPT)
    done = subprocess.run([sys.executable, "-m", "meteor.cli", "explain", "s.meteor"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "inline" in done.stdout


def test_lark_is_loaded_without_regex_which_still_imports_afterwards(tmp_path):
    pytest.importorskip("regex")  # installed with the ie extra (nltk); without it there is nothing to hide
    loaded = _loaded_after("import meteor.parser", tmp_path)
    assert "lark" in loaded and "regex" not in loaded
    loaded = _loaded_after("import meteor.parser, regex\nassert regex.match('a+', 'aa')", tmp_path)
    assert "regex" in loaded


# ---- the entry-point cache -------------------------------------------------------------------------------------

@pytest.fixture
def ep_cache(tmp_path, monkeypatch):
    """An empty user cache for this test and a fresh in-process memo."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("METEOR_NO_ENTRY_POINT_CACHE", raising=False)
    monkeypatch.setattr(eps, "_MEMO", {})
    return tmp_path / "cache" / "meteor"


def _as_tuples(found) -> list[tuple]:
    return sorted((ep.name, ep.value, ep.group) for ep in found)


def test_cached_entry_points_are_importlib_metadata_s_and_are_reused(ep_cache, monkeypatch):
    from importlib import metadata

    for group in eps.GROUPS:
        assert _as_tuples(eps.entry_points(group)) == _as_tuples(metadata.entry_points(group=group))
    path = eps.cache_file()
    assert path.parent == ep_cache and path.exists() and path.stat().st_mode & 0o077 == 0
    assert {ep.name for ep in eps.entry_points("meteor.executors")} >= {"inline", "process"}
    # a second process (fresh memo) reads the file and never scans the distributions
    monkeypatch.setattr(eps, "_MEMO", {})
    monkeypatch.setattr(metadata, "entry_points", lambda **kw: pytest.fail("scanned despite the cache"))
    loaded = eps.entry_points("meteor.packages")
    assert "base" in {ep.name for ep in loaded}
    base = next(ep for ep in loaded if ep.name == "base")
    assert base.load().name == "base" and base.dist is not None and base.dist.name == "meteor"


def test_a_changed_installation_or_an_unsafe_file_means_a_fresh_scan(ep_cache, monkeypatch):
    eps.entry_points("meteor.packages")
    path = eps.cache_file()
    saved = json.loads(path.read_text())
    # plant an entry that would be found only through the cache file
    saved["groups"]["meteor.packages"].append(["planted", "os:getcwd", None, None])
    path.write_text(json.dumps(saved))
    monkeypatch.setattr(eps, "_MEMO", {})
    assert "planted" in {ep.name for ep in eps.entry_points("meteor.packages")}  # current: used as it is
    # other users may write the file: ignored (and not rewritten)
    path.chmod(0o666)
    monkeypatch.setattr(eps, "_MEMO", {})
    assert "planted" not in {ep.name for ep in eps.entry_points("meteor.packages")}
    # a new distribution changes the fingerprint: the file is rescanned and rewritten
    path.chmod(0o600)
    monkeypatch.setattr(eps, "_MEMO", {})
    key = eps.fingerprint()
    key[3][0][1] = (key[3][0][1] or []) + [["new_dist-1.0.dist-info", 1]]
    saved["key"] = key
    path.write_text(json.dumps(saved))
    assert "planted" not in {ep.name for ep in eps.entry_points("meteor.packages")}
    assert "planted" not in path.read_text()


def test_an_unsafe_cache_directory_is_neither_read_nor_written(ep_cache, monkeypatch):
    ep_cache.mkdir(parents=True, mode=0o700)
    ep_cache.chmod(0o777)
    assert "base" in {ep.name for ep in eps.entry_points("meteor.packages")}
    assert not eps.cache_file().exists()


# ---- the quick parse table -------------------------------------------------------------------------------------

def test_the_quick_table_is_lark_s_own_table_and_parses_alike():
    from meteor.grammar import full_grammar
    from meteor.lark_runtime import Lark, QuickTableParser, Rule, TerminalDef
    from sopremo.package import PACKAGES
    from sopremo.scope import Scope

    scope = Scope(PACKAGES)
    for name in ("ie", "cleansing"):  # the largest grammar there is: every package in scope
        scope.use(name)
    built = Lark(full_grammar(scope), parser="lalr", lexer="contextual", propagate_positions=True,
                 maybe_placeholders=False)
    data, memo = built.memo_serialize([TerminalDef, Rule])
    lark_own = Lark._load_from_dict(data, memo)
    quick = Lark._load_from_dict(data, memo, _plugins={"LALR_Parser": QuickTableParser})
    own_table, quick_table = lark_own.parser.parser.parser.parse_table, quick.parser.parser.parser.parse_table
    assert len(quick_table.states) == len(own_table.states) > 100
    assert quick_table.states == own_table.states
    assert (quick_table.start_states, quick_table.end_states) == (own_table.start_states, own_table.end_states)
    text = ("using ie;\n$a = read from 'in.json';\n$b = filter $a where $a.x > 1 and not ($a.y in [1, 2]);\n"
            "$c = group $b by $b.k into { k: $b[0].k, n: count($b), s: sum($b[*].x) };\nwrite $c to 'out.json';\n")
    assert quick.parse(text) == lark_own.parse(text) == built.parse(text)


def test_the_quick_loader_makes_lark_s_own_objects_and_lexers():
    from meteor.grammar import full_grammar
    from meteor.lark_runtime import Lark, LazyContextualLexer, Rule, TerminalDef, quick_memo
    from sopremo.package import PACKAGES
    from sopremo.scope import Scope

    scope = Scope(PACKAGES)
    scope.use("cleansing")
    built = Lark(full_grammar(scope), parser="lalr", lexer="contextual", propagate_positions=True,
                 maybe_placeholders=False)
    data, memo = built.memo_serialize([TerminalDef, Rule])
    own = Lark._load_from_dict(data, memo)
    quick = Lark._load_from_dict(data, quick_memo(memo), _plugins={"ContextualLexer": LazyContextualLexer})
    assert quick.rules == own.rules and [r.options.__dict__ for r in quick.rules] == \
           [r.options.__dict__ for r in own.rules]
    assert [(t.name, t.pattern, t.priority) for t in quick.terminals] == \
           [(t.name, t.pattern, t.priority) for t in own.terminals] != []  # TerminalDef has no ==
    own_lexer, quick_lexer = own.parser.lexer, quick.parser.lexer
    assert isinstance(quick_lexer, LazyContextualLexer) and len(quick_lexer.lexers) == 0  # none made yet
    text = ("using cleansing;\n$a = read from 'in.json';\n$b = filter $a where $a.x > 1 and not ($a.y in [1, 2]);"
            "\n$c = group $b by $b.k into { k: $b[0].k, n: count($b) };\nwrite $c to 'out.json';\n")
    assert quick.parse(text) == own.parse(text) == built.parse(text)
    assert 0 < len(quick_lexer.lexers) < len(own_lexer.lexers)  # only the states the text reached
    for state, lexer in quick_lexer.lexers.items():
        assert [t.name for t in lexer.terminals] == [t.name for t in own_lexer.lexers[state].terminals]
    assert [t.name for t in quick_lexer.root_lexer.terminals] == [t.name for t in own_lexer.root_lexer.terminals]
    for bad in ("$a = read from 'x.json'\nwrite $a to;", "$a = filter $b where $b.x >;", "$a = #;"):
        errors = []
        for parser in (quick, own):
            try:
                parser.parse(bad)
            except Exception as exc:  # noqa: BLE001 - compared
                errors.append((type(exc).__name__, str(exc)))
        assert len(errors) == 2 and errors[0] == errors[1]


# ---- the garbage collector during start-up ---------------------------------------------------------------------

def test_a_run_processes_its_data_with_the_collector_on_and_start_up_frozen(tmp_path):
    (tmp_path / "in.json").write_text(json.dumps([{"x": i} for i in range(5)]))
    (tmp_path / "s.meteor").write_text(SCRIPT)
    code = ("import gc, sys\nfrom sopremo import engine\nfrom meteor.entry import main\nseen = []\n"
            "original = engine.run\n"
            "def run(*args, **kwargs):\n    seen.append((gc.isenabled(), gc.get_freeze_count()))\n"
            "    return original(*args, **kwargs)\n"
            "engine.run = run\nsys.argv = ['meteor', 'run', '-q', 's.meteor']\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
            "enabled, frozen = seen[0]\nassert enabled and frozen > 10000, seen\nprint('ok')\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
    assert json.loads((tmp_path / "out.json").read_text()) == [{"x": i} for i in range(2, 5)]


def test_pausing_the_collector_leaves_a_caller_s_choice_and_forked_children_alone(tmp_path):
    code = ("import gc, os\nfrom meteor.entry import pause_gc, resume_gc\n"
            "pause_gc()\nassert not gc.isenabled()\n"
            "read, write = os.pipe()\npid = os.fork()\n"
            "if pid == 0:\n    os.write(write, b'1' if gc.isenabled() else b'0')\n    os._exit(0)\n"
            "os.waitpid(pid, 0)\nassert os.read(read, 1) == b'1', 'a forked child runs without the collector'\n"
            "assert not gc.isenabled()\nresume_gc()\nassert gc.isenabled()\n"
            "gc.disable()\npause_gc()\nresume_gc()\nassert not gc.isenabled(), 'turned on what the caller turned off'\n"
            "print('ok')\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


# ---- meteor run without click ----------------------------------------------------------------------------------

QUICK_OR_CLICK = """if True:
    import sys
    from meteor import entry
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "click":  # what the command line did before meteor.run_command.quick_run: always click
        from meteor.cli import main as commands
        from meteor.deep_stack import call_deep
        status = call_deep(entry.invoke, commands, args)
    else:
        from meteor.run_command import quick_run
        assert quick_run(args) is not None, args
        sys.argv = ["meteor", *args]
        entry.main()
    sys.exit(status)
"""


@pytest.mark.parametrize("args, script", [
    (["run", "s.meteor"], SCRIPT),
    (["run", "-q", "--stats", "s.meteor"], SCRIPT),
    (["run", "--dry-run", "--no-optimize", "s.meteor"], SCRIPT),
    (["run", "s.meteor", "--strict"], "$a = read from 'in.json';\nwrite $a.qtty to 'out.json';\n"),
    (["run", "s.meteor"], "$a = read from 'in.json';\nwrite $a.qtty to 'out.json';\n"),
    (["run", "s.meteor"], "$a = reed from 'in.json';\n"),
    (["run", "--debug", "s.meteor"], "$a = reed from 'in.json';\n"),
    (["run", "s.meteor"], "$a = read from 'missing.json';\nwrite $a to 'out.json';\n"),
    (["run", "missing.meteor"], SCRIPT),
])
def test_a_plain_run_without_click_answers_as_click_does(tmp_path, args, script):
    (tmp_path / "in.json").write_text(json.dumps([{"x": i} for i in range(5)]))
    (tmp_path / "s.meteor").write_text(script)
    answers = []
    for mode in ("click", "quick"):
        done = subprocess.run([sys.executable, "-c", QUICK_OR_CLICK, mode, *args], cwd=tmp_path, capture_output=True,
                              text=True, timeout=120, env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")})
        out = tmp_path / "out.json"
        written = out.read_text() if out.exists() else None
        out.unlink(missing_ok=True)
        stderr = re.sub(r"\(\d+\.\d+ s\)|\d+\.\d{3}( s)?", "T", done.stderr)  # times differ
        stderr = re.sub(r'  File "[^"]*", line \d+, in \w+\n.*\n(\s*\^+\n)?', "", stderr)  # frames differ
        answers.append((done.returncode, done.stdout, stderr, written))
    assert answers[0] == answers[1]
    assert answers[0][0] in (0, 1) and ("Traceback" in answers[0][2]) == ("--debug" in args)


@pytest.mark.parametrize("args", [["run"], ["run", "--help"], ["run", "-p", "a=1", "s.meteor"], ["run", "-qq", "s"],
                                  ["run", "--", "s"], ["run", "-q", "-q", "s"], ["run", "a", "b"], ["run", "."],
                                  ["explain", "s"], ["--version"], [], ["run", "--executor", "inline", "s"]])
def test_every_other_command_line_goes_to_click(tmp_path, monkeypatch, args):
    from meteor.run_command import quick_run

    monkeypatch.chdir(tmp_path)
    assert quick_run(args) is None
