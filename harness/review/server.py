"""``labgrade review OUT``: a local page to grade one question across the class, with keys and clicks.

It listens on 127.0.0.1 only, and every request needs the random token printed on
the terminal (in the URL once, then a cookie), as Jupyter does.  Pages are Jinja2
with autoescaping: a student's words are text, whatever they hold.  Every save goes
to the append-only log (``store``); a save made from a page that is out of date is
refused with a message, never applied over another grader's mark.  Marks reach
results, the gradebook and the PDFs with ``labgrade report OUT``.
"""

from __future__ import annotations

import contextlib
import hmac
import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from labgrade.harness.inputs.spec import Spec
from labgrade.harness.outputs.templating import environment
from labgrade.harness.review.apply import result_files
from labgrade.harness.review.exchange import rubric_diff
from labgrade.harness.review.parts import Part, groups, read_parts, state
from labgrade.harness.review.store import ReviewStore, StaleSave
from labgrade.harness.review.suggest import spans

COOKIE = "labgrade_review"
GRADER_COOKIE = "labgrade_grader"
#: The longest comment a grader may save (it goes on a one-page PDF).
MAX_COMMENT = 600


def highlighted(part: Part, spec: Spec) -> Markup:
    """The student's text, escaped, with the words that suggest an item marked (``<mark data-item=...>``)."""
    review = spec.question(part.question).review
    assert review is not None
    out, at = [], 0
    for start, end, item in spans(review, part.text):
        out.append(escape(part.text[at:start]))
        out.append(Markup('<mark data-item="{}">{}</mark>').format(item, part.text[start:end]))
        at = end
    out.append(escape(part.text[at:]))
    return Markup("").join(out)


