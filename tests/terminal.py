"""Run the `provisioner` command with stderr on a pseudo-terminal and read what the terminal showed (progress
bars are drawn only on a terminal)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path


def on_a_terminal(args: list[str], env: dict[str, str], cwd: Path, stdout_file: Path) -> str:
    """``provisioner ARGS`` with stderr on a pseudo-terminal (stdout to ``stdout_file``); it must exit 0."""
    master, slave = pty.openpty()
    with open(stdout_file, "w") as stdout:
        proc = subprocess.Popen([sys.executable, "-c", "from provisioner.cli import main; main()", *args],
                                cwd=cwd, env=dict(os.environ, **env), stdout=stdout, stderr=slave,
                                stdin=subprocess.DEVNULL)
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal closed: the process ended
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    assert proc.wait(timeout=60) == 0, stdout_file.read_text()
    return shown.decode("utf-8", "replace")
