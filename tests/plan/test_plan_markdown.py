"""`show --format markdown`: the plan as a pull-request comment (summary first, a collapsed section per kind)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from provisioner.cli import cli
from provisioner.plan import Change, Plan
from provisioner.plan.render_markdown import render_markdown
from provisioner.sandbox.runtime import Sandbox

REPO = Path(__file__).resolve().parents[2]
WORDS = {"create": "add", "update": "change", "replace": "replace", "delete": "destroy", "manual": "manual"}


@pytest.fixture(scope="module")
def shipped_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plan of every shipped manifest against an empty org and instance (with the channels an admin made
    in Admin > Tags: plan refuses programs whose channel is missing), saved as `plan --out` does."""
    from provisioner.manifest import load
    from provisioner.sandbox.seed import channels_from_manifests

    folder = tmp_path_factory.mktemp("markdown")
    channels = channels_from_manifests(load([str(REPO / "manifests")]).manifests)
    with Sandbox(folder / "sandbox", marketo_channels=channels) as box:
        result = CliRunner().invoke(cli, ["plan", str(REPO / "manifests"), "--out", str(folder / "plan.json")],
                                    env=box.env())
        assert result.exit_code == 0, result.output
    return folder / "plan.json"


def show(plan_file: Path, fmt: str) -> str:
    result = CliRunner().invoke(cli, ["show", str(plan_file), "--format", fmt])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_comment_for_the_shipped_manifests(shipped_plan: Path) -> None:
    markdown = show(shipped_plan, "markdown")
    changes = [c for c in json.loads(show(shipped_plan, "json"))["resource_changes"]
               if c["change"]["actions"] != ["no-op"]]
    actions = Counter("replace" if c["change"]["actions"] == ["delete", "create"] else c["change"]["actions"][0]
                      for c in changes)
    first = markdown.splitlines()[0]
    manual = f", {actions['manual']} manual" if actions["manual"] else ""  # said only when there are some
    assert first == (f"### Plan: {actions['create'] + actions['replace']} to add, {actions['update']} to change, "
                     f"{actions['delete'] + actions['replace']} to destroy{manual}.")
    by_kind: dict[str, Counter] = {}
    for c in changes:
        kind = ".".join(c["address"].split(".")[:2])  # provider.kind.name...
        by_kind.setdefault(kind, Counter())[c["change"]["actions"][0]] += 1
    sections = re.findall(r"<details>\n<summary><code>([\w.]+)</code>: ([^<]+)</summary>", markdown)
    assert [kind for kind, _ in sections] == list(by_kind)  # one collapsed section per kind, in apply order
    for kind, counts in sections:
        assert counts == ", ".join(f"{n} {WORDS[a]}" for a, n in by_kind[kind].items()), kind
    for c in changes:  # every change is in the details, its symbol first so GitHub colours the line
        symbol = {"create": "+", "update": "~", "delete": "-", "manual": "!"}[c["change"]["actions"][0]]
        assert re.search(rf"^{re.escape(symbol)}\s+{re.escape(c['address'])}( |$)", markdown, re.MULTILINE), \
            c["address"]
    assert markdown.index("| resource kind |") < markdown.index("<details>")
    assert len(markdown) < 65_536


def test_a_long_plan_keeps_its_counts_and_says_where_the_rest_is(shipped_plan: Path) -> None:
    from provisioner.plan import read_plan

    plan = read_plan(str(shipped_plan))
    markdown = render_markdown(plan, full_plan_hint="See the plan artifact.", max_chars=8_000)
    assert len(markdown) <= 8_000
    assert markdown.splitlines()[0].startswith("### Plan: ")
    assert "change(s) left out: this comment would be too long for GitHub. See the plan artifact." in markdown
    assert markdown.count("<details>") == len({c.kind for c in plan.pending})


def _plan(*changes: Change) -> Plan:
    return Plan(list(changes), fingerprint="f", address_digests={}, manifests=["m.yaml"])


def test_no_changes_and_values_that_would_break_the_markdown() -> None:
    noop = Change("salesforce.campaign.A", "salesforce.campaign", ["no-op"], {"name": "A"}, {"name": "A"})
    assert render_markdown(_plan(noop)).splitlines()[0] == "### No changes. Your org matches the manifests."
    tricky = Change("salesforce.campaign.<b>", "salesforce.campaign", ["create"], None,
                    {"description": "ends a fence: ``` and </details>"})
    markdown = render_markdown(_plan(tricky))
    assert "````diff" in markdown and markdown.count("</details>") == 2  # a longer fence; the value stays inside it
    body = markdown.split("````diff", 1)[1].split("````", 1)[0]
    assert "</details>" in body and "```" in body
