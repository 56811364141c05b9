"""The generic plan engine: resources, diffs, ordering, plans, plan files, rendering, apply.

Providers contribute resource kinds (see :class:`ResourceKind`); this package knows
resources, never HTTP. Typical use from the CLI::

    plan = make_plan(kinds, desired, {"salesforce": sf, "marketo": mk}, manifests=paths)
    print(render_plan(plan, color=sys.stdout.isatty()), end="")
    write_plan(plan, "out.plan.json")                     # plan --out
    report = apply_plan(plan, kinds, connections, allow_destroy=False,
                        on_result=lambda r: print(render_result(r)))
    print(render_apply_report(report, include_results=False), end="")

    saved = read_plan("out.plan.json")                    # apply FILE
    desired = ...  # the CLI loads saved.manifests again and asks providers for Desired
    fresh = make_plan(kinds, desired, connections, manifests=saved.manifests)
    report = apply_saved_plan(saved, fresh, kinds, connections, allow_destroy=True)

Kinds classify with :func:`classify_default` (create/update/delete/no-op over a
:func:`keyed_diff`) and turn changes into replacements or manual steps with
:func:`as_replace` / :func:`as_manual`. Errors: :class:`PlanError` and its subclasses
:class:`StalePlanError`, :class:`DestroyNotAllowedError`, :class:`PlanFileError`.
"""

from .classify import as_manual, as_replace, changed_attributes, classify_default
from .diff import keyed_diff
from .engine import apply_plan, apply_saved_plan, make_plan, will_exist
from .errors import (DestroyNotAllowedError, MissingReference, MissingReferencesError, PlanError, PlanFileError,
                     StalePlanError, WrongOrgError)
from .forecast import apply_calls, batches
from .fingerprint import address_digests, canonical_json, fingerprint, fingerprint_of
from .plan import Plan, Summary, exit_code_for_plan
from .planfile import read_plan, write_plan
from .redact import SENSITIVE
from .render_json import plan_to_json
from .render_text import NO_CHANGES, render_apply_report, render_change, render_plan, render_result
from .report import ApplyReport
from .target import TargetError, select_targets
from .resource import AttributeChange, Change, Desired, Live, Location, ResourceKind, Result

__all__ = [
    "ApplyReport", "AttributeChange", "Change", "Desired", "DestroyNotAllowedError", "Live", "Location",
    "MissingReference", "MissingReferencesError", "WrongOrgError", "will_exist",
    "NO_CHANGES", "Plan", "PlanError", "PlanFileError", "ResourceKind", "Result", "SENSITIVE",
    "StalePlanError", "Summary", "TargetError", "address_digests", "apply_calls", "apply_plan", "apply_saved_plan", "as_manual",
    "as_replace", "batches", "canonical_json", "changed_attributes", "classify_default", "exit_code_for_plan",
    "fingerprint", "fingerprint_of", "keyed_diff", "make_plan", "plan_to_json", "read_plan",
    "render_apply_report", "render_change", "render_plan", "render_result", "select_targets", "write_plan",
]
