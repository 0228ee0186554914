import torch
from typing import Tuple

def gd_factorise_masked(A: torch.Tensor, M: torch.Tensor, rank: int,
    num_epochs: int=1000, lr: float=1e-5) -> Tuple[torch.Tensor, torch.Tensor]:
    U = torch.rand(A.shape[0], rank)
    V = torch.rand(A.shape[1], rank)

    for e in range(num_epochs):
        err = (A - U @ V.t()) * M
        U += lr * err @ V
        V += lr * err.t() @ U

    return U, V

def sgd_factorise_masked(A: torch.Tensor, M: torch.Tensor, rank: int,
    num_epochs=1000, lr=0.01) -> Tuple[torch.Tensor, torch.Tensor]:
    num_rows, num_cols = A.size()
    U = torch.rand(num_rows, rank)
    V = torch.rand(num_cols, rank)
    observed = [(r, c) for r in range(num_rows) for c in range(num_cols) if M[r, c] > 0]
    with torch.no_grad():
        for _ in range(num_epochs):
            for r, c in observed:
                prediction = (U[r, :] * V[c, :]).sum()
                residual = A[r, c] - prediction
                U[r, :] = U[r, :] + lr * residual * V[c, :]
                V[c, :] = V[c, :] + lr * residual * U[r, :]
    return U, V

def sgd_factorise(A: torch.Tensor, rank: int, num_epochs=1000,
                   lr=0.01) -> Tuple[torch.Tensor, torch.Tensor]:
    # the unmasked version is the masked one with every entry observed
    return sgd_factorise_masked(A, torch.ones_like(A), rank, num_epochs=num_epochs, lr=lr)
