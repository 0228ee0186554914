"""Exits the process in the middle of the call, and raises SystemExit in the other function."""

import os
import sys


def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    os._exit(3)


def sgd_factorise_masked(A, M, rank, num_epochs=1000, lr=0.01):
    sys.exit("bye")
