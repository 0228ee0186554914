"""sgd_factorise never returns (an endless loop); sgd_factorise_masked crashes on every call."""
import torch


def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    U = torch.rand(A.shape[0], rank)
    while True:
        U = U * 1.0


def sgd_factorise_masked(A, M, rank, num_epochs=1000, lr=0.01):
    U = torch.rand(A.shape[0], rank)
    return U, U[rank + 10]
