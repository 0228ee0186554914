"""Connects to local ports (the test listens on one of them) and looks up a host name.

Neither may succeed: the verdict is the exception the blocked call raised.
"""
import socket


def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    for port in range(47600, 47610):
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(b"GET /expected-values HTTP/1.0\r\n\r\n")
    return A, A


def sgd_factorise_masked(A, M, rank, num_epochs=1000, lr=0.01):
    socket.getaddrinfo("pypi.org", 443)
    return A, A
