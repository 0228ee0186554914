"""Find a function handed in under another name: ``sgd_factorize`` for the lab's ``sgd_factorise``.

A careful grader who finds no ``sgd_factorise`` looks for the function that is plainly
meant: a top-level ``def`` whose name is the lab's but for spelling (-ize/-ise, case,
``my_``/``_v2``/``_sub``, a slip of a letter or two), or whose parameters are the lab's
in order and meaning (``sgd_partial_factorise(A, M, rank, num_epochs=1000, lr=0.01)``).
This module does the same, statically, in the trusted parent: it reads the student's
definitions with ``ast`` (nothing runs) and proposes one function per lab name.

The rules keep it from guessing:

* only a lab name that is not defined at the top level is looked for;
* a function whose name is another question's lab name, a handed-out function
  (``gd_factorise_masked``) or a helper that another of the student's functions
  calls is never taken;
* one student function answers at most one question;
* two equally good candidates: neither is taken, and both are listed.

The spec's ``renamed`` policy says whether recovery happens and what a wrong name costs.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass

from labgrade.harness.inputs.spec import FunctionSpec, Spec
from labgrade.harness.inputs.submission import Submission

#: Score of a name that is the lab's but for spelling, prefixes and suffixes.
SAME_NAME = 3
#: Score of a name within a slip of the lab's (edit distance), or of parameters that are the lab's.
NEAR = 2

#: Other names students give the lab's parameters, normalised (lower case, no underscores).
SYNONYMS: dict[str, frozenset[str]] = {
    "a": frozenset({"a", "x", "matrix", "mat", "data", "r", "y", "t", "target"}),
    "m": frozenset({"m", "mask", "w", "omega", "observed", "b"}),
    "rank": frozenset({"rank", "r", "k", "d", "ncomponents", "latent", "dim", "nfactors", "factors"}),
    "numepochs": frozenset({"numepochs", "epochs", "nepochs", "epoch", "iterations", "iters", "niter", "steps",
                            "maxiter", "numiterations", "numepoch"}),
    "lr": frozenset({"lr", "learningrate", "alpha", "eta", "rate", "stepsize", "gamma"}),
}  # fmt: skip

_PREFIX = re.compile(r"^(?:my|student|own|custom|new|test|impl|do|run|compute|the)_+")
_SUFFIX = re.compile(r"_*(?:v?\d+|sub|submission|impl|implementation|fn|func|function|final|new|mine|solution|answer)$")


@dataclass(frozen=True)
class Defined:
    """A top-level function of the submission, as its source states it."""

    name: str
    params: tuple[str, ...]
    defaults: tuple[object, ...]  # the last len(defaults) params' defaults (literal values, else a marker)
    where: str  # "file, line N"
    uses: frozenset[str]  # names it refers to (calls, callbacks)


@dataclass(frozen=True)
class Renaming:
    """What was found for one lab name that is not defined: the function taken, or the tie that took none."""

    lab: str
    found: str | None  # the student's function graded as the lab's, or None
    where: str = ""
    why: str = ""  # "the lab's name but for its spelling", "the lab's parameters in order"
    tied: tuple[str, ...] = ()  # equally good candidates, none taken: "`a` (file, line 3)"
    moved: str = ""  # this lab name's function was graded as that other lab function, so this one has none


class _Unknown:
    """A default that is not a literal (``lr=LR``): it agrees with nothing."""


def _module_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements that run at import: the module's, and those inside its if/try/with/loop blocks."""
    out: list[ast.stmt] = []
    for node in body:
        out.append(node)
        if isinstance(node, ast.If | ast.For | ast.While | ast.With | ast.Try | ast.TryStar):
            blocks = [node.body, getattr(node, "orelse", []), getattr(node, "finalbody", [])]
            blocks += [h.body for h in getattr(node, "handlers", [])]
            for block in blocks:
                out += _module_level(block)
    return out


