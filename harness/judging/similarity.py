"""Find submissions that share code: a MOSS-like detector for one lab's class.

Why through ``ast`` and not text: a copy is usually disguised by what the parser
throws away (comments, docstrings, blank lines, line breaks, spacing, type
annotations) or by what it keeps only as a role (the names a student chose).
Each source is walked into normalised tokens: node and operator kinds, the
library names that carry meaning (``torch``, ``.rand``, ``.t``, ``@``; an import
alias is resolved, so ``np.dot`` is ``numpy.dot``), constants reduced to their
kind (``0.01`` and ``1e-2`` are one token), ``A[r][c]`` read as ``A[r, c]``; every
name the student binds (variables, parameters, loop variables, their own
functions, classes and attributes) is a placeholder.  Placeholders are matched as
parameterised strings (Baker): inside each k-gram a name is the distance back to
its previous use in that k-gram, so ``e = A[r, c] - U[r] @ V[c]`` matches any
consistent renaming of itself but not ``e = A[c, r] - U[r] @ V[c]``, and a
statement inserted elsewhere changes nothing.  ``x += y`` stays apart from
``x = x + y``: students split about evenly between them, so merging the two made
independent solutions look alike more often than it caught copies.

Each top-level function and class is a unit of its own (and the module-level rest
one more); no k-gram crosses units, so reordering definitions changes nothing.
K-grams are hashed and winnowed (Schleimer, Wilkerson and Aiken 2003): the
smallest hash of every :data:`WINDOW` consecutive ones is kept, so any shared run
of ``WINDOW + K - 1`` tokens leaves a shared fingerprint, and each fingerprint
keeps the lines of its k-gram, which is how matches become highlighted spans.

Evidence, not resemblance.  Every correct solution of this lab is three nested
loops around ``A[r, c] - U[r] @ V[c]`` and two updates, so resemblance alone
accuses the innocent.  Three things keep them apart:

* the handed-out code (every k-gram of it, not only winnowed ones: MOSS's ``-b``)
  is removed from every source: pasting ``gd_factorise_masked`` proves nothing;
* a fingerprint that more than ``max(3, min(10, 10% of the class))`` of the class's
  own submissions have is the lab's natural way of writing something (MOSS's
  ``-m``, whose default is 10); what is left, a source's *distinctive*
  fingerprints, is what its author wrote their own way;
* the score is the smaller of two overlaps, each measured against the geometric
  mean of the two sources' sizes: of their distinctive fingerprints, and of all
  their fingerprints.  A copy shares both, whole.  Two independent students who
  happen to share one rare idiom (the same masked inner loop) share most of the
  *smaller* one's code when that loop is all it has (a student whose two
  functions call one core): measured against the smaller source alone, as at
  first, such pairs reached 0.78 in classgen's classes of 200; against the
  geometric mean they stay at or below 0.58 (10 classes), while disguised copies
  keep 1.0 and a copy that adds code of its own loses only the square root of
  its growth.

A class of two or three cannot tell common from copied.  There, pass the lab's
model solution in ``handed_out`` too: its way of writing the answer then counts
as given, and what is left to match is each student's own style.

The defaults are measured (``K`` swept from 16 to 32, ``WINDOW`` from 3 to 6) on
three kinds of class: the hand-written files of ``tests/files/similarity`` (five
independent styles and a disguised copy); 20 synthetic classes of 40 from the
generator in ``tests/test_similarity.py`` (students differ in at least half of ten
style choices), each with a disguised copy and, for measuring, an edited copy
with one of the ten choices rewritten (about two lines per function); and 4
classes each of 40, 100 and 200 from ``harness/bench/classgen.py`` (weighted,
realistic choices; its disguised copies also tweak one detail and add or drop a
function):

* ``K = 28`` tokens (about a statement and a half) and ``WINDOW = 4``: disguised
  copies score 1.0; the most similar independent pair scores 0.12 in the
  hand-written files (0.28 at K = 16) and 0.52 in the synthetic classes (0.57 at
  K = 16); K = 32 starts missing edited copies.  A window of 4 keeps ~40% of
  k-grams, so even a 5-line helper (44 tokens) leaves 6.
* ``THRESHOLD = 0.6``, with the geometric-mean score: over 10 of classgen's
  classes of 200 (its independent students write the loop differently in at
  least 3 respects), all 48 disguised copies flagged, 6 of the 12 copies that also
  rewrote one detail of the algorithm, and no independent pair (the highest
  scored 0.58).  A flag asks for a human reading; the HTML is for that.
* ``MIN_SHARED = 12``: twelve distinctive fingerprints are about four lines of
  one's own code; fewer is a coincidence of idiom, however large a share of a
  tiny submission (a stub) it is.  Disguised copies shared 19 or more (classgen's
  tweaked ones; 45 or more in the synthetic classes, 76 in the hand-written files).
"""

