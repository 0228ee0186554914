"""A synthetic class of lab-1 submissions: independent-looking students, and copies planted on purpose.

Why: ``make bench`` grades a generated class, and the code-similarity tests need a class in
which who copied whom is known.  Near-identical copies of a few example files serve neither:
a similarity detector run on them flags every pair, so its false positives cannot be
measured, and its recall means nothing when everything is a copy.  Here every independent
student is composed from many independent choices of *how* to write the same algorithm (names,
how the shape is read, the form of ``torch.rand``, the loops, the error's expression, the
update, the mask test, type hints, a shared helper or not, comments, docstrings, layout, a
pasted copy of the lab's ``gd_factorise_masked``, extra functions, a few harmless habits of
their own such as an ``assert`` or a ``with torch.no_grad():``), so two independent students
share the algorithm but few lines: a student who would share more than ``INDEPENDENCE_LIMIT``
of their lines with an earlier one is drawn again.  A few files are disguised copies of
earlier independent ones (names renamed consistently, reformatted, comments and docstrings
changed, functions reordered, sometimes a print added or one detail rewritten), each of a
different original while there are enough, and ``GeneratedClass.copies`` says which, so a
detector can be scored on both recall and false positives.  ``HANDOUT`` is the code every
student was given: a detector should discount it.

Bugs ("transposed-v", "ignores-lr", "loops-over-rank", "syntax-error") are applied on top of an
independent style, in both functions.  Every kind but "syntax-error" defines both functions
with the lab's signature and runs; the kinds in ``LAB_ALGORITHM_KINDS`` compute the lab's
algorithm (the same numbers as the reference under the same seed, up to float rounding).  Two
rarer correct-looking kinds change the algorithm as real students do, and are named for it:
"correct-draw-order" draws V before U, "correct-temp-copy" updates V with the *old* row of U.

Everything is drawn from one ``random.Random(seed)``: a seed gives the same class, byte for byte.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

# The lab's handed-out vectorised code, exactly as the lab text prints it.  Students paste it
# into their files, so it is shared by unrelated students: a detector should treat it as base code.
HANDOUT = """\
def gd_factorise_masked(A: torch.Tensor, M: torch.Tensor, rank: int,
    num_epochs: int=1000, lr: float=1e-5) -> Tuple[torch.Tensor, torch.Tensor]:
    U = torch.rand(A.shape[0], rank)
    V = torch.rand(A.shape[1], rank)

    for e in range(num_epochs):
        err = (A - U @ V.t()) * M
        U += lr * err @ V
        V += lr * err.t() @ U

    return U, V
"""

# Kinds and their weights: today's mix in bench.py (8 correct of which about one slow, 2 transposed-v,
# 2 ignores-lr, 2 loops-over-rank, 1 syntax-error in 15), with two rare variants taken from "correct".
KIND_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("correct", 6.5),
    ("slow-correct", 1.0),
    ("correct-temp-copy", 0.25),
    ("correct-draw-order", 0.25),
    ("transposed-v", 2.0),
    ("ignores-lr", 2.0),
    ("loops-over-rank", 2.0),
    ("syntax-error", 1.0),
)
LAB_ALGORITHM_KINDS = frozenset({"correct", "slow-correct"})
CORRECT_KINDS = LAB_ALGORITHM_KINDS | {"correct-temp-copy", "correct-draw-order"}
COPY_SHARE = 0.03  # planted copies by default, as a share of the class
INDEPENDENCE_LIMIT = 0.5  # an independent student shares at most this share of lines with an earlier one
# ... and writes the heart of the algorithm (the loops, the error, the update, the mask test) in at
# least this many respects differently from every earlier one: two students who chose alike at
# (nearly) every point of the loop wrote the same program, which no detector can tell from a
# renamed copy (line sharing alone let such pairs through: their names, layout and extras differed,
# their loops were the same token for token).
MIN_STRUCTURAL_DIFFERENCES = 3
STRUCTURAL = (
    "epoch_loop", "cells", "factor_bound", "error", "slices", "pred_var", "update", "product", "mask",
    "sharing", "progress", "loss_history", "masked_error", "masked_product", "slow",
)  # fmt: skip
_REDRAWS = 40


@dataclass(frozen=True)
class GeneratedClass:
    """What ``generate_class`` wrote: the files, the planted copies (copy's stem, original's stem), each kind."""

    paths: tuple[Path, ...]
    copies: tuple[tuple[str, str], ...]
    kinds: dict[str, str]
    # copies whose code was also edited (one detail of the algorithm rewritten, beyond renaming,
    # reformatting, comments, order and extra functions): the hard cases for a detector
    edited: tuple[str, ...] = ()


# --- choices -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Names:
    """Every local name a student chooses; a disguised copy renames all of them consistently."""

    U: str
    V: str
    r: str
    c: str
    e: str
    epoch: str
    m: str
    n: str
    pred: str
    step: str
    grad_u: str
    grad_v: str
    u: str
    v: str
    old: str
    arow: str
    a: str
    k: str
    helper: str
    core: str
    losses: str
    loss: str
    lr_local: str
    count: str


# Each group of slots with its options ("|" between options); the first (the lab's own) is the most popular.
_NAME_POOLS: tuple[tuple[str, str], ...] = (
    ("U V", "U V|P Q|W H|U_hat V_hat|Uh Vh|X Y|L R|B C|Pm Qm|U_est V_est|U1 V1|Um Vm"),
    ("r c", "r c|i j|row col|x y|ii jj|k l|r_i c_j|row_idx col_idx|p q|ri ci|u_idx i_idx|a_r a_c"),
    ("e", "e|err|error|diff|residual|delta|e_rc|eij|d|res|err_rc"),
    ("epoch", "epoch|_|ep|it|epoch_idx|iteration|t|n_iter|epoch_num|iter_|ep_i"),
    ("m n", "m n|rows cols|n_rows n_cols|num_rows num_cols|h w|nr nc|I J|n_users n_items|height width|dim_m dim_n"),
    ("pred", "pred|prediction|approx|estimate|a_hat|y_hat|guess|uv"),
    ("step", "step|g|scale|coef|lr_e|factor"),
    ("grad_u grad_v", "grad_u grad_v|du dv|gU gV|dU dV|g_u g_v"),
    ("u v", "u v|u_r v_c|ur vc|urow vrow|u_vec v_vec"),
    ("old", "u_old|old_u|tmp|prev_u|u_copy"),
    ("arow", "a_row|A_r|row_vals|arow|values"),
    ("a", "a|val|target|a_rc|actual|x_rc"),
    ("k", "k|z|kk|d_i|f"),
    ("helper", "_update|_step|sgd_step|update|_sgd_update|update_rows|apply_update"),
    ("core", "_factorise|_sgd|_run_sgd|factorise_core|_train|_sgd_loop"),
    ("losses", "losses|history|loss_log|errors"),
    ("loss", "loss|sse|total_err|cost"),
    ("lr_local", "learning_rate|alpha|eta|step_size"),
    ("count", "n_updates|updates|n_steps|count|visited"),
)
_RESERVED = frozenset(
    {
        "A",
        "M",
        "rank",
        "num_epochs",
        "lr",
        "torch",
        "Tensor",
        "Tuple",
        "typing",
        "itertools",
        "product",
        "math",
        "time",
        "sgd_factorise",
        "sgd_factorise_masked",
        "gd_factorise_masked",
        "len",
        "range",
        "enumerate",
        "sum",
        "float",
        "print",
        "S",
        "np",
    }
)


@dataclass(frozen=True)
class Algo:
    """What the code does and how it is built; a disguised copy keeps it (give or take one detail)."""

    dims: str  # how m and n are read: "unpack", "index", "len", "inline", ...
    inline_dims: str  # for dims "inline": "shape", "size" or "len"
    init: str  # torch.rand(m, rank) / ((m, rank)) / ([m, rank]) / (size=(m, rank))
    init_one_line: bool
    epoch_loop: str  # "for" | "while"
    cells: str  # "range" | "enumerate" | "product"
    factor_bound: bool  # range(U.shape[0]) rather than range(m)
    error: str  # the form of the dot product U[r] . V[c]
    slices: bool  # U[r, :] rather than U[r]
    pred_var: bool  # the dot product in its own variable first
    update: str  # "assign" | "iadd" | "add_" | "grad" | "step" | "views" | "temp-clone" | "temp-both"
    product: str  # the order of lr * e * x
    mask: str  # the masked test
    sharing: str  # "separate" | "helper" | "delegate" | "core"
    ones: str  # the all-ones mask for "delegate" and "core"
    progress: bool  # prints the loss every 100 epochs
    loss_history: bool  # keeps a list of losses it never returns
    slow: str  # "" or a needlessly slow error form
    draw_v_first: bool
    transpose: str  # "" or how V is transposed on return
    lr_mode: str  # "param" | "literal" | "local" | "rebind"
    rows_over_rank: bool
    extras: tuple[str, ...]  # "svd", "loss", "main"
    handout: str  # "" | "verbatim" | "reindented"
    quirks: tuple[tuple[str, str, int], ...]  # (quirk, "both" | "plain" | "masked", which wording)
    masked_error: str  # the masked function's dot product (students edit the copy they make of the first)
    masked_product: str
    from_itertools: bool  # `from itertools import product` rather than `import itertools`
    keyword_call: bool  # delegate passes num_epochs=..., lr=... by keyword


@dataclass(frozen=True)
class Look:
    """How the code looks: what a disguised copy changes."""

    names: Names
    hints: str  # "lab" | "full" | "params" | "none"
    tensor_type: str  # "torch.Tensor" | "Tensor"
    tuple_type: str  # "Tuple" | "tuple" | "typing.Tuple"
    future: bool
    signature: str  # "one-line" | "lab-wrap" | "hanging" | "aligned" | "exploded" | "black"
    indent: int
    tight: bool  # lr*e*V[c]
    index: str  # "comma" A[r, c] | "tight" A[r,c] | "chained" A[r][c]
    return_parens: bool
    gap: int  # blank lines between top-level definitions
    airy: bool  # blank lines inside functions
    comments: int  # 0, 1, 2: how many of the comment spots get a comment
    docstrings: str  # "none" | "short" | "google"
    header: str  # "none" | "docstring" | "comment"
    masked_first: bool
    extras_at: str  # "top" | "between" | "bottom"
    finish_print: bool
    flavour: int  # seeds the wording of comments, docstrings, headers and imports


@dataclass(frozen=True)
class Student:
    """One submission's kind and style."""

    kind: str
    algo: Algo
    look: Look


