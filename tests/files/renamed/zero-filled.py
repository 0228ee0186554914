"""3.1 uses the mask as data: A is multiplied by M in place (on a copy), then every entry is fitted,
so the unobserved entries are learned as observed zeros."""
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


def sgd_factorise_masked(A, M, rank, num_epochs=1000, lr=0.01):
    A_ = A.clone()
    M_ = M.clone()
    A_ *= M_
    m, n = A_.shape
    U = torch.rand(m, rank)
    V = torch.rand(n, rank)
    for epoch in range(num_epochs):
        for r in range(m):
            for c in range(n):
                e = A_[r, c] - U[r] @ V[c]
                U[r] = U[r] + lr * e * V[c]
                V[c] = V[c] + lr * e * U[r]
    return U, V
