"""Errors that point where the mistake is, run as a user would (``meteor`` in a subprocess): functions and
operators of packages not in scope, unused ``--param`` names, the caret of an unknown operator, unterminated
strings, and lines of a script piped to stdin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def meteor(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "meteor", *args], cwd=cwd, input=stdin, capture_output=True,
                          text=True, timeout=120)


def run_script(tmp_path: Path, text: str, *options: str) -> subprocess.CompletedProcess:
    (tmp_path / "s.meteor").write_text(text)
    return meteor(tmp_path, "run", "-q", *options, "s.meteor")


def error_lines(done: subprocess.CompletedProcess, stream: str = "stderr") -> list[str]:
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    return getattr(done, stream).splitlines()


def test_a_function_of_an_installed_package_not_in_scope_says_which_using_to_add(tmp_path):
    done = run_script(tmp_path, "$a = [{n: 'x'}];\n$b = transform $a into {s: jaroWinkler($a.n, 'y')};\n"
                                "write $b to 'out.json';\n")
    first = error_lines(done)[0]
    assert first.startswith("error: s.meteor:2:28: unknown function 'jaroWinkler'")
    assert "add 'using cleansing;'" in first


def test_the_same_function_with_using_runs(tmp_path):
    done = run_script(tmp_path, "using cleansing;\n$a = [{n: 'martha'}];\n"
                                "$b = transform $a into {s: jaroWinkler($a.n, 'marhta')};\nwrite $b to 'out.json';\n")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("statement, verb", [("$b = detect duplicates $a where true;", "detect duplicates"),
                                             ("$b = scrub $a with rules {};", "scrub")])
def test_an_operator_of_a_package_not_in_scope_says_which_using_to_add(tmp_path, statement, verb):
    lines = error_lines(run_script(tmp_path, f"$a = [1];\n{statement}\nwrite $b to 'out.json';\n"))
    assert lines[0].startswith(f"error: s.meteor:2:6: unknown operator '{verb}' (it is in package 'cleansing': "
                               f"add 'using cleansing;'")
    assert lines[2] == "         ^"


def test_the_caret_of_an_unknown_operator_points_at_the_operator(tmp_path):
    lines = error_lines(run_script(tmp_path, "$a = [1];\n$b = fitler $a where $a > 0;\nwrite $b to 'out.json';\n"))
    assert lines == ["error: s.meteor:2:6: unknown operator 'fitler'; did you mean 'filter'?",
                     "    $b = fitler $a where $a > 0;",
                     "         ^"]


def test_an_unused_param_is_reported_with_the_closest_script_constant(tmp_path):
    done = run_script(tmp_path, "limit = 1;\n$a = [1, 2, 3];\n$b = filter $a where $a > limit;\n"
                                "write $b to 'out.json';\n", "--param", "limt=2", "--param", "extra=x")
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "warning: s.meteor: parameter 'limt' is not used by the script; did you mean 'limit'?",
        "warning: s.meteor: parameter 'extra' is not used by the script"]
    assert (tmp_path / "out.json").read_text().split() == ["[", "2,", "3", "]"]  # limit stayed 1


def test_params_the_script_uses_or_overrides_are_not_reported(tmp_path):
    (tmp_path / "in.json").write_text("[1, 2, 3]")
    done = run_script(tmp_path, "limit = 1;\n$a = read from src;\n$b = filter $a where $a > limit;\n"
                                "write $b to 'out.json';\n", "-p", "src=in.json", "-p", "limit=2")
    assert done.returncode == 0 and done.stderr == ""
    assert (tmp_path / "out.json").read_text().split() == ["[", "3", "]"]


def test_an_unterminated_string_is_reported_where_it_starts(tmp_path):
    lines = error_lines(run_script(tmp_path, "$a = [1,\n  'abc];\nwrite $a to 'out.json';\n"))
    assert lines[0].startswith("error: s.meteor:2:3: unterminated string?")
    assert "line 3" in lines[0]
    assert lines[1:] == ["      'abc];", "      ^"]


def test_a_string_left_open_at_the_end_is_reported_where_it_starts(tmp_path):
    lines = error_lines(run_script(tmp_path, "$a = [1];\nwrite $a to 'out.json;\n"))
    assert lines == ["error: s.meteor:2:13: unterminated string: no closing ' before the end of the script",
                     "    write $a to 'out.json;", "                ^"]


def test_a_script_on_stdin_reports_errors_by_line_of_the_input(tmp_path):
    bad = "$c = transform $b into {x: $b +* 1};"
    done = meteor(tmp_path, stdin=f"$a = [1, 2];\n$b = filter $a where $a > 1;\n\n{bad}\n")
    lines = error_lines(done, "stdout")  # the statements' output and errors, in order
    column = bad.index("*") + 1
    assert lines[0].startswith(f"error: <stdin>:4:{column}: unexpected '*'")
    assert lines[1:3] == [f"    {bad}", " " * (3 + column) + "^"]


def test_statements_after_the_first_on_a_stdin_line_keep_their_columns(tmp_path):
    done = meteor(tmp_path, stdin="$a = [1];\n$b = [2]; $c = fitler $a;\n")
    assert error_lines(done, "stdout")[0].startswith("error: <stdin>:2:16: unknown operator 'fitler'")
