"""Run a spec's experiments: each reference algorithm over its seeds, on one device.

An experiment's result is a :class:`Distribution`: for every quantity the checks
may compare with (``loss``, ``completed``, ``rating``...), one sample per seed,
as float64 tensors with the seeds first.  Losses are recomputed here in float64
from the factors, the same way the grading parent will recompute a student's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from labgrade.harness.inputs.spec import ExperimentSpec, Spec
from labgrade.reference.algorithms import (
    eckart_young_bound,
    gd_factorise_masked,
    reconstruction_loss,
    sgd_factorise_seeds,
    truncated_svd,
)
from labgrade.reference.catalogue import ALGORITHMS
from labgrade.reference.ratings import Ratings
from labgrade.reference.titles import Titles


@dataclass(frozen=True)
class Datasets:
    """The run-time datasets an experiment may need (``None`` when the spec needs none)."""

    ratings: Ratings | None = None
    titles: Titles | None = None


@dataclass(frozen=True)
class Distribution:
    """Samples of every quantity of one experiment on one device, seeds first."""

    experiment: str
    device: str
    seeds: tuple[int, ...]
    samples: Mapping[str, torch.Tensor]
    bounds: Mapping[str, float]


def matrix_input(spec: Spec, name: str) -> torch.Tensor:
    """The spec's matrix input ``name`` as a float32 tensor (the lab's default dtype)."""
    matrix = spec.inputs[name].matrix
    if matrix is None:
        raise ValueError(f"input {name!r} is not a matrix")
    return torch.tensor(matrix, dtype=torch.float32)


def _sgd(spec: Spec, exp: ExperimentSpec, data: Datasets, device: str) -> dict[str, torch.Tensor]:
    A = matrix_input(spec, exp.args["A"]).to(device)
    M = matrix_input(spec, exp.args["M"]).to(device) if "M" in exp.args else None
    U, V = sgd_factorise_seeds(A, int(exp.args["rank"]), range(exp.seeds), M=M)
    A64, U64, V64 = A.double(), U.double(), V.double()
    out = {"U": U64.cpu(), "V": V64.cpu()}
    if M is None:
        out["loss"] = reconstruction_loss(A64, U64, V64).cpu()
    else:
        out["completed"] = (U64 @ V64.transpose(-1, -2)).cpu()
        out["loss_observed"] = reconstruction_loss(A64, U64, V64, M.double()).cpu()
        out["loss_full"] = reconstruction_loss(A64, U64, V64).cpu()
    return out


def _svd(spec: Spec, exp: ExperimentSpec, data: Datasets, device: str) -> dict[str, torch.Tensor]:
    A = matrix_input(spec, exp.args["A"]).to(device)
    recon, S = truncated_svd(A, int(exp.args["rank"]))
    loss = ((A.double() - recon.double()) ** 2).sum()
    return {
        "loss": loss.reshape(1).cpu(),
        "singular_values": S.double().reshape(1, -1).cpu(),
        "reconstruction": recon.double().unsqueeze(0).cpu(),
    }


def _netflix(spec: Spec, exp: ExperimentSpec, data: Datasets, device: str) -> dict[str, torch.Tensor]:
    if data.ratings is None or data.titles is None:
        raise ValueError("the netflix experiment needs ratings and titles")
    row = data.titles.lookup(str(exp.args["title"]))
    user = int(exp.args["user"])
    rank = int(exp.args["rank"])
    A, M = data.ratings.tensor, data.ratings.mask
    if device == "cpu":
        from labgrade.reference.fast_gd import gd_factorise_masked_fast, to_csr  # numba: imported only to build

        fast = gd_factorise_masked_fast(to_csr(A, M), rank, range(exp.seeds))
        U, V, sse = fast.U.double(), fast.V.double(), fast.sse
    else:
        # On an accelerator the lab's own dense loop is fast: use it verbatim.
        Ad, Md = A.to(device), M.to(device)
        Us, Vs = [], []
        for seed in range(exp.seeds):
            torch.manual_seed(seed)
            U1, V1 = gd_factorise_masked(Ad, Md, rank)
            Us.append(U1.double().cpu())
            Vs.append(V1.double().cpu())
        U, V = torch.stack(Us), torch.stack(Vs)
        sse = reconstruction_loss(A.double(), U, V, M.double())
    rating = (U[:, row, :] * V[:, user, :]).sum(-1)
    return {"rating": rating, "sse": sse.to(torch.float64)}


Runner = Callable[[Spec, ExperimentSpec, Datasets, str], dict[str, torch.Tensor]]

RUNNERS: dict[str, Runner] = {
    "sgd_factorise": _sgd,
    "sgd_factorise_masked": _sgd,
    "truncated_svd": _svd,
    "netflix_prediction": _netflix,
}


def _bounds(spec: Spec, exp: ExperimentSpec) -> dict[str, float]:
    args: Mapping[str, Any] = exp.args
    if exp.algorithm in ("sgd_factorise", "truncated_svd"):
        return {"eckart_young": eckart_young_bound(matrix_input(spec, args["A"]), int(args["rank"]))}
    return {}


def run_experiment(spec: Spec, name: str, data: Datasets, device: str) -> Distribution:
    """Run experiment ``name`` of ``spec`` on ``device`` over its seeds 0..seeds-1."""
    exp = spec.experiments[name]
    samples = RUNNERS[exp.algorithm](spec, exp, data, device)
    seeds = tuple(range(exp.seeds)) if ALGORITHMS[exp.algorithm].seeded else ()
    return Distribution(name, device, seeds, samples, _bounds(spec, exp))
