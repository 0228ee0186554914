"""Is the generated class what the bench and the similarity tests need?

Independent students that differ in how they are written (not copies of one file), kinds
that do what their names say (the correct ones compute the lab's algorithm, the buggy ones
really differ), planted copies that are listed and behave like their originals, and the same
files for the same seed.
"""

from __future__ import annotations

import hashlib
import inspect
import itertools
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import torch

from labgrade.harness.bench.classgen import (
    CORRECT_KINDS,
    HANDOUT,
    LAB_ALGORITHM_KINDS,
    GeneratedClass,
    default_copies,
    generate_class,
)

ROOT = Path(__file__).resolve().parent.parent
A = torch.tensor([[0.3374, 0.6005, 0.1735], [3.3359, 0.0492, 1.8374], [2.9407, 0.5301, 2.2620]])
M = torch.tensor([[1.0, 1.0, 1.0], [0.0, 1.0, 1.0], [1.0, 0.0, 1.0]])
EPOCHS = 20
PLAIN = ["A", "rank", "num_epochs", "lr"]
MASKED = ["A", "M", "rank", "num_epochs", "lr"]


@pytest.fixture(scope="module")
def klass(tmp_path_factory: pytest.TempPathFactory) -> GeneratedClass:
    return generate_class(tmp_path_factory.mktemp("class"), 200, seed=0)


@pytest.fixture(scope="module")
def sources(klass: GeneratedClass) -> dict[str, str]:
    return {p.stem: p.read_text() for p in klass.paths}


@pytest.fixture(scope="module")
def loaded(sources: dict[str, str], klass: GeneratedClass) -> dict[str, dict[str, Any]]:
    """Every file that should run, executed in its own namespace (as the grader loads it: not as __main__)."""
    out = {}
    for stem, text in sources.items():
        if klass.kinds[stem] != "syntax-error":
            namespace: dict[str, Any] = {"__name__": "submission"}
            exec(compile(text, stem, "exec"), namespace)
            out[stem] = namespace
    return out


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile((ROOT / "submissions" / "correct.py").read_text(), "correct.py", "exec"), namespace)
    return namespace


def run(namespace: dict[str, Any], masked: bool, seed: int, lr: float = 0.01) -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(seed)
    if masked:
        return namespace["sgd_factorise_masked"](A.clone(), M.clone(), 2, EPOCHS, lr)
    return namespace["sgd_factorise"](A.clone(), 2, EPOCHS, lr)


def close(a: tuple[torch.Tensor, torch.Tensor], b: tuple[torch.Tensor, torch.Tensor]) -> bool:
    return all(x.shape == y.shape and torch.allclose(x, y, rtol=1e-4, atol=1e-6) for x, y in zip(a, b, strict=True))


def independents(klass: GeneratedClass) -> list[str]:
    copies = {copy for copy, _ in klass.copies}
    return [p.stem for p in klass.paths if p.stem not in copies]


# --- determinism, files, speed ---------------------------------------------------------------------


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def test_the_same_seed_writes_the_same_files_and_another_seed_other_ones(tmp_path: Path) -> None:
    for name in ("one", "two", "other"):
        (tmp_path / name).mkdir()
    one = generate_class(tmp_path / "one", 60, seed=3)
    two = generate_class(tmp_path / "two", 60, seed=3)
    other = generate_class(tmp_path / "other", 60, seed=4)
    assert digest(tmp_path / "one") == digest(tmp_path / "two") != digest(tmp_path / "other")
    assert (one.copies, one.kinds) == (two.copies, two.kinds)
    assert [p.name for p in one.paths] == [p.name for p in other.paths]


def test_the_files_do_not_depend_on_the_interpreters_hash_seed(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from labgrade.harness.bench.classgen import generate_class; "
        "generate_class(Path(sys.argv[1]), 40, seed=1)"
    )
    for hash_seed in ("1", "2"):
        folder = tmp_path / hash_seed
        folder.mkdir()
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", script, str(folder)], cwd=ROOT, env=env, check=True)
    assert digest(tmp_path / "1") == digest(tmp_path / "2")


def test_every_file_is_written_numbered_and_listed(klass: GeneratedClass, sources: dict[str, str]) -> None:
    assert [p.name for p in klass.paths] == [f"student{i:04d}.py" for i in range(200)]
    assert set(klass.kinds) == set(sources)
    for i, path in enumerate(klass.paths):
        assert sources[path.stem].startswith(f"# submission {i}\n")


def test_200_files_take_well_under_a_second(tmp_path: Path) -> None:
    started = time.perf_counter()
    generate_class(tmp_path, 200, seed=11)
    assert time.perf_counter() - started < 2.0  # typically 0.1 s; the margin is for a loaded machine


def test_the_mix_of_kinds_follows_todays_bench(klass: GeneratedClass, tmp_path: Path) -> None:
    fifteen = generate_class(tmp_path, 15, seed=0, copies=0)
    assert Counter(fifteen.kinds.values()) == {
        "correct": 7, "slow-correct": 1, "transposed-v": 2, "ignores-lr": 2, "loops-over-rank": 2, "syntax-error": 1,
    }  # fmt: skip
    shares = Counter(klass.kinds.values())
    assert shares["correct"] + shares["slow-correct"] > 90
    assert all(1 <= shares[k] <= 8 for k in ("correct-temp-copy", "correct-draw-order"))
    assert all(20 <= shares[k] <= 32 for k in ("transposed-v", "ignores-lr", "loops-over-rank"))
    assert 8 <= shares["syntax-error"] <= 16 and 8 <= shares["slow-correct"] <= 20


