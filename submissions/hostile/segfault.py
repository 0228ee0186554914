"""Crashes the interpreter."""

import ctypes


def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    return ctypes.string_at(0)
