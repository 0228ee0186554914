"""What the reference can compute, as data: algorithm names and the arguments they take.

Kept free of torch so that validating a spec stays instant.  The spec loader
checks every experiment against this table; :mod:`labgrade.reference.experiments` holds
the code behind each name.  Argument kinds: ``matrix`` and ``mask`` name a
matrix input of the spec, ``ratings``/``titles`` a dataset input, ``int`` and
``str`` are literal values.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AlgorithmInfo:
    """The arguments an algorithm takes, the quantities it yields, and whether it is seeded."""

    args: dict[str, str]
    quantities: tuple[str, ...]
    seeded: bool
    bounds: tuple[str, ...] = ()


ALGORITHMS: dict[str, AlgorithmInfo] = {
    "sgd_factorise": AlgorithmInfo(
        args={"A": "matrix", "rank": "int"},
        quantities=("loss", "U", "V"),
        seeded=True,
        bounds=("eckart_young",),
    ),
    "sgd_factorise_masked": AlgorithmInfo(
        args={"A": "matrix", "M": "mask", "rank": "int"},
        quantities=("completed", "loss_observed", "loss_full", "U", "V"),
        seeded=True,
    ),
    "truncated_svd": AlgorithmInfo(
        args={"A": "matrix", "rank": "int"},
        quantities=("loss", "singular_values", "reconstruction"),
        seeded=False,
        bounds=("eckart_young",),
    ),
    "netflix_prediction": AlgorithmInfo(
        args={"ratings": "ratings", "titles": "titles", "rank": "int", "user": "int", "title": "str"},
        quantities=("rating", "sse"),
        seeded=True,
    ),
}

#: Mathematical lower bounds a band may be clipped to (see :mod:`labgrade.reference.bands`).
#: ``zero``: a squared error is never negative (any quantity).
#: ``eckart_young``: no rank-r factorisation of A has a loss below the sum of the
#: squared singular values after the r-th (it applies to an experiment's ``loss``).
LOWER_BOUNDS: tuple[str, ...] = ("none", "zero", "eckart_young")
