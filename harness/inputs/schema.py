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
    "observed_zeros_fitted",
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

#: What a function question's answer must do before any share of its mark counts
#: (``essentials:``); a failed essential caps the question at its ``cap`` (a share of
#: the question's marks, default 0).  Each is judged in ``labgrade.harness.judging.essentials``.
ESSENTIALS: tuple[str, ...] = (
    "returns_factors",  # every lab call returns (U, V), in the lab's form or a recoverable one
    "learns",  # the result responds to lr or num_epochs, and training lowers the loss from its start
    "honours_mask",  # changing A where M is 0 changes nothing, and A x M fully observed gives another result
)

#: Essentials that only make sense for a question whose experiment has a mask.
MASKED_ESSENTIALS: frozenset[str] = frozenset({"honours_mask"})

#: Integrity flags: evidence for a human, never a silent penalty (``flags:``).  Each
#: is detected in ``labgrade.harness.judging.flags``; the spec's policy says what it does to the mark.
FLAGS: tuple[str, ...] = (
    "reported_not_from_code",  # a reported number the submitted code cannot produce
    "seeds_global_generator",  # a function (or loading the file) seeds torch's global generator itself
    "changes_default_dtype",  # the submission changes torch's default dtype
    "over_page_limit",  # a PDF report longer than the spec's report.max_pages, or not on its paper
)

#: Paper sizes a report's pages are told by (points, portrait; either orientation counts).
PAPERS: dict[str, tuple[float, float]] = {"A4": (595.28, 841.89), "Letter": (612.0, 792.0)}

#: What a flag does to the mark of the question it is raised on: ``keep`` it (flag
#: for review, the default) or ``zero`` it (still flagged, with the evidence).
FLAG_POLICIES: tuple[str, ...] = ("keep", "zero")

#: How callers pass a parameter: renaming a ``position`` parameter costs nothing (a
#: note); renaming a ``keyword`` one breaks callers and costs the signature share.
PARAM_PASSING: tuple[str, ...] = ("keyword", "position")

ANSWER_TYPES: tuple[str, ...] = ("number", "matrix")
QUESTION_KINDS: tuple[str, ...] = ("function", "answer")
