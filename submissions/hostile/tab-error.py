import torch


def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    m, n = A.shape
	U = torch.rand(m, rank)
    return U, U
