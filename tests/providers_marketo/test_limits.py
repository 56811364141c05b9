"""Marketo's limits and failures during a real apply: 606/615 retried, an expiring token renewed,
dropped connections and injected faults survived, and the apply converges every time."""

from __future__ import annotations

import threading
from pathlib import Path

from provisioner.clock import SYSTEM_CLOCK, FakeClock, FastClock
from provisioner.manifest.model import ManifestSet
from provisioner.plan import render_apply_report, render_plan
from provisioner.providers.marketo.errors import MarketoError
from provisioner.providers.marketo.ratelimit import Budget, window_file
from provisioner.sandbox.httpserver import SandboxServer, ServerOptions
from provisioner.sandbox.marketo.app import MarketoApp
from provisioner.sandbox.tls import TLSMaterial

from .support import apply_for, client_for, plan_for, seeded_config, serving


def test_budget_above_marketo_limits_every_606_and_615_is_retried(tls: TLSMaterial, manifests: ManifestSet) -> None:
    # The sandbox at Marketo's real limits (100 calls / 20 s, 10 at once); the client allowed far more.
    # Both run on one clock 20 times faster than real time: a 20 s window passes in 1 s, while the
    # threads' backoffs still overlap as they would in real time (a FakeClock would add them up).
    clock = FastClock(speed=20)
    with serving(tls, seeded_config(manifests), latency_ms=25, clock=clock) as server:
        client, recorder = client_for(server, tls, budget=Budget(calls=1000, window_s=20, concurrent=40))
        failures: list[BaseException] = []

        def other_integration() -> None:  # traffic sharing the instance (and this client) during the apply
            try:
                for _ in range(10):
                    client.get("/rest/asset/v1/channels.json")
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                failures.append(exc)

        threads = [threading.Thread(target=other_integration) for _ in range(20)]
        started = clock.time()
        for t in threads:
            t.start()
        plan = plan_for(manifests, client)
        report = apply_for(plan, client)
        for t in threads:
            t.join()
        codes = recorder.codes()
        assert codes.count("615") > 0 and codes.count("606") > 0, codes
        # the instance's own count of what it refused agrees with what the client saw
        assert server.stats()["refused"] == {"606": codes.count("606"), "615": codes.count("615")}
        assert not failures, failures
        assert report.ok, render_apply_report(report)
        # every 606/615 the instance answered was retried by the client: none reached the caller
        assert client.retried["606"] == codes.count("606")
        assert client.retried["615"] == codes.count("615")
        assert render_plan(plan_for(manifests, client)).startswith("No changes.")
        assert clock.time() - started >= 20  # the 606s were waited out: at least one whole simulated window


class TickingClock(FakeClock):
    """Simulated time that moves ``step`` seconds every time the sandbox reads it (once or twice a call)."""

    def __init__(self, step: float) -> None:
        super().__init__()
        self.step = step

    def time(self) -> float:
        return self.advance(self.step)


def test_a_token_expiring_mid_apply_is_renewed_without_error(tls: TLSMaterial, manifests: ManifestSet) -> None:
    # The instance's time runs fast (0.1 s a read, a 2 s token): its tokens expire every ~10 calls, well
    # before the client (on the real clock) would renew them itself, so the client meets 602 and must renew.
    clock = TickingClock(step=0.1)
    with serving(tls, seeded_config(manifests, token_ttl_seconds=2), clock=clock) as server:
        client, recorder = client_for(server, tls, clock=SYSTEM_CLOCK)
        report = apply_for(plan_for(manifests, client), client)
        assert report.ok, render_apply_report(report)
        tokens = {e.reply for e in recorder.exchanges if "/identity/oauth/token" in e.url}
        assert len(tokens) >= 2 and client.token_fetches >= 2
        assert recorder.codes().count("602") >= 1  # the expiry happened mid-apply...
        assert client.retried["602"] == recorder.codes().count("602")  # ...and every one was renewed and retried


