"""Ignores SIGTERM and SIGXCPU, then spins: only SIGKILL stops it."""

import signal


def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGXCPU, signal.SIG_IGN)
    x = 0
    while True:
        x += 1
