"""Shared test helpers: run the real CLI in-process and read what a user would see."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# The tests must not depend on the machine's CA variables (requests lets them override verify).
for _var in ("SF_INSTANCE_URL", "SF_ACCESS_TOKEN", "SF_LOGIN_URL", "SF_USERNAME", "SF_PASSWORD",
             "SF_CLIENT_ID", "SF_CLIENT_SECRET", "MARKETO_ENDPOINT", "MARKETO_CLIENT_ID",
             "MARKETO_CLIENT_SECRET"):
    os.environ.pop(_var, None)


@pytest.fixture
def repo() -> Path:
    return REPO


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    """The random order's seed, also under -q (pytest-randomly prints it only in the header)."""
    seed = getattr(config.option, "randomly_seed", None)
    if isinstance(seed, int):
        terminalreporter.write_line(f"random order: --randomly-seed={seed} repeats it")
