"""Returns the reconstruction U @ V.T instead of the factors."""
import torch


def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    U = torch.rand(A.shape[0], rank)
    V = torch.rand(A.shape[1], rank)
    return U @ V.t()
