"""A stub: random factors of the right shapes, no training at all. Structure alone earns nothing."""
from typing import Tuple

import torch


def sgd_factorise(A: torch.Tensor, rank: int, num_epochs: int = 1000,
                  lr: float = 0.01) -> Tuple[torch.Tensor, torch.Tensor]:
    m, n = A.shape
    return torch.rand(m, rank), torch.rand(n, rank)


def sgd_factorise_masked(A: torch.Tensor, M: torch.Tensor, rank: int, num_epochs: int = 1000,
                         lr: float = 0.01) -> Tuple[torch.Tensor, torch.Tensor]:
    m, n = A.shape
    return torch.rand(m, rank), torch.rand(n, rank)
