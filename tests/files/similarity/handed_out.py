from typing import Tuple
import torch

def gd_factorise_masked(A: torch.Tensor, M: torch.Tensor, rank: int,
    num_epochs: int=1000, lr: float=1e-5) -> Tuple[torch.Tensor, torch.Tensor]:
    U = torch.rand(A.shape[0], rank)
    V = torch.rand(A.shape[1], rank)

    for e in range(num_epochs):
        err = (A - U @ V.t()) * M
        U += lr * err @ V
        V += lr * err.t() @ U

    return U, V

def sgd_factorise(A: torch.Tensor, rank: int, num_epochs=1000,
                   lr=0.01) -> Tuple[torch.Tensor, torch.Tensor]:
    pass

def sgd_factorise_masked(A: torch.Tensor, M: torch.Tensor, rank: int,
    num_epochs=1000, lr=0.01) -> Tuple[torch.Tensor, torch.Tensor]:
    pass
