"""Bad input and failed runs: malformed data names file and line, missing inputs name the path, and a failed
run leaves an existing output untouched (DESIGN.md, "Errors and data safety").

Each case runs twice: at the Sopremo level (Source -> Sink through to_pact and the InlineExecutor) and as a
Meteor script through ``meteor.api.run_script``.
"""

from __future__ import annotations

import json
import os

import pytest

from sopremo.errors import DataError, InputNotFoundError, OutputError
from sopremo.io import Sink, Source
from sopremo.operator import SopremoPlan

GOOD_LINES = 30000  # about 1.8 MB, more than one 1 MiB write buffer: the sink has written when it fails


def run_copy(source_path: str, target_path: str) -> None:
    """Copy ``source_path`` to ``target_path`` through a Source -> Sink plan on the inline executor."""
    from pact_backend.executors.inline import InlineExecutor
    from sopremo.to_pact import to_pact

    source = Source(path=source_path)
    sink = Sink(inputs=[source.output()], path=target_path)
    InlineExecutor().run(to_pact(SopremoPlan(sinks=[sink])))


def run_meteor(source_path: str, target_path: str) -> None:
    """The same copy as a Meteor script (with a filter, so the records pass an operator)."""
    from meteor.api import run_script

    run_script(f"$in = read from '{source_path}';\n"
               f"$kept = filter $in where $in.i > -100;\n"
               f"write $kept to '{target_path}';\n", path="copy.meteor")


RUNNERS = [pytest.param(run_copy, id="sopremo"), pytest.param(run_meteor, id="meteor")]


def late_bad_input(directory) -> str:
    path = directory / "late_bad.jsonl"
    with open(path, "w") as out:
        for i in range(GOOD_LINES):
            out.write(f'{{"i": {i}, "pad": "{"x" * 40}"}}\n')
        out.write('{"i": -1, "pad": \n')
    return str(path)


@pytest.mark.parametrize("run", RUNNERS)
def test_malformed_json_line_names_file_and_line(tmp_path, run):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"i": 1}\n{"i": 2}\n{"i": 3,, }\n{"i": 4}\n')
    with pytest.raises(DataError) as info:
        run(str(bad), str(tmp_path / "out.json"))
    assert info.value.path == str(bad) and info.value.line == 3
    assert f"{bad}:3" in str(info.value)
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize("run", RUNNERS)
def test_malformed_json_array_element_names_line(tmp_path, run):
    bad = tmp_path / "bad.json"
    bad.write_text('[\n{"i": 1},\n{"i": 2},\n{"i": tru}\n]\n')
    with pytest.raises(DataError) as info:
        run(str(bad), str(tmp_path / "out.json"))
    assert info.value.path == str(bad) and info.value.line == 4


@pytest.mark.parametrize("run", RUNNERS)
def test_missing_input_names_the_path(tmp_path, run):
    missing = tmp_path / "no_such_input.json"
    with pytest.raises(InputNotFoundError) as info:
        run(str(missing), str(tmp_path / "out.json"))
    assert str(missing) in str(info.value)
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize("run", RUNNERS)
def test_failed_run_leaves_existing_output_intact(tmp_path, run):
    source = late_bad_input(tmp_path)
    target = tmp_path / "out.json"
    target.write_text('["the good old output"]\n')
    with pytest.raises(DataError) as info:
        run(source, str(target))
    assert info.value.line == GOOD_LINES + 1
    assert target.read_text() == '["the good old output"]\n'
    assert sorted(os.listdir(tmp_path)) == ["late_bad.jsonl", "out.json"]


@pytest.mark.parametrize("run", RUNNERS)
def test_missing_output_directory(tmp_path, run):
    source = tmp_path / "in.jsonl"
    source.write_text('{"i": 1}\n')
    with pytest.raises(OutputError, match="does not exist"):
        run(str(source), str(tmp_path / "no" / "such" / "dir" / "out.json"))


@pytest.mark.parametrize("run", RUNNERS)
def test_successful_run_replaces_output(tmp_path, run):
    source = tmp_path / "in.jsonl"
    source.write_text('{"i": 1}\n{"i": -1}\n{"i": 2}\n')
    target = tmp_path / "out.json"
    target.write_text("old")
    run(str(source), str(target))
    assert json.loads(target.read_text()) == [{"i": 1}, {"i": -1}, {"i": 2}]
    assert sorted(os.listdir(tmp_path)) == ["in.jsonl", "out.json"]
