"""Fairness: does a correct implementation never lose a mark, whatever the harness seed?"""

from __future__ import annotations

import pytest

from tests.conftest import ROOT, grade_file


@pytest.mark.slow
def test_correct_implementation_keeps_full_marks_under_200_harness_seeds(sandbox, fast_limits_spec, lab) -> None:
    """Graded under harness seeds 0..199, the correct functions score full marks every time."""
    from dataclasses import replace

    spec = replace(fast_limits_spec, limits=replace(fast_limits_spec.limits, time_per_call_s=30, cpu_per_call_s=30))
    lost = []
    for seed in range(200):
        report = grade_file(ROOT / "submissions" / "correct.py", spec, lab[1], sandbox, seed=seed)
        for q in report.questions:
            if q.id in ("1.1", "3.1") and q.score != q.max_score:
                lost.append((seed, q.id, q.feedback()))
    assert lost == []


def test_a_different_draw_order_is_not_penalised(sandbox, fast_limits_spec, lab, tmp_path) -> None:
    """Drawing V before U is not the lab's order, but it is correct: full marks, step-for-step n/a."""
    source = (ROOT / "submissions" / "correct.py").read_text()
    swapped = source.replace(
        "    U = torch.rand(m, rank)\n    V = torch.rand(n, rank)",
        "    V = torch.rand(n, rank)\n    U = torch.rand(m, rank)",
    )
    assert swapped != source
    path = tmp_path / "v-first.py"
    path.write_text(swapped)
    report = grade_file(path, fast_limits_spec, lab[1], sandbox)
    for question in ("1.1", "3.1"):
        q = next(q for q in report.questions if q.id == question)
        assert q.score == q.max_score, q.feedback()
        assert "draws V before U" in q.feedback()
