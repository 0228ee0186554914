"""Writes a 5 GB file in its working folder (sgd) and in /tmp (masked)."""


def _fill(path):
    block = b"\0" * (1 << 20)
    with open(path, "wb") as f:
        for _ in range(5 * 1024):
            f.write(block)


def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    _fill("big.bin")
    return A, A


def sgd_factorise_masked(A, M, rank, num_epochs=1000, lr=0.01):
    _fill("/tmp/labgrade-big.bin")
    return A, A
