"""Run the review page: a random token, 127.0.0.1 only, one clear line on the terminal (Jupyter's way)."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable
from pathlib import Path

from labgrade.harness.inputs.spec import Spec


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(out: Path, spec: Spec, port: int, grader: str, log: Callable[[str], None]) -> None:
    """Serve ``out``'s review page until Ctrl-C; every save is already on disk when its page returns."""
    import uvicorn

    from labgrade.harness.review.server import make_app

    token = secrets.token_urlsafe(24)
    port = port or free_port()
    app = make_app(out, spec, token, grader)
    log(f"labgrade review: open http://127.0.0.1:{port}/?token={token}")
    log(f"  grading {out} as {grader}; marks are saved as you go in {out / 'reviews.sqlite'}.")
    log(f"  Ctrl-C stops it; then `labgrade report {out}` writes the marks into results, gradebook and PDFs.")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
