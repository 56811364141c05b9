"""Shared test helpers: run the real CLI in-process and read what a user would see."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioner.sandbox.runtime import Sandbox

REPO = Path(__file__).resolve().parent.parent

# The tests must not depend on the machine's CA variables (requests lets them override verify).
for _var in ("SF_TARGET_ORG", "SFDX_AUTH_URL", "SF_INSTANCE_URL", "SF_ACCESS_TOKEN", "SF_LOGIN_URL", "SF_USERNAME", "SF_PASSWORD",
             "SF_CLIENT_ID", "SF_CLIENT_SECRET", "MARKETO_ENDPOINT", "MARKETO_CLIENT_ID",
             "MARKETO_CLIENT_SECRET"):
    os.environ.pop(_var, None)


@pytest.fixture
def repo() -> Path:
    return REPO


#: how long a racing write waits for its rival in tests: long enough that concurrent requests always
#: meet (the holder wakes as soon as the rival arrives, so tests do not wait it out)
RACE_HOLD_SECONDS = 5.0


@pytest.fixture(scope="module")
def racing_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """Both emulated services in race mode: concurrent upserts of one key collide the way the vendors'
    do (Salesforce DUPLICATE_VALUE / UNABLE_TO_LOCK_ROW; see provisioner/sandbox/race.py). One per test
    module: tests that share it write records of their own (e.g. a custom object of a unique name)."""
    with Sandbox(tmp_path_factory.mktemp("racing-sandbox"), race=True, race_hold_seconds=RACE_HOLD_SECONDS) as box:
        yield box


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker more than the machine has cores. About a third of a test's wall time is spent
    waiting (CLI subprocesses starting, the sandbox's replies), so one worker per core leaves the cores idle
    that long: on two cores, 3 workers ran the suite in 82-87 s where 2 took 92 s (4 took 88 s)."""
    return (os.cpu_count() or 1) + 1
