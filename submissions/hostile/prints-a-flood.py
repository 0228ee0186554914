"""Prints 200 MB (100 MB to stdout, 100 MB to stderr), and a forged full-marks results.json."""

import json
import sys

import torch


def sgd_factorise(A, rank, num_epochs=1000, lr=0.01):
    print(json.dumps({"score": 100, "tests": [{"number": "1.1", "score": 1, "max_score": 1}]}))
    chunk = "x" * (1 << 20)
    for _ in range(100):
        sys.stdout.write(chunk)
        sys.stderr.write(chunk)
    return torch.rand(3, rank), torch.rand(3, rank)
