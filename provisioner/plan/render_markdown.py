"""A plan as a Markdown pull-request comment, the way Atlantis and tfcmt post Terraform plans.

The summary line comes first, then a table of counts per resource kind, then one collapsed
``<details>`` section per kind holding that kind's changes as a ``diff`` block (the same lines as
the text plan, with the action symbol moved to the first column so GitHub colours them). A
comment is limited to 65,536 characters: past ``max_chars`` the largest sections lose their
details (the counts stay) and the comment says where the full plan is.
"""

from __future__ import annotations

import html
import re

from .plan import Plan
from .render_text import NO_CHANGES, _summary_line, render_change

#: GitHub refuses comments longer than 65,536 characters; keep room for a header a workflow adds.
MAX_COMMENT_CHARS = 60_000
_COLUMNS = (("create", "add"), ("update", "change"), ("replace", "replace"), ("delete", "destroy"),
            ("manual", "manual"))
_SYMBOL_FIRST = re.compile(r"^(\s*)(-/\+|[-+~!])(?= )")


def render_markdown(plan: Plan, full_plan_hint: str = "Run `provisioner show` on the saved plan to read it all.",
                    max_chars: int = MAX_COMMENT_CHARS) -> str:
    """The comment body for ``plan``; ``full_plan_hint`` says where to read a plan cut for length."""
    pending = plan.pending
    head = [f"### {_summary_line(plan) if pending else NO_CHANGES}", ""]
    if plan.manifests:
        head += [f"<sub>From {', '.join(f'`{m}`' for m in plan.manifests)}"
                 + (f", made {plan.created_at}" if plan.created_at else "") + ".</sub>", ""]
    if not pending:
        return "\n".join(head)
    kinds = list(dict.fromkeys(c.kind for c in pending))
    head += _table(plan, kinds)
    sections = {kind: _section(kind, [c for c in pending if c.kind == kind]) for kind in kinds}
    cut: list[str] = []
    while len(_join(head, sections)) > max_chars and len(cut) < len(kinds):
        largest = max((k for k in kinds if k not in cut), key=lambda k: len(sections[k]))
        changes = [c for c in pending if c.kind == largest]
        sections[largest] = _section(largest, changes, note=f"{len(changes)} change(s) left out: this comment would be "
                                     "too long for GitHub." + (f" {full_plan_hint}" if full_plan_hint else ""))
        cut.append(largest)
    return _join(head, sections)


def _join(head: list[str], sections: dict[str, str]) -> str:
    return "\n".join(head) + "\n" + "\n".join(sections.values())


def _table(plan: Plan, kinds: list[str]) -> list[str]:
    used = [(action, word) for action, word in _COLUMNS if any(c.action == action for c in plan.pending)]
    lines = ["| resource kind | " + " | ".join(word for _, word in used) + " |",
             "|---|" + "---:|" * len(used)]
    for kind in kinds:
        counts = [sum(1 for c in plan.pending if c.kind == kind and c.action == action) for action, _ in used]
        lines.append(f"| `{kind}` | " + " | ".join(str(n) if n else "" for n in counts) + " |")
    return lines + [""]


def _section(kind: str, changes: list, note: str = "") -> str:
    """One kind's collapsed section: its changes as a ``diff`` block, or a note when cut."""
    body = "" if note else "".join(render_change(change) for change in changes)
    lines = [_SYMBOL_FIRST.sub(lambda m: f"{m.group(2)}{m.group(1)}", line) for line in body.splitlines()]
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", body)), default=0))
    counts = ", ".join(f"{n} {word}" for action, word in _COLUMNS
                       if (n := sum(1 for c in changes if c.action == action)))
    summary = f"<summary><code>{html.escape(kind)}</code>{': ' + counts if counts else ''}</summary>"
    inner = note if note else "\n".join([f"{fence}diff", *lines, fence])
    return "\n".join(["<details>", summary, "", inner, "", "</details>", ""])
