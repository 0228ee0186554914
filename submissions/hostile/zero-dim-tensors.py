"""Returns 0-dimensional tensors (scalars) instead of the factors."""
import torch


def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    return torch.tensor(0.5), torch.tensor(0.5)


def sgd_factorise_masked(A, M, rank, num_epochs=1000, lr=0.01):
    return torch.tensor(0.5), torch.tensor(0.5)
