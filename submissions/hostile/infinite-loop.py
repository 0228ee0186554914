"""Never returns: the wall-clock limit must stop it."""


def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    while True:
        pass
