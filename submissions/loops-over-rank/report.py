# The code listings of a real student's report (COMP6248 lab 1), verbatim.
# Its bug: the loop over rows runs `for r in range(rank)` instead of `range(m)`,
# so with rank 2 and a 3x3 matrix row 2 of U is never updated.
# The report showed no imports; these three lines are the only addition.
import torch
from torch import Tensor
from typing import Tuple

def sgd_factorise(
    A: Tensor, rank: int, num_epochs: int = 1000, lr: float = 0.01
) -> Tuple[Tensor, Tensor]:
    (m, n) = A.shape
    U = torch.rand((m, rank))
    V = torch.rand((n, rank))
    for epoch in range(num_epochs):
        e = A - U @ V.t()
        for r in range(rank):
            for c in range(n):
                e = A[r, c] - U[r] @ V[c].t()
                U[r] += lr * e * V[c]
                V[c] += lr * e * U[r]
    return U, V

def svd_factorise(A: Tensor, rank: int) -> Tuple[Tensor, Tensor, Tensor]:
    U, S, V = torch.svd(A)
    S[rank:] = 0
    return (U, torch.diag(S), V)

def sgd_factorise_masked(
    A: Tensor, M: Tensor, rank: int, num_epochs: int = 1000, lr: float = 0.01
) -> Tuple[Tensor, Tensor]:
    (m, n) = A.shape
    U = torch.rand((m, rank))
    V = torch.rand((n, rank))
    for epoch in range(num_epochs):
        e = A - U @ V.t()
        for r in range(rank):
            for c in range(n):
                if M[r, c]:
                    e = A[r, c] - U[r] @ V[c].t()
                    U[r] += lr * e * V[c]
                    V[c] += lr * e * U[r]
    return U, V
