from typing import Tuple

import torch


def sgd_factorise(A: torch.Tensor, rank: int, num_epochs=1000, lr=0.01) -> Tuple[torch.Tensor, torch.Tensor]:
    m, n = A.shape
    U = torch.rand(m, rank)
    V = torch.rand(n, rank)
    for _ in range(num_epochs):
        for i in range(m):
            for j in range(n):
                e = A[i][j] - U[i] @ V[j]
                U[i] += lr * e * V[j]
                V[j] += lr * e * U[i]
    return U, V


def sgd_factorise_masked(A: torch.Tensor, M: torch.Tensor, rank: int, num_epochs=1000, lr=0.01) -> Tuple[torch.Tensor, torch.Tensor]:
    m, n = A.shape
    U = torch.rand(m, rank)
    V = torch.rand(n, rank)
    for _ in range(num_epochs):
        for i in range(m):
            for j in range(n):
                if M[i][j] == 1:
                    e = A[i][j] - U[i] @ V[j]
                    U[i] += lr * e * V[j]
                    V[j] += lr * e * U[i]
    return U, V