from __future__ import annotations

import ast
import math
import time
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

#: Tokens per k-gram (about a statement and a half; see the module docstring).
K = 28
#: Hashes per winnowing window.
WINDOW = 4
#: Score from which a pair is flagged.
THRESHOLD = 0.6
#: Distinctive fingerprints a flagged pair must share.
MIN_SHARED = 12
#: A fingerprint in more than max(COMMON_AT_LEAST, min(COMMON_AT_MOST, COMMON_SHARE * class)) sources is common.
COMMON_SHARE = 0.10
COMMON_AT_LEAST = 3
COMMON_AT_MOST = 10
#: Pairs below this share of the threshold are not listed (they only make the table long).
LISTED_FROM = 0.5
#: Sources larger than this are not compared (a generated or hostile file, not a lab answer).
MAX_BYTES = 200_000
#: Tokens per source beyond which it is not compared (guards time on hostile text).
MAX_TOKENS = 60_000
#: Occurrences of one fingerprint per source considered when lining up spans.
MAX_OCCURRENCES = 4
#: Lines a run of matches may skip and still be one span.
SPAN_GAP = 3


@dataclass(frozen=True)
class Source:
    """A submission's code to compare: graded class work, or ``known`` code it is compared with.

    ``known`` sources (last year's class, solutions found online) pair with class
    submissions but never with each other, and do not count towards what is common.
    """

    name: str
    text: str
    known: bool = False


@dataclass(frozen=True)
class Span:
    """A matching region: 1-based inclusive line ranges in each source of a pair."""

    a_lines: tuple[int, int]
    b_lines: tuple[int, int]


@dataclass(frozen=True)
class Pair:
    """Two sources that share distinctive fingerprints, with where they match.

    ``score`` is the number of distinctive fingerprints in common over the
    geometric mean of the two sources' distinctive fingerprints, or the same for
    all fingerprints when that is lower (see the module docstring): a copy that
    adds code of its own loses only the square root of its growth, and a small
    source cannot match a large one on a single shared idiom.  ``shared`` counts
    the distinctive fingerprints in common; ``spans`` are where those lie.
    """

    a: str
    b: str
    score: float
    shared: int
    spans: tuple[Span, ...]
    flagged: bool


@dataclass(frozen=True)
class SimilarityReport:
    """The listed pairs (flagged first, then by score) and the sources that could not be compared."""

    pairs: tuple[Pair, ...]
    threshold: float
    skipped: dict[str, str]
    seconds: float


# ---------------------------------------------------------------- tokens


class Unfit(Exception):
    """A source that cannot be compared; the message says why."""


_OPERATORS: dict[type[ast.AST], str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.MatMult: "@", ast.Div: "/", ast.FloorDiv: "//",
    ast.Mod: "%", ast.Pow: "**", ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|", ast.BitXor: "^",
    ast.BitAnd: "&", ast.And: "and", ast.Or: "or", ast.Not: "not", ast.Invert: "~", ast.UAdd: "+u",
    ast.USub: "-u", ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in",
}  # fmt: skip

#: Statements that carry no work of the student's: imports (their names are resolved), ``pass``, scope markers.
_SILENT = (ast.Import, ast.ImportFrom, ast.Pass, ast.Global, ast.Nonlocal)

#: A token to emit at a line, or a node to expand at the line of its parent when it has none.
_Item = ast.AST | str | tuple[str, int]


