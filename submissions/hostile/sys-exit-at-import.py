"""Calls sys.exit while the file is loaded, from a decorator (decorators run when the def runs)."""
import sys


def register(function):
    sys.exit("bye from the decorator")


@register
def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    return A, A


def sgd_factorise_masked(A, M, rank, num_epochs=1000, lr=0.01):
    return A, A
