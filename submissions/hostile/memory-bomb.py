"""Allocates far more memory than the limit, in torch and in plain Python."""

import torch


def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    blocks = []
    while True:
        blocks.append(torch.ones(256, 1024, 1024))  # 1 GiB each


def sgd_factorise_masked(A, M, rank, num_epochs=1000, lr=0.01):
    return [bytearray(1 << 30) for _ in range(64)]
