"""docs/fidelity/marketo.md lists exactly the operations the Marketo sandbox serves (read from its route table)."""

from __future__ import annotations

import re
from pathlib import Path

from provisioner.sandbox.marketo import contract
from provisioner.sandbox.marketo.app import MarketoApp

PAGE = Path(__file__).resolve().parents[2] / "docs" / "fidelity" / "marketo.md"
ROW = re.compile(r"^\| `(GET|POST) (/[^`]+)` \|", re.MULTILINE)


def _served() -> set[str]:
    return {f"{route.method} {route.path}" for route in MarketoApp.routes}


def test_the_page_lists_every_route_the_sandbox_serves_and_no_other() -> None:
    listed = [f"{m} {p}" for m, p in ROW.findall(PAGE.read_text(encoding="utf-8"))]
    assert sorted(_served() - set(listed)) == [], "routes served but missing from docs/fidelity/marketo.md"
    assert sorted(set(listed) - _served()) == [], "operations in docs/fidelity/marketo.md the sandbox does not serve"
    assert len(listed) == len(set(listed)), "an operation is listed twice"


def test_the_page_counts_agree_with_the_route_table_and_adobes_documents() -> None:
    text = PAGE.read_text(encoding="utf-8")
    documented = sum(1 for spec in contract.load_specs() for ops in spec["paths"].values()
                     for method in ops if method in ("get", "post", "put", "delete", "patch"))
    served = len(_served())
    assert f"Of the {documented} operations in Adobe's three documents, the sandbox serves these {served}" in text
    assert f"({documented - served} operations)" in text
    assert f"all {served} emulated operations" in text