def _constant(value: object) -> str:
    """A constant as its kind: ``1e-2`` and ``0.01``, ``"loss"`` and ``'cost'`` are the same token."""
    if value is None or value is Ellipsis or isinstance(value, bool):
        return repr(value)
    return f"<{type(value).__name__}>"


class _Names:
    """Which names are the student's (placeholders) and which carry meaning (kept, imports resolved)."""

    def __init__(self, tree: ast.Module) -> None:
        self.bound: set[str] = set()
        self.attrs: set[str] = set()
        self.imports: dict[str, str] = {}
        for node in ast.walk(tree):  # iterative: safe on deep trees
            if isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Load):
                self.attrs.add(node.attr)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                self._imported(node)
            else:
                self.bound.update(_binds(node))

    def _imported(self, node: ast.Import | ast.ImportFrom) -> None:
        """Record what an import binds: ``np`` -> ``numpy``, ``Tensor`` -> ``torch.Tensor``."""
        if isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            for alias in node.names:
                self.imports[alias.asname or alias.name] = f"{module}.{alias.name}"
            return
        for alias in node.names:
            top = alias.name.split(".")[0]
            self.imports[alias.asname or top] = alias.name if alias.asname else top

    def name(self, name: str) -> list[str]:
        """A name's tokens: a placeholder, its import path split at dots (``np`` -> numpy), or itself."""
        if name in self.bound:
            return ["$" + name]
        if name in self.imports:
            head, *rest = self.imports[name].split(".")
            return [head, *("." + part for part in rest)]
        return [name]

    def attr(self, attr: str) -> str:
        """An attribute's token: a placeholder when the source assigns it (``self.weights``), else ``.attr``."""
        return "$." + attr if attr in self.attrs else "." + attr


def _binds(node: ast.AST) -> tuple[str, ...]:
    """The names ``node`` binds in the student's code (assigned, parameters, definitions, handlers, patterns)."""
    if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
        return (node.id,)
    if isinstance(node, ast.arg):
        return (node.arg,)
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return (node.name,)
    if isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
        return (node.name,)
    return ()


def _is_silent(stmt: ast.stmt) -> bool:
    """Statements that say nothing: imports, ``pass``, docstrings and bare constants used as comments."""
    return isinstance(stmt, _SILENT) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))


def _block(keyword: str, body: list[ast.stmt], end: int) -> list[_Item]:
    """A block's tokens: its keyword at its first statement, the statements, an end marker at its last line."""
    kept = [s for s in body if not _is_silent(s)]
    if not kept:
        return []
    return [(keyword, kept[0].lineno), *kept, ("end", end)]


def _end(node: ast.AST) -> int:
    """The last line of ``node`` (its first when the parser gave no end)."""
    end = getattr(node, "end_lineno", None) or getattr(node, "lineno", None)
    return end if isinstance(end, int) else 0


def _arguments(args: ast.arguments, names: _Names) -> list[_Item]:
    """Parameters as placeholders with defaults as their kinds; annotations are dropped."""
    out: list[_Item] = ["("]
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for arg, default in [*zip(positional, defaults, strict=True), *zip(args.kwonlyargs, args.kw_defaults, strict=True)]:
        out += names.name(arg.arg)
        if default is not None:
            out += ["=", default]
    if args.vararg:
        out += ["*", *names.name(args.vararg.arg)]
    if args.kwarg:
        out += ["**", *names.name(args.kwarg.arg)]
    return [*out, ")"]


def _joined(items: Iterable[ast.AST], separator: str) -> list[_Item]:
    out: list[_Item] = []
    for i, item in enumerate(items):
        out += [separator, item] if i else [item]
    return out


