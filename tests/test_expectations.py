"""Are expected outputs cached with provenance, reused only when it matches, and banded fairly?"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from labgrade.harness.inputs.spec import BandSpec, load_spec
from labgrade.reference.bands import derive_band, union
from labgrade.reference.expectations import (
    available_devices,
    cache_path,
    load_datasets,
    load_expectations,
    resolve_devices,
)
from tests.conftest import FILES, LAB_SPEC

SHORT = FILES / "specs" / "short-lab.yaml"


def _load(spec_path: Path, cache: Path, log: list[str], **kw):
    spec = load_spec(spec_path)
    data = load_datasets(spec, kw.pop("ratings", None), kw.pop("titles", None))
    return load_expectations(spec, data, ["cpu"], cache, log.append, **kw)


def test_build_then_reuse(tmp_path: Path) -> None:
    """Is a fresh cache written with provenance, then reused as is?"""
    log: list[str] = []
    first = _load(SHORT, tmp_path, log)
    assert any("no reference cache yet" in line for line in log)
    body = json.loads(cache_path(tmp_path, load_spec(SHORT)).read_text())
    prov = body["provenance"]
    assert prov["torch_version"] == torch.__version__
    assert prov["devices"] == ["cpu"]
    assert prov["seeds"] == {"rank1": 8, "best": 1}
    assert prov["spec_experiments_hash"] == load_spec(SHORT).experiments_sha256
    assert prov["created"]
    log.clear()
    second = _load(SHORT, tmp_path, log)
    assert any("up to date" in line for line in log)
    assert torch.equal(first.samples("rank1", "loss"), second.samples("rank1", "loss"))
    assert first.samples("rank1", "loss").shape == (8,)


def test_spec_change_rebuilds(tmp_path: Path) -> None:
    """Does a change of seeds in the spec make the cache stale, saying why?"""
    _load(SHORT, tmp_path / "c", [])
    changed = tmp_path / "short-lab.yaml"
    changed.write_text(SHORT.read_text().replace("seeds: 8", "seeds: 9"))
    log: list[str] = []
    again = _load(changed, tmp_path / "c", log)
    assert any("stale" in line and "spec_experiments_hash" in line and "seeds" in line for line in log)
    assert again.samples("rank1", "loss").shape == (9,)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("torch_version", "1.0.0"),
        ("devices", ["cpu", "cuda"]),
        ("reference_code", "x"),
        ("numba_version", "0"),
    ],
)
def test_any_provenance_difference_rebuilds(tmp_path: Path, field: str, value: object) -> None:
    """Is a cache made under another torch, device set or reference code never reused?"""
    _load(SHORT, tmp_path, [])
    path = cache_path(tmp_path, load_spec(SHORT))
    body = json.loads(path.read_text())
    body["provenance"][field] = value
    body["distributions"]["cpu"]["rank1"]["samples"]["loss"]["data"] = [123.0] * 8
    path.write_text(json.dumps(body))
    log: list[str] = []
    exp = _load(SHORT, tmp_path, log)
    assert any(f"stale ({field}:" in line for line in log)
    assert float(exp.samples("rank1", "loss").max()) < 100.0  # the planted 123.0 is gone


def test_damaged_cache_is_rebuilt_not_trusted(tmp_path: Path) -> None:
    _load(SHORT, tmp_path, [])
    path = cache_path(tmp_path, load_spec(SHORT))
    path.write_text("{not json")
    log: list[str] = []
    _load(SHORT, tmp_path, log)
    assert any("unreadable" in line for line in log)
    body = json.loads(path.read_text())
    del body["distributions"]["cpu"]["rank1"]["samples"]
    path.write_text(json.dumps(body))
    log.clear()
    _load(SHORT, tmp_path, log)
    assert any("damaged" in line for line in log)


def test_changing_a_band_does_not_rebuild(tmp_path: Path) -> None:
    """Retuning a check's band changes the spec hash but not the expected values: no rebuild."""
    _load(SHORT, tmp_path / "c", [])
    changed = tmp_path / "short-lab.yaml"
    changed.write_text(SHORT.read_text().replace("slack: 1.0", "slack: 2.0"))
    assert load_spec(changed).sha256 != load_spec(SHORT).sha256
    log: list[str] = []
    _load(changed, tmp_path / "c", log)
    assert any("up to date" in line for line in log)


def test_data_change_rebuilds(tmp_path: Path, tiny_netflix: tuple[Path, Path]) -> None:
    """Does another ratings tensor invalidate the cache (data hash)?"""
    ratings, titles = tiny_netflix
    spec = FILES / "specs" / "tiny-netflix.yaml"
    first = _load(spec, tmp_path / "c", [], ratings=ratings, titles=titles)
    t = torch.load(ratings)
    t[0, 0] = 5.0 if t[0, 0] != 5.0 else 4.0
    torch.save(t, ratings)
    log: list[str] = []
    second = _load(spec, tmp_path / "c", log, ratings=ratings, titles=titles)
    assert any("stale (data:" in line for line in log)
    assert first.provenance.data["ratings"] != second.provenance.data["ratings"]
    rating = second.samples("netflix", "rating")
    assert rating.shape == (3,) and bool(((rating > 0) & (rating < 6)).all())