# --- what the files are --------------------------------------------------------------------------


def test_syntax_errors_do_not_compile_and_everything_else_defines_the_lab_functions(
    klass: GeneratedClass, sources: dict[str, str], loaded: dict[str, dict[str, Any]]
) -> None:
    for stem, text in sources.items():
        if klass.kinds[stem] == "syntax-error":
            with pytest.raises(SyntaxError):
                compile(text, stem, "exec")
            continue
        for name, expected in (("sgd_factorise", PLAIN), ("sgd_factorise_masked", MASKED)):
            params = list(inspect.signature(loaded[stem][name]).parameters.values())
            assert [p.name for p in params] == expected, (stem, name)
            assert (params[-2].default, params[-1].default) == (1000, 0.01), (stem, name)
            assert all(p.default is inspect.Parameter.empty for p in params[:-2]), (stem, name)


def code_lines(text: str) -> set[str]:
    """Non-blank lines with whitespace removed, less the numbering line and the lab's handed-out code (base code)."""
    handout = {"".join(line.split()) for line in HANDOUT.splitlines()}
    lines = {"".join(line.split()) for line in text.splitlines()[1:]}
    return {line for line in lines if line and line not in handout}


def test_independent_students_write_the_algorithm_differently(klass: GeneratedClass, sources: dict[str, str]) -> None:
    lines = {stem: code_lines(sources[stem]) for stem in independents(klass)}
    worst = max(
        (len(lines[a] & lines[b]) / min(len(lines[a]), len(lines[b])), a, b)
        for a, b in itertools.combinations(lines, 2)
    )
    assert worst[0] <= 0.6, worst
    correct = [stem for stem in lines if klass.kinds[stem] == "correct"]
    assert len({sources[s].split("\n", 1)[1] for s in correct}) == len(correct)


def test_the_correct_kinds_compute_the_labs_algorithm(
    klass: GeneratedClass, loaded: dict[str, dict[str, Any]], reference: dict[str, Any]
) -> None:
    correct = [stem for stem in independents(klass) if klass.kinds[stem] in LAB_ALGORITHM_KINDS]
    assert len(correct) > 80
    for i, stem in enumerate(correct):
        for masked in (False, True):
            assert close(run(loaded[stem], masked, i), run(reference, masked, i)), (stem, masked)


def test_the_named_variants_run_but_change_the_numbers(
    klass: GeneratedClass, loaded: dict[str, dict[str, Any]], reference: dict[str, Any]
) -> None:
    variants = [stem for stem in loaded if klass.kinds[stem] in CORRECT_KINDS - LAB_ALGORITHM_KINDS]
    assert variants
    for stem in variants:
        for masked in (False, True):
            U, V = run(loaded[stem], masked, 0)
            assert U.shape == (3, 2) and V.shape == (3, 2)
            assert not close((U, V), run(reference, masked, 0)), (stem, masked)


def test_the_buggy_kinds_have_their_bug(
    klass: GeneratedClass, loaded: dict[str, dict[str, Any]], reference: dict[str, Any]
) -> None:
    for stem, namespace in loaded.items():
        kind = klass.kinds[stem]
        for masked in (False, True):
            if kind == "transposed-v":
                U, V = run(namespace, masked, 0)
                assert (U.shape, V.shape) == ((3, 2), (2, 3)), stem
            elif kind == "ignores-lr":
                assert close(run(namespace, masked, 0), run(namespace, masked, 0, lr=0.02)), stem
                assert not close(run(reference, masked, 0), run(reference, masked, 0, lr=0.02))
            elif kind == "loops-over-rank":
                U, _ = run(namespace, masked, 0)
                torch.manual_seed(0)
                assert torch.equal(U[2], torch.rand(3, 2)[2]), stem  # row 2 is never visited with rank 2
                assert not close(run(namespace, masked, 0), run(reference, masked, 0)), stem


# --- planted copies --------------------------------------------------------------------------------


def test_planted_copies_are_listed_and_their_originals_are_earlier_independent_files(
    klass: GeneratedClass, sources: dict[str, str]
) -> None:
    assert len(klass.copies) == default_copies(200) == 6
    copies = {copy for copy, _ in klass.copies}
    assert len({original for _, original in klass.copies}) == 6  # each of a different original while there are enough
    for copy, original in klass.copies:
        assert original in sources and original not in copies and original < copy
        assert klass.kinds[copy] == klass.kinds[original] != "syntax-error"
        assert code_lines(sources[copy]) != code_lines(sources[original])


def test_a_copy_computes_what_its_original_computes(klass: GeneratedClass, loaded: dict[str, dict[str, Any]]) -> None:
    for copy, original in klass.copies:
        for masked in (False, True):
            assert close(run(loaded[copy], masked, 5), run(loaded[original], masked, 5)), (copy, original)


def test_the_number_of_copies_can_be_chosen(tmp_path: Path) -> None:
    assert (default_copies(9), default_copies(10), default_copies(100)) == (0, 1, 3)
    for count, copies in ((30, 0), (30, 7), (3, 2)):
        folder = tmp_path / f"{count}-{copies}"
        folder.mkdir()
        assert len(generate_class(folder, count, seed=2, copies=copies).copies) == copies
    with pytest.raises(ValueError):
        generate_class(tmp_path, 5, copies=5)
