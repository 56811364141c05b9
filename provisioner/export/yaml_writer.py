"""A small YAML emitter for exported manifests: block layout, flow-style entries, safe quoting.

The layout follows the shipped manifests (one field or status per line as a flow mapping), and
every scalar goes through PyYAML's safe dumper in flow context, so a comma, colon, brace or
leading quote in a description is quoted exactly as YAML needs.
"""

from __future__ import annotations

from typing import Any

import yaml

SCHEMA_URL = "https://github.com/provisioner-dev/provisioner/schemas/manifest.schema.json"
MODELINE = f"# yaml-language-server: $schema={SCHEMA_URL}"
_WIDTH = 1_000_000  # never fold a line: one entry stays on one line


class _OneLineDumper(yaml.SafeDumper):
    """SafeDumper that writes a string with line breaks double-quoted (``\\n``), so an entry stays on one line."""


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data or "\r" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')
    return dumper.represent_str(data)


_OneLineDumper.add_representer(str, _str)


def flow(value: Any) -> str:
    """``value`` (a scalar, list or mapping) as one line of flow-style YAML, keys in insertion order."""
    text = yaml.dump(value, Dumper=_OneLineDumper, default_flow_style=True, sort_keys=False, width=_WIDTH,
                     allow_unicode=True)
    if text.endswith("\n...\n"):  # a bare scalar document ends with an explicit end marker
        text = text[: -len("\n...\n")]
    return text.strip()


def comment(text: str) -> list[str]:
    """``text`` as YAML comment lines (one per input line), without indentation."""
    return [f"# {line}".rstrip() for line in text.splitlines() or [""]]


class Writer:
    """Collects indented lines; ``text()`` joins them into the document."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def line(self, indent: int, text: str) -> None:
        self.lines.append(" " * indent + text)

    def key(self, indent: int, key: str, value: Any) -> None:
        """``key: value`` with the value in flow style."""
        self.line(indent, f"{key}: {flow(value)}")

    def note(self, indent: int, text: str) -> None:
        """A comment at ``indent``."""
        for c in comment(text):
            self.line(indent, c)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"
