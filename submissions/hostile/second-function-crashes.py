"""sgd_factorise is correct; sgd_factorise_masked crashes the process (a segfault) after a global change."""
import ctypes

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
    torch.set_grad_enabled(False)  # a global change: the next function's load must not see it
    ctypes.string_at(0)
