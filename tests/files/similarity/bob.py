import torch
from typing import Tuple


def gd_factorise_masked(A: torch.Tensor, M: torch.Tensor, rank: int,
    num_epochs: int=1000, lr: float=1e-5) -> Tuple[torch.Tensor, torch.Tensor]:
    U = torch.rand(A.shape[0], rank)
    V = torch.rand(A.shape[1], rank)

    for e in range(num_epochs):
        err = (A - U @ V.t()) * M
        U += lr * err @ V
        V += lr * err.t() @ U

    return U, V


def sgd_factorise(A: torch.Tensor, rank: int, num_epochs=1000, lr=0.01) -> Tuple[torch.Tensor, torch.Tensor]:
    # initialise both factors with uniform noise in [0, 1)
    U = torch.rand(A.shape[0], rank)
    V = torch.rand(A.shape[1], rank)

    for epoch in range(num_epochs):
        for i in range(A.shape[0]):
            for j in range(A.shape[1]):
                u_old = U[i].clone()  # keep the old row so V is updated with it too
                v_old = V[j].clone()
                err = A[i, j] - torch.dot(u_old, v_old)
                U[i] = u_old + lr * err * v_old
                V[j] = v_old + lr * err * u_old

    return U, V


def sgd_factorise_masked(A: torch.Tensor, M: torch.Tensor, rank: int,
    num_epochs=1000, lr=0.01) -> Tuple[torch.Tensor, torch.Tensor]:
    U = torch.rand(A.shape[0], rank)
    V = torch.rand(A.shape[1], rank)

    for epoch in range(num_epochs):
        for i in range(A.shape[0]):
            for j in range(A.shape[1]):
                if M[i, j] == 0:
                    continue  # entry not observed
                u_old = U[i].clone()
                v_old = V[j].clone()
                err = A[i, j] - torch.dot(u_old, v_old)
                U[i] = u_old + lr * err * v_old
                V[j] = v_old + lr * err * u_old

    return U, V


if __name__ == "__main__":
    A = torch.tensor([[0.3374, 0.6005, 0.1735], [3.3359, 0.0492, 1.8374], [2.9407, 0.5301, 2.2620]])
    U, V = sgd_factorise(A, 2)
    loss = torch.sum((A - U @ V.T) ** 2)
    print("reconstruction loss:", loss.item())
