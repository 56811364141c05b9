"""Benchmark: API calls and wall time to plan and apply the Kaltura → Marketo manifest.

Starts the emulated Marketo instance in-process (real HTTPS, ``latency_ms=100`` per call), then:
plan and apply on an empty instance (seeded only with the channel, which the API cannot create),
then plan and apply again on the converged instance. Calls are counted by the sandbox
(``GET /__sandbox/stats``), not by the client. Run: ``python bench/bench_marketo_provision.py``.

How the minimum is derived (the Kaltura manifest: 1 channel, 1 program in a 2-level folder path
whose last folder does not exist yet, 1 custom object with 31 fields, 1 activity type with 19
secondary attributes; every batch fits Marketo's 300 per call):

* plan, empty: token 1 + channels list 1 (one page holds 200 channels) + program byName 1 +
  folder byName 1 (to know whether the folder path exists) + custom object types 1 (all names in
  one ``schema.json?names=`` call) + activity types 1 = 6.
* apply, empty: the engine re-reads live state to refuse a stale plan: 5 (token cached) +
  preflight of the 3 permission areas the reads did not already prove (Person, Activity,
  Campaigns) + parent folder lookup 1 + folder create 1 + program create 1 + custom object
  (type 1 + addField 1 + approve 1) + activity type (create 1 + attributes 1 + approve 1) = 17.
  (Without this tool's two safety rules, stale-plan re-read and preflight, Marketo would allow 9.)
* plan, converged: channels 1 + program byName 1 + the program's folder by id 1 (to confirm its
  path) + custom object types 1 + activity types 1 = 5 (the token is still valid: no token call).
* apply, converged: the re-read 5; nothing to write, so no preflight = 5.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from provisioner.http import make_session  # noqa: E402
from provisioner.manifest import load  # noqa: E402
from provisioner.plan import apply_plan, make_plan, render_plan  # noqa: E402
from provisioner.providers.marketo.client import MarketoClient  # noqa: E402
from provisioner.providers.marketo.provider import PROVIDER  # noqa: E402
from provisioner.providers.marketo.settings import MarketoSettings  # noqa: E402
from provisioner.sandbox.httpserver import SandboxServer, ServerOptions  # noqa: E402
from provisioner.sandbox.marketo.app import MarketoApp, MarketoConfig  # noqa: E402
from provisioner.sandbox.tls import generate_tls  # noqa: E402

MANIFEST = REPO / "manifests" / "kaltura-marketo.yaml"
LATENCY_MS = 100
MINIMUM = {"plan (empty)": 6, "apply (empty)": 17, "plan (converged)": 5, "apply (converged)": 5}


def main() -> int:
    """Run the four scenarios and print the table."""
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")
    manifests = load([str(MANIFEST)]).manifests
    channels = [{"name": c.name, "applicableProgramType": c.program_type,
                 "progressionStatuses": [{"name": s.name, "step": s.step, "success": s.success} for s in c.statuses]}
                for m in manifests.marketo for c in m.channels]
    with tempfile.TemporaryDirectory() as tmp:
        tls = generate_tls(Path(tmp))
        app = MarketoApp(MarketoConfig(channels=channels))
        with SandboxServer(app, tls, options=ServerOptions(latency_ms=LATENCY_MS)) as server:
            stats_session = make_session(str(tls.ca_cert))
            client = MarketoClient(MarketoSettings(server.base_url, app.config.client_id, app.config.client_secret,
                                                   str(tls.ca_cert)))
            kinds, desired = PROVIDER.kinds(), PROVIDER.desired(manifests)
            connections = {"marketo": client}

            def calls() -> int:
                reply = stats_session.get(server.base_url + "/__sandbox/stats", timeout=10)
                return int(reply.json()["calls"]["total"])

            def measure(label: str, step: Callable[[], Any]) -> Any:
                before, started = calls(), time.perf_counter()
                value = step()
                rows.append((label, calls() - before, MINIMUM[label], time.perf_counter() - started))
                return value

            rows: list[tuple[str, int, int, float]] = []
            for state in ("empty", "converged"):
                plan = measure(f"plan ({state})", lambda: make_plan(kinds, desired, connections))
                report = measure(f"apply ({state})",
                                 lambda: apply_plan(plan, kinds, connections, allow_destroy=False))
                if not report.ok:
                    print(f"apply ({state}) failed", file=sys.stderr)
                    return 1
            final = make_plan(kinds, desired, connections)
    print(f"Marketo provisioning of {MANIFEST.name}, sandbox latency {LATENCY_MS} ms per call, "
          f"client budget {client.limiter.budget.calls} calls / {client.limiter.budget.window_s:g} s, "
          f"{client.limiter.budget.concurrent} at once")
    print(f"{'scenario':<20} {'calls':>6} {'minimum':>8} {'ratio':>6} {'wall s':>7}")
    for label, made, minimum, wall in rows:
        print(f"{label:<20} {made:>6} {minimum:>8} {made / minimum:>6.2f} {wall:>7.2f}")
    print(f"after apply: {render_plan(final).splitlines()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