def test_faults_and_dropped_connections_still_converge(tls: TLSMaterial, manifests: ManifestSet) -> None:
    # 20 % of calls fail: HTTP 502, 604/606/608/611/615/713, or a connection dropped before or after
    # the request was processed (a write that landed but whose reply was lost is found by re-reading).
    app = MarketoApp(seeded_config(manifests), clock=FakeClock())  # backoff waits pass in simulated time
    with SandboxServer(app, tls, options=ServerOptions(fault_rate=0.2, seed=4)) as server:
        client, _ = client_for(server, tls)
        try:
            report = apply_for(plan_for(manifests, client), client)
            assert report.ok, render_apply_report(report)
            assert server.stats()["faults"]["total"] > 3
            assert render_plan(plan_for(manifests, client)).startswith("No changes.")
        except MarketoError as exc:  # a read that failed 8 times in a row would be a real finding
            raise AssertionError(f"gave up: {exc}") from exc
    programs = [p for p in app.state["programs"].values() if p["name"] == "Kaltura Event Template"]
    folders = [f for f in app.state["folders"].values() if f["name"] == "Kaltura Events"]
    assert len(programs) == 1 and len(folders) == 1  # no duplicates from retried writes


def test_a_window_filled_by_others_costs_one_probe_per_pause_not_a_refusal_per_waiting_call(
        tls: TLSMaterial, manifests: ManifestSet) -> None:
    # Another integration (or the run before) filled Marketo's window just now: every call is refused (606)
    # until those calls are a window old. Each refusal is a call spent. The calls already in flight when the
    # first refusal comes back (10 at most: Marketo's concurrency) are refused; after that one call at a time
    # probes, after pauses of at least half the policy's capped backoff, until the window takes it.
    import math
    from concurrent.futures import ThreadPoolExecutor

    from provisioner.providers.marketo.retry import RetryPolicy

    clock = FastClock(speed=20)
    # Marketo's documented 100 calls and 10 at once; a window 3 times Marketo's 20 s, so that filling it
    # takes a small part of it however slow the machine (the clock runs 20 times real time).
    window_calls, window_s, concurrent, wanted = 100, 60.0, 10, 30
    config = seeded_config(manifests, rate_limit_calls=window_calls, rate_limit_window_s=window_s)
    with serving(tls, config, clock=clock) as server:
        other, _ = client_for(server, tls, budget=Budget(calls=window_calls, window_s=window_s, concurrent=concurrent))
        with ThreadPoolExecutor(concurrent) as pool:  # the other's token request is the window's first call
            list(pool.map(lambda _: other.get("/rest/asset/v1/channels.json"), range(window_calls - 1)))
        before = server.stats()["calls"]["total"]
        # our budget is the instance's documented window: what it cannot see is the other's calls in it
        ours, _ = client_for(server, tls, budget=Budget(calls=window_calls, window_s=window_s, concurrent=concurrent))
        with ThreadPoolExecutor(concurrent) as pool:
            replies = list(pool.map(lambda _: ours.get("/rest/asset/v1/channels.json"), range(wanted)))
        sent = server.stats()["calls"]["total"] - before  # the sandbox's own count of our requests
    assert len(replies) == wanted and all(replies)
    refused = sent - wanted - 1  # less the calls that got their answer and our token request
    policy = RetryPolicy()
    probes = math.ceil(window_s / (policy.rate_cap_s / 2)) + 2  # a pause is at least half the capped backoff
    assert 0 < refused <= concurrent + probes, refused


