"""Returns objects that pretend to be tensors, and a tensor subclass that lies in __eq__."""

import torch


class Liar(torch.Tensor):
    def __eq__(self, other):
        return True


class FakeTensor:
    shape = (3, 2)
    dtype = torch.float32

    def __getattr__(self, name):
        return lambda *a, **k: self


def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    return Liar(torch.rand(3, rank)), FakeTensor()


def sgd_factorise_masked(A, M, rank, num_epochs=1000, lr=0.01):
    return torch.full((3, rank), float("nan")), torch.zeros(0, rank)
