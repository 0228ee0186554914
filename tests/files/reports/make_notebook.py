"""Write notebook.ipynb (cells only, no outputs): ``python make_notebook.py``.

build_real.py runs this, then executes the notebook in a real kernel and exports it
to PDF with ``jupyter nbconvert --to pdf --execute``.  Kept as a script so the
cells are readable in review; the .ipynb it writes is committed beside it.
"""

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def md(text):
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def code(text):
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": text}


CELLS = [
    md("# COMP6258 Lab 1 — Sam Patel (sp4k22)\n\nGradients and matrices in PyTorch. All results below come from running this notebook top to bottom."),
    code("from typing import Tuple\n\nimport torch\n\n_ = torch.manual_seed(0)  # reproducible runs"),
    md("## 1.1\n\nGradient-based factorisation, following the pseudocode."),
    code(
        "def sgd_factorise(A: torch.Tensor, rank: int, num_epochs: int = 1000,\n"
        "                  lr: float = 0.01) -> Tuple[torch.Tensor, torch.Tensor]:\n"
        "    m, n = A.shape\n"
        "    U = torch.rand(m, rank)\n"
        "    V = torch.rand(n, rank)\n"
        "    for epoch in range(num_epochs):\n"
        "        for r in range(m):\n"
        "            for c in range(n):\n"
        "                e = A[r, c] - U[r] @ V[c]\n"
        "                U[r] = U[r] + lr * e * V[c]\n"
        "                V[c] = V[c] + lr * e * U[r]\n"
        "    return U, V"
    ),
    md("My very first attempt was a stub; printed here only to remember it:"),
    code('print("def", "sgd_factorise(A): return None")'),
    md("## 1.2\n\nRank-2 factorisation of $A$ with the default learning rate and number of epochs."),
    code(
        "A = torch.tensor([[0.3374, 0.6005, 0.1735],\n"
        "                  [3.3359, 0.0492, 1.8374],\n"
        "                  [2.9407, 0.5301, 2.2620]])\n"
        "U, V = sgd_factorise(A, 2)\n"
        "loss = torch.nn.functional.mse_loss(U @ V.t(), A, reduction='sum')\n"
        "print('loss =', loss)"
    ),
    md("## 2.1\n\nTruncated SVD: zero the last singular value and reconstruct."),
    code(
        "Us, S, Vs = torch.svd(A)\n"
        "S[-1] = 0\n"
        "A_svd = Us @ torch.diag(S) @ Vs.t()\n"
        "print('SVD loss =', torch.nn.functional.mse_loss(A_svd, A, reduction='sum'))"
    ),
    md("The SVD loss is slightly lower than the SGD loss: by the Eckart–Young theorem the truncated SVD is the optimal rank-2 approximation in the Frobenius norm, so gradient descent can only approach it."),
    md("## 3.1\n\nMasked factorisation: only update where the mask is 1."),
    code(
        "def sgd_factorise_masked(A: torch.Tensor, M: torch.Tensor, rank: int, num_epochs: int = 1000,\n"
        "                         lr: float = 0.01) -> Tuple[torch.Tensor, torch.Tensor]:\n"
        "    m, n = A.shape\n"
        "    U = torch.rand(m, rank)\n"
        "    V = torch.rand(n, rank)\n"
        "    for epoch in range(num_epochs):\n"
        "        for r in range(m):\n"
        "            for c in range(n):\n"
        "                if M[r, c]:\n"
        "                    e = A[r, c] - U[r] @ V[c]\n"
        "                    U[r] = U[r] + lr * e * V[c]\n"
        "                    V[c] = V[c] + lr * e * U[r]\n"
        "    return U, V"
    ),
    md("## 3.2\n\nThe completed matrix:"),
    code(
        "M = torch.tensor([[1, 1, 1],\n"
        "                  [0, 1, 1],\n"
        "                  [1, 0, 1]])\n"
        "U, V = sgd_factorise_masked(A * M, M, 2)\n"
        "print(U @ V.t())"
    ),
    md("The observed entries are reproduced closely; the two missing entries are estimated from the rank-2 structure of the rest of the matrix, and differ from the true values in $A$ (3.3359 and 0.5301)."),
]

NOTEBOOK = {
    "cells": CELLS,
    "metadata": {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}

if __name__ == "__main__":
    for i, cell in enumerate(CELLS):
        cell["id"] = f"cell-{i:02d}"
        lines = cell["source"].split("\n")
        cell["source"] = [line + "\n" for line in lines[:-1]] + [lines[-1]]
    (HERE / "notebook.ipynb").write_text(json.dumps(NOTEBOOK, indent=1, ensure_ascii=False) + "\n")