def test_a_run_right_after_another_knows_the_window_it_left_and_meets_no_606(
        tls: TLSMaterial, manifests: ManifestSet, tmp_path: Path) -> None:
    # A plan, then its apply; an event's create, then its re-plan: two processes on one machine, one
    # instance. The second starts knowing the first's calls still in Marketo's window (100 calls / 20 s),
    # waits for the room it needs, and is never refused: every call it sends gets its answer.
    from concurrent.futures import ThreadPoolExecutor

    from provisioner.providers.marketo.ratelimit import window_file

    clock = FastClock(speed=20)
    window_calls, window_s, concurrent = 100, 20.0, 10  # Marketo's documented limits
    config = seeded_config(manifests, rate_limit_calls=window_calls, rate_limit_window_s=window_s)
    with serving(tls, config, clock=clock) as server:
        budget = Budget(calls=window_calls, window_s=window_s, concurrent=concurrent)
        shared = window_file(server.base_url, tmp_path)
        first, _ = client_for(server, tls, budget=budget, window=shared)
        with ThreadPoolExecutor(concurrent) as pool:  # the first run fills the window (its token is one call)
            list(pool.map(lambda _: first.get("/rest/asset/v1/channels.json"), range(window_calls - 1)))
        first.limiter.save()  # what the CLI does when a run ends
        before = server.stats()["calls"]["total"]
        second, _ = client_for(server, tls, budget=budget, window=shared)
        wanted = 30
        with ThreadPoolExecutor(concurrent) as pool:
            replies = list(pool.map(lambda _: second.get("/rest/asset/v1/channels.json"), range(wanted)))
        sent = server.stats()["calls"]["total"] - before  # the sandbox's own count of the second run's requests
        refused = server.stats()["refused"]
    assert len(replies) == wanted and all(replies)
    assert sent == wanted + 1  # its token request and one call per read: no refused call spent
    assert refused == {}  # neither run met a 606 or a 615


def test_short_runs_in_quick_succession_count_each_call_once_and_never_wait(
        tls: TLSMaterial, manifests: ManifestSet, tmp_path: Path) -> None:
    # plan, apply, event new, its re-plan: short runs one after the other, 84 calls together (tokens included),
    # under Marketo's 100 per 20 s. Each run leaves its calls to the next; none of them may count a call of an
    # earlier run twice, so the fourth starts without waiting for the window. (On the system's clock: its wall
    # and monotonic times differ, as they do for users; with the fix nothing here waits.)
    window_calls, window_s, concurrent = 100, 20.0, 10  # Marketo's documented limits
    config = seeded_config(manifests, rate_limit_calls=window_calls, rate_limit_window_s=window_s)
    with serving(tls, config, clock=FastClock(speed=1)) as server:
        budget = Budget(calls=window_calls, window_s=window_s, concurrent=concurrent)
        shared = window_file(server.base_url, tmp_path)
        for _ in range(3):  # three runs of a token and 20 reads each
            earlier, _ = client_for(server, tls, budget=budget, window=shared)
            for _ in range(20):
                earlier.get("/rest/asset/v1/channels.json")
            earlier.limiter.save()  # what the CLI does when a run ends
        fourth, _ = client_for(server, tls, budget=budget, window=shared)
        for _ in range(20):
            fourth.get("/rest/asset/v1/channels.json")
        made = server.stats()["calls"]["total"]
    assert made == 4 * 21  # the sandbox's count: nothing refused, nothing retried
    assert fourth.limiter.waited_s == 0.0


def test_saving_the_window_forgets_window_files_untouched_for_an_hour(tmp_path: Path) -> None:
    # Every instance (every sandbox on a new port) has its window file: an hour after their last run they hold
    # nothing of use, and the cache folder must not grow with every run ever made.
    import os
    import time

    stale = [tmp_path / "marketo-window-00000000000000aa.json", tmp_path / "tmp1234abcd.tmp"]
    recent = tmp_path / "marketo-window-00000000000000bb.json"
    other_cache = tmp_path / "salesforce-wsdl.pickle"
    for path in (*stale, recent, other_cache):
        path.write_text("[]")
    two_hours_ago = time.time() - 7200
    for path in (*stale, other_cache):
        os.utime(path, (two_hours_ago, two_hours_ago))
    ours = window_file("https://example.mktorest.com", tmp_path)
    ours.save([100.0], now=101.0, window_s=20.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([recent.name, other_cache.name, ours.path.name])
    assert ours.load(now=101.0, window_s=20.0) == [100.0]