def make_app(out: Path, spec: Spec, token: str, grader: str = "grader") -> Starlette:
    """The review page's web app over ``out`` (its results and its ``reviews.sqlite``)."""
    store = ReviewStore(out)
    env = environment()
    cached: dict[str, Any] = {}

    def class_parts() -> tuple[dict[str, list[Part]], dict[str, list[list[int]]]]:
        """The class's parts and answer groups, read again only when a results.json changed (a regrade)."""
        stamp = tuple((p, p.stat().st_mtime_ns) for p in result_files(out))
        if cached.get("stamp") != stamp:
            parts = read_parts(out, spec)
            cached.update(stamp=stamp, parts=parts, groups={q: groups(found) for q, found in parts.items()})
        return cached["parts"], cached["groups"]

    def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(spec=spec, **context), status_code=status)

    def allowed(request: Request) -> bool:
        given = request.query_params.get("token") or request.cookies.get(COOKIE) or ""
        return hmac.compare_digest(given, token)

    def guarded(handler: Any) -> Any:
        async def run(request: Request) -> Response:
            if not allowed(request):
                return HTMLResponse("This page needs the token printed by `labgrade review`.", status_code=403)
            response: Response = await handler(request)
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
            return response

        return run

    def who(request: Request) -> str:
        return (request.cookies.get(GRADER_COOKIE) or grader)[:40]

    async def index(request: Request) -> Response:
        parts, current = class_parts()[0], store.current()
        rows = []
        for qid, found in parts.items():
            states = [state(p, current.get((qid, p.submission))) for p in found]
            rows.append({"id": qid, "title": spec.question(qid).title, "total": len(found),
                         **{s: states.count(s) for s in ("pending", "proposed", "reviewed", "re-review")}})  # fmt: skip
        by_grader: dict[str, int] = {}
        for event in current.values():
            if event.confirmed:
                by_grader[event.grader] = by_grader.get(event.grader, 0) + 1
        changed = rubric_diff(out, spec)  # each student whose mark the current rubric moves
        return page("review_index.html.j2", rows=rows, by_grader=by_grader, grader=who(request), changed=changed)

    async def set_grader(request: Request) -> Response:
        form = await request.form()
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(GRADER_COOKIE, str(form.get("grader", grader)).strip()[:40] or grader, samesite="strict")
        return response

    async def next_part(request: Request) -> Response:
        qid = request.path_params["qid"]
        parts = class_parts()[0].get(qid)
        if parts is None:
            return HTMLResponse(f"{escape(qid)} is not a reviewed question", status_code=404)
        current = store.current()
        for index, p in enumerate(parts):
            if state(p, current.get((qid, p.submission))) != "reviewed":
                return RedirectResponse(f"/q/{qid}/{index + 1}", status_code=303)
        return page("review_done.html.j2", qid=qid, total=len(parts))

    async def show(request: Request, message: str = "", status: int = 200) -> Response:
        qid, n = request.path_params["qid"], int(request.path_params["n"])
        everything, grouped = class_parts()
        parts = everything.get(qid) or []
        if not 1 <= n <= len(parts):
            return HTMLResponse("no such answer", status_code=404)
        part = parts[n - 1]
        current = store.current()
        event = current.get((qid, part.submission))
        review = spec.question(qid).review
        suggested = dict(part.suggested)
        group = next((g for g in grouped.get(qid, []) if n - 1 in g), [])
        order = [q.id for q in spec.questions]
        # What led to this question (1.1, 1.2 for 2.1), not the questions after it.
        measured = [(q, m) for q, m in part.measured if q in order and order.index(q) <= order.index(qid)]
        return page(
            "review_part.html.j2", status, qid=qid, n=n, total=len(parts), part=part, review=review, measured=measured,
            text=highlighted(part, spec), suggested=suggested, event=event, state=state(part, event),
            group=[i + 1 for i in group if i != n - 1], blind=request.query_params.get("names") != "1",
            grader=who(request), message=message, history=store.history(qid, part.submission),
        )  # fmt: skip

    async def save(request: Request) -> Response:
        qid, n = request.path_params["qid"], int(request.path_params["n"])
        everything, grouped = class_parts()
        parts = everything.get(qid) or []
        review = spec.question(qid).review if parts else None
        if review is None or not 1 <= n <= len(parts):
            return HTMLResponse("no such answer", status_code=404)
        form = await request.form()
        items = [str(i) for i in form.getlist("item") if review.item(str(i))]
        comment = str(form.get("comment", "")).strip()[:MAX_COMMENT]
        try:
            adjustment = float(str(form.get("adjustment") or 0))
        except ValueError:
            adjustment = math.nan
        if not math.isfinite(adjustment) or abs(adjustment) > review.points:
            return await show(
                request, f"the adjustment must be a number between -{review.points:g} and {review.points:g}", 400
            )
        if adjustment and not comment:
            return await show(request, "an adjustment needs a comment saying why", 400)
        base = int(str(form.get("base") or 0))
        targets = [n]
        if form.get("action") == "group":
            targets = [n, *(i + 1 for g in grouped.get(qid, []) if n - 1 in g for i in g if i != n - 1)]
        current = store.current()
        try:
            for target in targets:
                part = parts[target - 1]
                seen = (
                    base
                    if target == n
                    else (current[(qid, part.submission)].id if (qid, part.submission) in current else 0)
                )
                store.save(qid, part.submission, review, items, adjustment, comment, who(request), base=seen,
                           text_hash=part.text_hash, confirmed=target == n)  # fmt: skip
        except StaleSave as stale:
            return await show(request, f"Not saved: {stale}", 409)
        return RedirectResponse(f"/q/{qid}", status_code=303)

    routes = [
        Route("/", guarded(index)),
        Route("/grader", guarded(set_grader), methods=["POST"]),
        Route("/q/{qid}", guarded(next_part)),
        Route("/q/{qid}/{n:int}", guarded(show)),
        Route("/q/{qid}/{n:int}/save", guarded(save), methods=["POST"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        store.close()

    return Starlette(routes=routes, lifespan=lifespan)
