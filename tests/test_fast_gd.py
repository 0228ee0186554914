"""Does the fast Netflix path compute the lab's gd_factorise_masked (rel. diff < 1e-4)?"""

from __future__ import annotations

import pytest
import torch

from labgrade.harness.bench.runs import rel_diff
from labgrade.reference.algorithms import gd_factorise_masked, reconstruction_loss
from labgrade.reference.fast_gd import gd_factorise_masked_fast, to_csr
from labgrade.reference.synthetic import synthetic_ratings


def _dense(A: torch.Tensor, M: torch.Tensor, rank: int, seed: int, epochs: int, lr: float):
    torch.manual_seed(seed)
    return gd_factorise_masked(A, M, rank, num_epochs=epochs, lr=lr)


@pytest.mark.parametrize("threads", [1, 2])
def test_fast_path_matches_dense_loop_over_1000_epochs(threads: int) -> None:
    """U, V, a prediction and the SSE agree within 1e-4 after the lab's 1000 epochs."""
    A = synthetic_ratings((80, 600), seed=3)
    M = (A > 0).float()
    fast = gd_factorise_masked_fast(to_csr(A, M), 4, [0, 1], num_epochs=1000, lr=1e-3, threads=threads)
    for k, seed in enumerate([0, 1]):
        U, V = _dense(A, M, 4, seed, 1000, 1e-3)
        assert rel_diff(fast.U[k], U) < 1e-4
        assert rel_diff(fast.V[k], V) < 1e-4
        pred_fast = float(fast.U[k][7] @ fast.V[k][4])
        assert pred_fast == pytest.approx(float(U[7] @ V[4]), rel=1e-4)
        sse = float(reconstruction_loss(A.double(), U.double(), V.double(), M.double()))
        assert float(fast.sse[k]) == pytest.approx(sse, rel=1e-4)
        # ...and it actually learnt something: the SSE fell from the start.
        start = _dense(A, M, 4, seed, 0, 1e-3)
        assert sse < 0.5 * float(reconstruction_loss(A, start[0], start[1], M))


def test_fast_path_matches_dense_loop_on_the_real_shape() -> None:
    """On the 1000 x 10000 synthetic tensor with the lab's lr, a few epochs agree too."""
    A = synthetic_ratings()
    M = (A > 0).float()
    fast = gd_factorise_masked_fast(to_csr(A, M), 5, [0], num_epochs=3)
    U, V = _dense(A, M, 5, 0, 3, 1e-5)
    assert rel_diff(fast.U[0], U) < 1e-4
    assert rel_diff(fast.V[0], V) < 1e-4


def test_compact_storage_is_used_for_ratings() -> None:
    """Ratings are stored as bytes and column indices as 16-bit integers."""
    A = synthetic_ratings((20, 100), seed=1)
    csr = to_csr(A, (A > 0).float())
    assert csr.values.dtype.name == "uint8" and csr.indices.dtype.name == "uint16"
    real = torch.rand(4, 5)
    assert to_csr(real, torch.ones(4, 5)).values.dtype.name == "float32"


def test_row_bounds_balance_entries_not_rows() -> None:
    A = torch.zeros(10, 50)
    A[0] = 1.0  # one heavy row
    A[1:, :2] = 1.0
    csr = to_csr(A, (A > 0).float())
    bounds = csr.row_bounds(2)
    assert bounds[0] == 0 and bounds[-1] == 10
    assert bounds[1] == 1  # the heavy row alone holds more than half the entries
