"""Sleeps for ever: it uses no CPU, so only the wall-clock limit can stop it."""
import time


def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    while True:
        time.sleep(0.5)


def sgd_factorise_masked(A, M, rank, num_epochs=1000, lr=0.01):
    while True:
        time.sleep(0.5)
