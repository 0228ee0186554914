"""Does `labgrade.check()` work inside a real notebook kernel and a plain script, and never hang either?"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

CORRECT = (ROOT / "submissions" / "correct.py").read_text()

ENDLESS = """
def sgd_factorise_masked(A, M, rank, num_epochs=1000, lr=0.01):
    while True:  # never returns: the check must stop it at the time limit
        pass
"""


@pytest.mark.slow
def test_a_notebook_checks_its_own_functions_and_survives_an_endless_loop(tmp_path: Path) -> None:
    """Cells define the functions (the masked one loops for ever); the check stops it; the kernel goes on."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import torch\n%time x = 1"),
        nbformat.v4.new_code_cell(CORRECT),
        nbformat.v4.new_code_cell("print(sgd_factorise(torch.rand(3, 3), 2, num_epochs=1)[0].shape)"),
        nbformat.v4.new_code_cell(ENDLESS),
        nbformat.v4.new_code_cell("import labgrade\nreport = labgrade.check(time_limit_s=3)"),
        nbformat.v4.new_code_cell("print('alive', {q.id: q.score for q in report.questions})"),
    ]
    client = NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    shown = nb.cells[4].outputs
    html = "".join(o.get("data", {}).get("text/html", "") for o in shown)
    assert "sgd_factorise" in html and "Hint:" in html, shown
    assert "stopped after 3 s: time limit" in html or "time limit" in html, html
    alive = "".join(o.get("text", "") for o in nb.cells[5].outputs)
    assert "alive" in alive and "'1.1': 1.0" in alive and "'3.1': 0.0" in alive, alive


@pytest.mark.slow
def test_a_plain_script_checks_itself_with_text_output(tmp_path: Path) -> None:
    script = tmp_path / "lab1.py"
    script.write_text(CORRECT + "\n\nimport labgrade\nlabgrade.check()\n")
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "ok   1.1  1.00/1" in result.stdout and "ok   3.1  1.00/1" in result.stdout, result.stdout
    assert "mark: 1 = 1 x 1 (every share earned)" in result.stdout
