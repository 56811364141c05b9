"""Write manifests into a temp folder and run `provisioner validate` on them like a user."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from provisioner.cli import cli

MARK = "#<"

SF_HEAD = """apiVersion: provisioner/v1
kind: Salesforce
metadata:
  name: {name}
spec:
"""
MK_HEAD = """apiVersion: provisioner/v1
kind: Marketo
metadata:
  name: {name}
spec:
"""


def marked_line(text: str) -> int:
    """1-based line of the first line carrying the ``#<`` marker."""
    for number, line in enumerate(text.splitlines(), start=1):
        if MARK in line:
            return number
    raise AssertionError("test case has no #< marker")


def run_validate(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["validate", *args])
    output = result.output  # stdout and stderr, as a terminal shows them
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, output


def validate_json(*paths: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["validate", "--format", "json", *paths])
    return result.exit_code, json.loads(result.stdout)


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def findings_in(tmp: Path, text: str, name: str = "m.yaml") -> list[tuple[int, int, str, str, str]]:
    """``validate --format json`` on ``text``: each finding as ``(line, column, message, hint, rule)``."""
    path = write(tmp, name, text)
    _code, report = validate_json(str(path))
    assert all(f["file"] == str(path) for f in report["findings"]), report
    return [(f["line"], f["column"], f["message"], f["hint"], f["rule"]) for f in report["findings"]]
