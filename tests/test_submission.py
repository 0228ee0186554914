"""Is only definition code kept, with the student's line numbers, and are answers read safely?"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
import torch

from labgrade.harness.inputs.submission import discover, extract, is_submission, load_submission
from labgrade.harness.untrusted.wire import WireError, decode, encode


def test_extract_keeps_definitions_on_their_lines() -> None:
    code = (
        "import torch\n"
        "EPOCHS = 1000\n"
        "A = torch.tensor([[1.0, 2.0]])\n"
        "data = torch.load('ratings.pt')\n"
        "def f():\n"
        "    return EPOCHS\n"
        "for i in range(10):\n"
        "    print(i)\n"
        "input('name?')\n"
        "class K:\n"
        "    pass\n"
    )
    kept, skipped, error = extract(code, "s.py")
    assert error is None
    lines = kept.splitlines()
    assert lines[0] == "import torch" and lines[1] == "EPOCHS = 1000" and lines[2].startswith("A = torch.tensor")
    assert lines[3] == "" and lines[6] == "" and lines[7] == "" and lines[8] == ""
    assert lines[4] == "def f():" and lines[9] == "class K:"
    assert [s.split(":")[0] for s in skipped] == ["s.py line 4", "s.py lines 7-8", "s.py line 9"]


def test_syntax_error_names_the_line() -> None:
    _, _, error = extract("x = 1\ndef f(:\n", "s.py")
    assert error == "s.py, line 2: syntax error: invalid syntax"


def test_notebook_magics_and_shell_lines_are_blanked(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("!pip install torch\n%matplotlib inline\nimport torch"),
        nbformat.v4.new_code_cell("%%bash\nrm -rf /"),
        nbformat.v4.new_markdown_cell("# words"),
        nbformat.v4.new_code_cell("def f(:"),
        nbformat.v4.new_code_cell("%%time\ndef g():\n    return 1\ng?"),
    ]
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    sub = load_submission(path)
    assert [u.filename for u in sub.units] == ["n.ipynb, cell 1", "n.ipynb, cell 5"]
    assert sub.units[0].code == "\n\nimport torch"
    assert "def g():" in sub.units[1].code and "g?" not in sub.units[1].code
    assert any("n.ipynb, cell 4, line 1: syntax error" in p for p in sub.problems)


def test_broken_notebook_is_a_clear_problem(tmp_path: Path) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_text("{not json")
    sub = load_submission(path)
    assert not sub.has_code and "broken.ipynb: not a readable notebook" in sub.problems[0]


def test_folder_with_answers_and_two_candidates(tmp_path: Path) -> None:
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "a.py").write_text("x = 1\n")
    (folder / "b.py").write_text("y = 2\n")
    (folder / "answers.yaml").write_text('"1.2": {loss: 0.1220}\n')
    sub = load_submission(folder)
    assert sub.answers == {"1.2": {"loss": 0.1220}}
    assert "expected exactly one .py or .ipynb file in the folder, found a.py, b.py" in sub.problems


@pytest.mark.parametrize(
    ("text", "problem"),
    [("[unclosed", "answers.yaml (line 1): not valid YAML"), ("- 1\n- 2\n", "expected a mapping")],
)
def test_malformed_answers_are_per_submission_problems(tmp_path: Path, text: str, problem: str) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "s.py").write_text("x = 1\n")
    (folder / "answers.yaml").write_text(text)
    sub = load_submission(folder)
    assert any(problem in p for p in sub.problems)


def test_discovery_of_a_class_folder(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("")
    (tmp_path / "b.ipynb").write_text("{}")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "c.py").write_text("")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / "link.py").symlink_to("/etc/passwd")
    found = discover([tmp_path])
    assert [p.name for p in found.submissions] == ["a.py", "b.ipynb", "c"]
    assert any("notes.txt" in i for i in found.ignored) and any("link.py" in i for i in found.ignored)
    assert not is_submission(tmp_path)


def test_wire_round_trip_and_refusals() -> None:
    t = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    data = encode({"x": 1}, [t])
    decoded = decode(data)
    assert decoded.header["x"] == 1 and torch.equal(decoded.tensors[0], t)
    assert type(decoded.tensors[0]) is torch.Tensor
    head = json.loads(data[8 : 8 + int.from_bytes(data[:8], "big")])
    for change, message in [
        ({"dtype": "object"}, "not allowed"),
        ({"shape": [100, 100]}, "do not match"),
        ({"offset": -1}, "malformed"),
        ({"shape": [10**6, 10**6]}, "larger than the harness accepts"),
    ]:
        bad = {**head, "tensors": [{**head["tensors"][0], **change}]}
        body = json.dumps(bad).encode()
        with pytest.raises(WireError, match=message):
            decode(len(body).to_bytes(8, "big") + body + data[8 + len(json.dumps(head)) :])
    with pytest.raises(WireError):
        decode(b"\x00" * 4)
    with pytest.raises(WireError):
        decode((10**9).to_bytes(8, "big") + b"{}")


def test_an_encoding_declared_on_line_one_is_honoured_as_python_does(tmp_path: Path) -> None:
    path = tmp_path / "latin.py"
    body = b"import torch\n\ndef sgd_factorise(A, rank):\n    return A, A\n"
    path.write_bytes(b"# -*- coding: latin-1 -*-\n# r\xe9sultats\n" + body)
    sub = load_submission(path)
    assert sub.problems == () and "def sgd_factorise" in sub.units[0].code
    path.write_bytes(b"# r\xe9sultats\nimport torch\n")
    assert "not UTF-8 text (byte 3); save it as UTF-8" in load_submission(path).problems[0]


def test_a_notebook_with_large_outputs_is_still_graded(tmp_path: Path) -> None:
    """Plots stored in a notebook make it several MiB; only its code counts against the source limit."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("import torch\n\ndef sgd_factorise(A, rank):\n    return A, A\n")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo" * 600_000})]
    nb.cells = [cell]
    path = tmp_path / "plots.ipynb"
    nbformat.write(nb, str(path))
    assert path.stat().st_size > 5 << 20
    sub = load_submission(path)
    assert sub.problems == () and sub.has_code


def test_what_cannot_be_read_is_a_problem_of_that_submission_not_a_crash(tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / "pipe.py")  # reading it would block for ever
    assert load_submission(tmp_path / "pipe.py").problems == ("pipe.py: not a regular file",)
    assert load_submission(tmp_path / "gone.py").problems == ("gone.py: not a regular file",)


def test_names_differing_only_in_case_get_distinct_output_folders(tmp_path: Path) -> None:
    from labgrade.harness.running.batch import unique_names

    (tmp_path / "Alice.py").write_text("")
    (tmp_path / "alice.py").write_text("")
    assert unique_names([tmp_path / "Alice.py", tmp_path / "alice.py"]) == ["Alice", "alice-2"]
