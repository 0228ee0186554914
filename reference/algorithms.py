"""The lab's algorithms exactly as the lab text gives them.

These are the ground truth every grade is compared with, so they follow the
pseudocode literally: element by element, the U row first, then the V row using
the *new* U row; U(0, 1) initialisation drawn as ``torch.rand(m, r)`` then
``torch.rand(n, r)`` from the default (CPU) generator, so that a student who
draws in the lab's order under the same seed gets the same numbers.

The ``*_seeds`` variants run many seeds at once by adding a leading batch
dimension: every seed still performs exactly the same sequence of operations as
the single-seed code (tests check they agree bit for bit), but the Python loop
runs once for all seeds instead of once per seed.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor


def initial_factors(m: int, n: int, rank: int, seed: int | None = None) -> tuple[Tensor, Tensor]:
    """Draw U(0, 1) factors in the lab's order: ``torch.rand(m, r)`` then ``torch.rand(n, r)``.

    Args:
        m: rows of the matrix being factorised.
        n: columns of the matrix being factorised.
        rank: the factorisation's rank r.
        seed: when given, ``torch.manual_seed(seed)`` runs first.
    """
    if seed is not None:
        torch.manual_seed(seed)
    U = torch.rand(m, rank)
    V = torch.rand(n, rank)
    return U, V


def sgd_factorise(A: Tensor, rank: int, num_epochs: int = 1000, lr: float = 0.01) -> tuple[Tensor, Tensor]:
    """Rank-``rank`` factorisation A ~ U V^T by the lab's element-wise SGD (lab 1.1)."""
    m, n = A.shape
    U, V = initial_factors(m, n, rank)
    U, V = U.to(A.device), V.to(A.device)
    for _ in range(num_epochs):
        for r in range(m):
            for c in range(n):
                e = A[r, c] - U[r] @ V[c]
                U[r] = U[r] + lr * e * V[c]
                V[c] = V[c] + lr * e * U[r]
    return U, V


def sgd_factorise_masked(
    A: Tensor, M: Tensor, rank: int, num_epochs: int = 1000, lr: float = 0.01
) -> tuple[Tensor, Tensor]:
    """Masked SGD factorisation (lab 3.1): updates only where ``M`` is non-zero."""
    m, n = A.shape
    U, V = initial_factors(m, n, rank)
    U, V = U.to(A.device), V.to(A.device)
    for _ in range(num_epochs):
        for r in range(m):
            for c in range(n):
                if M[r, c]:
                    e = A[r, c] - U[r] @ V[c]
                    U[r] = U[r] + lr * e * V[c]
                    V[c] = V[c] + lr * e * U[r]
    return U, V


def gd_factorise_masked(
    A: Tensor, M: Tensor, rank: int, num_epochs: int = 1000, lr: float = 1e-5
) -> tuple[Tensor, Tensor]:
    """The lab's vectorised masked gradient descent (lab 4), verbatim."""
    U = torch.rand(A.shape[0], rank).to(A.device)
    V = torch.rand(A.shape[1], rank).to(A.device)
    for _ in range(num_epochs):
        err = (A - U @ V.t()) * M
        U += lr * err @ V
        V += lr * err.t() @ U
    return U, V


def sgd_factorise_seeds(
    A: Tensor,
    rank: int,
    seeds: Sequence[int],
    M: Tensor | None = None,
    num_epochs: int = 1000,
    lr: float = 0.01,
) -> tuple[Tensor, Tensor]:
    """Run :func:`sgd_factorise` (or the masked version when ``M`` is given) for many seeds.

    Returns:
        ``U`` of shape (seeds, m, r) and ``V`` of shape (seeds, n, r); slice ``k`` is
        what the single-seed function returns after ``torch.manual_seed(seeds[k])``.
    """
    m, n = A.shape
    draws = [initial_factors(m, n, rank, seed) for seed in seeds]
    U = torch.stack([d[0] for d in draws]).to(A.device)
    V = torch.stack([d[1] for d in draws]).to(A.device)
    # Which entries to visit is decided once, on the CPU, as the pseudocode's `if`.
    observed = [(r, c) for r in range(m) for c in range(n) if M is None or bool(M[r, c])]
    values = [A[r, c] for r, c in observed]
    for _ in range(num_epochs):
        for (r, c), a in zip(observed, values, strict=True):
            e = a - (U[:, r] * V[:, c]).sum(-1, keepdim=True)
            U[:, r] = U[:, r] + lr * e * V[:, c]
            V[:, c] = V[:, c] + lr * e * U[:, r]
    return U, V


def reconstruction_loss(A: Tensor, U: Tensor, V: Tensor, M: Tensor | None = None) -> Tensor:
    """Squared Frobenius error ||A - U V^T||^2, over the observed entries when ``M`` is given.

    Works on single factors (m, r) and on batches (seeds, m, r) alike.
    """
    err = A - U @ V.transpose(-1, -2)
    if M is not None:
        err = err * M
    return (err * err).sum(dim=(-2, -1))


def truncated_svd(A: Tensor, rank: int) -> tuple[Tensor, Tensor]:
    """Best rank-``rank`` approximation of ``A`` by SVD, with all singular values.

    Uses ``torch.linalg.svd``, which returns V^T (``Vh``); the lab's ``torch.svd``
    returns V itself, so its reconstruction is ``U @ diag(S) @ V.t()``.  Both give the
    same matrix.  Singular values after the first ``rank`` are set to zero.

    Returns:
        The reconstruction (m, n) and the singular values (descending).
    """
    Uf, S, Vh = torch.linalg.svd(A, full_matrices=False)
    kept = S.clone()
    kept[rank:] = 0
    return Uf @ torch.diag(kept) @ Vh, S


def eckart_young_bound(A: Tensor, rank: int) -> float:
    """The smallest possible rank-``rank`` loss: the sum of the discarded squared singular values.

    By the Eckart-Young theorem no U V^T of rank ``rank`` gets below this.
    """
    S = torch.linalg.svdvals(A.double())
    return float((S[rank:] ** 2).sum())
