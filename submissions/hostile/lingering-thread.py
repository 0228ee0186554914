"""Starts threads that never end, then returns a correct result.

One thread spins for ever; the other waits until the grader loads the file again
for the next function and then makes torch.rand return zeros (so SGD cannot move).  Neither may delay a
verdict or reach the other function: both functions must get full marks.
"""
import sys
import threading
import time
from typing import Tuple

import torch


def _spin():
    while True:
        pass


def _spoil_the_next_function(first):
    while sys.modules.get("submission") is first:
        time.sleep(0.001)
    torch.rand = lambda *size, **kwargs: torch.zeros(*size)


def sgd_factorise(A: torch.Tensor, rank: int, num_epochs: int = 1000,
                  lr: float = 0.01) -> Tuple[torch.Tensor, torch.Tensor]:
    m, n = A.shape
    U = torch.rand(m, rank)
    V = torch.rand(n, rank)
    for epoch in range(num_epochs):
        for r in range(m):
            for c in range(n):
                e = A[r, c] - U[r] @ V[c]
                U[r] = U[r] + lr * e * V[c]
                V[c] = V[c] + lr * e * U[r]
    return U, V


def sgd_factorise_masked(A: torch.Tensor, M: torch.Tensor, rank: int, num_epochs: int = 1000,
                         lr: float = 0.01) -> Tuple[torch.Tensor, torch.Tensor]:
    m, n = A.shape
    U = torch.rand(m, rank)
    V = torch.rand(n, rank)
    for epoch in range(num_epochs):
        for r in range(m):
            for c in range(n):
                if M[r, c]:
                    e = A[r, c] - U[r] @ V[c]
                    U[r] = U[r] + lr * e * V[c]
                    V[c] = V[c] + lr * e * U[r]
    return U, V


_sgd = sgd_factorise


def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    if threading.active_count() == 1:
        threading.Thread(target=_spin).start()
        threading.Thread(target=_spoil_the_next_function, args=(sys.modules.get("submission"),), daemon=True).start()
    return _sgd(A, rank, num_epochs, lr)
