"""sgd_factorise is an object whose signature cannot be read; sgd_factorise_masked's defaults explode when shown."""
import torch


class Trap:
    @property
    def __signature__(self):
        raise RuntimeError("no signature for you")

    def __call__(self, A, rank, num_epochs=1000, lr=0.01):
        return A, A


class Bomb:
    def __repr__(self):
        raise RuntimeError("boom")


sgd_factorise = Trap()


def sgd_factorise_masked(A, M, rank, num_epochs=1000, lr=Bomb()):
    return torch.rand(A.shape[0], rank), torch.rand(A.shape[1], rank)