def _statement(node: ast.stmt, names: _Names) -> list[_Item] | None:
    """The tokens of a statement, or None when it is not a statement handled here."""
    end = _end(node)
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        decorators: list[_Item] = [x for d in node.decorator_list for x in ("@", d)]
        return [*decorators, "def", *names.name(node.name), *_arguments(node.args, names), *_block(":", node.body, end)]
    if isinstance(node, ast.ClassDef):
        decorators = [x for d in node.decorator_list for x in ("@", d)]
        bases = [*node.bases, *(kw.value for kw in node.keywords)]
        return [*decorators, "class", *names.name(node.name), "(", *bases, ")", *_block(":", node.body, end)]
    if isinstance(node, ast.Return):
        return ["return", *([node.value] if node.value else [])]
    if isinstance(node, ast.Assign):
        return [*(x for t in node.targets for x in (t, "=")), node.value]
    if isinstance(node, ast.AugAssign):
        return [node.target, _OPERATORS.get(type(node.op), "?") + "=", node.value]
    if isinstance(node, ast.AnnAssign):
        return [node.target, "=", node.value] if node.value else []
    if isinstance(node, ast.For | ast.AsyncFor):
        loop = ["for", node.target, "in", node.iter, *_block(":", node.body, _end(node.body[-1]))]
        return [*loop, *_block("else", node.orelse, end)]
    if isinstance(node, ast.While):
        return ["while", node.test, *_block(":", node.body, _end(node.body[-1])), *_block("else", node.orelse, end)]
    if isinstance(node, ast.If):
        return ["if", node.test, *_block(":", node.body, _end(node.body[-1])), *_block("else", node.orelse, end)]
    if isinstance(node, ast.With | ast.AsyncWith):
        items: list[_Item] = []
        for item in node.items:
            items += [item.context_expr, "as", item.optional_vars] if item.optional_vars else [item.context_expr]
        return ["with", *items, *_block(":", node.body, end)]
    if isinstance(node, ast.Try | ast.TryStar):
        handlers: list[_Item] = []
        for h in node.handlers:
            caught: list[_Item] = [h.type] if h.type else []
            handlers += [("except", h.lineno), *caught, *_block(":", h.body, _end(h))]
        tried = _block("try", node.body, _end(node.body[-1]))
        return [*tried, *handlers, *_block("else", node.orelse, end), *_block("finally", node.finalbody, end)]
    if _is_silent(node):
        return []
    if isinstance(node, ast.Expr):
        return [node.value]
    return None


def _expression(node: ast.AST, names: _Names) -> list[_Item] | None:
    """The tokens of an expression, or None when it is not an expression handled here."""
    if isinstance(node, ast.Name):
        return list(names.name(node.id))
    if isinstance(node, ast.Constant):
        return [_constant(node.value)]
    if isinstance(node, ast.Attribute):
        return [node.value, names.attr(node.attr)]
    if isinstance(node, ast.BinOp):
        return [node.left, _OPERATORS.get(type(node.op), "?"), node.right]
    if isinstance(node, ast.UnaryOp):
        return [_OPERATORS.get(type(node.op), "?"), node.operand]
    if isinstance(node, ast.BoolOp):
        return _joined(node.values, _OPERATORS.get(type(node.op), "?"))
    if isinstance(node, ast.Compare):
        compared: list[_Item] = [node.left]
        for op, right in zip(node.ops, node.comparators, strict=True):
            compared += [_OPERATORS.get(type(op), "?"), right]
        return compared
    if isinstance(node, ast.Call):
        keywords: list[_Item] = []
        for kw in node.keywords:
            keywords += ["**", kw.value] if kw.arg is None else [*names.name(kw.arg), "=", kw.value]
        return [node.func, "(", *node.args, *keywords, ")"]
    if isinstance(node, ast.Subscript):
        if isinstance(node.value, ast.Subscript) and not isinstance(node.value.slice, ast.Slice | ast.Tuple):
            # A[r][c] reads as A[r, c]: the same element, and a copier's favourite cosmetic change
            return [node.value.value, "[", node.value.slice, ",", node.slice, "]"]
        return [node.value, "[", node.slice, "]"]
    if isinstance(node, ast.Slice):
        bounds: list[_Item] = [node.lower] if node.lower else []
        bounds += [":", node.upper] if node.upper else [":"]
        return bounds + ([":", node.step] if node.step else [])
    return _container(node, names)


