"""Lab 1 - matrix factorisation
Carol, group B
"""
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


def frobenius_loss(A, U, V, M=None):
    diff = A - U @ V.t()
    if M is not None:
        diff = diff * M
    return torch.sum(diff ** 2).item()


def sgd_factorise(A: torch.Tensor, rank: int, num_epochs=1000,
                  lr=0.01) -> Tuple[torch.Tensor, torch.Tensor]:
    rows = len(A)
    cols = len(A[0])
    U = torch.rand(rows, rank)
    V = torch.rand(cols, rank)
    for epoch in range(num_epochs):
        for row_idx, row in enumerate(A):
            for col_idx in range(cols):
                error = row[col_idx] - torch.sum(U[row_idx] * V[col_idx])
                U[row_idx] += lr * error * V[col_idx]
                V[col_idx] += lr * error * U[row_idx]
        if epoch % 100 == 0:
            print(f"epoch {epoch}: loss = {frobenius_loss(A, U, V):.4f}")
    return U, V


def sgd_factorise_masked(A: torch.Tensor, M: torch.Tensor, rank: int,
                         num_epochs=1000, lr=0.01) -> Tuple[torch.Tensor, torch.Tensor]:
    rows = len(A)
    cols = len(A[0])
    U = torch.rand(rows, rank)
    V = torch.rand(cols, rank)
    for epoch in range(num_epochs):
        for row_idx, row in enumerate(A):
            for col_idx in range(cols):
                if M[row_idx][col_idx] == 1:
                    error = row[col_idx] - torch.sum(U[row_idx] * V[col_idx])
                    U[row_idx] += lr * error * V[col_idx]
                    V[col_idx] += lr * error * U[row_idx]
        if epoch % 100 == 0:
            print(f"epoch {epoch}: masked loss = {frobenius_loss(A, U, V, M):.4f}")
    return U, V
