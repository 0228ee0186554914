"""Returns infinite values and 0-dimensional tensors (sgd) and a 10^9-element tensor (masked)."""
import torch


def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    return torch.full((A.shape[0], rank), float("inf")), torch.tensor(1.0)


def sgd_factorise_masked(A, M, rank, num_epochs=1000, lr=0.01):
    huge = torch.zeros(1).expand(10**9)  # 10^9 elements, no memory: a view with stride 0
    return huge, huge
