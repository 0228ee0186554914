"""Seed the generators student code draws from, cheaply.

``torch.manual_seed`` also queues a CUDA seeding call, and when CUDA is not
initialised it records the caller's stack for that queue (about 1.5 ms a call, the
largest part of seeding a child).  On a machine without CUDA there is nothing to
queue, so only the CPU generator is seeded; where CUDA exists it is seeded too.
"""

from __future__ import annotations

import random
import sys

import torch


def seed_torch(seed: int) -> None:
    """Seed torch's CPU generator, and every CUDA generator where CUDA exists."""
    torch.default_generator.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def seed_everything(seed: int) -> None:
    """Seed every generator a student might draw from: torch, Python's ``random`` and numpy's."""
    seed_torch(seed)
    random.seed(seed)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(seed % (2**32))