def _pick(rng: random.Random, options: Sequence[tuple[str, float]]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _chance(rng: random.Random, p: float) -> bool:
    return rng.random() < p


def draw_names(rng: random.Random, avoid: Names | None = None) -> Names:
    """A consistent set of names; with ``avoid``, every group differs from it (a copy renames everything)."""
    used: set[str] = set(_RESERVED)
    chosen: dict[str, str] = {}
    for slot_text, options_text in _NAME_POOLS:
        slots = slot_text.split()
        options = [tuple(o.split()) for o in options_text.split("|")]
        ok = [o for o in options if not used.intersection(o)]
        if avoid is not None:
            ok = [o for o in ok if all(getattr(avoid, s) != v for s, v in zip(slots, o, strict=True))] or ok
        weights = [2.5 if o == options[0] else 1.0 for o in ok]
        pick = rng.choices(ok, weights=weights)[0]
        used.update(pick)
        chosen.update(zip(slots, pick, strict=True))
    return Names(**chosen)


_ERRORS = (
    ("matmul", 0.3),
    ("matmul-t", 0.08),
    ("dot", 0.17),
    ("dot-method", 0.07),
    ("mul-sum", 0.15),
    ("torch-sum", 0.08),
    ("matmul-fn", 0.08),
    ("inner", 0.07),
)
_PRODUCTS = (("lr-e-x", 0.65), ("e-lr-x", 0.15), ("lr-(e-x)", 0.12), ("x-e-lr", 0.08))
_UPDATES = (("assign", 0.35), ("iadd", 0.3), ("add_", 0.05), ("grad", 0.1), ("step", 0.1), ("views", 0.1))
_MASKS = (
    ("truthy", 0.3),
    ("eq1", 0.25),
    ("ne0", 0.1),
    ("gt0", 0.07),
    ("continue-eq0", 0.1),
    ("continue-not", 0.06),
    ("bool", 0.04),
    ("multiply", 0.08),
)
_DIMS = (
    ("unpack", 0.35),
    ("unpack-paren", 0.05),
    ("size-unpack", 0.07),
    ("index", 0.15),
    ("size-call", 0.08),
    ("len", 0.08),
    ("pair-index", 0.05),
    ("inline", 0.17),
)


# A student's own habits: harmless statements that change no number (and draw no random number).
_QUIRKS = (
    "no-grad-block", "no-grad-decorator", "assert-2d", "assert-mask", "rank-check", "int-epochs", "float-lr",
    "clone-a", "count-updates", "final-loss", "detach-return", "print-start",
)  # fmt: skip


def _draw_quirks(rng: random.Random) -> tuple[tuple[str, str, int], ...]:
    count = int(_pick(rng, (("0", 0.25), ("1", 0.4), ("2", 0.25), ("3", 0.1))))
    quirks = []
    for quirk in rng.sample(_QUIRKS, count):
        where = "masked" if quirk == "assert-mask" else _pick(rng, (("both", 0.6), ("plain", 0.2), ("masked", 0.2)))
        quirks.append((quirk, where, rng.randrange(6)))
    return tuple(quirks)


def draw_algo(rng: random.Random, kind: str) -> Algo:
    """An independent student's way of building the algorithm, with ``kind``'s bug (if any) on top."""
    cells = _pick(rng, (("range", 0.7), ("enumerate", 0.15), ("product", 0.15)))
    sharing = _pick(rng, (("separate", 0.65), ("helper", 0.12), ("delegate", 0.15), ("core", 0.08)))
    mask = _pick(rng, _MASKS)
    if sharing == "helper" and mask == "multiply":
        mask = "truthy"
    update = _pick(rng, _UPDATES)
    if kind == "correct-temp-copy":
        update = _pick(rng, (("temp-clone", 0.7), ("temp-both", 0.3)))
    slow = ""
    if kind == "slow-correct":
        slow_forms = [("float", 0.35), ("item", 0.25), ("python-sum", 0.25), ("full", 0.15)]
        if sharing == "helper":  # the helper sees neither A nor rank
            slow_forms = slow_forms[:2]
        slow = _pick(rng, slow_forms)
        if update == "views":
            update = "assign"
    if kind == "loops-over-rank" and cells == "enumerate":
        cells = "range"
    extras = tuple(name for name, p in (("svd", 0.25), ("loss", 0.2), ("main", 0.3)) if _chance(rng, p))
    error = _pick(rng, _ERRORS)
    product = _pick(rng, _PRODUCTS)
    diverges = sharing != "helper" and _chance(rng, 0.2)
    return Algo(
        dims=_pick(rng, _DIMS),
        inline_dims=_pick(rng, (("shape", 0.7), ("size", 0.15), ("len", 0.15))),
        init=_pick(rng, (("args", 0.55), ("tuple", 0.25), ("list", 0.1), ("size-kw", 0.1))),
        init_one_line=_chance(rng, 0.12),
        epoch_loop=_pick(rng, (("for", 0.92), ("while", 0.08))),
        cells=cells,
        factor_bound=_chance(rng, 0.12),
        error=error,
        slices=_chance(rng, 0.15),
        pred_var=_chance(rng, 0.2),
        update=update,
        product=product,
        mask=mask,
        sharing=sharing,
        ones=_pick(rng, (("torch.ones_like(A)", 0.7), ("torch.ones(A.shape)", 0.2), ("torch.ones(A.size())", 0.1))),
        progress=_chance(rng, 0.05),
        loss_history=_chance(rng, 0.5 if kind == "slow-correct" else 0.05),
        slow=slow,
        draw_v_first=kind == "correct-draw-order",
        transpose=_pick(rng, ((".t()", 0.5), (".T", 0.3), ("torch.t", 0.1), ("transpose", 0.1)))
        if kind == "transposed-v"
        else "",
        lr_mode=_pick(rng, (("literal", 0.7), ("local", 0.2), ("rebind", 0.1))) if kind == "ignores-lr" else "param",
        rows_over_rank=kind == "loops-over-rank",
        extras=extras,
        handout=_pick(rng, (("", 0.65), ("verbatim", 0.25), ("reindented", 0.1))),
        quirks=_draw_quirks(rng),
        masked_error=_pick(rng, _ERRORS) if diverges else error,
        masked_product=_pick(rng, _PRODUCTS) if diverges else product,
        from_itertools=_chance(rng, 0.35),
        keyword_call=_chance(rng, 0.5),
    )


def draw_look(rng: random.Random, names: Names) -> Look:
    """An independent student's layout, hints, comments and naming."""
    return Look(
        names=names,
        hints=_pick(rng, (("lab", 0.35), ("full", 0.2), ("params", 0.1), ("none", 0.35))),
        tensor_type=_pick(rng, (("torch.Tensor", 0.75), ("Tensor", 0.25))),
        tuple_type=_pick(rng, (("Tuple", 0.7), ("tuple", 0.25), ("typing.Tuple", 0.05))),
        future=_chance(rng, 0.05),
        signature=_pick(
            rng,
            (
                ("one-line", 0.4),
                ("lab-wrap", 0.2),
                ("hanging", 0.08),
                ("aligned", 0.12),
                ("exploded", 0.1),
                ("black", 0.1),
            ),
        ),
        indent=4 if _chance(rng, 0.88) else 2,
        tight=_chance(rng, 0.15),
        index=_pick(rng, (("comma", 0.7), ("tight", 0.15), ("chained", 0.15))),
        return_parens=_chance(rng, 0.15),
        gap=2 if _chance(rng, 0.6) else 1,
        airy=_chance(rng, 0.5),
        comments=int(_pick(rng, (("0", 0.35), ("1", 0.4), ("2", 0.25)))),
        docstrings=_pick(rng, (("none", 0.5), ("short", 0.35), ("google", 0.15))),
        header=_pick(rng, (("none", 0.4), ("docstring", 0.35), ("comment", 0.25))),
        masked_first=_chance(rng, 0.15),
        extras_at=_pick(rng, (("top", 0.3), ("between", 0.2), ("bottom", 0.5))),
        finish_print=_chance(rng, 0.03),
        flavour=rng.getrandbits(32),
    )


def draw_student(rng: random.Random, kind: str) -> Student:
    """An independent student of ``kind``."""
    algo = draw_algo(rng, kind)
    return Student(kind, algo, draw_look(rng, draw_names(rng)))


# --- disguised copies ------------------------------------------------------------------------------

# Details a copier changes without changing what the code computes: (field, interchangeable forms).
_TWEAKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("update", ("assign", "iadd")),
    ("dims", ("unpack", "index", "size-call", "unpack-paren")),
    ("error", ("matmul", "dot", "mul-sum", "matmul-fn")),
    ("mask", ("truthy", "eq1", "ne0")),
    ("init", ("args", "tuple", "list")),
)


