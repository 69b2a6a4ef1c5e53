"""The REPL as a user at a terminal meets it (a pseudo-terminal): expressions, tables, field completion, history."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from meteor.completion import field_names
from meteor.repl import Repl
from meteor.repl_session import ReplSession
from test_repl import Terminal

EMPLOYEES = [{"name": "Ann", "salary": 3000, "address": {"city": "Oslo", "zip": "0150"}},
             {"name": "Bob", "salary": 2000, "address": {"city": "Bergen"}, "tags": [{"label": "new"}]}]


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("METEOR_HISTORY", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_expressions_tables_field_completion_and_history_at_a_terminal(home, monkeypatch):
    (home / "emps.json").write_text(json.dumps(EMPLOYEES))
    monkeypatch.setenv("METEOR_HISTORY", str(home / "hist" / "meteor.txt"))
    (home / "hist").mkdir()
    term = Terminal(home)
    try:
        term.prompt()
        term.type("1 + 2 * 20;\r")                           # an expression statement shows its value
        term.expect("41\r\n")
        term.prompt()
        term.type("x = 40;\r")
        term.prompt()
        term.type("upper_case('ab') + x;\r")                  # constants and functions of the session
        term.expect('"AB40"\r\n')
        term.prompt()
        term.type("x + 2;\r")
        term.expect("42\r\n")
        term.prompt()
        term.type("y;\r")
        term.expect("unknown constant 'y'")
        term.prompt()
        term.type("$e = read from 'emps.json';\r")
        term.prompt()
        term.type("$f = filter $e where $e.sal\t")             # completes the field from a sample of $e
        term.expect(".sal")
        term.expect("ary")                                     # the completion, drawn after what was typed
        term.type(" > 2500;\r")
        term.prompt()
        term.type("$c = transform $e into {c: $e.address.ci\t")  # and fields of nested objects
        term.expect(".ci")
        term.expect("ty")
        term.type("};\r")
        term.prompt()
        term.type("$f;\r")                                     # records as a table at the terminal
        term.expect("name | salary | address")
        term.expect('Ann  | 3000   | {"city":"Oslo","zip":"0150"}')
        term.prompt()
        term.type("$c;\r")
        term.expect("c\r\n------\r\nOslo\r\nBergen\r\n")
        term.prompt()
        term.type(":format json\r")
        term.prompt()
        term.type("$c;\r")
        term.expect('{"c":"Oslo"}\r\n{"c":"Bergen"}')
        term.prompt()
        term.type("\x04")
    except BaseException:
        term.process.kill()
        raise
    finally:
        status = term.close()
    assert status == 0
    history = (home / "hist" / "meteor.txt").read_text()  # METEOR_HISTORY moved the history file
    assert "+1 + 2 * 20;" in history and "+$f = filter $e where $e.salary > 2500;" in history
    assert not (home / ".meteor_history").exists()


def test_expressions_keep_their_lines_and_columns_in_errors():
    repl = Repl(ReplSession(), out=io.StringIO(), source="<stdin>")
    repl.handle("\n\n  1 + ;")
    repl.handle("\n\n\n  nosuch(2);")
    out = repl.out.getvalue()
    assert "<stdin>:3:7: unexpected ';'" in out
    assert "<stdin>:4:3: unknown function 'nosuch'" in out
    assert repl.failed == 2


def test_a_statement_with_a_typo_reports_its_own_error_not_an_expression_one():
    repl = Repl(ReplSession(), out=io.StringIO())
    repl.handle("$d = [1];")
    repl.handle("$e = fitler $d;")
    assert "unknown operator 'fitler'; did you mean 'filter'?" in repl.out.getvalue()


def test_format_command_and_limit_in_tables():
    session = ReplSession(limit=2)
    repl = Repl(session, out=io.StringIO())
    repl.handle(":format table")
    repl.handle("$d = [{k: 1, v: 'a'}, {k: 2}, {k: 3}];")
    repl.handle("$d;")
    repl.handle(":format csv")
    repl.handle(":help")
    out = repl.out.getvalue()
    assert f"History: {Path.home() / '.meteor_history'} (set METEOR_HISTORY to move it" in out
    assert "k | v\n--+--\n1 | a\n2 |\n… (more)\n" in out
    assert "error: :format takes table or json, got 'csv'" in out


def test_field_names_follow_paths_through_objects_and_arrays():
    assert field_names(EMPLOYEES, "") == ["name", "salary", "address", "tags"]
    assert field_names(EMPLOYEES, ".address") == ["city", "zip"]
    assert field_names(EMPLOYEES, ".tags[0]") == ["label"]
    assert field_names(EMPLOYEES, ".name") == []


def test_history_file_setting(monkeypatch, home):
    from meteor.repl import history_file

    assert history_file() == str(home / ".meteor_history")
    monkeypatch.setenv("METEOR_HISTORY", "~/h.txt")
    assert history_file() == str(home / "h.txt")
    monkeypatch.setenv("METEOR_HISTORY", "")
    assert history_file() is None


def test_fields_complete_after_a_variable_and_after_an_alias_of_it():
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    from meteor.completion import MeteorCompleter, Vocabulary

    session = ReplSession()
    session.execute(f"$e = {json.dumps(EMPLOYEES)};")
    sampled = []

    def sample(name):
        sampled.append(name)
        return session.sample(name)

    completer = MeteorCompleter(lambda: Vocabulary.of(session), session.workdir, sample)

    def complete(text):
        return [c.text for c in completer.get_completions(Document(text), CompleteEvent(completion_requested=True))]

    assert complete("$f = filter $e where $e.") == ["name", "salary", "address", "tags"]
    assert complete("$j = join $x in $e, $y in $e where $x.address.") == ["city", "zip"]
    assert complete("$t = transform $e into $e.tags[0].la") == ["label"]
    assert complete("$t = transform $nosuch into $nosuch.") == []  # no such data set: nothing, no error
    assert sampled == ["e", "e", "e", "nosuch"]
