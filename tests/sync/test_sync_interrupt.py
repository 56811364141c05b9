"""Ctrl-C during `provisioner sync`: exit 130 and a line saying what is kept and how to go on (not "Aborted!");
the same command then finishes the job."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
from pathlib import Path

from provisioner.sandbox.runtime import Sandbox

from synchelp import CLI, MANIFESTS


def test_ctrl_c_exits_130_and_the_same_command_continues(provisioned: tuple[Sandbox, dict[str, str]],
                                                         small_data: list[str], tmp_path: Path) -> None:
    box, _ = provisioned
    env = dict(os.environ, **box.env(), PYTHONUNBUFFERED="1")
    args = [sys.executable, "-c", CLI, "sync", *small_data, "--sync", "kaltura-sync",
            "--ledger", str(tmp_path / "ledger.sqlite"), "--rejects", str(tmp_path / "rejects.csv")]
    for manifest in MANIFESTS:
        args += ["--manifest", manifest]
    master, slave = pty.openpty()  # on a terminal the progress bars show as soon as the sync starts
    proc = subprocess.Popen(args, env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=slave, text=True)
    os.close(slave)
    shown = os.read(master, 65536).decode("utf-8", "replace")  # the first frame of the progress bars
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk.decode("utf-8", "replace")
    os.close(master)
    assert proc.returncode == 130, shown + out
    assert "Aborted!" not in shown and "Traceback" not in shown
    assert ("Interrupted: every batch confirmed before Ctrl-C is recorded in the ledger. "
            "To resume: run the same command again: confirmed rows are not sent twice.") in shown.replace("\r\n", "\n")
    again = subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Sync finished" in again.stdout
