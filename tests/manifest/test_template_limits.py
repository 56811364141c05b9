"""Template bombs end quickly with a finding naming the template and the line, not a hang or a traceback.

Each bomb is a `.j2` manifest given to `provisioner validate` in a child process, so its wall time
and its peak memory (the kernel's VmHWM of that process) are measured, not estimated: each must
end within 5 s and 200 MB, exit 1, and name ``file:line`` of the bomb. The rendering environment
stays sandboxed: a template still cannot reach Python's internals.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

HEADER = "apiVersion: provisioner/v1\nkind: Salesforce\nmetadata: {name: bomb}\nspec:\n"
BOMB_LINE = 5  # the header's four lines come first
BOMBS = {
    "string repeat": "  description: {{ 'x' * 10**9 }}",
    "nested loops": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "recursive macro": "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
    "doubling concatenation": "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}"
                              "{% endfor %}",
    "huge padding": "  description: {{ 'x'|center(10**9) }}{{ 'x'.ljust(10**9) }}",
    "huge format width": "  description: {{ '{:>1000000000}'.format(1) }}",
    "huge power": "  description: {{ 10 ** 100000000 }}",
    "list repeat and join": "  description: {{ (['x' * 1000000] * 1000)|join }}",
    "loops over a text": "{% set s = 'abcdefghij' * 100 %}{% for a in s %}{% for b in s %}{% for c in s %}"
                         "{% endfor %}{% endfor %}{% endfor %}",
    "slow loop": "{% for i in range(100000) %}{{ ('x' * 5000000)|length }}{% endfor %}",
}
#: Runs the CLI, then reports the process's peak resident memory (kB) on stderr, whatever the exit.
CHILD = """
import sys
from provisioner.cli import main
try:
    main()
finally:
    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]
    print(f'VmHWM_KB={hwm}', file=sys.stderr)
"""


@pytest.mark.parametrize("bomb", list(BOMBS))
def test_a_template_bomb_ends_within_5_s_and_200_mb_with_a_finding(bomb: str, tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml.j2"
    path.write_text(HEADER + BOMBS[bomb] + "\n", encoding="utf-8")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", CHILD, "validate", str(path)], capture_output=True, text=True,
                          timeout=30, cwd=tmp_path)
    seconds = time.monotonic() - started
    peak_mb = int(done.stderr.rsplit("VmHWM_KB=", 1)[1].split()[0]) / 1024
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert f"{path}:{BOMB_LINE}:" in output and "template stopped" in output, output
    assert "Traceback" not in output
    assert seconds < 5, f"{bomb}: {seconds:.1f} s"
    assert peak_mb < 200, f"{bomb}: {peak_mb:.0f} MB"


def test_the_environment_stays_sandboxed(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from provisioner.cli import cli

    path = tmp_path / "escape.yaml.j2"
    path.write_text(HEADER + "  description: {{ ''.__class__.__mro__[1].__subclasses__() }}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1
    assert f"{path}:{BOMB_LINE}:1: template tried an unsafe operation" in result.output


def test_a_template_within_the_limits_renders_as_before(tmp_path: Path) -> None:
    """Thirty fields from a loop, a macro called twice, a join and a format: the limits do not get in the way."""
    from provisioner.manifest import load

    path = tmp_path / "fine.yaml.j2"
    path.write_text(HEADER + """  objects:
    - name: Polls
      label: Polls
      pluralLabel: Polls
      nameField: {label: Poll Name, type: Text}
      fields:
{%- macro field(n, part) %}
        - {name: poll_{{ n }}_{{ part }}, type: Text, length: {{ '%d' % (100 + n) }}}
{%- endmacro %}
{%- for n in range(1, 11) %}{% for part in ['type', 'question', 'answer'] %}{{ field(n, part) }}{% endfor %}{% endfor %}
      description: {{ ['made', 'by', 'a', 'loop'] | join(' ') }}
""", encoding="utf-8")
    result = load([str(path)])
    assert result.ok, [f.render() for f in result.findings]
    [obj] = result.manifests.salesforce[0].objects
    assert [f.name for f in obj.fields][:3] == ["poll_1_type", "poll_1_question", "poll_1_answer"]
    assert len(obj.fields) == 30 and obj.fields[-1].length == 110
