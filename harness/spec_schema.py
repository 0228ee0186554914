"""The versioned spec schema: which check kinds exist, their parameters, and limit defaults.

Bump :data:`SCHEMA_VERSION` when a spec written for the old schema would be read
differently; the loader refuses other versions with a message saying which
version this harness reads (nbgrader's ``SchemaTooOldError`` idea).
"""

from __future__ import annotations

SCHEMA_VERSION = 1

#: Parameter types understood by the validator: ``str``, ``number``, ``bool``,
#: ``band`` (see :data:`BAND_KEYS`) and ``list[str]``.
CHECK_PARAMS: dict[str, dict[str, str]] = {
    "signature": {},
    "result": {},
    "loss_band": {"quantity": "str", "band": "band"},
    "step_for_step": {"atol": "number"},
    "diagnose": {"probes": "list[str]"},
    "answer_band": {"answer": "str", "experiment": "str", "quantity": "str", "band": "band"},
    "answer_close": {"answer": "str", "experiment": "str", "quantity": "str", "rtol": "number"},
    "completion_band": {"answer": "str", "experiment": "str", "band": "band"},
}

#: Check parameters that may be left out (all others are required).
OPTIONAL_CHECK_PARAMS: dict[str, set[str]] = {
    "step_for_step": {"atol"},
    "diagnose": {"probes"},
}

#: Diagnoses the ``diagnose`` check can run (each one a probe in the child plus a judgement).
DIAGNOSES: tuple[str, ...] = (
    "rows_updated",
    "init_uniform",
    "lr_used",
    "epochs_used",
    "zero_epochs_returns_init",
    "seed_dependent",
    "mask_honoured",
    "observed_fitted",
    "inputs_unmodified",
    "no_global_side_effects",
)

#: Keys of a band: quantiles of the reference distribution, slack as a fraction of
#: the spread between them, a minimum relative half-width, and a mathematical bound.
BAND_KEYS: dict[str, str] = {
    "quantiles": "pair",
    "slack": "number",
    "rtol": "number",
    "lower_bound": "str",
}

#: Sandbox limits with their defaults; a spec's ``limits`` section may override any.
LIMIT_DEFAULTS: dict[str, float] = {
    "time_per_call_s": 60.0,
    "cpu_per_call_s": 60.0,
    "memory_mib": 2048.0,
    "processes": 64.0,
    "output_bytes": 65536.0,
}

ANSWER_TYPES: tuple[str, ...] = ("number", "matrix")
QUESTION_KINDS: tuple[str, ...] = ("function", "answer")
