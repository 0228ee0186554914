"""Does feedback point at the cause for mistakes real students make?"""

from __future__ import annotations

from labgrade.harness.inputs.submission import extract
from labgrade.harness.running.batch import safe_name
from tests.conftest import FILES, grade_file

STUDENTS = FILES / "students"


def _feedback(report, question: str = "1.1") -> str:
    return next(q for q in report.questions if q.id == question).feedback()


def test_a_global_set_by_skipped_code_is_named_with_its_line(sandbox, fast_limits_spec, lab) -> None:
    report = grade_file(STUDENTS / "uses-a-skipped-global.py", fast_limits_spec, lab[1], sandbox)
    text = _feedback(report)
    assert "NameError: name 'helper' is not defined at uses-a-skipped-global.py, line 16" in text
    assert "`helper` is set by top-level code that grading does not run (uses-a-skipped-global.py line 5)" in text


def test_device_and_constants_are_kept_but_calls_with_effects_are_not() -> None:
    code = (
        'device = torch.device("cuda" if torch.cuda.is_available() else "cpu")\n'
        "N = len([1, 2, 3])\n"
        "torch.manual_seed(0)\n"
        "data = torch.load('ratings.pt')\n"
    )
    kept, skipped, _ = extract(code, "s.py")
    assert kept.splitlines()[:2] == code.splitlines()[:2]
    assert [s.split(":")[0] for s in skipped] == ["s.py line 3", "s.py line 4"]


def test_returning_the_reconstruction_says_what_was_expected(sandbox, fast_limits_spec, lab) -> None:
    report = grade_file(STUDENTS / "returns-one-tensor.py", fast_limits_spec, lab[1], sandbox)
    assert "returned a single tensor; expected a tuple (U, V) of two tensors" in _feedback(report)


def test_output_folder_names_are_safe() -> None:
    assert safe_name("..") == "submission"
    assert safe_name("...") == "submission"
    assert safe_name("../../etc") == "etc"
    assert safe_name("Jöhn O'Neil (2)") == "John_O_Neil_2"
    assert safe_name(".hidden") == "hidden"
