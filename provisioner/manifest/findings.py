"""Findings: what validation tells a user, as values with a location and a hint."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Location:
    """A place in a manifest file (1-based line and column)."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file


@dataclass(frozen=True)
class Finding:
    """One problem in the manifests: where, what, and what to do about it."""

    location: Location
    message: str
    hint: str = ""
    rule: str = "error"
    #: The vendor document a rule comes from (see :mod:`.vendor_rules`), when it comes from one.
    source: str = ""

    def render(self) -> str:
        """The one-line text form: ``file:line:column: message (hint: ...) [source: ...]``."""
        text = f"{self.location}: {self.message}"
        if self.hint:
            text += f" (hint: {self.hint})"
        if self.source:
            text += f" [source: {self.source}]"
        return text

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(data.pop("location"))
        return data


class ManifestError(Exception):
    """Raised when a file cannot be read as manifests at all; carries the findings."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("; ".join(f.render() for f in findings))
        self.findings = findings
