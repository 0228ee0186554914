"""Does a spec load into validated data, and does every bad spec get one clear message?"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from labgrade.harness.errors import SpecError, UserError
from labgrade.harness.inputs.schema import ESSENTIALS, FLAGS
from labgrade.harness.inputs.spec import BandSpec, load_spec, validate_spec
from labgrade.harness.inputs.yamlsource import parse_yaml
from tests.conftest import FILES, LAB_SPEC

BAD = FILES / "specs" / "bad"


def test_lab1_describes_the_whole_lab() -> None:
    """Does lab1.yaml hold the six questions, one mark each, with the lab's inputs?"""
    spec = load_spec(LAB_SPEC)
    assert [q.id for q in spec.questions] == ["1.1", "1.2", "2.1", "3.1", "3.2", "4.1"]
    assert all(q.marks == 1 for q in spec.questions)
    assert spec.total_marks == 6
    assert spec.inputs["A"].matrix == (
        (0.3374, 0.6005, 0.1735),
        (3.3359, 0.0492, 1.8374),
        (2.9407, 0.5301, 2.2620),
    )
    assert spec.inputs["M"].matrix == ((1, 1, 1), (0, 1, 1), (1, 0, 1))
    netflix = spec.experiments["netflix"]
    assert dict(netflix.args) == {
        "ratings": "ratings",
        "titles": "titles",
        "rank": 5,
        "user": 4,
        "title": "A Beautiful Mind",
    }
    assert spec.experiments["sgd"].seeds >= 64 and netflix.seeds >= 8


def test_function_signatures_follow_the_lab_text() -> None:
    """Are names, order and defaults of both functions the lab's?"""
    spec = load_spec(LAB_SPEC)
    f11 = spec.question("1.1").function
    assert f11 is not None and f11.name == "sgd_factorise"
    assert [(p.name, p.has_default, p.default) for p in f11.params] == [
        ("A", False, None),
        ("rank", False, None),
        ("num_epochs", True, 1000),
        ("lr", True, 0.01),
    ]
    f31 = spec.question("3.1").function
    assert f31 is not None and [p.name for p in f31.params] == ["A", "M", "rank", "num_epochs", "lr"]


def test_lab1_states_its_mark_policy() -> None:
    """Are the lab's essentials, caps, keyword parameters and flag policy read from the spec?"""
    spec = load_spec(LAB_SPEC)
    f11, q31 = spec.question("1.1"), spec.question("3.1")
    assert [(e.kind, e.cap) for e in f11.essentials] == [("returns_factors", 0), ("learns", 0)]
    mask = q31.essentials[-1]
    assert mask.kind == "honours_mask" and 0 < mask.cap <= 0.3 and mask.reason
    assert f11.function is not None and [p.keyword for p in f11.function.params] == [False, True, True, True]
    assert dict(spec.flags) == dict.fromkeys(FLAGS, "keep")


def test_lab1_states_the_instructors_rubrics() -> None:
    """2.1 and 3.2: 0.4 automatic and 0.6 by rubric, two items of 0.3 each, as the marking scheme says."""
    spec = load_spec(LAB_SPEC)
    for qid, items in (("2.1", ["compares", "explains"]), ("3.2", ["compares", "tells"])):
        q = spec.question(qid)
        assert q.review is not None and q.review.points == 0.6 and q.automatic_marks == pytest.approx(0.4)
        assert [(i.id, i.points) for i in q.review.items] == [(i, 0.3) for i in items]
        assert all(i.description and i.explanation and i.suggest for i in q.review.items)


def test_every_schema_name_has_its_judge() -> None:
    """Does every essential and flag the schema accepts have the code that judges it, and no more?"""
    from labgrade.harness.judging.essentials import ESSENTIALS as JUDGES
    from labgrade.harness.judging.flags import FLAG_DETECTORS, REPORT_DETECTORS

    assert tuple(JUDGES) == ESSENTIALS
    assert (*FLAG_DETECTORS, *REPORT_DETECTORS) == FLAGS


def test_free_text_parts_are_listed_for_a_human() -> None:
    """Are 2.1's 'why' and 3.2's 'what does this tell you' kept as free text?"""
    spec = load_spec(LAB_SPEC)
    assert any("Why" in t for t in spec.question("2.1").free_text)
    assert any("tell you" in t for t in spec.question("3.2").free_text)


def test_bands_are_read_from_checks() -> None:
    spec = load_spec(LAB_SPEC)
    band = spec.question("1.2").checks[0].params["band"]
    assert band == BandSpec(quantiles=(0.0, 1.0), slack=0.5, rtol=1e-3, lower_bound="eckart_young")


def test_a_second_spec_loads_without_code_change() -> None:
    """Is a shorter, different lab just data?"""
    spec = load_spec(FILES / "specs" / "short-lab.yaml")
    assert spec.id == "short-lab"
    assert [q.id for q in spec.questions] == ["A", "B", "C"]
    assert spec.total_marks == 3.5


