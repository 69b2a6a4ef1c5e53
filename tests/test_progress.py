"""Progress on stderr (issue 3, item 7): per-stage lines with tasks, records, bytes and elapsed time on a terminal,
per-contract lines inline, nothing with ``--quiet`` or when stderr is no terminal; and ``meteor run --stats`` on
the process executor shows records in/out and seconds per operator."""

from __future__ import annotations

import io
import json
import re

from click.testing import CliRunner

from meteor.cli import main
from pact_backend import contracts as pact
from pact_backend.executors.inline import InlineExecutor
from pact_backend.executors.process import ProcessExecutor
from pact_backend.progress import BarProgress, NoProgress, human_bytes, progress_for
from test_process_executor import Collect, Numbers, k_of

SCRIPT = """$r = read from 'in.json';
$g = group $r by $r.k into {k: $r[0].k, n: count($r)};
write $g to 'out.json';
"""


class FakeTerminal(io.StringIO):
    """A text stream that claims to be a terminal."""

    def isatty(self) -> bool:
        return True


def counting_plan() -> pact.PactPlan:
    source = pact.Source("numbers", input_format=Numbers(9000))
    count = lambda k, g: [{"k": k, "n": len(g)}]  # noqa: E731
    counted = pact.Reduce("counted", [source], key=k_of, udf=count)
    return pact.PactPlan([pact.Sink("out", [counted], output_format=Collect())])


def test_only_a_terminal_without_quiet_gets_progress():
    assert isinstance(progress_for(FakeTerminal()), BarProgress)
    assert type(progress_for(FakeTerminal(), quiet=True)) is NoProgress
    assert type(progress_for(io.StringIO())) is NoProgress
    assert human_bytes(512) == "512 B" and human_bytes(3 * 1024 ** 2) == "3.0 MB"


def test_process_executor_reports_every_stage_from_task_results():
    screen = FakeTerminal()
    plan = counting_plan()
    ProcessExecutor(parallelism=2, progress=BarProgress(screen, delay=0)).run(plan)
    text = screen.getvalue()
    assert re.search(r"stage 0 Source numbers: 2/2 tasks \[\d\d:\d\d\], 9,000 records, [\d.]+ KB", text), text
    assert re.search(r"stage 1 Reduce counted: \d/\d tasks \[\d\d:\d\d\], 7 records", text), text
    assert "Sink out" in text and len(plan.sinks[0].output_format.records) == 7


def test_inline_executor_reports_every_stage():
    screen = FakeTerminal()
    InlineExecutor(progress=BarProgress(screen, delay=0)).run(counting_plan())
    text = screen.getvalue()
    assert re.search(r"stage 0 Source numbers: 1/1 tasks \[\d\d:\d\d\], 9,000 records", text), text
    assert re.search(r"stage 1 Reduce counted -> Sink out: 7 records", text), text


def test_cli_progress_is_absent_when_quiet_or_not_a_terminal(tmp_path, monkeypatch):
    (tmp_path / "in.json").write_text(json.dumps([{"k": i % 3} for i in range(30)]))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    plain = runner.invoke(main, ["run", _script(tmp_path), "--executor", "process", "--parallelism", "2"])
    assert plain.exit_code == 0, plain.output
    assert "tasks" not in plain.output  # CliRunner's stderr is no terminal
    monkeypatch.setattr("pact_backend.progress.is_terminal", lambda stream: True)
    monkeypatch.setattr("pact_backend.progress.DEFAULT_DELAY", 0.0)
    quiet = runner.invoke(main, ["run", _script(tmp_path), "--quiet", "--parallelism", "2"])
    assert quiet.exit_code == 0 and "tasks" not in quiet.output
    loud = runner.invoke(main, ["run", _script(tmp_path), "--parallelism", "2"])
    assert loud.exit_code == 0 and "Reduce $g" in loud.output and "tasks" in loud.output, loud.output


def _script(tmp_path) -> str:
    path = tmp_path / "s.meteor"
    path.write_text(SCRIPT)
    return str(path)


def test_stats_on_the_process_executor_show_records_and_seconds_per_operator(tmp_path, monkeypatch):
    (tmp_path / "in.json").write_text(json.dumps([{"k": i % 3} for i in range(30)]))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run", _script(tmp_path), "--stats", "--quiet", "--executor", "process",
                                       "--parallelism", "2"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[1]: line.split() for line in result.output.splitlines()
            if re.match(r"\s*\d+\s+(Source|Reduce|Sink)\b", line)}
    assert rows["Source"][-3:-1] == ["30", "30"] and rows["Reduce"][-3:-1] == ["30", "3"]
    assert rows["Sink"][-3:-1] == ["3", "3"]
    assert all(re.fullmatch(r"\d+\.\d{3}", row[-1]) for row in rows.values())
    assert re.search(r"^\s+run\s+wall clock of the whole run\s+\d+\.\d{3}$", result.output, re.M)
    assert re.search(r"^meteor run in all \(compile, plan and run; wall clock\): \d+\.\d{3} s$", result.output, re.M)
