"""The ``meteor`` command line through click's CliRunner: run, explain, packages, help; exit codes and messages."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import meteor.cli
import meteor.frontend
from sopremo.package import PATH_ENV, PackageManager

EXAMPLE_SRC = Path(__file__).resolve().parents[1] / "examples" / "custom_package" / "src"


@pytest.fixture(autouse=True)
def fresh_manager(monkeypatch, tmp_path):
    """Every test gets its own package manager (``--package-path`` adds to it) and runs in ``tmp_path``."""
    manager = PackageManager()
    monkeypatch.setattr(meteor.cli, "PACKAGES", manager)
    monkeypatch.setattr(meteor.frontend, "PACKAGES", manager)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delenv(PATH_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    before = set(sys.modules)
    yield manager
    for name in set(sys.modules) - before:  # only the package-path modules: others must keep their identity
        file = getattr(sys.modules[name], "__file__", None) or ""
        if file.startswith((str(tmp_path), str(EXAMPLE_SRC))):
            del sys.modules[name]


def invoke(*args: str):
    return CliRunner().invoke(meteor.cli.main, list(args))


def script(text: str, name: str = "s.meteor") -> str:
    Path(name).write_text(text, encoding="utf-8")
    return name


def test_run_writes_the_output():
    path = script("$a = [{x: 1}, {x: 5}];\n$b = filter $a where $a.x > 2;\nwrite $b to 'out.json';")
    result = invoke("run", path)
    assert result.exit_code == 0, result.output
    assert json.loads(Path("out.json").read_text()) == [{"x": 5}]


def test_a_syntax_error_names_file_line_column_without_traceback():
    path = script("$a = [1];\n$b = fitler $a where $a > 1;\n")
    result = invoke("run", path)
    assert result.exit_code == 1
    assert "error: s.meteor:2:" in result.output and "did you mean 'filter'" in result.output
    assert "Traceback" not in result.output


def test_debug_shows_the_traceback():
    result = invoke("run", script("$b = fitler $a;"), "--debug")
    assert result.exit_code == 1 and "Traceback" in result.output


def test_a_missing_script_is_a_user_error():
    result = invoke("run", "nope.meteor")
    assert result.exit_code == 1 and "script not found: nope.meteor" in result.output
    assert "Traceback" not in result.output


def test_param_defines_constants_json_or_text():
    path = script("$a = [{x: 1}];\n$b = transform $a into {n: limit + 1, who: who};\nwrite $b to 'out.json';")
    result = invoke("run", path, "--param", "limit=41", "-p", "who=ann")
    assert result.exit_code == 0, result.output
    assert json.loads(Path("out.json").read_text()) == [{"n": 42, "who": "ann"}]


def test_a_param_integer_beyond_64_bits_stays_exact():
    path = script("$a = [{x: 1}];\n$b = transform $a into {n: big + 1};\nwrite $b to 'out.json';")
    result = invoke("run", path, "--param", f"big={2**70}")
    assert result.exit_code == 0, result.output
    assert Path("out.json").read_text().count(str(2**70 + 1)) == 1


def test_a_malformed_param_is_a_usage_error():
    result = invoke("run", script("$a = [1];"), "--param", "no-equals-sign")
    assert result.exit_code == 2 and "expected name=value" in result.output


def test_dry_run_plans_without_writing():
    path = script("$a = [{x: 1}];\nwrite $a to 'out.json';")
    result = invoke("run", path, "--dry-run")
    assert result.exit_code == 0 and "ok (1 output(s))" in result.output
    assert not Path("out.json").exists()


def test_dry_run_still_reports_bind_errors():
    result = invoke("run", script("$a = [1];\nwrite $nothing to 'out.json';"), "--dry-run")
    assert result.exit_code == 1 and "$nothing" in result.output


def test_explain_prints_both_plans():
    result = invoke("explain", script("$a = [{x: 1}];\n$b = filter $a where $a.x > 0;\nwrite $b to 'o.json';"))
    assert result.exit_code == 0, result.output
    assert "== Sopremo plan ==" in result.output and "== PACT program ==" in result.output


def test_packages_lists_base_with_operators_and_functions():
    result = invoke("packages")
    assert result.output.startswith("base: ")
    assert "  operators: " in result.output and "filter" in result.output and "camelCase" in result.output
    assert "base" not in "".join(line for line in result.output.splitlines() if line.startswith("error:"))


def test_package_path_option_on_run_packages_and_help():
    path = script("using example;\n$a = [{n: 'x'}];\n$b = stamp $a with shout($a.n);\nwrite $b to 'o.json';")
    result = invoke("run", "--package-path", str(EXAMPLE_SRC), path)
    assert result.exit_code == 0, result.output
    assert json.loads(Path("o.json").read_text()) == [{"n": "x", "stamp": "X!"}]
    listing = invoke("packages", "--package-path", str(EXAMPLE_SRC)).output
    assert "example: an example package" in listing and "operators: stamp" in listing
    assert "stamp $in with <expr>" in invoke("help", "--package-path", str(EXAMPLE_SRC), "stamp").output


def test_package_path_from_the_environment(monkeypatch):
    monkeypatch.setenv(PATH_ENV, str(EXAMPLE_SRC))
    path = script("using example;\n$a = [{n: 'x'}];\n$b = stamp $a with 1;\nwrite $b to 'o.json';")
    assert invoke("run", path).exit_code == 0
    assert json.loads(Path("o.json").read_text()) == [{"n": "x", "stamp": 1}]


def test_a_package_path_that_does_not_exist_is_a_usage_error():
    result = invoke("run", "--package-path", "no/such/dir", script("$a = [1];"))
    assert result.exit_code == 2 and "no/such/dir" in result.output


def test_a_broken_package_names_itself_and_why(tmp_path):
    (tmp_path / "pkgs").mkdir()
    (tmp_path / "pkgs" / "broken.py").write_text("import no_such_dependency_xyz\n")
    path = script("using broken;\n$a = [1];\nwrite $a to 'o.json';")
    result = invoke("run", "--package-path", "pkgs", path)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "package module broken" in result.output and "No module named 'no_such_dependency_xyz'" in result.output
    listed = invoke("packages", "--package-path", "pkgs")
    assert listed.exit_code == 1 and "error: package module broken" in listed.output


def test_two_packages_with_one_name_through_the_cli(tmp_path):
    for folder in ("p1", "p2"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / f"twin_{folder}.py").write_text(
            "from sopremo.api import SopremoPackage\npackage = SopremoPackage('twin')\n")
    path = script("using twin;\n$a = [1];\nwrite $a to 'o.json';")
    result = invoke("run", "--package-path", "p1", "--package-path", "p2", path)
    assert result.exit_code == 1
    assert "two packages are named 'twin'" in result.output and "twin_p1" in result.output and "twin_p2" in result.output


def test_help_for_an_operator_a_multiword_operator_and_all():
    result = invoke("help", "filter")
    assert result.exit_code == 0 and "  filter $in [where <expr>]" in result.output
    assert "where <expr>  condition over the record; records where it is truthy pass (default: all pass)" \
        in result.output
    assert "on <expr>       (required) path of the value" in invoke("help", "replace").output
    assert "union all $in1, ..." in invoke("help", "union", "all").output
    overview = invoke("help").output
    assert "package base" in overview and "transform" in overview and "functions: " in overview


def test_help_for_an_unknown_name_suggests():
    result = invoke("help", "transfrom")
    assert result.exit_code == 1 and "did you mean 'transform'" in result.output
