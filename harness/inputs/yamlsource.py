"""Read YAML with the line of every key, so validation messages can name it.

PyYAML's ``safe_load`` forgets where values came from.  Composing the node graph
first keeps each node's start mark; we construct the plain data from the same
graph and remember ``key path -> line`` beside it.  Duplicate keys, which PyYAML
silently resolves to the last one, are reported here as problems.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from labgrade.harness.errors import UserError
from labgrade.harness.inputs.textfile import read_user_text

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlDocument:
    """Plain data loaded from a YAML file, with the line where each key path starts."""

    path: str
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    duplicates: tuple[str, ...] = ()

    def line_of(self, key_path: KeyPath) -> int | None:
        """Return the 1-based line of ``key_path`` or of its nearest ancestor."""
        probe = key_path
        while probe not in self.lines and probe:
            probe = probe[:-1]
        return self.lines.get(probe)


class NoAliasLoader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases (``*name``).

    Aliases let a 1 KB file expand to gigabytes ("billion laughs") or refer to
    itself; neither a spec nor an ``answers.yaml`` needs them, and a file that
    uses one is refused with its line.
    """

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        """Refuse an alias where PyYAML would reuse the anchored node."""
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, f"aliases (*{event.anchor}) are not allowed; write the value out", event.start_mark
            )
        return super().compose_node(parent, index)


def format_key_path(key_path: KeyPath) -> str:
    """Render ``("questions", 2, "marks")`` as ``questions[2].marks``."""
    out = ""
    for part in key_path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "<document>"


def _walk(node: yaml.Node, key_path: KeyPath, lines: dict[KeyPath, int], dups: list[str]) -> None:
    lines.setdefault(key_path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = (*key_path, key)
            if key in seen:
                dups.append(f"{format_key_path(child)} (line {key_node.start_mark.line + 1}): duplicate key")
            seen.add(key)
            lines[child] = key_node.start_mark.line + 1
            _walk(value_node, child, lines, dups)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*key_path, index), lines, dups)


def parse_yaml(text: str, path: str) -> YamlDocument:
    """Parse ``text`` (the content of ``path``) into a :class:`YamlDocument`.

    Raises:
        UserError: the text is not well-formed YAML; the message names file and line.
    """
    loader = NoAliasLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(path=path, data=None)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise UserError(f"{path}:{where}: not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    lines: dict[KeyPath, int] = {}
    dups: list[str] = []
    _walk(node, (), lines, dups)
    return YamlDocument(path=path, data=data, lines=lines, duplicates=tuple(dups))


def read_yaml(path: Path) -> YamlDocument:
    """Read and parse a YAML file, turning I/O and encoding problems into user errors."""
    _, text = read_user_text(path, "file")
    return parse_yaml(text, str(path))