def _bound(node: ast.stmt) -> set[str]:
    """The module-level names a statement binds (a def, an assignment, an import)."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def defined_functions(submission: Submission) -> tuple[list[Defined], set[str]]:
    """The submission's module-level ``def``s in order, and every name bound at module level.

    A unit that does not parse adds nothing; a name assigned by a statement grading skips
    (``sgd_factorise = make()``) counts as bound: it is the lab's name, not a rename.
    """
    found: list[Defined] = []
    bound: set[str] = set()
    for unit in submission.units:
        try:
            tree = ast.parse(unit.code, filename=unit.filename)
            statements = _module_level(tree.body)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in statements:
            bound |= _bound(node)
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            args = [*node.args.posonlyargs, *node.args.args]
            defaults = tuple(_literal(d) for d in node.args.defaults)
            try:
                uses = frozenset(n.id for n in ast.walk(node) if isinstance(n, ast.Name)) - {node.name}
            except RecursionError:
                uses = frozenset()
            where = f"{unit.filename}, line {node.lineno}"
            found.append(Defined(node.name, tuple(a.arg for a in args), defaults, where, uses))
    bound |= {m.group(1) for s in submission.skipped for m in re.finditer(r"\b(\w+)\s*=(?!=)", s)}
    return found, bound


def _literal(node: ast.expr) -> object:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return _Unknown()


def normal_name(name: str) -> str:
    """A function name without case, -ize spelling, and the prefixes and suffixes students add."""
    text = name.lower().strip("_")
    text = re.sub(
        r"iz(e|ed|es|ing|ation)\b|iz(e|ed|es|ing|ation)(?=_)", lambda m: "is" + (m.group(1) or m.group(2)), text
    )
    before = None
    while before != text:
        before = text
        text = _SUFFIX.sub("", _PREFIX.sub("", text)).strip("_")
    return text


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (small strings only: names)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _params_agree(fn: FunctionSpec, candidate: Defined) -> bool:
    """The candidate's parameters are the lab's, in order and meaning (a name students use, or the lab's default)."""
    if len(candidate.params) != len(fn.params):
        return False
    first_default = len(candidate.params) - len(candidate.defaults)
    for index, (lab, name) in enumerate(zip(fn.params, candidate.params, strict=True)):
        key = lab.name.lower().replace("_", "")
        said = name.lower().replace("_", "")
        default = candidate.defaults[index - first_default] if index >= first_default else _Unknown()
        same_default = lab.has_default and not isinstance(default, _Unknown) and default == lab.default
        if said not in SYNONYMS.get(key, frozenset({key})) and not same_default:
            return False
    return True


def _score(fn: FunctionSpec, candidate: Defined) -> tuple[int, str]:
    """How plainly the candidate is the lab's function (0: not at all), and why."""
    params = _params_agree(fn, candidate)
    name, lab = normal_name(candidate.name), normal_name(fn.name)
    if name == lab:
        return SAME_NAME + (NEAR if params else 0), "its name is the lab's but for its spelling"
    takes_all = len(candidate.params) >= len(fn.params)
    if _distance(name, lab) <= max(1, len(lab) // 8) and takes_all:
        return NEAR + (NEAR if params else 0), "its name is within a letter or two of the lab's"
    if params:
        return NEAR, "its parameters are the lab's, in order"
    return 0, ""


def find_renamed(spec: Spec, submission: Submission) -> dict[str, Renaming]:
    """For each lab function not defined at the top level: the student's function to grade as it, or the tie."""
    if not spec.renamed.recover:
        return {}
    defined, bound = defined_functions(submission)
    functions = [q.function for q in spec.questions if q.function is not None]
    missing = [fn for fn in functions if fn.name not in bound]
    lab_names = {fn.name for fn in functions}
    used = set().union(*(d.uses for d in defined)) if defined else set()
    never = set(spec.renamed.never) | _handed_out(spec.similarity.handed_out, lab_names)
    pool = [d for d in defined if d.name not in lab_names | never and d.name not in used]
    out = _assign(missing, pool)
    by_name = {fn.name: fn for fn in functions}
    for fn in missing:
        if fn.name in out:
            continue
        # `def sgd_factorise(A, M, rank, ...)`: the masked function handed in under the other question's name.
        for d in defined:
            own = by_name.get(d.name)
            if own is None or own.name in out or _params_agree(own, d) or not _params_agree(fn, d):
                continue
            why = f"it takes `{fn.name}`'s parameters, in order, not those of `{own.name}`"
            out[fn.name] = Renaming(fn.name, d.name, d.where, why)
            out[own.name] = Renaming(own.name, None, d.where, moved=fn.name)
            break
    return out


def _handed_out(source: str, lab_names: set[str]) -> set[str]:
    """The functions the lab gives every student (not the ones they complete): never a student's answer."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)} - lab_names


def _assign(missing: Sequence[FunctionSpec], pool: Sequence[Defined]) -> dict[str, Renaming]:
    """Best candidates first; a tie for one lab name, or one candidate best for two, takes neither."""
    scored = {(fn.name, d.name): (*_score(fn, d), d) for fn in missing for d in pool}
    out: dict[str, Renaming] = {}
    unavailable: set[str] = set()
    while True:
        open_pairs = [
            (score, lab, d)
            for (lab, _), (score, _, d) in scored.items()
            if score > 0 and lab not in out and d.name not in unavailable
        ]
        if not open_pairs:
            return out
        best = max(score for score, _, _ in open_pairs)
        top = [(lab, d) for score, lab, d in open_pairs if score == best]
        for lab in sorted({lab for lab, _ in top}):
            mine = [d for name, d in top if name == lab]
            wanted_twice = any(other != lab and d.name == c.name for other, c in top for d in mine)
            if len(mine) == 1 and not wanted_twice:
                out[lab] = Renaming(lab, mine[0].name, mine[0].where, scored[(lab, mine[0].name)][1])
            else:
                out[lab] = Renaming(lab, None, tied=tuple(f"`{d.name}` ({d.where})" for d in mine))
            unavailable.update(d.name for d in mine)
