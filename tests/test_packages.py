"""Package discovery (entry points, package path, METEOR_PACKAGE_PATH), load errors, duplicates, help texts."""

from __future__ import annotations

import sys
import textwrap
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

import sopremo.api
import sopremo.package as package_module
from meteor.frontend import compile_script
from meteor.help import HelpError, help_text, overview, signature, syntax
from pact_backend.executors.inline import InlineExecutor
from sopremo.package import PATH_ENV, PackageError, PackageManager, path_modules
from sopremo.to_pact import to_pact

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_SRC = ROOT / "examples" / "custom_package" / "src"

GREET = '''
from sopremo.api import SopremoPackage
package = SopremoPackage({name!r}, doc="greetings")

@package.function(min_args=1, max_args=1, doc="hello + name")
def hello(name):
    return "hello " + name
'''


@pytest.fixture(autouse=True)
def isolated_imports(monkeypatch, tmp_path):
    """Undo what loading package-path modules does to sys.modules and sys.path."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delenv(PATH_ENV, raising=False)
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:  # only the package-path modules: others must keep their identity
        file = getattr(sys.modules[name], "__file__", None) or ""
        if file.startswith((str(tmp_path), str(EXAMPLE_SRC))):
            del sys.modules[name]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_module_on_the_path_is_a_package_under_its_own_name(tmp_path):
    write(tmp_path / "greetmod.py", GREET.format(name="greet"))
    manager = PackageManager([tmp_path], env=False)
    assert manager.get("greet").functions["hello"]("ann") == "hello ann"
    assert "greet" in manager.available() and "base" in manager.available()


def test_a_python_package_directory_with_relative_imports(tmp_path):
    write(tmp_path / "mypkg" / "__init__.py", "from .impl import package\n")
    write(tmp_path / "mypkg" / "impl.py", GREET.format(name="mine"))
    assert PackageManager([tmp_path], env=False).get("mine").name == "mine"


def test_candidates_skip_private_helpers_and_non_identifiers(tmp_path):
    for name in ("a.py", "_private.py", "not-ident.py", "notes.txt"):
        write(tmp_path / name, "")
    write(tmp_path / "pkg" / "__init__.py", "")
    (tmp_path / "plain_dir").mkdir()
    assert [name for name, _ in path_modules(tmp_path)] == ["a", "pkg"]


def test_modules_without_package_are_skipped(tmp_path):
    write(tmp_path / "helper_only.py", "VALUE = 1\n")
    manager = PackageManager([tmp_path], env=False)
    assert manager.failures() == [] and "helper_only" not in manager.available()


def test_environment_variable_is_a_pathsep_list(tmp_path, monkeypatch):
    write(tmp_path / "one" / "first_mod.py", GREET.format(name="first"))
    write(tmp_path / "two" / "second_mod.py", GREET.format(name="second"))
    monkeypatch.setenv(PATH_ENV, f"{tmp_path / 'one'}{__import__('os').pathsep}{tmp_path / 'two'}")
    manager = PackageManager()
    assert {"first", "second"} <= set(manager.available())
    assert manager.search_path() == [tmp_path / "one", tmp_path / "two"]


def test_a_script_uses_a_path_package_end_to_end(tmp_path):
    manager = PackageManager([EXAMPLE_SRC], env=False)
    out = tmp_path / "out.json"
    script = f"using example;\n$p = [{{name: 'ann'}}];\n$s = stamp $p with shout($p.name);\nwrite $s to '{out}';"
    InlineExecutor().run(to_pact(compile_script(script, manager=manager)))
    assert out.read_text().split() == ['[', '{"name":"ann","stamp":"ANN!"}', ']']


def test_a_module_that_fails_to_import_is_named_with_the_reason(tmp_path):
    write(tmp_path / "broken_mod.py", "raise ZeroDivisionError('boom')\n")
    manager = PackageManager([tmp_path], env=False)
    with pytest.raises(PackageError, match=r"broken_mod \(.*broken_mod.py\) failed to load: ZeroDivisionError: boom"):
        manager.get("broken_mod")
    with pytest.raises(PackageError, match="unknown package 'other'.*broken_mod.*boom"):
        manager.get("other")
    assert "broken_mod" not in sys.modules


def test_package_that_is_not_a_sopremo_package(tmp_path):
    write(tmp_path / "wrong_mod.py", "package = 42\n")
    (failure,) = PackageManager([tmp_path], env=False).failures()
    assert "wrong_mod" in failure and "'package' is a int, not a SopremoPackage" in failure


def test_a_module_shadowing_an_imported_module_is_refused(tmp_path):
    write(tmp_path / "json.py", GREET.format(name="fake_json"))
    (failure,) = PackageManager([tmp_path], env=False).failures()
    assert "json" in failure and "already imported module 'json'" in failure


def test_a_missing_path_directory_is_reported(tmp_path):
    (failure,) = PackageManager([tmp_path / "nope"], env=False).failures()
    assert "is not a directory" in failure and "nope" in failure


def test_two_path_packages_with_one_name_name_both(tmp_path):
    write(tmp_path / "a" / "dup_one.py", GREET.format(name="dup"))
    write(tmp_path / "b" / "dup_two.py", GREET.format(name="dup"))
    manager = PackageManager([tmp_path / "a", tmp_path / "b"], env=False)
    with pytest.raises(PackageError, match=r"two packages are named 'dup': dup_one \(.*\) and dup_two \(.*\)"):
        manager.get("dup")


def test_a_path_package_and_an_entry_point_with_one_name(tmp_path):
    write(tmp_path / "my_base.py", GREET.format(name="base"))
    with pytest.raises(PackageError, match=r"two packages are named 'base': my_base .* and entry point sopremo_base"):
        PackageManager([tmp_path], env=False).get("base")


def test_the_same_directory_twice_is_one_package():
    manager = PackageManager([EXAMPLE_SRC, EXAMPLE_SRC], env=False)
    assert manager.get("example").name == "example"


def _fake_entry_points(monkeypatch, *eps: EntryPoint) -> None:
    real = package_module.entry_points
    monkeypatch.setattr(package_module, "entry_points", lambda group: [*real(group=group), *eps])


def test_an_entry_point_that_fails_to_load(monkeypatch):
    _fake_entry_points(monkeypatch, EntryPoint("ghost", "no_such_module_xyz:package", "meteor.packages"))
    with pytest.raises(PackageError, match=r"package 'ghost' \(entry point no_such_module_xyz:package\) failed "
                                           r"to load: ModuleNotFoundError"):
        PackageManager(env=False).get("ghost")


def test_an_entry_point_name_must_be_the_package_name(monkeypatch):
    _fake_entry_points(monkeypatch, EntryPoint("alias", "sopremo_base:package", "meteor.packages"))
    with pytest.raises(PackageError, match="is named 'base'; the entry point name must be the package name"):
        PackageManager(env=False).get("alias")


def test_unknown_package_suggests_close_names():
    with pytest.raises(PackageError, match="unknown package 'bsae'; did you mean 'base'"):
        PackageManager(env=False).get("bsae")


def test_public_api_exports_what_a_package_author_needs():
    for name in sopremo.api.__all__:
        assert getattr(sopremo.api, name) is not None, name
    source = (EXAMPLE_SRC / "meteor_example" / "__init__.py").read_text()
    imports = [line for line in source.splitlines() if line.startswith(("from ", "import "))]
    assert all(line.startswith(("from __future__", "from typing", "from sopremo.api ")) for line in imports)


def test_syntax_lines_come_from_metadata():
    base = PackageManager(env=False).get("base")
    assert syntax(base.operators["filter"]) == "filter $in [where <expr>]"
    assert syntax(base.operators["join"]).startswith("join $in1, $in2, ... [where <expr>]")
    assert syntax(base.operators["group"]) == "group $in1 [by <expr>][, $in2 [by <expr>]] [into <expr>]"
    assert syntax(base.operators["sort"]) == ("sort $in [on <expr> [asc|desc|ascending|descending]] "
                                              "[order 'ASCENDING'|'DESCENDING'|'asc'|'desc'] [limit <value>]")
    assert signature("extract", base.functions["extract"]) == "extract(text, pattern[, default])"
    assert signature("concat", base.functions["concat"]) == "concat(values...)"


def test_help_text_of_operators_functions_and_formats():
    manager = PackageManager([EXAMPLE_SRC], env=False)
    text = help_text("stamp", manager)
    assert "stamp $in with <expr>" in text and "with <expr>  (required)" in text
    assert "shout(text)  (function of package example)" in help_text("shout", manager)
    assert "delimiter <value>" in help_text("csv", manager)
    both = help_text("filter", manager)
    assert "operator of package base" in both and "filter(array, predicate)" in both
    assert "stamp" in overview(manager)
    with pytest.raises(HelpError, match="did you mean 'stamp'"):
        help_text("stmap", manager)
    with pytest.raises(HelpError):
        help_text("example:filter", manager)


def test_a_reached_package_is_found_only_with_its_prefix_until_used():
    from sopremo.registry import UnknownNameError
    from sopremo.scope import Scope

    scope = Scope()
    assert "levenshtein" not in scope.functions
    assert scope.functions.lookup("levenshtein", "cleansing").name == "levenshtein"  # reached on demand
    assert scope.reached == ["cleansing"] and "levenshtein" not in scope.functions.names()
    with pytest.raises(UnknownNameError):
        scope.functions.lookup("levenshtein")
    with pytest.raises(UnknownNameError) as info:
        scope.functions.lookup("x", "cleansng")
    assert info.value.kind == "package" and info.value.suggestions == ["cleansing"]
    scope.use("cleansing")
    assert scope.functions.lookup("levenshtein").name == "levenshtein" and scope.reached == []
    assert scope.packages == ["base", "cleansing"]
