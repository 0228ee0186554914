"""Raises SystemExit in one function and KeyboardInterrupt in the other, inside the call."""


def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    raise SystemExit


def sgd_factorise_masked(A, M, rank, num_epochs=1000, lr=0.01):
    raise KeyboardInterrupt
