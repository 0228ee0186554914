"""A correct SGD written with NumPy: it returns ndarrays. The work is right; the form is not."""
import numpy as np


def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    A = A.numpy()
    m, n = A.shape
    U = np.random.rand(m, rank)
    V = np.random.rand(n, rank)
    for epoch in range(num_epochs):
        for r in range(m):
            for c in range(n):
                e = A[r, c] - U[r] @ V[c]
                U[r] = U[r] + lr * e * V[c]
                V[c] = V[c] + lr * e * U[r]
    return U, V


def sgd_factorise_masked(A, M, rank, num_epochs=1000, lr=0.01):
    A, M = A.numpy(), M.numpy()
    m, n = A.shape
    U = np.random.rand(m, rank)
    V = np.random.rand(n, rank)
    for epoch in range(num_epochs):
        for r in range(m):
            for c in range(n):
                if M[r, c]:
                    e = A[r, c] - U[r] @ V[c]
                    U[r] = U[r] + lr * e * V[c]
                    V[c] = V[c] + lr * e * U[r]
    return U, V
