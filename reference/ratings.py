"""The Netflix ratings tensor: load a real one safely, or make the synthetic default.

A ratings file is an instructor's input, so every way it can be wrong gets a
message naming the file and what was expected.  It is read with
``torch.load(weights_only=True)``: a pickle that is not plain tensor data is
refused instead of run.
"""

from __future__ import annotations

import functools
import hashlib
import pickle
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from labgrade.harness.errors import DataError
from labgrade.reference.synthetic import SHAPE, SYNTHETIC_SEED, synthetic_ratings


@dataclass(frozen=True)
class Ratings:
    """A ratings matrix (movies x users, float32, 0 = not rated) and where it came from.

    The synthetic default is made only when something reads ``tensor`` (building
    the reference): grading against expectations needs its identity, not its
    10 million entries, and making them costs a self-check about a second.
    """

    make: Callable[[], torch.Tensor] = field(repr=False, compare=False)
    source: str
    synthetic: bool
    sha256: str

    @functools.cached_property
    def tensor(self) -> torch.Tensor:
        """The matrix itself (made on first use for the synthetic default)."""
        return self.make()

    @property
    def mask(self) -> torch.Tensor:
        """1.0 where a rating exists, 0.0 elsewhere (the lab's M)."""
        return (self.tensor > 0).to(torch.float32)

    @property
    def density(self) -> float:
        """Fraction of observed entries."""
        return float((self.tensor > 0).float().mean())


def tensor_hash(t: torch.Tensor) -> str:
    """SHA-256 of a tensor's dtype, shape and bytes."""
    c = t.detach().cpu().contiguous()
    h = hashlib.sha256(f"{c.dtype}{tuple(c.shape)}".encode())
    h.update(c.view(torch.uint8).numpy().tobytes() if c.numel() else b"")
    return h.hexdigest()


def validate_ratings(obj: object, source: str, movies: int | None = None) -> torch.Tensor:
    """Check that ``obj`` is a movies x users ratings matrix and return it as float32.

    Args:
        obj: what was loaded.
        source: the file's name, for messages.
        movies: the number of rows required (the number of titles), if known.

    Raises:
        DataError: with the file, what was found and what was expected.
    """
    expected = f"a 2-D tensor of {movies or SHAPE[0]} movies x users with ratings 0..5"
    if type(obj) is not torch.Tensor:
        raise DataError(f"{source}: expected {expected}, got a {type(obj).__name__}")
    if obj.dim() != 2:
        raise DataError(f"{source}: expected {expected}, got shape {tuple(obj.shape)}")
    if movies is not None and obj.shape[0] != movies:
        raise DataError(
            f"{source}: expected {movies} rows (one per title in titles.csv), "
            f"got shape {tuple(obj.shape)}; is the tensor transposed?"
            if obj.shape[1] == movies
            else f"{source}: expected {movies} rows (one per title), got shape {tuple(obj.shape)}"
        )
    if obj.is_complex() or obj.dtype == torch.bool:
        raise DataError(f"{source}: expected real numbers, got dtype {obj.dtype}")
    t = obj.detach().cpu().to(torch.float64)
    if not bool(torch.isfinite(t).all()):
        raise DataError(f"{source}: contains NaN or infinite values; expected ratings 0..5")
    bad = (t != t.round()) | (t < 0) | (t > 5)
    if bool(bad.any()):
        i, j = (int(x) for x in bad.nonzero()[0])
        raise DataError(
            f"{source}: entry ({i}, {j}) is {float(t[i, j]):g}; "
            f"expected whole ratings 1..5 and 0 for not rated ({int(bad.sum())} bad entries)"
        )
    if not bool((t > 0).any()):
        raise DataError(f"{source}: no ratings at all (every entry is 0)")
    return t.to(torch.float32)


def load_ratings(path: Path | None, movies: int | None = None) -> Ratings:
    """Load ratings from ``path`` (validated), or make the synthetic default when ``None``."""
    if path is None:
        # Its identity is its recipe: the generator's code is in the reference code hash and
        # torch's version in the provenance, so shape and seed say which tensor it is.
        recipe = f"synthetic {SHAPE[0]}x{SHAPE[1]} seed {SYNTHETIC_SEED}"
        return Ratings(synthetic_ratings, f"synthetic (seed {SYNTHETIC_SEED})", True, recipe)
    try:
        with warnings.catch_warnings():
            # torch warns about pickle protocols it then refuses anyway; the refusal is our message.
            warnings.simplefilter("ignore", UserWarning)
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise DataError(f"{path}: ratings file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder; expected a ratings.pt file") from None
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, AttributeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{path}: not a tensor saved with torch.save (refused to unpickle: {first[:200]})") from None
    t = validate_ratings(obj, str(path), movies)
    return Ratings(lambda: t, str(path), False, tensor_hash(t))
