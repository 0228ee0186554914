from typing import Tuple

import torch


def sgd_factorise_masked(A: torch.Tensor, M: torch.Tensor, rank: int, num_epochs=1000, lr=1e-2) -> Tuple[torch.Tensor, torch.Tensor]:
    """SGD over the observed entries only (M == 1)."""
    n_r = len(A)
    n_c = len(A[0])
    # random initialisation
    P = torch.rand(n_r, rank)
    Q = torch.rand(n_c, rank)
    for it in range(num_epochs):
        for i, a_row in enumerate(A):
            for j in range(n_c):
                if M[i][j] == 1:
                    # error of the current estimate
                    delta = (a_row[j]
                             - torch.sum(P[i] * Q[j]))
                    P[i] += lr * delta * Q[j]
                    Q[j] += lr * delta * P[i]
        if it % 100 == 0:
            print(f"iteration {it} -> loss {squared_error(A, P, Q, M):.3f}")
    return P, Q


def sgd_factorise(A: torch.Tensor, rank: int, num_epochs=1000, lr=1e-2) -> Tuple[torch.Tensor, torch.Tensor]:
    """Plain SGD, one entry at a time."""
    n_r = len(A)
    n_c = len(A[0])
    P = torch.rand(n_r, rank)
    Q = torch.rand(n_c, rank)
    for it in range(num_epochs):
        for i, a_row in enumerate(A):
            for j in range(n_c):
                delta = a_row[j] - torch.sum(P[i] * Q[j])
                P[i] += lr * delta * Q[j]
                Q[j] += lr * delta * P[i]
        if it % 100 == 0:
            print(f"iteration {it} -> loss {squared_error(A, P, Q):.3f}")
    return P, Q


def gd_factorise_masked(A: torch.Tensor, M: torch.Tensor, rank: int,
    num_epochs: int=1000, lr: float=1e-5) -> Tuple[torch.Tensor, torch.Tensor]:
    U = torch.rand(A.shape[0], rank)
    V = torch.rand(A.shape[1], rank)

    for e in range(num_epochs):
        err = (A - U @ V.t()) * M
        U += lr * err @ V
        V += lr * err.t() @ U

    return U, V


def squared_error(target, left, right, mask=None):
    """Sum of squared residuals, optionally masked."""
    residual = target - left @ right.t()
    if mask is not None:
        residual = residual * mask  # only observed entries
    return torch.sum(residual ** 2).item()
