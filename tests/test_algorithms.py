"""Do the reference algorithms reproduce the lab's facts exactly?"""

from __future__ import annotations

import pytest
import torch

from labgrade.reference.algorithms import (
    eckart_young_bound,
    gd_factorise_masked,
    initial_factors,
    reconstruction_loss,
    sgd_factorise,
    sgd_factorise_masked,
    sgd_factorise_seeds,
    truncated_svd,
)

A = torch.tensor([[0.3374, 0.6005, 0.1735], [3.3359, 0.0492, 1.8374], [2.9407, 0.5301, 2.2620]])
M = torch.tensor([[1.0, 1, 1], [0, 1, 1], [1, 0, 1]])


def test_singular_values_and_svd_loss() -> None:
    """Are the singular values 5.3339, 0.6959, 0.3492 and the rank-2 loss sigma_3^2 = 0.12191?"""
    recon, S = truncated_svd(A, 2)
    assert S.tolist() == pytest.approx([5.3339, 0.6959, 0.3492], abs=1e-4)
    loss = float(((A - recon) ** 2).sum())
    assert loss == pytest.approx(0.12191, abs=1e-5)
    assert eckart_young_bound(A, 2) == pytest.approx(float(S[2]) ** 2, rel=1e-5)


def test_truncated_svd_matches_torch_svd_convention() -> None:
    """Does torch.linalg.svd's Vh give the same reconstruction as the lab's torch.svd V?"""
    U, S, V = torch.svd(A)
    S = S.clone()
    S[2:] = 0
    lab = U @ torch.diag(S) @ V.t()
    ours, _ = truncated_svd(A, 2)
    assert torch.allclose(ours, lab, atol=1e-5)


def test_sgd_distribution_over_64_seeds() -> None:
    """Over seeds 0..63: min 0.1219, median 0.1225, p95 0.294, max 0.398, 14 above 0.13?"""
    U, V = sgd_factorise_seeds(A, 2, range(64))
    loss = reconstruction_loss(A.double(), U.double(), V.double())
    q = torch.quantile(loss, torch.tensor([0.0, 0.5, 0.95, 1.0], dtype=torch.float64)).tolist()
    assert q == pytest.approx([0.1219, 0.1225, 0.294, 0.398], abs=6e-4)
    assert int((loss > 0.13).sum()) == 14
    assert float(loss.min()) >= eckart_young_bound(A, 2) * (1 - 1e-5)


def test_batched_seeds_equal_single_seed_runs_bit_for_bit() -> None:
    """Is the many-seed runner the same computation as the lab's loop, seed by seed?"""
    U, V = sgd_factorise_seeds(A, 2, [3, 11], num_epochs=200)
    for k, seed in enumerate([3, 11]):
        torch.manual_seed(seed)
        U1, V1 = sgd_factorise(A, 2, num_epochs=200)
        assert torch.equal(U[k], U1) and torch.equal(V[k], V1)
    Um, Vm = sgd_factorise_seeds(A, 2, [5], M=M, num_epochs=200)
    torch.manual_seed(5)
    U1, V1 = sgd_factorise_masked(A, M, 2, num_epochs=200)
    assert torch.equal(Um[0], U1) and torch.equal(Vm[0], V1)


def test_masked_completion_ranges_over_64_seeds() -> None:
    """Does entry (1,0) range 1.48..2.47 and (2,1) -0.54..1.73 over 64 seeds?"""
    U, V = sgd_factorise_seeds(A, 2, range(64), M=M)
    completed = U @ V.transpose(1, 2)
    assert float(completed[:, 1, 0].min()) == pytest.approx(1.48, abs=0.01)
    assert float(completed[:, 1, 0].max()) == pytest.approx(2.47, abs=0.01)
    assert float(completed[:, 2, 1].min()) == pytest.approx(-0.54, abs=0.01)
    assert float(completed[:, 2, 1].max()) == pytest.approx(1.73, abs=0.01)


def test_masked_sgd_never_reads_unobserved_entries() -> None:
    """Changing A where M is 0 must not change the result under the same seed."""
    B = A.clone()
    B[1, 0], B[2, 1] = 99.0, -99.0
    torch.manual_seed(0)
    U1, V1 = sgd_factorise_masked(A, M, 2, num_epochs=50)
    torch.manual_seed(0)
    U2, V2 = sgd_factorise_masked(B, M, 2, num_epochs=50)
    assert torch.equal(U1, U2) and torch.equal(V1, V2)


def test_zero_epochs_return_the_lab_order_initial_draws() -> None:
    """With num_epochs=0 the result is torch.rand(m, r) then torch.rand(n, r)."""
    torch.manual_seed(42)
    U, V = sgd_factorise(A, 2, num_epochs=0)
    U0, V0 = initial_factors(3, 3, 2, seed=42)
    assert torch.equal(U, U0) and torch.equal(V, V0)


def test_gd_factorise_masked_is_the_lab_code() -> None:
    """Does the vectorised GD follow the lab's update order (V uses the new U)?"""
    torch.manual_seed(1)
    U, V = gd_factorise_masked(A, M, 2, num_epochs=3, lr=0.1)
    torch.manual_seed(1)
    Ue, Ve = torch.rand(3, 2), torch.rand(3, 2)
    for _ in range(3):
        err = (A - Ue @ Ve.t()) * M
        Ue = Ue + 0.1 * err @ Ve
        Ve = Ve + 0.1 * err.t() @ Ue
    assert torch.allclose(U, Ue, atol=1e-6) and torch.allclose(V, Ve, atol=1e-6)


def test_masked_loss_counts_only_observed_entries() -> None:
    U = torch.zeros(3, 2)
    V = torch.zeros(3, 2)
    assert float(reconstruction_loss(A, U, V, M)) == pytest.approx(float((A**2 * M).sum()))
