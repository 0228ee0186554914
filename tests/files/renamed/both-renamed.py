"""Both functions renamed at once: a suffix on one, US spelling and capitals on the other."""
from typing import Tuple

import torch


def sgd_factorise_v2(A: torch.Tensor, rank: int, num_epochs: int = 1000, lr: float = 0.01):
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


def SGD_Factorize_Masked(A: torch.Tensor, M: torch.Tensor, rank: int, num_epochs: int = 1000, lr: float = 0.01):
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