def _container(node: ast.AST, names: _Names) -> list[_Item] | None:
    """The tokens of a collection, comprehension or other compound expression, or None."""
    if isinstance(node, ast.Tuple):
        return _joined(node.elts, ",") if node.elts else ["()"]
    if isinstance(node, ast.List | ast.Set):
        return [f"{type(node).__name__}(", *_joined(node.elts, ","), ")"]
    if isinstance(node, ast.Dict):
        entries: list[_Item] = []
        for key, value in zip(node.keys, node.values, strict=True):
            entries += [key, ":", value] if key else ["**", value]
        return ["dict(", *entries, ")"]
    if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp):
        return [f"{type(node).__name__}(", node.elt, *node.generators, ")"]
    if isinstance(node, ast.DictComp):
        return ["DictComp(", node.key, ":", node.value, *node.generators, ")"]
    if isinstance(node, ast.comprehension):
        return ["for", node.target, "in", node.iter, *(x for c in node.ifs for x in ("if", c))]
    if isinstance(node, ast.IfExp):
        return [node.body, "if", node.test, "else", node.orelse]
    if isinstance(node, ast.Lambda):
        return ["lambda", *_arguments(node.args, names), node.body]
    if isinstance(node, ast.JoinedStr):
        return ["f-str", *(v.value for v in node.values if isinstance(v, ast.FormattedValue))]
    if isinstance(node, ast.Starred):
        return ["*", node.value]
    if isinstance(node, ast.NamedExpr):
        return [node.target, ":=", node.value]
    return None


def _expand(node: ast.AST, names: _Names) -> list[_Item]:
    """What a node stands for: tokens and the child nodes to expand in their place, in source order."""
    found = _statement(node, names) if isinstance(node, ast.stmt) else _expression(node, names)
    if found is not None:
        return found
    # Anything else (match statements, await, yield, raise, assert, del...): its kind, then its children.
    children = [c for c in ast.iter_child_nodes(node) if not isinstance(c, ast.expr_context)]
    return [type(node).__name__, *children]


def _walk(node: ast.AST, names: _Names, limit: int) -> tuple[list[str], list[int]]:
    """Tokens and their lines for ``node``, walked with an explicit stack (no recursion to overflow)."""
    tokens: list[str] = []
    lines: list[int] = []
    stack: list[tuple[_Item, int]] = [(node, getattr(node, "lineno", 1))]
    while stack:
        item, line = stack.pop()
        if isinstance(item, str):
            tokens.append(item)
            lines.append(line)
        elif isinstance(item, tuple):
            tokens.append(item[0])
            lines.append(item[1] or line)
        else:
            here = getattr(item, "lineno", None) or line
            stack.extend((child, here) for child in reversed(_expand(item, names)))
        if len(tokens) > limit:
            raise Unfit(f"too much code to compare (over {MAX_TOKENS} tokens)")
    return tokens, lines


@dataclass(frozen=True)
class _Unit:
    """One top-level definition (or the module-level rest) as tokens with their lines."""

    tokens: tuple[str, ...]
    lines: tuple[int, ...]


def units(text: str) -> list[_Unit]:
    """Parse ``text`` and split it into units: each top-level def/class, then the module-level rest.

    Raises:
        Unfit: the text is too large, does not parse, or nests beyond what the parser takes.
    """
    size = len(text.encode("utf-8", "replace"))
    if size > MAX_BYTES:
        raise Unfit(f"too large: {size // 1000} KB (limit {MAX_BYTES // 1000} KB)")
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        where = f"line {exc.lineno}: " if exc.lineno else ""
        raise Unfit(f"does not parse: {where}{exc.msg}") from None
    except UnicodeError:
        raise Unfit("does not parse: not UTF-8 text") from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        raise Unfit(f"does not parse: {str(exc)[:80] or type(exc).__name__}") from None
    names = _Names(tree)
    definitions = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    parts: list[list[ast.stmt]] = [[s] for s in tree.body if isinstance(s, definitions)]
    parts.append([s for s in tree.body if not isinstance(s, definitions)])
    found: list[_Unit] = []
    budget = MAX_TOKENS
    for part in parts:
        tokens: list[str] = []
        lines: list[int] = []
        for statement in part:
            more_tokens, more_lines = _walk(statement, names, budget - len(tokens))
            tokens += more_tokens
            lines += more_lines
        budget -= len(tokens)
        if tokens:
            found.append(_Unit(tuple(tokens), tuple(lines)))
    return found


