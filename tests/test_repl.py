"""Tests of the Meteor REPL: the real prompt-toolkit loop on a pipe input, session state, completion, highlighting."""

from __future__ import annotations

import io
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from meteor.cli import main
from meteor.completion import MeteorCompleter, Vocabulary
from meteor.highlight import MeteorLexer, is_complete, show_target, split_statements, tokens
from meteor.repl import Repl, run_repl, run_stream
from meteor.repl_session import ReplSession
from sopremo.package import PackageManager, SopremoPackage
from sopremo_base.selection import Selection

CALLS = [0]


def counting(value):
    """A pyudf counting its calls (to see that evaluation stops pulling records after the limit)."""
    CALLS[0] += 1
    return value


def slow(value):
    """A pyudf taking a while per record (an evaluation long enough to be cancelled from the terminal)."""
    time.sleep(0.2)
    return value


def interrupt(value):
    """A pyudf standing for the user pressing Ctrl-C in the middle of an evaluation."""
    raise KeyboardInterrupt()


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """A private HOME (for ~/.meteor_history) and working directory per test."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def drive(*keys: str, session: ReplSession | None = None) -> tuple[int, str]:
    """Run the real REPL loop on the typed ``keys`` (Enter is ``\\r``); returns (exit status, printed text)."""
    out = io.StringIO()
    with create_pipe_input() as pipe:
        for text in keys:
            pipe.send_text(text)
        status = run_repl(input=pipe, output=DummyOutput(), out=out, session=session)
    return status, out.getvalue()


def records(text: str) -> list:
    return [json.loads(line) for line in text.splitlines() if line.startswith(("{", "[", '"')) or
            line[:1].isdigit()]


def test_session_through_the_prompt_loop(home):
    status, out = drive(
        "$d = [{a: 1}, {a: 5}, {a: 7}];\r",
        "$big = filter $d\r  where $d.a > 2;\r",          # a two-line statement: Enter continues it
        "$big;\r",
        "$oops = fitler $d where $d.a > 2;\r",            # misspelled operator: suggestion, session goes on
        ":limit 1\r",
        "$big;\r",
        ":help filter\r",
        ":explain $big\r",
        "\x04")                                           # Ctrl-D
    assert status == 0
    shown, rest = out.split("unknown operator", 1)
    assert shown.endswith("a\n-\n5\n7\nerror: 1:9: ")           # a table at the terminal
    assert "did you mean 'filter'?" in rest
    assert "showing up to 1 record(s)" in rest
    assert 'a\n-\n5\n… (more)' in rest
    assert "filter $in [where <expr>]" in rest and "records where it is truthy pass" in rest
    assert "== Sopremo plan ==" in rest and "== PACT program ==" in rest and "Source $d" in rest
    history = (home / ".meteor_history").read_text()
    assert "+$big = filter $d\n+  where $d.a > 2;" in history


class Terminal:
    """``meteor`` (no arguments) on a pseudo-terminal: ``type(text)`` sends keys, ``expect(text)`` waits."""

    def __init__(self, home: Path):
        import pty

        self.master, slave = pty.openpty()
        env = dict(os.environ, HOME=str(home), TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1",
                   PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]))
        self.process = subprocess.Popen([sys.executable, "-m", "meteor.cli"], stdin=slave, stdout=slave,
                                        stderr=slave, env=env, cwd=home)
        os.close(slave)
        self.seen, self.pos = b"", 0

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def expect(self, text: str, timeout: float = 30) -> None:
        """Wait until ``text`` appears after what earlier ``expect`` calls matched."""
        end = time.monotonic() + timeout
        while (found := self.seen.find(text.encode(), self.pos)) < 0:
            assert time.monotonic() < end, f"{text!r} not shown; got {self.seen[-500:]!r}"
            if select.select([self.master], [], [], 0.1)[0]:
                self.seen += os.read(self.master, 65536)
        self.pos = found + len(text.encode())

    def prompt(self) -> None:
        """Wait for the next prompt: prompt-toolkit turns bracketed paste on each time it starts reading."""
        self.expect("\x1b[?2004h")

    def close(self) -> int:
        """The exit status (the process is killed when it does not end within 30 s)."""
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        finally:
            os.close(self.master)


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_meteor_on_a_terminal_starts_the_repl(home):
    term = Terminal(home)
    try:
        term.prompt()
        term.type(":format json\r")                 # records as lines, each shown as it comes
        term.expect("records shown as JSON, one line per record")
        term.prompt()
        for line in ("$d = [{a: 1}, {a: 5}];", "$e = filter $d", " where $d.a > 2;", "$e;",
                     f"s = pyudf('{__name__}:slow');", "$many = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];",
                     "$slow = transform $many into s($many);"):
            term.type(line + "\r")
            if line == "$e;":
                term.expect('{"a":5}')
            term.expect("...>") if line.endswith("$d") else term.prompt()
        assert b'{"a":1}' not in term.seen
        term.type("$t = fil\t")                      # Tab completes the operator name
        term.expect("filter")
        term.type(" $d whe\t")
        term.expect("where")
        term.type(" $d.a < 2;\r")
        term.prompt()
        term.type("$t;\r")
        term.expect('{"a":1}')
        term.prompt()
        term.type("$slow;\r")
        term.expect("1\r\n")
        term.process.send_signal(signal.SIGINT)     # what Ctrl-C sends while an evaluation runs
        term.expect("cancelled")
        term.prompt()
        term.type("$e;\r")
        term.expect('{"a":5}')
        term.prompt()
        term.type("\x04")
    except BaseException:
        term.process.kill()
        raise
    finally:
        status = term.close()
    assert status == 0
    assert "...> " in term.seen.decode()


def test_quit_command_and_interrupted_prompt():
    status, out = drive("$d = [1];\r", "\x03", ":quit\r", "$d;\r")
    assert status == 0
    assert "1" not in out.split("\n", 1)[1]  # nothing after :quit ran


def test_ctrl_c_cancels_the_evaluation_and_keeps_the_session():
    repl = Repl(out=io.StringIO())
    repl.handle(f"stop = pyudf('{__name__}:interrupt');\n$d = [1, 2];\n$e = transform $d into stop($d);")
    repl.handle("$e;")
    repl.handle("$d;")
    lines = repl.out.getvalue().splitlines()
    assert lines == ["cancelled", "1", "2"]


def test_evaluation_stops_pulling_after_the_limit():
    session = ReplSession(limit=3)
    session.execute(f"c = pyudf('{__name__}:counting');\n$d = {list(range(1000))};\n"
                    "$f = transform $d into c($d);")
    CALLS[0] = 0
    seen = []
    shown = session.show("f", seen.append)
    assert shown.count == 3 and shown.more
    assert seen == [b"0", b"1", b"2"]
    # the stage is pulled lazily, in growing blocks (1, 2, 4, ...): it reads ahead at most as many records
    # as were taken (limit + 1 = 4), never the whole data set
    assert CALLS[0] <= 8


def test_failed_statement_leaves_state_intact():
    repl = Repl(out=io.StringIO())
    repl.handle("$d = [{a: 1}];")
    repl.handle("$d = filter $d where $nope.a > 0;")
    repl.handle("k = 1 +;")
    repl.handle("$d;")
    out = repl.out.getvalue()
    assert "unknown variable $nope" in out and "error: 1:" in out
    assert out.rstrip().endswith('{"a":1}')
    assert repl.failed == 2


def test_statements_of_one_input_run_in_order_until_an_error():
    repl = Repl(out=io.StringIO())
    repl.handle("$a = [1]; $b = [2]; $c = fitler $a where 1; $d = [4];")
    assert set(repl.session.variables()) == {"a", "b"}


def test_write_runs_at_once_and_only_once(tmp_path):
    repl = Repl(out=io.StringIO())
    repl.handle("$d = [{a: 1}, {a: 2}];\nwrite $d to 'out.json';")
    target = tmp_path / "out.json"
    assert json.loads(target.read_text()) == [{"a": 1}, {"a": 2}]
    assert f"wrote 2 record(s) to {target}" in repl.out.getvalue()
    target.unlink()
    repl.handle("$e = filter $d where $d.a > 1;")
    assert not target.exists()


def test_load_runs_a_file_into_the_session(tmp_path):
    (tmp_path / "defs.meteor").write_text("limit = 1;\n$d = [{a: 1}, {a: 3}];\n$e = filter $d where $d.a > limit;\n")
    repl = Repl(out=io.StringIO())
    repl.handle(":load defs.meteor")
    repl.handle("$e;")
    assert repl.out.getvalue().splitlines() == ["loaded defs.meteor", '{"a":3}']
    repl.handle(":load missing.meteor")
    assert "script not found: missing.meteor" in repl.out.getvalue()


def test_using_a_package_extends_the_grammar_of_later_inputs():
    demo = SopremoPackage("demo", doc="test package")

    @demo.operator
    class Keep(Selection):
        """Selection under another verb."""
        verb = "keep"

    manager = PackageManager()
    manager.add(demo)
    repl = Repl(ReplSession(manager), io.StringIO())
    repl.handle("using demo;")
    repl.handle("$d = [{a: 1}, {a: 3}];")
    repl.handle("$k = keep $d where $d.a > 2;")
    repl.handle("$k;")
    repl.handle(":packages")
    out = repl.out.getvalue()
    assert out.startswith('{"a":3}\n')
    assert "* demo: test package" in out and "operators: keep" in out
    assert repl.failed == 0


def test_help_and_unknown_commands():
    repl = Repl(out=io.StringIO())
    repl.session.execute("square = fn(x) { x * x };")
    for text in (":help", ":help count", ":help union all", ":help fitler", ":bogus", ":limit x", ":explain",
                 ":help square"):
        repl.handle(text)
    out = repl.out.getvalue()
    assert "Commands:" in out and ":explain" in out and "Operators:" in out
    assert "count(array)  (aggregation function of package base)" in out
    assert "union all $in1, ..." in out
    assert "no operator, function or format named 'fitler'; did you mean 'filter'?" in out
    assert "unknown command :bogus" in out
    assert ":limit takes a positive number" in out
    assert "square: a function defined in this session" in out
    assert repl.failed == 4


def test_piped_script_runs_statement_by_statement():
    status = run_stream(["$d = [{a: 1},\n", "{a: 2}];\n", "$d;\n", "$x = nope $d;\n"], out=(out := io.StringIO()))
    assert status == 1
    assert out.getvalue().startswith('{"a":1}\n{"a":2}\nerror: ')


def test_cli_without_command_reads_stdin_or_prints_help():
    runner = CliRunner()
    result = runner.invoke(main, [], input="$d = [3];\n$d;\n")
    assert result.exit_code == 0 and result.output == "3\n"
    result = runner.invoke(main, [], input="")
    assert result.exit_code == 0 and "Usage:" in result.output


# ---- input helpers -----------------------------------------------------------------------------------------------

def test_statement_ends():
    assert is_complete("$d = [1];") and is_complete("  ") and is_complete(":help filter")
    assert not is_complete("$d = filter $x")
    assert not is_complete("$d = read from 'a;")
    assert not is_complete("$d = [1]; /* open")
    assert is_complete("$d = [1]; // done")
    assert not is_complete("$d = [1]; $e = 'x;'")
    assert split_statements("$a = [1];\n  $a; // c") == ["$a = [1];", " " * 9 + "\n  $a;"]
    assert split_statements("x = 'a;b'; $y // c") == ["x = 'a;b';", "           $y // c\n;"]
    assert split_statements("$y") == ["$y;"]
    assert show_target("\n  $a /* it */ ;") == "a" and show_target("$a = 1;") is None


# ---- completion --------------------------------------------------------------------------------------------------

def complete(text: str, session: ReplSession | None = None) -> dict[str, str]:
    session = session or ReplSession()
    completer = MeteorCompleter(lambda: Vocabulary.of(session), session.workdir)
    found = completer.get_completions(Document(text), CompleteEvent(completion_requested=True))
    return {c.text: c.display_meta_text for c in found}


def test_complete_operator_names_including_multi_word():
    assert complete("$x = fil")["filter"] == "operator"
    assert {"split array", "split object", "split value"} <= set(complete("$x = spl"))
    assert set(complete("$x = split ")) >= {"array", "object", "value"}
    assert "all" in complete("$x = union al") and "all" in complete("$x = replace a")


def test_complete_property_words_after_an_operator():
    assert complete("$x = filter $d wh") == {"where": "property of filter"}
    assert {"on", "order"} <= set(complete("$s = sort $d o"))
    assert complete("$s = sort $d on [$d.a de")["desc"] == "direction of a key of sort"
    assert complete("$s = sort $d on $d.a li")["limit"] == "property of sort"
    assert "retain value in" in complete("$e = enumerate $d re")
    assert "value in" in complete("$e = enumerate $d retain v")
    assert "where" not in complete("$s = sort $d wh")


def test_complete_variables_functions_constants_and_commands():
    session = ReplSession()
    session.execute("$orders = [1]; $other = [2]; square = fn(x) { x * x }; limit = 3;")
    assert complete("$y = filter $o", session) == {"$orders": "data set", "$other": "data set"}
    assert complete("$y = transform $orders into squ", session)["square"] == "function"
    assert complete("$y = transform $orders into co", session)["count"] == "function"
    assert complete("$y = transform $orders into lim", session)["limit"] == "constant"
    assert complete("$y = transform $orders into P", session)["PI"] == "constant"
    assert set(complete(":he")) == {":help"} and "filter" in complete(":help fi")
    assert complete(":explain $or", session) == {"$orders": "data set"}
    assert "base" in complete("using ba")
    assert "jsonl" in complete("$r = read js")


def test_complete_file_paths_inside_quotes(tmp_path):
    (tmp_path / "orders.json").write_text("[]")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "lineitem.jsonl").write_text("")
    assert set(complete("$o = read from 'or")) == {"ders.json"}
    assert set(complete('$o = read from "data/li')) == {"neitem.jsonl"}
    assert "orders.json" in complete(":load ")
    assert complete("$o = [1]; // fil") == {}


# ---- highlighting ------------------------------------------------------------------------------------------------

def test_highlight_classes():
    keywords = Vocabulary.of(ReplSession()).keywords()
    assert {"filter", "where", "read", "union", "all", "retain", "columns", "limit", "desc", "asc"} <= keywords
    pieces = [p for p in tokens("$x = filter $d where count($d.a) > 2.5 // note\n and 'a' in \"b\"", keywords)
              if p[0]]
    assert pieces == [("variable", "$x"), ("keyword", "filter"), ("variable", "$d"), ("keyword", "where"),
                      ("function", "count"), ("variable", "$d"), ("name", "a"), ("number", "2.5"),
                      ("comment", "// note"), ("keyword", "and"), ("string", "'a'"), ("keyword", "in"),
                      ("string", '"b"')]
    assert tokens(":help filter", keywords)[:1] == [("command", ":help")]
    assert [p for p in tokens("sort($r.value) fn(x) {x}", keywords) if p[0]][:4] == [
        ("function", "sort"), ("variable", "$r"), ("name", "value"), ("keyword", "fn")]


def test_lexer_splits_multi_line_tokens():
    lexer = MeteorLexer(lambda: {"filter"})
    get_line = lexer.lex_document(Document("$a = /* two\nlines */ filter $b;"))
    assert get_line(0) == [("class:variable", "$a"), ("", " "), ("", "="), ("", " "), ("class:comment", "/* two")]
    assert get_line(1)[:3] == [("class:comment", "lines */"), ("", " "), ("class:keyword", "filter")]
    assert get_line(5) == []