def _tweak(algo: Algo, rng: random.Random) -> Algo:
    field, forms = rng.choice(_TWEAKS)
    current = getattr(algo, field)
    if current not in forms or (field == "error" and algo.slow):
        return algo
    changes: dict[str, Any] = {field: rng.choice([f for f in forms if f != current])}
    return replace(algo, **changes)


def disguise(original: Student, rng: random.Random) -> Student:
    """A copy of ``original`` as a student hides one: every name renamed, reformatted, comments and order changed."""
    old = original.look
    fresh = draw_look(rng, draw_names(rng, avoid=old.names))
    look = replace(
        fresh,
        hints=old.hints if _chance(rng, 0.6) else fresh.hints,
        tensor_type=old.tensor_type,
        tuple_type=old.tuple_type,
        masked_first=not old.masked_first if _chance(rng, 0.5) else old.masked_first,
        finish_print=old.finish_print or _chance(rng, 0.3),
        comments=(old.comments + rng.choice((1, 2))) % 3,
        index="chained" if old.index == "chained" else "tight" if fresh.index == "tight" else "comma",
    )
    algo = _tweak(original.algo, rng) if _chance(rng, 0.25) else original.algo
    if algo.extras and _chance(rng, 0.3):
        dropped = rng.choice(algo.extras)
        algo = replace(algo, extras=tuple(x for x in algo.extras if x != dropped))
    elif "main" not in algo.extras and _chance(rng, 0.3):
        algo = replace(algo, extras=(*algo.extras, "main"))
    return Student(original.kind, algo, look)


# --- rendering -------------------------------------------------------------------------------------

Line = tuple[int, str]  # (depth, text); depth -1 is a line written as is

_COMMENTS: dict[str, tuple[str, ...]] = {
    "dims": (
        "# shape of the input",
        "# m rows, n columns",
        "# get the dimensions",
        "# sizes of A",
        "# number of rows and columns",
    ),
    "init": (
        "# initialise {U} and {V} from U(0, 1)",
        "# random initialisation",
        "# {U} is m x rank, {V} is n x rank",
        "# init factors with uniform random values",
        "# start from random matrices",
        "# initialise",
    ),
    "loop": (
        "# loop over epochs",
        "# main training loop",
        "# SGD",
        "# for each epoch, visit every element",
        "# iterate num_epochs times",
        "# training",
    ),
    "error": (
        "# error for this entry",
        "# compute the error",
        "# e = A_rc - u_r . v_c",
        "# prediction error",
        "# residual for element ({r}, {c})",
        "# how far off we are",
    ),
    "update": (
        "# update the rows of {U} and {V}",
        "# gradient step",
        "# update {U} first, then {V} with the new row",
        "# SGD update",
        "# update rule from the lab",
        "# move towards the target",
    ),
    "mask": (
        "# skip unobserved entries",
        "# only use observed values",
        "# only where M is 1",
        "# ignore missing entries",
        "# masked",
    ),
    "return": ("# done", "# return the factors", "# return both matrices", "# return {U}, {V}"),
}
_SHORT_DOCS = (
    "Factorise A into {U} {V}^T using SGD.",
    "Low-rank factorisation of A by stochastic gradient descent.",
    "SGD matrix factorisation (lab 1.1).",
    "Compute a rank-r factorisation of A with SGD.",
    "Approximate A as {U} @ {V}.T with gradient descent, one element at a time.",
    "Gradient based factorisation.",
)
_SHORT_MASKED_DOCS = (
    "Like sgd_factorise, but only uses entries where M is 1.",
    "Masked SGD factorisation (lab 3.1).",
    "Matrix completion: factorise the observed entries of A.",
    "SGD factorisation using only the valid values given by the mask M.",
    "Factorise A ignoring the entries where the mask is zero.",
)
_HEADERS = (
    "Lab 1 - Playing with gradients and matrices in PyTorch",
    "COMP6248 lab 1 exercise",
    "Lab 1: matrix factorisation",
    "Solutions to lab 1",
    "Deep learning lab 1 - SGD factorisation",
    "Lab exercise 1",
    "Matrix factorisation and completion with SGD",
)
_LAB_MATRIX = ((0.3374, 0.6005, 0.1735), (3.3359, 0.0492, 1.8374), (2.9407, 0.5301, 2.2620))
_LAB_MASK = ((1, 1, 1), (0, 1, 1), (1, 0, 1))