def test_comments_do_not_change_the_spec_hash(tmp_path: Path) -> None:
    text = LAB_SPEC.read_text()
    copy = tmp_path / "lab1.yaml"
    copy.write_text("# a new comment\n" + text)
    assert load_spec(copy).sha256 == load_spec(LAB_SPEC).sha256
    copy.write_text(text.replace("seeds: 64", "seeds: 65", 1))
    assert load_spec(copy).sha256 != load_spec(LAB_SPEC).sha256


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("malformed-yaml.yaml", "line 4, column 10: not valid YAML"),
        ("marks-not-a-number.yaml", 'questions[0].marks (line 10): expected a number > 0, got "one"'),
        ("unknown-key.yaml", "questions[0].mark (line 10): unknown key"),
        ("duplicate-question-id.yaml", 'questions[1].id (line 8): duplicate question id "1"'),
        ("marks-do-not-add-up.yaml", "total_marks (line 4): declared 5 but the questions' marks add up to 2"),
        ("unknown-check-kind.yaml", "questions[0].checks[0].kind (line 13): expected one of signature"),
        (
            "schema-version-too-new.yaml",
            "schema_version (line 1): this harness reads schema_version 1, got 2",
        ),
        (
            "experiment-unknown-input.yaml",
            'experiments.sgd.args.A (line 9): expected the name of an input (A), got "Z"',
        ),
        ("rank-too-large.yaml", "experiments.sgd.args.rank (line 9): expected 0 < rank < 2, got 2"),
        ("duplicate-key.yaml", "title (line 4): duplicate key"),
        ("ragged-matrix.yaml", "inputs.A.matrix[1] (line 5): expected a row of 3 numbers"),
        ("question-id-not-a-string.yaml", 'expected a question id as a quoted string such as "1.1", got 1.1'),
        ("check-names-missing-answer.yaml", 'questions[0].checks[0].answer (line 15): no answer named "los"'),
        ("mask-not-binary.yaml", "input 'M' must hold only 0 and 1 to be used as a mask"),
        ("not-a-mapping.yaml", "<document> (line 1): expected a mapping"),
        (
            "essential-unknown-kind.yaml",
            "questions[0].essentials[0].kind (line 16): expected one of returns_factors, learns, honours_mask, got",
        ),
        ("essential-cap-without-reason.yaml", "questions[0].essentials[0] (line 16): a cap above 0 needs a 'reason'"),
        (
            "essential-cap-above-one.yaml",
            "questions[0].essentials[0].cap (line 17): expected a share of the question's marks between 0 and 1, got 2",
        ),
        ("essential-mask-without-mask.yaml", "'honours_mask' needs a question whose experiment has a mask M"),
        (
            "param-passed-unknown.yaml",
            'questions[0].function.params[0].passed (line 16): expected one of keyword, position, got "positional"',
        ),
        ("flag-policy-unknown.yaml", 'flags.reported_not_from_code (line 5): expected one of keep, zero, got "halve"'),
        (
            "similarity-threshold-above-one.yaml",
            "similarity.threshold (line 5): expected a share between 0 and 1, got 60",
        ),
        ("similarity-handed-out-not-python.yaml", "similarity.handed_out (line 5): expected Python source; line 1:"),
        ("renamed-cost-unknown.yaml", 'renamed.cost (line 5): expected one of signature, none, got "half"'),
        ("review-points-above-marks.yaml", "questions[0].review.points (line 14): expected at most the question's 1"),
        ("review-item-without-explanation.yaml", "questions[0].review.items[0] (line 16): missing required key"),
        ("report-paper-unknown.yaml", 'report.paper (line 6): expected one of A4, Letter, got "A5"'),
        ("report-pages-not-whole.yaml", "report.max_pages (line 5): expected a whole number of pages, got 1.5"),
    ],
)
def test_each_fault_gets_a_message_naming_file_key_and_line(name: str, expected: str) -> None:
    """Does each bad spec fail with its file, key path, line and what was expected?"""
    path = BAD / name
    with pytest.raises(UserError) as info:
        load_spec(path)
    message = str(info.value)
    assert message.startswith(str(path) + ":")
    assert expected in message
    assert "Traceback" not in message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    """Does one run list all the problems, not just the first?"""
    bad = tmp_path / "two-faults.yaml"
    bad.write_text((BAD / "unknown-key.yaml").read_text().replace("title: q", "title: 5"))
    with pytest.raises(SpecError) as info:
        load_spec(bad)
    problems = info.value.problems
    assert len(problems) == 3
    assert any("questions[0].mark (line 10): unknown key" in p for p in problems)
    assert any("missing required key 'marks'" in p for p in problems)
    assert any("questions[0].title (line 8): expected a non-empty string, got 5" in p for p in problems)


def test_missing_spec_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="file not found"):
        load_spec(tmp_path / "nope.yaml")


def test_non_utf8_spec_is_a_user_error(tmp_path: Path) -> None:
    p = tmp_path / "latin1.yaml"
    p.write_bytes(b"title: caf\xe9\n")
    with pytest.raises(UserError, match="not UTF-8"):
        load_spec(p)


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["id", "title", "kind", "marks", "checks", "questions", "inputs", "x"]),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(yaml_values)
def test_random_yaml_never_crashes_the_loader(data: object) -> None:
    """Does any YAML value give a spec or a SpecError, never another exception?"""
    text = yaml.safe_dump(data)
    with contextlib.suppress(SpecError):
        validate_spec(parse_yaml(text, "random.yaml"), "0")


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["marks", "kind", "id", "checks", "answers", "function"]), yaml_values))
def test_random_question_never_crashes_the_loader(question: dict[str, object]) -> None:
    base = yaml.safe_load(LAB_SPEC.read_text())
    base["questions"][0] = {**base["questions"][0], **question}
    with contextlib.suppress(SpecError):
        validate_spec(parse_yaml(yaml.safe_dump(base), "random.yaml"), "0")
