"""The example notebook runs in a real Jupyter kernel (nbclient): meteor.query, %%meteor tables and --explain."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "notebook" / "meteor.ipynb"
EMPS = [("Ann", "sales", 3000), ("Bob", "dev", 4200), ("Cid", "dev", 3800), ("Dee", "sales", 2500)]


def outputs(cell) -> dict:
    """The display data of a cell's outputs (mime type -> content), streams under 'stream'."""
    found: dict = {}
    for output in cell.outputs:
        if output.output_type == "stream":
            found["stream"] = found.get("stream", "") + output.text
        elif "data" in output:
            found.update(output.data)
    return found


def test_the_example_notebook_runs_and_shows_tables_and_a_plan(tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
                   ).execute()
    cells = [c for c in notebook.cells if c.cell_type == "code"]
    frame = outputs(cells[0])["text/html"]  # the DataFrame of meteor.query(...).to_pandas()
    paid = [(name, dept, salary) for name, dept, salary in EMPS if salary > 2600]
    for dept in sorted({d for _, d, _ in paid}):
        salaries = [s for _, d, s in paid if d == dept]
        assert f"<td>{dept}</td>" in frame and f"<td>{sum(salaries) / len(salaries)}</td>" in frame
    table = outputs(cells[2])["text/html"]  # %%meteor -o rich: the Result as a table
    rich = sorted(n for n, _, s in EMPS if s >= 3800)
    assert table.startswith("<table><thead><tr><th>name</th><th>dept</th><th>salary</th></tr></thead>")
    assert [row.split("</td>")[0] for row in table.split("<tr><td>")[1:]] == rich
    assert ast.literal_eval(outputs(cells[3])["text/plain"]) == [
        {"name": n, "dept": d, "salary": s} for n, d, s in sorted(EMPS) if s >= 3800]
    explained = outputs(cells[4])
    assert "<svg" in explained["image/svg+xml"]  # graphviz-pure (dev extra) draws the physical plan
    assert "Reduce $depts" in explained["image/svg+xml"] and "Source $emps" in explained["image/svg+xml"]
    assert "== Physical plan" in explained["text/plain"]


def test_the_magic_binds_notebook_data_reports_errors_in_one_line_and_explains_without_graphviz(monkeypatch,
                                                                                                tmp_path):
    import sys

    from IPython.core.error import UsageError
    from IPython.testing.globalipapp import start_ipython

    from meteor import notebook

    shell = start_ipython()
    shell.run_line_magic("load_ext", "meteor")
    shell.user_ns.update(nums=[{"n": i} for i in range(30)], nothing="not data")
    result = shell.run_cell_magic("meteor", "", "$big = filter $nums where $nums.n > 8;\n$big;")
    assert result.records() == [{"n": i} for i in range(30) if i > 8]
    assert result._repr_html_().count("<tr><td>") == 20  # the first 20 rows, then one saying 1 more
    assert "… 1 more" in result._repr_html_()
    try:
        shell.run_cell_magic("meteor", "", "$x = filter $nothing where true;\n$x;")
        raise AssertionError("a string is not data: $nothing stays unbound")
    except UsageError as error:
        assert str(error).startswith("error: 1:13: unknown variable $nothing")
    monkeypatch.setitem(sys.modules, "graphviz", None)  # no graphviz package and no graphviz-pure program
    monkeypatch.setattr(notebook.shutil, "which", lambda name: None)
    monkeypatch.setattr(notebook.sys, "executable", str(tmp_path / "python"))
    explained = shell.run_cell_magic("meteor", "--explain", "$odd = filter $nums where $nums.n > 3;\n$odd;")
    assert explained._repr_svg_() is None
    assert "== Physical plan" in repr(explained) and "where: $nums.n > 3" in repr(explained)