# ---------------------------------------------------------------- fingerprints

#: A source's fingerprints: hash -> the line ranges of the k-grams it was taken from.
_Prints = dict[int, list[tuple[int, int]]]


@lru_cache(maxsize=1 << 16)
def _code(token: str) -> int:
    """A stable non-negative number for a fixed token (``hash`` of a str changes from run to run)."""
    return zlib.crc32(token.encode("utf-8", "replace"))


def _kgrams(unit: _Unit, k: int) -> list[tuple[int, int, int]]:
    """Every k-gram of a unit as (hash, first line, last line), placeholders matched as p-strings.

    A placeholder is written as -1 minus the distance back to the same name's
    previous use, or -1 when that use is outside the k-gram: two k-grams hash
    alike exactly when one is a consistent renaming of the other.
    """
    last: dict[str, int] = {}
    codes: list[tuple[int, int]] = []
    for i, token in enumerate(unit.tokens):
        if token.startswith("$"):
            back = i - last[token] if token in last else 0
            last[token] = i
            codes.append((-1, back))
        else:
            codes.append((_code(token), 0))
    grams = []
    lines = unit.lines
    for s in range(len(codes) - k + 1):
        window = tuple(c - back if back <= j else c for j, (c, back) in enumerate(codes[s : s + k]))
        span = lines[s : s + k]
        grams.append((hash(window), min(span), max(span)))
    return grams


def _winnow(grams: list[tuple[int, int, int]], window: int) -> list[tuple[int, int, int]]:
    """Robust winnowing: the rightmost smallest hash of every window, each position kept once."""
    if len(grams) <= window:
        return [min(grams, key=lambda g: g[0])] if grams else []
    kept: list[tuple[int, int, int]] = []
    chosen = -1
    for start in range(len(grams) - window + 1):
        best = start
        for i in range(start + 1, start + window):
            if grams[i][0] <= grams[best][0]:
                best = i
        if best != chosen:
            kept.append(grams[best])
            chosen = best
    return kept


def fingerprints(parts: Sequence[_Unit], k: int = K, window: int = WINDOW) -> _Prints:
    """Winnowed fingerprints of a source's units: hash -> the line ranges it came from."""
    found: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for unit in parts:
        for h, lo, hi in _winnow(_kgrams(unit, k), window):
            found[h].append((lo, hi))
    return dict(found)


def _all_hashes(text: str, k: int) -> set[int]:
    """Every k-gram hash of a handed-out text (empty when it does not parse: nothing to remove)."""
    try:
        return {h for unit in units(text) for h, _, _ in _kgrams(unit, k)}
    except Unfit:
        return set()


# ---------------------------------------------------------------- pairs


def _spans(a: _Prints, b: _Prints, shared: Iterable[int]) -> tuple[Span, ...]:
    """Line up shared fingerprints into matching regions (greedy: the longest runs first, no line used twice).

    A fingerprint can occur more than once in a source (two functions with the
    same loop body), so every pairing of occurrences is a candidate; runs are
    chained where both sides move on together, and the longest runs win.
    """
    matches = sorted((la, lb) for h in shared for la in a[h][:MAX_OCCURRENCES] for lb in b[h][:MAX_OCCURRENCES])
    runs: list[list[int]] = []  # [a_lo, a_hi, b_lo, b_hi, count, last b_lo]
    for (alo, ahi), (blo, bhi) in matches:
        for run in runs:
            # Both sides move on together: a continues the run, b continues from the run's last match.
            if alo <= run[1] + SPAN_GAP and run[5] - SPAN_GAP <= blo <= run[3] + SPAN_GAP:
                run[1], run[2], run[3] = max(run[1], ahi), min(run[2], blo), max(run[3], bhi)
                run[4], run[5] = run[4] + 1, blo
                break
        else:
            runs.append([alo, ahi, blo, bhi, 1, blo])
    chosen: list[list[int]] = []
    for run in sorted(runs, key=lambda r: (-r[4], r[0], r[2])):
        if all(run[1] < c[0] or run[0] > c[1] for c in chosen) and all(run[3] < c[2] or run[2] > c[3] for c in chosen):
            chosen.append(run)
    return tuple(Span((r[0], r[1]), (r[2], r[3])) for r in sorted(chosen))


