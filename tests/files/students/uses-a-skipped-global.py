import torch
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
EPOCHS = 1000
lr_default = 0.01
helper = make_helper()
def sgd_factorise(A, rank, num_epochs=EPOCHS, lr=lr_default):
    m, n = A.shape
    U = torch.rand(m, rank).to(device)
    V = torch.rand(n, rank).to(device)
    for epoch in range(num_epochs):
        for r in range(m):
            for c in range(n):
                e = A[r, c] - U[r] @ V[c]
                U[r] = U[r] + lr * e * V[c]
                V[c] = V[c] + lr * e * U[r]
    helper(1)
    return U, V
