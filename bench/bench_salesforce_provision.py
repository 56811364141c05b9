"""Benchmark: API calls (against the minimum the Salesforce APIs allow) and wall time for plan/apply.

Run: python bench/bench_salesforce_provision.py [--latency-ms 100]

Scenarios, on the seed Salesforce manifests (3 objects named, 2 custom objects, 70 custom
fields, 2 campaigns with 19 statuses, 3 permission sets):
  plan  empty org      token + read CustomObject + read PermissionSet + campaigns query
  apply empty org      the writes after that plan (what `apply --auto-approve` sends)
  plan  converged org  token + the reads
  apply converged org  `apply --auto-approve` on a converged org: the plan's reads, no writes

The minimum is derived from the API limits, not from our code: see minimum_* below.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from provisioner.http import make_session  # noqa: E402
from provisioner.manifest import load  # noqa: E402
from provisioner.plan import apply_saved_plan  # noqa: E402
from provisioner.sandbox.runtime import Sandbox  # noqa: E402
from provisioner.workflow import connect_session  # noqa: E402

MANIFESTS = [REPO / "manifests" / n for n in
             ("kaltura-salesforce.yaml", "kaltura-salesforce-polls.yaml.j2", "livestorm-salesforce.yaml")]
METADATA_BATCH = 10  # components per Metadata API call
COLLECTION_BATCH = 200  # records per sObject Collections call


def counts(model):
    objects = model.salesforce_objects()
    named = {o.api_name for o in objects}
    custom = {o.api_name for o in objects if o.custom}
    fields = [f for o in objects for f in o.fields]
    campaigns = [c for m in model.salesforce for c in m.campaign_statuses]
    statuses = sum(len(c.statuses) for c in campaigns)
    permission_sets = [m.permission_set for m in model.salesforce if m.permission_set]
    return named, custom, fields, campaigns, statuses, permission_sets


def minimum_plan(model, converged: bool) -> int:
    named, _, _, campaigns, _, permission_sets = counts(model)
    calls = 1  # one OAuth token
    calls += math.ceil(len(named) / METADATA_BATCH)  # readMetadata CustomObject returns the custom fields too
    calls += math.ceil(len(permission_sets) / METADATA_BATCH)  # readMetadata PermissionSet
    calls += 1  # one SOQL: campaign member statuses with their Campaign.* fields (every campaign has one)
    if converged and permission_sets:
        calls += 1  # one SOQL: PermissionSetAssignment of the user, filtered on PermissionSet.Name
    return calls


def minimum_apply_empty(model) -> int:
    _, custom, fields, campaigns, statuses, permission_sets = counts(model)
    calls = math.ceil(len(custom) / METADATA_BATCH)  # upsertMetadata CustomObject
    calls += math.ceil(len(fields) / METADATA_BATCH)  # upsertMetadata CustomField (any objects, one type)
    calls += math.ceil(len(campaigns) / COLLECTION_BATCH)  # create Campaigns
    calls += 1  # SOQL: the new campaigns' own statuses ("Sent"/"Responded") and their SortOrders
    calls += math.ceil(statuses / COLLECTION_BATCH)  # create statuses (default set on create)
    calls += math.ceil(len(permission_sets) / METADATA_BATCH)  # upsertMetadata PermissionSet
    calls += 1  # SOQL: the permission sets' Ids, needed for the assignment records
    calls += math.ceil(len(permission_sets) / COLLECTION_BATCH)  # create PermissionSetAssignments
    return calls


def calls_since_reset(box: Sandbox, http) -> int:
    return http.get(f"{box.salesforce_url}/__sandbox/stats").json()["calls"]["total"]


def reset(box: Sandbox, http) -> None:
    http.delete(f"{box.salesforce_url}/__sandbox/stats")


def run(latency_ms: float) -> list[tuple[str, int, int, float]]:
    model = load(MANIFESTS).manifests
    rows = []
    with Sandbox(marketo=False, latency_ms=latency_ms) as box:
        http = make_session(box.ca_bundle)
        for converged in (False, True):
            state = "converged" if converged else "empty"
            reset(box, http)
            start = time.perf_counter()
            session = connect_session(model, [str(p) for p in MANIFESTS], box.env(), only=["salesforce"])
            plan = session.plan()
            rows.append((f"plan  {state} org", calls_since_reset(box, http), minimum_plan(model, converged),
                         time.perf_counter() - start))
            reset(box, http)
            start = time.perf_counter()
            report = apply_saved_plan(plan, plan, session.kinds, session.connections, allow_destroy=False)
            assert report.ok, [r.message for r in report.failed]
            writes = calls_since_reset(box, http)
            rows.append((f"apply {state} org (writes)", writes,
                         0 if converged else minimum_apply_empty(model), time.perf_counter() - start))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=100.0)
    args = parser.parse_args()
    rows = run(args.latency_ms)
    print(f"Salesforce provisioning, seed manifests, sandbox latency {args.latency_ms:g} ms per call")
    print(f"{'scenario':32} {'calls':>6} {'minimum':>8} {'ratio':>6} {'wall s':>7}")
    for name, calls, minimum, wall in rows:
        ratio = f"{calls / minimum:.2f}" if minimum else ("1.00" if calls == 0 else "inf")
        print(f"{name:32} {calls:6d} {minimum:8d} {ratio:>6} {wall:7.2f}")


if __name__ == "__main__":
    main()
