"""A command's code is imported when that command runs: `provisioner sync` and `sandbox serve` (started
hundreds of times by the tests, and by users in scripts) do not pay for importing every other command."""

from __future__ import annotations

import subprocess
import sys

import pytest

OTHERS = {"sync": "provisioner.commands.event", "sandbox": "provisioner.commands.plan",
          "plan": "provisioner.commands.sync"}


@pytest.mark.parametrize("command", sorted(OTHERS))
def test_running_one_command_leaves_the_others_unimported(command: str) -> None:
    probe = ("import sys\nfrom provisioner.cli import cli\n"
             f"try:\n    cli.main([{command!r}, '--help'], standalone_mode=False)\nfinally:\n"
             "    print(sorted(m for m in sys.modules if m.startswith('provisioner.commands.')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    loaded = out.stdout.strip().splitlines()[-1]
    assert f"provisioner.commands.{command}'" in loaded  # the command ran...
    assert f"{OTHERS[command]}'" not in loaded  # ...without importing another command's module


def test_the_help_lists_every_command() -> None:
    out = subprocess.run([sys.executable, "-c", "from provisioner.cli import main; main()", "--help"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    section = out.stdout.split("Commands:\n")[1].split("\n\n")[0]  # up to the exit-code table
    listed = {line.split()[0] for line in section.splitlines()}
    assert listed == {"apply", "demo", "drift", "event", "export", "init", "plan", "sandbox", "show", "sync",
                      "validate"}