def _common_limit(class_size: int) -> float:
    """Owners beyond which a fingerprint is common: a tenth of the class, at least 3, at most 10 (MOSS's ``-m``)."""
    return max(COMMON_AT_LEAST, min(COMMON_AT_MOST, COMMON_SHARE * class_size))


def _overlap(shared: int, x: int, y: int) -> float:
    """What is shared, over the geometric mean of two sets' sizes ``x`` and ``y`` (1.0 for identical sets)."""
    return shared / math.sqrt(x * y) if x and y else 0.0


def find_similar(
    sources: Sequence[Source],
    handed_out: Sequence[str] = (),
    threshold: float = THRESHOLD,
    min_shared: int = MIN_SHARED,
) -> SimilarityReport:
    """Compare every source with every other through an inverted index of fingerprints.

    Args:
        sources: the class's submissions and any ``known`` code to compare them with.
        handed_out: code every student was given (and, for a small class, the model
            solution): its k-grams are removed from every source.
        threshold: the score from which a pair is flagged.
        min_shared: distinctive fingerprints a flagged pair must share at least.
    """
    started = time.perf_counter()
    skipped: dict[str, str] = {}
    base: set[int] = set()
    for text in handed_out:
        base |= _all_hashes(text, K)
    prints: list[_Prints] = []
    kept: list[Source] = []
    for source in sources:
        try:
            found = {h: lines for h, lines in fingerprints(units(source.text), K, WINDOW).items() if h not in base}
        except Unfit as exc:
            skipped[source.name] = str(exc)
            continue
        if not found:
            skipped[source.name] = "too little code of its own to compare (beyond the handed-out code)"
            continue
        prints.append(found)
        kept.append(source)
    pairs = _pairs(kept, prints, threshold, min_shared)
    return SimilarityReport(tuple(pairs), threshold, skipped, time.perf_counter() - started)


def _pairs(kept: Sequence[Source], prints: Sequence[_Prints], threshold: float, min_shared: int) -> list[Pair]:
    """Score every pair that shares a distinctive fingerprint; keep those worth reading, best first.

    Only distinctive fingerprints go through the index, so the work grows with
    what pairs share, not with the square of the class; the containment of all
    fingerprints is computed for the few pairs that get that far.
    """
    index: dict[int, list[int]] = defaultdict(list)
    for i, found in enumerate(prints):
        for h in found:
            index[h].append(i)
    limit = _common_limit(sum(not s.known for s in kept))
    common = {h for h, owners in index.items() if sum(not kept[i].known for i in owners) > limit}
    distinct = [len(found.keys() - common) for found in prints]
    shared: dict[tuple[int, int], list[int]] = defaultdict(list)
    for h, owners in index.items():
        if h in common:
            continue
        for x, i in enumerate(owners):
            for j in owners[x + 1 :]:
                if not (kept[i].known and kept[j].known):
                    shared[(i, j)].append(h)
    listed_from = LISTED_FROM * threshold
    pairs = []
    for (i, j), hashes in shared.items():
        own = _overlap(len(hashes), distinct[i], distinct[j])
        if len(hashes) < 2 or own < listed_from:
            continue
        whole = _overlap(len(prints[i].keys() & prints[j].keys()), len(prints[i]), len(prints[j]))
        score = min(own, whole)
        flagged = score >= threshold and len(hashes) >= min_shared
        if flagged or score >= listed_from:
            spans = _spans(prints[i], prints[j], hashes)
            pairs.append(Pair(kept[i].name, kept[j].name, round(score, 4), len(hashes), spans, flagged))
    pairs.sort(key=lambda p: (not p.flagged, -p.score, -p.shared, p.a, p.b))
    return pairs
