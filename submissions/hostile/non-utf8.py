# Factorisation par SGD écrite en Latin-1 (pas en UTF-8)
import torch


def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    return torch.rand(3, rank), torch.rand(4, rank)
