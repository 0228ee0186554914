"""A syntax error: nothing can be graded, and the message names the line."""
import torch


def sgd_factorise(A, rank, num_epochs=1000, lr=0.01)
    return torch.rand(3, rank), torch.rand(3, rank)
