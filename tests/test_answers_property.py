"""Property: no answers.yaml content, however odd, can crash grading of the answer questions."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labgrade.harness.inputs.submission import Submission
from labgrade.harness.judging.grading import GradingOptions, grade_question

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=16,
)
answer_maps = st.dictionaries(
    st.sampled_from(["1.2", "2.1", "3.2", "4.1", "9.9"]),
    values | st.dictionaries(st.sampled_from(["loss", "completed", "rating", "sse", "x"]), values, max_size=3),
    max_size=5,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answers=answer_maps)
def test_random_answers_never_crash_grading(lab, answers) -> None:
    spec, expectations = lab
    submission = Submission("s", Path("s"), (), (), answers, (), "0")
    for question in spec.questions:
        if question.kind != "answer":
            continue
        result = grade_question(spec, question, expectations, {}, submission, GradingOptions())
        assert 0 <= result.score <= result.max_score
        assert all(isinstance(c.message, str) and c.message for c in result.checks)
