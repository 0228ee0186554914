"""Typed accessors over parsed YAML that report a problem, with its key path and line, instead of raising."""

from __future__ import annotations

import json
import re
from typing import Any

from labgrade.harness.inputs.yamlsource import KeyPath, YamlDocument, format_key_path


class _Problems:
    """Collects validation problems, each with its key path and line."""

    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc
        self.items: list[str] = list(doc.duplicates)

    def add(self, key_path: KeyPath, message: str) -> None:
        line = self.doc.line_of(key_path)
        where = format_key_path(key_path) + (f" (line {line})" if line else "")
        self.items.append(f"{where}: {message}")


def _show(value: Any) -> str:
    """Describe a bad value briefly for a message (strings quoted, long ones cut)."""
    text = json.dumps(value, default=str) if not isinstance(value, bool) else str(value).lower()
    return text if len(text) <= 60 else text[:57] + "..."


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Missing:
    """A required key that is absent: already reported once, so accessors stay quiet."""


MISSING: Any = _Missing()


class _Reader:
    """Typed accessors over a mapping that report problems instead of raising.

    Each accessor returns a harmless default after reporting, so validation goes
    on and every problem of the file is listed in one run.
    """

    def __init__(self, problems: _Problems, accepted: dict[str, set[str]] | None = None) -> None:
        self.p = problems
        self.accepted = accepted  # where given: every mapping's allowed keys, by key path (lists as [])

    def mapping(
        self,
        value: Any,
        path: KeyPath,
        required: set[str],
        optional: set[str],
    ) -> dict[str, Any] | None:
        if self.accepted is not None:
            where = ".".join("[]" if isinstance(k, int) else str(k) for k in path).replace(".[]", "[]")
            self.accepted.setdefault(where, set()).update(required | optional)
        if value is MISSING:
            return None
        if not isinstance(value, dict):
            self.p.add(path, f"expected a mapping, got {_show(value)}")
            return None
        for key in value:
            if key not in required | optional:
                allowed = ", ".join(sorted(required | optional))
                self.p.add((*path, str(key)), f"unknown key (allowed: {allowed})")
        for key in sorted(required - set(value)):
            self.p.add(path, f"missing required key '{key}'")
        return {**dict.fromkeys(required, MISSING), **value}

    def string(self, value: Any, path: KeyPath, pattern: re.Pattern[str] | None = None) -> str:
        if value is MISSING:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.p.add(path, f"expected a non-empty string, got {_show(value)}")
            return ""
        if pattern is not None and not pattern.match(value):
            self.p.add(path, f"expected an identifier (letters, digits, _), got {_show(value)}")
        return value

    def number(self, value: Any, path: KeyPath, minimum: float, strict: bool) -> float:
        if value is MISSING:
            return 0.0
        ok = _is_number(value) and (value > minimum if strict else value >= minimum)
        if not ok:
            bound = f"> {minimum:g}" if strict else f">= {minimum:g}"
            self.p.add(path, f"expected a number {bound}, got {_show(value)}")
            return 0.0
        return float(value)

    def integer(self, value: Any, path: KeyPath, minimum: int) -> int:
        if value is MISSING:
            return 0
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            self.p.add(path, f"expected an integer >= {minimum}, got {_show(value)}")
            return 0
        return value

    def boolean(self, value: Any, path: KeyPath) -> bool:
        if not isinstance(value, bool):
            self.p.add(path, f"expected true or false, got {_show(value)}")
            return False
        return value

    def choice(self, value: Any, path: KeyPath, choices: tuple[str, ...]) -> str:
        if value is MISSING:
            return ""
        if value not in choices:
            self.p.add(path, f"expected one of {', '.join(choices)}, got {_show(value)}")
            return ""
        return str(value)

    def sequence(self, value: Any, path: KeyPath) -> list[Any]:
        if value is MISSING:
            return []
        if not isinstance(value, list):
            self.p.add(path, f"expected a list, got {_show(value)}")
            return []
        return value
