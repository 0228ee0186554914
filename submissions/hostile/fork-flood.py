"""Tries to fork without end and to start a shell: no process may be created."""

import os
import subprocess

import torch


def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    made = 0
    for _ in range(1000):
        try:
            if os.fork() == 0:
                while True:
                    pass
            made += 1
        except OSError:
            break
    try:
        subprocess.run(["sleep", "1000"])
        made += 1000
    except OSError:
        pass
    # Report what it managed in the returned tensor, so the test can see it.
    return torch.full((3, rank), float(made)), torch.zeros(3, rank)