def test_netflix_experiment_agrees_with_the_lab_code(tmp_path: Path, tiny_netflix: tuple[Path, Path]) -> None:
    """Is the cached prediction the lab's gd_factorise_masked prediction for row and column 4?"""
    from labgrade.reference.algorithms import gd_factorise_masked

    ratings, titles = tiny_netflix
    exp = _load(FILES / "specs" / "tiny-netflix.yaml", tmp_path, [], ratings=ratings, titles=titles)
    A = torch.load(ratings)
    M = (A > 0).float()
    torch.manual_seed(1)
    U, V = gd_factorise_masked(A, M, 3)
    assert float(exp.samples("netflix", "rating")[1]) == pytest.approx(float(U[7] @ V[4]), rel=1e-4)
    sse = float((((A - U @ V.t()) * M) ** 2).sum())
    assert float(exp.samples("netflix", "sse")[1]) == pytest.approx(sse, rel=1e-4)


def test_lab_bands_cover_every_reference_seed(tmp_path: Path) -> None:
    """Would each of the 64 reference runs pass 1.2's band, and is the floor Eckart-Young?"""
    spec = load_spec(LAB_SPEC)
    small = {k: v for k, v in spec.experiments.items() if k != "netflix"}
    from dataclasses import replace

    spec = replace(spec, experiments=small, inputs={k: spec.inputs[k] for k in ("A", "M")})
    exp = load_expectations(spec, load_datasets(spec, None, None), ["cpu"], tmp_path, lambda _: None)
    band = exp.band("sgd", "loss", spec.question("1.2").checks[0].params["band"])
    losses = exp.samples("sgd", "loss")
    assert bool(band.contains(losses).all())
    assert float(band.low) == pytest.approx(0.12191 * (1 - 1e-3), abs=1e-5)
    assert float(band.low) <= 0.1219 <= float(band.high)  # the report's rounded 4-digit answer passes
    assert not bool(band.contains(1.0))
    completion = exp.band("masked", "completed", spec.question("3.2").checks[0].params["band"])
    assert bool(completion.contains(exp.samples("masked", "completed")).all())
    assert completion.low.shape == (3, 3)


def test_band_rule_quantiles_slack_rtol_and_bound() -> None:
    samples = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    band = derive_band(samples, BandSpec(quantiles=(0.25, 0.75), slack=0.5, rtol=0.0))
    assert float(band.low) == pytest.approx(2.0 - 0.5 * 2.0)
    assert float(band.high) == pytest.approx(4.0 + 0.5 * 2.0)
    clipped = derive_band(samples, BandSpec(slack=10.0, rtol=0.01), bound=0.5)
    assert float(clipped.low) == pytest.approx(0.5 * 0.99)


def test_band_union_covers_every_device() -> None:
    spec = BandSpec(rtol=0.0)
    cpu = derive_band(torch.tensor([1.0, 2.0]), spec, device="cpu")
    gpu = derive_band(torch.tensor([1.5, 2.5]), spec, device="cuda")
    both = union([cpu, gpu])
    assert (float(both.low), float(both.high)) == (1.0, 2.5)
    assert both.devices == ("cpu", "cuda")


def test_devices() -> None:
    assert available_devices()[0] == "cpu"
    assert resolve_devices("cpu") == ("cpu",)
    if not torch.cuda.is_available():
        from labgrade.harness.errors import UserError

        with pytest.raises(UserError, match="no CUDA device"):
            resolve_devices("cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_cuda_expectations_are_stored_per_device_and_bands_cover_both(tmp_path: Path) -> None:
    spec = load_spec(SHORT)
    exp = load_expectations(spec, load_datasets(spec, None, None), ["cpu", "cuda"], tmp_path, lambda _: None)
    assert exp.devices == ("cpu", "cuda")
    band = exp.band("rank1", "loss", BandSpec())
    for device in ("cpu", "cuda"):
        assert bool(band.contains(exp.samples("rank1", "loss", device)).all())


def test_shipped_expectations_from_another_torch_are_used_and_said_once(tmp_path: Path, monkeypatch) -> None:
    """Does a student's other torch use the shipped bands, say so, build nothing, and compute twins here?"""
    import labgrade.reference.expectations as expectations

    spec = load_spec(LAB_SPEC)
    body = json.loads(expectations.shipped_path(spec).read_text())
    body["provenance"]["torch_version"] = "2.1.0"
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "reference-lab1.json").write_text(json.dumps(body))
    monkeypatch.setattr(expectations, "SHIPPED_DIR", shipped)
    log: list[str] = []
    found = _load(LAB_SPEC, tmp_path / "cache", log)
    assert not found.exact and not (tmp_path / "cache").exists()  # nothing was built
    said = [line for line in log if "another version" in line]
    assert len(said) == 1 and f'torch_version: "2.1.0" -> "{torch.__version__}"' in said[0], log
    from labgrade.reference.cache import read_cache

    body["provenance"]["reference_code"] = "0" * 64  # other reference code is never tolerated: it would be rebuilt
    (shipped / "reference-lab1.json").write_text(json.dumps(body))
    wanted = expectations.wanted_provenance(spec, load_datasets(spec, None, None), ("cpu",))
    refused = read_cache(shipped / "reference-lab1.json", wanted, expectations.TOLERATED)
    assert refused.distributions is None and "reference_code" in refused.reason


@pytest.mark.slow
def test_step_for_step_twins_are_computed_here_for_inexact_expectations(sandbox, fast_limits_spec, lab) -> None:
    """With expectations from another torch build, does a lab-order implementation still match step for step?"""
    from dataclasses import replace

    from tests.conftest import ROOT, grade_file

    inexact = replace(lab[1], exact=False)
    report = grade_file(ROOT / "submissions" / "correct.py", fast_limits_spec, inexact, sandbox)
    for q in report.questions[:1] + report.questions[3:4]:
        assert q.score == q.max_score, q.feedback()
        assert "matches the reference step for step" in q.feedback()
