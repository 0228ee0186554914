# coding: utf-8

# In[1]:

!pip install torch
import torch
get_ipython().run_line_magic('matplotlib', 'inline')


# In[2]:

def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    m, n = A.shape
    U = torch.rand(m, rank)
    V = torch.rand(n, rank)
    for epoch in range(num_epochs):
        for r in range(m):
            for c in range(n):
                e = A[r, c] - U[r] @ V[c]
                U[r] = U[r] + lr * e * V[c]
                V[c] = V[c] + lr * e * U[r]
    return U, V