def _tight(text: str) -> str:
    return re.sub(r" ([*+@/-]) ", r"\1", text)


class _Writer:
    """Renders one student; all randomness here comes from the student's flavour (a copy gets its own)."""

    def __init__(self, student: Student) -> None:
        self.a = student.algo
        self.k = student.look
        self.n = student.look.names
        self.rng = random.Random(student.look.flavour)
        self.needs: set[str] = set()
        self.masked = False  # whether the function being written is the masked one (its own error and product)

    # small pieces

    def fmt(self, text: str) -> str:
        return text.format(**{f.name: getattr(self.n, f.name) for f in fields(Names)})

    def expr(self, text: str) -> str:
        return _tight(text) if self.k.tight else text

    def ix(self, matrix: str, i: str, j: str) -> str:
        return {"chained": f"{matrix}[{i}][{j}]", "tight": f"{matrix}[{i},{j}]"}.get(
            self.k.index, f"{matrix}[{i}, {j}]"
        )

    def row(self, matrix: str, i: str) -> str:
        return f"{matrix}[{i}, :]" if self.a.slices else f"{matrix}[{i}]"

    def comment(self, depth: int, spot: str) -> list[Line]:
        chance = (0.0, 0.35, 0.75)[self.k.comments]
        if self.rng.random() >= chance:
            return []
        return [(depth, self.fmt(self.rng.choice(_COMMENTS[spot])))]

    def blank(self) -> list[Line]:
        return [(0, "")] if self.k.airy else []

    def tensor(self) -> str:
        if self.k.tensor_type == "Tensor":
            self.needs.add("Tensor")
        return self.k.tensor_type

    def pair(self) -> str:
        """The return annotation, or "" when this student writes none."""
        if self.k.hints not in ("lab", "full"):
            return ""
        t = self.tensor()
        if self.k.tuple_type == "Tuple":
            self.needs.add("Tuple")
        elif self.k.tuple_type == "typing.Tuple":
            self.needs.add("typing")
        return f"{self.k.tuple_type}[{t}, {t}]"

    def dims(self) -> tuple[str, str]:
        if self.a.dims == "inline":
            return {
                "shape": ("A.shape[0]", "A.shape[1]"),
                "size": ("A.size(0)", "A.size(1)"),
                "len": ("len(A)", "len(A[0])"),
            }[self.a.inline_dims]
        return self.n.m, self.n.n

    def lr(self) -> str:
        return {"param": "lr", "literal": "0.01", "local": self.n.lr_local, "rebind": "lr"}[self.a.lr_mode]

    # signatures

    def signature(self, name: str, params: list[tuple[str, str, str]], ret: str) -> list[Line]:
        """``params``: (name, annotation or "", default or "")."""
        hinted = self.k.hints in ("lab", "full", "params")
        parts = []
        for pname, ann, default in params:
            text = f"{pname}: {ann}" if ann and hinted else pname
            if default:
                text += f" = {default}" if ann and hinted else f"={default}"
            parts.append(text)
        tail = f" -> {ret}:" if ret else ":"
        head, ind = f"def {name}(", " " * self.k.indent
        layout = self.k.signature if len(parts) > 2 else "one-line"
        if layout == "one-line":
            return [(-1, head + ", ".join(parts) + ")" + tail)]
        if layout in ("lab-wrap", "hanging"):
            cut = len(parts) - 1 if layout == "lab-wrap" else len(parts) - 2
            pad = " " * len(head) if layout == "lab-wrap" else ind
            return [(-1, head + ", ".join(parts[:cut]) + ","), (-1, pad + ", ".join(parts[cut:]) + ")" + tail)]
        if layout == "aligned":
            pad = " " * len(head)
            lines = [(-1, head + parts[0] + ",")] + [(-1, pad + p + ",") for p in parts[1:-1]]
            return [*lines, (-1, pad + parts[-1] + ")" + tail)]
        if layout == "exploded":
            return [(-1, head)] + [(-1, ind + p + ",") for p in parts] + [(-1, ")" + tail)]
        return [(-1, head), (-1, ind + ", ".join(parts)), (-1, ")" + tail)]

    def lab_params(self, masked: bool) -> list[tuple[str, str, str]]:
        t = self.tensor() if self.k.hints != "none" else ""
        lab = self.k.hints == "lab"
        params = [("A", t, "")] + ([("M", t, "")] if masked else [])
        return [
            *params,
            ("rank", "int", ""),
            ("num_epochs", "" if lab else "int", "1000"),
            ("lr", "" if lab else "float", "0.01"),
        ]

    def docstring(self, masked: bool) -> list[Line]:
        if self.k.docstrings == "none":
            return []
        q = '"""' if self.rng.random() < 0.85 else "'''"
        short = self.fmt(self.rng.choice(_SHORT_MASKED_DOCS if masked else _SHORT_DOCS))
        if self.k.docstrings == "short":
            return [(1, f"{q}{short}{q}")]
        pick = self.rng.choice
        args = [pick(("A: the matrix to factorise (m x n)", "A: input matrix", "A: m x n tensor"))]
        if masked:
            args.append(pick(("M: binary mask, 1 where A is observed", "M: mask of valid entries", "M: 0/1 mask")))
        args += [
            pick(("rank: the rank of the factorisation", "rank: number of latent factors", "rank: target rank")),
            pick(("num_epochs: number of passes over A", "num_epochs: how many epochs", "num_epochs: epochs to run")),
            pick(("lr: learning rate", "lr: learning rate (step size)", "lr: the step size eta")),
        ]
        body = [
            f"{q}{short}",
            "",
            "Args:",
            *("    " + a for a in args),
            "",
            "Returns:",
            self.fmt(pick(("    {U} (m x rank) and {V} (n x rank)", "    the factors {U}, {V}", "    ({U}, {V})"))),
            q,
        ]
        return [(1, b) if b else (0, "") for b in body]

    # the algorithm

    def step(self, target: str, depth: int, lr: str, by_mask: bool = False) -> list[Line]:
        """The error and the two row updates for one element (``target`` is A's element, ``lr`` the rate used)."""
        n, a = self.n, self.a
        U, V = n.U, n.V
        ur, vc = self.row(U, n.r), self.row(V, n.c)
        lines: list[Line] = []
        if a.update == "views":
            lines += [(depth, f"{n.u} = {U}[{n.r}]"), (depth, f"{n.v} = {V}[{n.c}]")]
            ur, vc = n.u, n.v
        lines += self.comment(depth, "error")
        lines += [(depth, self.expr(t)) for t in self.error(target, ur, vc, by_mask)]
        lines += self.comment(depth, "update")
        lines += [(depth, self.expr(t)) for t in self.updates(ur, vc, lr)]
        return lines

    def dot(self, u: str, v: str) -> str:
        return {
            "matmul": f"{u} @ {v}",
            "matmul-t": f"{u} @ {v}.t()",
            "dot": f"torch.dot({u}, {v})",
            "dot-method": f"{u}.dot({v})",
            "mul-sum": f"({u} * {v}).sum()",
            "torch-sum": f"torch.sum({u} * {v})",
            "matmul-fn": f"torch.matmul({u}, {v})",
            "inner": f"torch.inner({u}, {v})",
        }[self.a.masked_error if self.masked else self.a.error]

    def error(self, target: str, u: str, v: str, by_mask: bool) -> list[str]:
        n, a = self.n, self.a
        masked_by = self.ix("M", n.r, n.c) if by_mask else ""
        lines: list[str] = []
        if a.slow == "float":
            product = f"({u} * {v}).sum()"
            if a.pred_var:
                lines.append(f"{n.pred} = float({product})")
                rhs = f"float({target}) - {n.pred}"
            else:
                rhs = f"float({target}) - float({product})"
        elif a.slow == "item":
            rhs = f"{target}.item() - ({u} @ {v}).item()"
        elif a.slow == "python-sum":
            rhs = f"{target} - sum({n.U}[{n.r}][{n.k}] * {n.V}[{n.c}][{n.k}] for {n.k} in range(rank))"
        elif a.slow == "full":
            rhs = self.ix(f"(A - {n.U} @ {n.V}.t())", n.r, n.c)
        elif a.pred_var:
            lines.append(f"{n.pred} = {self.dot(u, v)}")
            rhs = f"{target} - {n.pred}"
        else:
            rhs = f"{target} - {self.dot(u, v)}"
        lines.append(f"{n.e} = ({rhs}) * {masked_by}" if masked_by else f"{n.e} = {rhs}")
        return lines

    def scaled(self, x: str, lr: str) -> str:
        e = self.n.e
        return {
            "lr-e-x": f"{lr} * {e} * {x}",
            "e-lr-x": f"{e} * {lr} * {x}",
            "lr-(e-x)": f"{lr} * ({e} * {x})",
            "x-e-lr": f"{x} * {e} * {lr}",
        }[self.a.masked_product if self.masked else self.a.product]

    def updates(self, ur: str, vc: str, lr: str) -> list[str]:
        n = self.n

        def s(x: str) -> str:
            return self.scaled(x, lr)

        return {
            "assign": [f"{ur} = {ur} + {s(vc)}", f"{vc} = {vc} + {s(ur)}"],
            "iadd": [f"{ur} += {s(vc)}", f"{vc} += {s(ur)}"],
            "views": [f"{ur} += {s(vc)}", f"{vc} += {s(ur)}"],
            "add_": [f"{ur}.add_({s(vc)})", f"{vc}.add_({s(ur)})"],
            "grad": [
                f"{n.grad_u} = -{n.e} * {vc}",
                f"{ur} -= {lr} * {n.grad_u}",
                f"{n.grad_v} = -{n.e} * {ur}",
                f"{vc} -= {lr} * {n.grad_v}",
            ],
            "step": [f"{n.step} = {lr} * {n.e}", f"{ur} += {n.step} * {vc}", f"{vc} += {n.step} * {ur}"],
            "temp-clone": [f"{n.old} = {ur}.clone()", f"{ur} = {ur} + {s(vc)}", f"{vc} = {vc} + {s(n.old)}"],
            "temp-both": [
                f"{n.grad_u} = {s(vc)}",
                f"{n.grad_v} = {s(ur)}",
                f"{ur} += {n.grad_u}",
                f"{vc} += {n.grad_v}",
            ],
        }[self.a.update]

    def cell(self, masked: bool, target: str, depth: int) -> list[Line]:
        """What happens at one element: the mask test (if any), then the step or the helper's call."""
        n, lines = self.n, []
        mask = self.a.mask if masked else ""
        if mask and mask != "multiply":
            lines += self.comment(depth, "mask")
        m_rc = self.ix("M", n.r, n.c)
        test = {
            "truthy": m_rc,
            "eq1": f"{m_rc} == 1",
            "ne0": f"{m_rc} != 0",
            "gt0": f"{m_rc} > 0",
            "bool": f"bool({m_rc})",
        }.get(mask)
        if mask in ("continue-eq0", "continue-not"):
            lines += [
                (depth, f"if {m_rc} == 0:" if mask == "continue-eq0" else f"if not {m_rc}:"),
                (depth + 1, "continue"),
            ]
        elif test is not None:
            lines.append((depth, f"if {test}:"))
            depth += 1
        if self.a.sharing == "helper":  # the rate the student passes is the one the helper uses
            lines.append((depth, f"{n.helper}({n.U}, {n.V}, {n.r}, {n.c}, {target}, {self.lr()})"))
        else:
            lines += self.step(target, depth, self.lr(), by_mask=mask == "multiply")
        if "count-updates" in self.quirks(masked):
            lines.append((depth, f"{n.count} += 1"))
        return lines

    def cells(self, masked: bool, depth: int) -> list[Line]:
        n, a = self.n, self.a
        m, nn = self.dims()
        rows = "rank" if a.rows_over_rank else f"{n.U}.shape[0]" if a.factor_bound else m
        cols = f"{n.V}.shape[0]" if a.factor_bound else nn
        target = self.ix("A", n.r, n.c)
        if a.cells == "enumerate":
            head = [
                (depth, f"for {n.r}, {n.arow} in enumerate(A):"),
                (depth + 1, f"for {n.c}, {n.a} in enumerate({n.arow}):"),
            ]
            return head + self.cell(masked, n.a, depth + 2)
        if a.cells == "product":
            prod = "product" if a.from_itertools else "itertools.product"
            self.needs.add("product" if a.from_itertools else "itertools")
            head = [(depth, f"for {n.r}, {n.c} in {prod}(range({rows}), range({cols})):")]
            return head + self.cell(masked, target, depth + 1)
        head = [(depth, f"for {n.r} in range({rows}):"), (depth + 1, f"for {n.c} in range({cols}):")]
        return head + self.cell(masked, target, depth + 2)

    def dims_lines(self) -> list[Line]:
        n = self.n
        forms = {
            "unpack": [f"{n.m}, {n.n} = A.shape"],
            "unpack-paren": [f"({n.m}, {n.n}) = A.shape"],
            "size-unpack": [f"{n.m}, {n.n} = A.size()"],
            "index": [f"{n.m} = A.shape[0]", f"{n.n} = A.shape[1]"],
            "size-call": [f"{n.m} = A.size(0)", f"{n.n} = A.size(1)"],
            "len": [f"{n.m} = len(A)", f"{n.n} = len(A[0])"],
            "pair-index": [f"{n.m}, {n.n} = A.shape[0], A.shape[1]"],
            "inline": [],
        }[self.a.dims]
        if not forms:
            return []
        return self.comment(1, "dims") + [(1, f) for f in forms]

    def init_lines(self) -> list[Line]:
        n, a = self.n, self.a
        m, nn = self.dims()

        def rand(rows: str) -> str:
            return {
                "args": f"torch.rand({rows}, rank)",
                "tuple": f"torch.rand(({rows}, rank))",
                "list": f"torch.rand([{rows}, rank])",
                "size-kw": f"torch.rand(size=({rows}, rank))",
            }[a.init]

        draws = [(n.U, rand(m)), (n.V, rand(nn))]
        if a.draw_v_first:
            draws.reverse()
        if a.init_one_line:
            lines = [f"{draws[0][0]}, {draws[1][0]} = {draws[0][1]}, {draws[1][1]}"]
        else:
            lines = [f"{name} = {call}" for name, call in draws]
        return self.comment(1, "init") + [(1, t) for t in lines]

    def loss_expr(self, masked: bool) -> str:
        n = self.n
        inner = f"(A - {n.U} @ {n.V}.t()) * M" if masked else f"A - {n.U} @ {n.V}.t()"
        return self.expr(f"(({inner}) ** 2).sum()")

    def epoch_lines(self, masked: bool, d: int) -> list[Line]:
        n, a = self.n, self.a
        epoch = n.epoch if n.epoch != "_" or not (a.epoch_loop == "while" or a.progress) else "epoch_i"
        lines = self.comment(d, "loop")
        if a.epoch_loop == "while":
            lines += [(d, f"{epoch} = 0"), (d, f"while {epoch} < num_epochs:")]
        else:
            lines += [(d, f"for {epoch} in range(num_epochs):")]
        lines += self.cells(masked, d + 1)
        if a.loss_history:
            lines.append((d + 1, f"{n.losses}.append(float({self.loss_expr(masked)}))"))
        if a.progress:
            lines += [
                (d + 1, f"if {epoch} % 100 == 0:"),
                (d + 2, f"{n.loss} = {self.loss_expr(masked)}"),
                (d + 2, f'print(f"epoch {{{epoch}}}: loss {{{n.loss}:.4f}}")'),
            ]
        if a.epoch_loop == "while":
            lines.append((d + 1, f"{epoch} += 1"))
        return lines

    def returned(self) -> str:
        U, V, t = self.n.U, self.n.V, self.a.transpose
        v = {
            "": V,
            ".t()": f"{V}.t()",
            ".T": f"{V}.T",
            "torch.t": f"torch.t({V})",
            "transpose": f"{V}.transpose(0, 1)",
        }[t]
        return f"return ({U}, {v})" if self.k.return_parens else f"return {U}, {v}"

    def training_body(self, masked: bool, finish_print: bool) -> list[Line]:
        """The loops of a function that trains (a public one, or the shared core)."""
        a, n = self.a, self.n
        self.masked = masked
        quirks = self.quirks(masked)
        lines = [(1, text) for text in self.opening_quirks(quirks, masked)]
        if a.lr_mode == "local":
            lines.append((1, f"{n.lr_local} = 0.01"))
        elif a.lr_mode == "rebind":
            lines.append((1, "lr = 0.01" + self.rng.choice(("", "  # fixed learning rate"))))
        lines += self.dims_lines() + self.init_lines()
        if a.loss_history:
            lines.append((1, f"{n.losses} = []"))
        if "count-updates" in quirks:
            lines.append((1, f"{n.count} = 0"))
        if "no-grad-block" in quirks:
            lines += [*self.blank(), (1, "with torch.no_grad():"), *self.epoch_lines(masked, 2), *self.blank()]
        else:
            lines += self.blank() + self.epoch_lines(masked, 1) + self.blank()
        if finish_print:
            lines.append((1, self.rng.choice(('print("done")', 'print("Training finished")', 'print("finished")'))))
        lines += [(1, text) for text in self.closing_quirks(quirks, masked)]
        self.masked = False
        return lines + self.comment(1, "return") + [(1, self.returned())]

    def quirks(self, masked: bool) -> dict[str, int]:
        """This function's quirks, each with the index of its wording."""
        side = "masked" if masked else "plain"
        return {quirk: which for quirk, where, which in self.a.quirks if where in ("both", side)}

    def opening_quirks(self, quirks: dict[str, int], masked: bool) -> list[str]:
        texts = {
            "print-start": ('print(f"training rank {rank} for {num_epochs} epochs")', 'print("rank", rank)'),
            "assert-2d": (
                "assert A.dim() == 2",
                'assert len(A.shape) == 2, "A must be a matrix"',
                "assert A.ndim == 2",
            ),
            "assert-mask": ("assert A.shape == M.shape", 'assert M.shape == A.shape, "mask and matrix differ"'),
            "int-epochs": ("num_epochs = int(num_epochs)",),
            "float-lr": ("lr = float(lr)",),
            "clone-a": ("A = A.clone()", "A = A.clone().detach()"),
        }
        lines = []
        for quirk, options in texts.items():
            if quirk in quirks and (masked or quirk != "assert-mask"):
                lines.append(options[quirks[quirk] % len(options)])
        if "rank-check" in quirks:
            test = ("rank <= 0", "rank < 1", "not rank > 0")[quirks["rank-check"] % 3]
            lines += [f"if {test}:", " " * self.k.indent + 'raise ValueError("rank must be positive")']
        return lines

    def closing_quirks(self, quirks: dict[str, int], masked: bool) -> list[str]:
        n, lines = self.n, []
        if "final-loss" in quirks:
            lines.append(f"{n.loss} = {self.loss_expr(masked)}")
            if quirks["final-loss"] % 2:
                lines.append(f'print("final loss:", float({n.loss}))')
        if "detach-return" in quirks:
            how = ("detach", "contiguous", "clone")[quirks["detach-return"] % 3]
            lines.append(f"{n.U}, {n.V} = {n.U}.{how}(), {n.V}.{how}()")
        if "count-updates" in quirks and quirks["count-updates"] % 2:
            lines.append(f'print({n.count}, "updates")')
        return lines

    # whole functions

    def public(self, masked: bool) -> list[Line]:
        name = "sgd_factorise_masked" if masked else "sgd_factorise"
        lines = self.signature(name, self.lab_params(masked), self.pair()) + self.docstring(masked)
        if "no-grad-decorator" in self.quirks(masked):
            lines.insert(0, (0, "@torch.no_grad()"))
        finish = self.k.finish_print and not masked
        a, n = self.a, self.n
        if a.sharing == "core":
            mask = "M" if masked else a.ones
            return [*lines, (1, f"return {n.core}(A, {mask}, rank, num_epochs, lr)")]
        if a.sharing == "delegate" and not masked:
            call = "num_epochs=num_epochs, lr=lr" if a.keyword_call else "num_epochs, lr"
            return [*lines, (1, f"return sgd_factorise_masked(A, {a.ones}, rank, {call})")]
        return lines + self.training_body(masked, finish)

    def core(self) -> list[Line]:
        params = [(p[0], p[1], "") for p in self.lab_params(True)]
        return self.signature(self.n.core, params, self.pair()) + self.training_body(True, self.k.finish_print)

    def helper(self) -> list[Line]:
        n = self.n
        t = self.tensor() if self.k.hints == "full" else ""
        params = [
            (n.U, t, ""),
            (n.V, t, ""),
            (n.r, "int" if t else "", ""),
            (n.c, "int" if t else "", ""),
            (n.a, "float" if t else "", ""),
            ("lr", "float" if t else "", ""),
        ]
        return self.signature(n.helper, params, "None" if t else "") + self.step(n.a, 1, "lr")

    def svd(self) -> list[Line]:
        name = self.rng.choice(("svd_factorise", "truncated_svd", "svd_reconstruct", "rank_k_svd"))
        us, s, vs = self.rng.choice((("U_s", "S", "V_s"), ("u", "s", "v"), ("Us", "Ss", "Vs"), ("U2", "S2", "V2")))
        hinted = self.k.hints != "none"
        head = f"def {name}(A: {self.tensor()}, rank: int):" if hinted else f"def {name}(A, rank):"
        call = self.rng.choice(("torch.svd(A)", "torch.linalg.svd(A)"))
        vt = f"{vs}.t()" if call == "torch.svd(A)" else vs
        return [
            (0, head),
            (1, f"{us}, {s}, {vs} = {call}"),
            (1, f"{s}[rank:] = 0"),
            (1, self.expr(f"return {us} @ torch.diag({s}) @ {vt}")),
        ]

    def loss_fn(self) -> list[Line]:
        n = self.n
        name = self.rng.choice(("reconstruction_loss", "sse", "loss_fn", "frobenius_loss", "sum_squared_error"))
        body = self.rng.choice(
            (
                f"torch.sum((A - {n.U} @ {n.V}.t()) ** 2)",
                f"torch.nn.functional.mse_loss({n.U} @ {n.V}.t(), A, reduction='sum')",
                f"torch.norm(A - {n.U} @ {n.V}.T) ** 2",
                f"((A - {n.U} @ {n.V}.T) ** 2).sum()",
            )
        )
        return [(0, f"def {name}(A, {n.U}, {n.V}):"), (1, self.expr(f"return {body}"))]

    def handout(self) -> list[Line]:
        self.needs.add("Tuple")
        if self.a.handout == "verbatim":
            return [(-1, line) for line in HANDOUT.rstrip("\n").split("\n")]
        head = "def gd_factorise_masked("
        out: list[Line] = [
            (-1, head + "A: torch.Tensor, M: torch.Tensor, rank: int,"),
            (-1, " " * len(head) + "num_epochs: int = 1000, lr: float = 1e-5) -> Tuple[torch.Tensor, torch.Tensor]:"),
        ]
        for line in HANDOUT.rstrip("\n").split("\n")[2:]:
            stripped = line.lstrip(" ")
            out.append((0, "") if not stripped else (((len(line) - len(stripped)) // 4), stripped))
        return out

    def main_block(self) -> list[Line]:
        n, rng = self.n, self.rng
        name = rng.choice(("A", "A_test", "mat", "test_matrix"))
        rows = [", ".join(f"{x:.4f}" for x in row) for row in _LAB_MATRIX]
        if rng.random() < 0.5:
            matrix = [(1, f"{name} = torch.tensor([[{rows[0]}], [{rows[1]}], [{rows[2]}]])")]
        else:
            pad = " " * (self.k.indent + len(name) + len(" = torch.tensor(["))
            matrix = [
                (1, f"{name} = torch.tensor([[{rows[0]}],"),
                (-1, f"{pad}[{rows[1]}],"),
                (-1, f"{pad}[{rows[2]}]])"),
            ]
        lines: list[Line] = [(0, 'if __name__ == "__main__":'), *matrix]
        if rng.random() < 0.4:
            lines.append((1, "torch.manual_seed(0)"))
        product = rng.choice((f"{n.U} @ {n.V}.t()", f"{n.U} @ {n.V}.T", f"torch.matmul({n.U}, {n.V}.t())"))
        loss = rng.choice(
            (
                f"torch.nn.functional.mse_loss({product}, {name}, reduction='sum')",
                f'torch.nn.functional.mse_loss({product}, {name}, reduction="sum").item()',
                f"torch.sum(({name} - {product}) ** 2)",
                f"(({name} - {product}) ** 2).sum().item()",
            )
        )
        label = rng.choice(("", '"loss:", ', '"reconstruction loss", ', '"1.2 loss =", '))
        lines += [(1, f"{n.U}, {n.V} = sgd_factorise({name}, 2)"), (1, self.expr(f"print({label}{loss})"))]
        if rng.random() < 0.5:
            lines.insert(-1, (1, self.expr(f"print({product})")))
        if rng.random() < 0.5:
            mask_name = rng.choice(("mask", "M_test", "observed", "M"))
            mask = ", ".join("[" + ", ".join(str(x) for x in row) + "]" for row in _LAB_MASK)
            completed = rng.choice(("completed", "A_hat", "estimate", "filled"))
            lines += [
                (1, f"{mask_name} = torch.tensor([{mask}])"),
                (1, f"{n.U}, {n.V} = sgd_factorise_masked({name}, {mask_name}, 2)"),
                (1, self.expr(f"{completed} = {product}")),
                (1, f"print({completed})" if rng.random() < 0.6 else f'print("completed:", {completed})'),
            ]
        return lines

    def header(self) -> list[str]:
        rng, kind = self.rng, self.k.header
        if kind == "none":
            return []
        title = rng.choice(_HEADERS)
        who = rng.choice(
            (
                "",
                f"Student ID: {rng.randrange(10**7, 10**8)}",
                f"Author: {rng.choice('abcdefgh')}{rng.randrange(100, 999)}",
                "Name: (removed)",
            )
        )
        if kind == "comment":
            return [f"# {title}"] + ([f"# {who}"] if who else [])
        if not who:
            return [f'"""{title}."""']
        return [f'"""{title}', "", who, '"""']

    def imports(self) -> list[str]:
        rng, lines = self.rng, []
        typing_names = [x for x in ("Tuple",) if x in self.needs]
        stdlib = []
        if "itertools" in self.needs:
            stdlib.append("import itertools")
        if "product" in self.needs:
            stdlib.append("from itertools import product")
        if rng.random() < 0.1:
            stdlib.append(rng.choice(("import math", "import time", "import random")))
        if "typing" in self.needs:
            stdlib.append("import typing")
        if typing_names:
            stdlib.append("from typing import " + ", ".join(typing_names))
        third = ["import torch"]
        if "Tensor" in self.needs:
            third.append("from torch import Tensor")
        if rng.random() < 0.1:
            third.append("import torch.nn.functional as F")
        lines = stdlib + third if rng.random() < 0.5 else third + stdlib
        if self.k.future:
            lines.insert(0, "from __future__ import annotations")
        return lines

    def render(self, index: int) -> str:
        blocks: list[list[Line]] = []
        if self.a.sharing == "helper":
            blocks.append(self.helper())
        if self.a.sharing == "core":
            blocks.append(self.core())
        public = [self.public(False), self.public(True)]
        if self.k.masked_first:
            public.reverse()
        extras = [self.svd() if x == "svd" else self.loss_fn() for x in self.a.extras if x != "main"]
        if self.a.handout:
            extras.insert(self.rng.randrange(len(extras) + 1), self.handout())
        where = self.k.extras_at
        blocks += extras if where == "top" else []
        blocks.append(public[0])
        blocks += extras if where == "between" else []
        blocks.append(public[1])
        blocks += extras if where == "bottom" else []
        if "main" in self.a.extras:
            blocks.append(self.main_block())
        body: list[str] = []
        for block in blocks:
            if body:
                body += [""] * self.k.gap
            body += [self.indent(d, t) for d, t in block]
        head = [f"# submission {index}", *self.header()]
        top = self.imports()
        return "\n".join([*head, *top, "", *([""] if self.k.gap == 2 else []), *body]) + "\n"

    def indent(self, depth: int, text: str) -> str:
        if depth < 0 or not text:
            return text
        return " " * (self.k.indent * depth) + text


def render(student: Student, index: int) -> str:
    """The source of ``student``'s file, the ``index``-th of the class (before any syntax error)."""
    return _Writer(student).render(index)


# --- syntax errors ---------------------------------------------------------------------------------


def _compiles(source: str) -> bool:
    try:
        compile(source, "<generated>", "exec")
    except SyntaxError:  # IndentationError and TabError are SyntaxErrors too
        return False
    return True


_HEADS = ("def ", "for ", "if ", "while ", ")")


def _break(source: str, rng: random.Random, factor: str) -> str:
    """``source`` with one real syntax error: a missing colon, an unclosed bracket, ``=`` for ``==``, Python 2 print."""
    lines = source.split("\n")
    code = [i for i, t in enumerate(lines) if t.strip() and not t.lstrip().startswith(("#", '"', "'"))]
    candidates: dict[str, list[int]] = {
        "colon": [i for i in code if lines[i].rstrip().endswith(":") and lines[i].lstrip().startswith(_HEADS)],
        "paren": [i for i in code if lines[i].rstrip().endswith(")") and "(" in lines[i]],
        "bracket": [i for i in code if "[" in lines[i] and lines[i].rstrip().endswith("]")],
        "assign-if": [i for i in code if lines[i].lstrip().startswith("if ") and "==" in lines[i]],
        "print2": [i for i in code if lines[i].lstrip().startswith("return ")],
    }
    options = [k for k, v in candidates.items() if v]
    for _ in range(20):
        how = rng.choice(options)
        i = rng.choice(candidates[how])
        broken = list(lines)
        text = broken[i].rstrip()
        if how in ("colon", "paren", "bracket"):
            broken[i] = text[:-1]
        elif how == "assign-if":
            broken[i] = text.replace("==", "=", 1)
        else:
            pad = text[: len(text) - len(text.lstrip())]
            broken.insert(i, pad + rng.choice(('print "done"', 'print "finished training"', f"print {factor}.shape")))
        result = "\n".join(broken)
        if not _compiles(result):
            return result
    raise AssertionError("no syntax error could be planted")  # unreachable for the code this module writes


# --- the class -------------------------------------------------------------------------------------


def code_lines(source: str) -> frozenset[str]:
    """The distinct non-blank lines of ``source`` with all whitespace removed, less the hand-out's and the header."""
    lines = {"".join(line.split()) for line in source.splitlines()}
    return frozenset(x for x in lines if x and not x.startswith("#submission") and x not in _HANDOUT_LINES)


_HANDOUT_LINES = frozenset("".join(line.split()) for line in HANDOUT.splitlines())


def shared_line_fraction(a: str, b: str) -> float:
    """The share of the smaller file's distinct lines (see ``code_lines``) that the other file has too."""
    la, lb = code_lines(a), code_lines(b)
    if not la or not lb:
        return 0.0
    return len(la & lb) / min(len(la), len(lb))


def apportion(total: int, weights: Sequence[tuple[str, float]]) -> list[str]:
    """``total`` kinds in the proportions of ``weights`` (largest remainders), in the order of ``weights``."""
    whole = sum(w for _, w in weights)
    quotas = [(name, total * w / whole) for name, w in weights]
    counts = {name: int(q) for name, q in quotas}
    by_remainder = sorted(range(len(quotas)), key=lambda i: -(quotas[i][1] - int(quotas[i][1])))
    for i in by_remainder[: total - sum(counts.values())]:
        counts[quotas[i][0]] += 1
    return [name for name, _ in weights for _ in range(counts[name])]


def default_copies(count: int) -> int:
    """How many planted copies a class of ``count`` gets by default: about 3%, at least one from 10 students on."""
    return max(1, round(COPY_SHARE * count)) if count >= 10 else 0


def _kind_order(rng: random.Random, independents: int) -> list[str]:
    """The independent students' kinds in a random order that starts with one that compiles (a copy's original)."""
    kinds = apportion(independents, KIND_WEIGHTS)
    rng.shuffle(kinds)
    first = next((i for i, k in enumerate(kinds) if k != "syntax-error"), 0)
    if kinds:
        kinds[0], kinds[first] = kinds[first], kinds[0]
    return kinds


def _slots(rng: random.Random, count: int, copies: int) -> list[bool]:
    """Which positions hold a copy; the first never does, so every copy has an earlier original."""
    positions = set(rng.sample(range(1, count), copies)) if copies else set()
    return [i in positions for i in range(count)]


def _loop_choices(algo: Algo) -> tuple[Any, ...]:
    """The choices that shape the loop as written: a slow error form replaces the error's own choices."""
    overridden = {"error", "masked_error", "slices", "pred_var"} if algo.slow else set()
    return tuple(f"slow:{algo.slow}" if name in overridden else getattr(algo, name) for name in STRUCTURAL)


def structural_differences(a: Algo, b: Algo) -> int:
    """How many of the choices that shape the algorithm's loop (:data:`STRUCTURAL`) two students made differently."""
    return sum(x != y for x, y in zip(_loop_choices(a), _loop_choices(b), strict=True))


def _independent(
    rng: random.Random, kind: str, index: int, earlier: Sequence[tuple[frozenset[str], Algo]]
) -> tuple[Student, str]:
    """A new student independent of every earlier one (redrawn if not).

    Independent: it shares at most ``INDEPENDENCE_LIMIT`` of its lines with any earlier
    student, and writes its loop differently from each in at least ``MIN_STRUCTURAL_DIFFERENCES`` respects.
    """
    best: tuple[float, Student, str] | None = None
    for _ in range(_REDRAWS):
        student = draw_student(rng, kind)
        source = render(student, index)
        lines = code_lines(source)
        worst = max((len(lines & e) / max(min(len(lines), len(e)), 1) for e, _ in earlier), default=0.0)
        alike = any(structural_differences(student.algo, a) < MIN_STRUCTURAL_DIFFERENCES for _, a in earlier)
        if worst <= INDEPENDENCE_LIMIT and not alike:
            return student, source
        worst += 1.0 if alike else 0.0
        if best is None or worst < best[0]:
            best = (worst, student, source)
    assert best is not None
    return best[1], best[2]


def generate_class(folder: Path, count: int, seed: int = 0, copies: int | None = None) -> GeneratedClass:
    """Write ``count`` submissions ``student0000.py`` ... into ``folder``: independent students and planted copies.

    Args:
        folder: where the files go (it must exist).
        count: how many files.
        seed: the class's seed: the same seed writes the same files.
        copies: how many of them are disguised copies of earlier ones (default: ``default_copies(count)``).
    """
    n_copies = default_copies(count) if copies is None else copies
    if count < 0 or not 0 <= n_copies <= max(count - 1, 0):
        raise ValueError(f"cannot plant {n_copies} copies in a class of {count}")
    rng = random.Random(seed)
    kinds_left = _kind_order(rng, count - n_copies)
    is_copy = _slots(rng, count, n_copies)
    students: dict[str, Student] = {}
    seen: list[tuple[frozenset[str], Algo]] = []
    paths: list[Path] = []
    planted: list[tuple[str, str]] = []
    edited: list[str] = []
    kinds: dict[str, str] = {}
    for i in range(count):
        stem = f"student{i:04d}"
        if is_copy[i]:
            fresh = sorted(students.keys() - {original for _, original in planted})
            original = rng.choice(fresh or sorted(students))
            student = disguise(students[original], rng)
            source = render(student, i)
            planted.append((stem, original))
            if replace(student.algo, extras=()) != replace(students[original].algo, extras=()):
                edited.append(stem)
        else:
            kind = kinds_left.pop(0)
            student, source = _independent(rng, kind, i, seen)
            seen.append((code_lines(source), student.algo))
            if kind == "syntax-error":
                source = _break(source, rng, student.look.names.U)
            else:
                students[stem] = student
        kinds[stem] = student.kind
        path = folder / f"{stem}.py"
        path.write_text(source, encoding="utf-8")
        paths.append(path)
    return GeneratedClass(tuple(paths), tuple(planted), kinds, tuple(edited))
