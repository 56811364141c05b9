"""The client on its own: settings from the environment, preflight, quota stop, secrets kept out of errors."""

from __future__ import annotations

import json
import logging
import traceback
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from provisioner.clock import FakeClock
from provisioner.manifest.model import ManifestSet
from provisioner.plan import apply_saved_plan, render_apply_report
from provisioner.providers.marketo.client import MarketoClient, quota_reset_after
from provisioner.providers.marketo.errors import MarketoError, MarketoSettingsError, PermissionMissing, QuotaExceeded
from provisioner.providers.marketo.provider import PROVIDER
from provisioner.providers.marketo.ratelimit import Budget
from provisioner.providers.marketo.retry import RetryPolicy
from provisioner.providers.marketo.settings import MarketoSettings
from provisioner.sandbox.marketo.config import ALL_PERMISSIONS
from provisioner.sandbox.tls import TLSMaterial

from .support import apply_for, client_for, plan_for, seeded_config, serving

SECRET = "s3cret-value-that-must-not-leak"


def env(endpoint: str, tls: TLSMaterial | None = None, **extra: str) -> dict[str, str]:
    values = {"MARKETO_ENDPOINT": endpoint, "MARKETO_CLIENT_ID": "provisioner-sandbox-client",
              "MARKETO_CLIENT_SECRET": "provisioner-sandbox-secret", **extra}
    if tls is not None:
        values["MARKETO_CA_BUNDLE"] = str(tls.ca_cert)
    return values


def test_a_missing_variable_is_named() -> None:
    with pytest.raises(MarketoSettingsError) as caught:
        PROVIDER.connect({"MARKETO_ENDPOINT": "https://123-ABC-456.mktorest.com", "MARKETO_CLIENT_ID": "x"})
    assert "MARKETO_CLIENT_SECRET is not set" in str(caught.value)
    with pytest.raises(MarketoSettingsError, match="MARKETO_ENDPOINT must be an https URL"):
        MarketoSettings.from_env(env("123-ABC-456.mktorest.com"))


@pytest.mark.parametrize("suffix", ["/rest", "/rest/", "/identity"])
def test_a_pasted_suffix_is_stripped_with_a_warning_and_the_plan_works(
        suffix: str, tls: TLSMaterial, manifests: ManifestSet, caplog: pytest.LogCaptureFixture) -> None:
    with serving(tls, seeded_config(manifests)) as server:
        with caplog.at_level(logging.WARNING, logger="provisioner.providers.marketo"):
            client = PROVIDER.connect(env(server.base_url + suffix, tls))
        assert client.settings.endpoint == server.base_url
        warning = f"Set MARKETO_ENDPOINT={server.base_url} (the REST endpoint from Admin > Web Services without"
        assert warning in caplog.text
        assert len(plan_for(manifests, client).changes) == 4


def test_budget_comes_from_the_environment() -> None:
    client = PROVIDER.connect(env("https://123-ABC-456.mktorest.com", MARKETO_MAX_CALLS_PER_20S="30",
                                  MARKETO_MAX_CONCURRENT="3"))
    assert client.limiter.budget == Budget(calls=30, concurrent=3)
    with pytest.raises(MarketoSettingsError, match="MARKETO_MAX_CONCURRENT must be a whole number"):
        PROVIDER.connect(env("https://123-ABC-456.mktorest.com", MARKETO_MAX_CONCURRENT="lots"))


def test_a_permission_the_plan_does_not_write_with_is_named_by_preflight_but_never_probed_by_apply(
        tls: TLSMaterial, manifests: ManifestSet) -> None:
    config = seeded_config(manifests, permissions=ALL_PERMISSIONS - {"Read-Write Person"})
    with serving(tls, config) as server:
        client, _ = client_for(server, tls)
        report = client.preflight()  # every area, as `provisioner` checks when asked about all of them
        assert report.missing == ["Read-Write Person"]
        assert "Read-Write Activity Metadata" in report.ok and "Read-Write Assets" in report.ok
        applier, _ = client_for(server, tls)
        plan = plan_for(manifests, applier)  # reading needs no Person permission
        server.reset_stats()
        report = apply_for(plan, applier)  # provisioning writes assets and activity types, never people
        assert not report.failed, render_apply_report(report)
        assert "GET /rest/v1/leads/describe.json" not in server.stats()["calls"]["by_route"]


def _set_permissions(server, tls: TLSMaterial, granted: set[str]) -> None:
    """The sandbox's permissions control: the API user's role now grants exactly ``granted``."""
    reply = requests.post(f"{server.base_url}/__sandbox/limits", json={"permissions": sorted(granted)},
                          verify=str(tls.ca_cert), timeout=10)
    assert reply.status_code == 200 and reply.json()["permissions"] == sorted(granted), reply.text


def _probes(server) -> list[str]:
    """The permission probes the sandbox answered (reads no provisioning plan makes)."""
    probes = ("/rest/v1/leads/describe.json", "/rest/v1/activities/pagingtoken.json", "/rest/v1/campaigns.json")
    return [r for r in server.stats()["calls"]["by_route"] if r.startswith("GET") and r.endswith(probes)]


def test_preflight_names_a_missing_area_of_the_run_before_any_write(tls: TLSMaterial, manifests: ManifestSet) -> None:
    # A sync writes leads and activities: the areas come as a parameter; Campaigns is not asked about.
    with serving(tls, seeded_config(manifests)) as server:
        _set_permissions(server, tls, set(ALL_PERMISSIONS) - {"Read-Write Person", "Read-Write Campaigns"})
        client, _ = client_for(server, tls)
        with pytest.raises(PermissionMissing) as caught:
            client.ensure_preflight(["Read-Write Person", "Read-Write Activity"])
        assert caught.value.permissions == ["Read-Write Person"]
        assert "missing Read-Write Person." in str(caught.value)
        by_route = server.stats()["calls"]["by_route"]
        assert not [r for r in by_route if r.startswith("POST /rest")]
        assert "GET /rest/v1/campaigns.json" not in by_route  # an area the run does not write is not probed
        # asked again (a second batch of the same run): no new probe, the same answer
        before = sum(by_route.values())
        with pytest.raises(PermissionMissing, match="missing Read-Write Person"):
            client.ensure_preflight(["Read-Write Person"])
        assert sum(server.stats()["calls"]["by_route"].values()) == before


def test_apply_probes_no_area_its_plan_reads_already_proved(tls: TLSMaterial, manifests: ManifestSet) -> None:
    # The setup manifest writes programs and custom object types (Assets) and activity types (Activity
    # Metadata); the plan's reads prove both, so a role without the three other areas applies it, unprobed.
    config = seeded_config(manifests, permissions={"Read-Write Assets", "Read-Write Activity Metadata"})
    with serving(tls, config) as server:
        client, _ = client_for(server, tls)
        report = apply_for(plan_for(manifests, client), client)
        assert report.ok, render_apply_report(report)
        assert _probes(server) == []


def test_a_write_area_missing_since_the_plan_is_named_and_nothing_of_it_written(
        tls: TLSMaterial, manifests: ManifestSet) -> None:
    # A saved plan applied by a new process (no read of its client proved anything), with Activity Metadata
    # revoked since the plan: apply names it before its first write, of any kind.
    with serving(tls, seeded_config(manifests)) as server:
        planner, _ = client_for(server, tls)
        plan = plan_for(manifests, planner)
        _set_permissions(server, tls, set(ALL_PERMISSIONS) - {"Read-Write Activity Metadata"})
        applier, _ = client_for(server, tls)
        server.reset_stats()
        with pytest.raises(PermissionMissing, match="missing Read-Write Activity Metadata"):
            apply_saved_plan(plan, plan, PROVIDER.kinds(), {"marketo": applier}, allow_destroy=False)
        writes = [r for r in server.stats()["calls"]["by_route"] if r.startswith("POST /rest")]
        assert not writes  # refused before the first write of any kind: nothing half-applied
        # probed before the first write: the two areas the run writes (one read each), no other
        by_route = server.stats()["calls"]["by_route"]
        assets, activity_metadata = "GET /rest/asset/v1/channels.json", "GET /rest/v1/activities/external/types.json"
        assert by_route[assets] == by_route[activity_metadata] == 1
        assert _probes(server) == []


def test_a_missing_permission_on_a_read_is_named(tls: TLSMaterial, manifests: ManifestSet) -> None:
    config = seeded_config(manifests, permissions=ALL_PERMISSIONS - {"Read-Write Activity Metadata"})
    with serving(tls, config) as server:
        client, _ = client_for(server, tls)
        with pytest.raises(PermissionMissing, match="missing Read-Write Activity Metadata"):
            plan_for(manifests, client)


def test_daily_quota_stops_with_the_reset_time(tls: TLSMaterial, manifests: ManifestSet) -> None:
    with serving(tls, seeded_config(manifests, daily_quota=3)) as server:
        client, recorder = client_for(server, tls)
        with pytest.raises(QuotaExceeded) as caught:
            plan_for(manifests, client)
        reset = caught.value.resets_at
        assert reset.tzinfo == ZoneInfo("America/Chicago") and (reset.hour, reset.minute) == (0, 0)
        assert reset == quota_reset_after(datetime.now(ZoneInfo("America/Chicago")))
        assert "resets at midnight America/Chicago (" + reset.strftime("%Y-%m-%d 00:00 %Z") in str(caught.value)
        assert recorder.codes().count("607") == 1  # stopped, not retried


def test_bad_credentials_and_dead_endpoints_never_show_the_secret(tls: TLSMaterial, manifests: ManifestSet) -> None:
    settings_repr = repr(MarketoSettings("https://x.mktorest.com", "id", SECRET))
    assert SECRET not in settings_repr
    with serving(tls, seeded_config(manifests)) as server:
        client = MarketoClient(MarketoSettings(server.base_url, "provisioner-sandbox-client", SECRET,
                                               str(tls.ca_cert)))
        with pytest.raises(MarketoError) as caught:
            client.get("/rest/asset/v1/channels.json")
        assert "authentication failed (HTTP 401" in str(caught.value)
        port = server.port
    dead = MarketoClient(MarketoSettings(f"https://127.0.0.1:{port}", "id", SECRET, str(tls.ca_cert)),
                         retry=RetryPolicy(max_attempts=2, base_s=0.01))
    with pytest.raises(MarketoError) as refused:
        dead.get("/rest/asset/v1/channels.json")
    assert refused.value.code == "connect" and "could not connect to https://127.0.0.1:" in str(refused.value)
    for exc in (caught.value, refused.value):
        shown = "".join(traceback.format_exception(exc)) + repr(exc) + repr(client) + repr(dead)
        assert SECRET not in shown


def test_the_default_budget_keeps_under_marketo_limits(tls: TLSMaterial, manifests: ManifestSet) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with serving(tls, seeded_config(manifests), latency_ms=20) as server:
        client, recorder = client_for(server, tls)  # default budget: Marketo's documented 100 / 20 s, 10 at once
        assert (client.limiter.budget.calls, client.limiter.budget.window_s, client.limiter.budget.concurrent) == \
            (100, 20.0, 10)
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda _: client.get("/rest/asset/v1/channels.json"), range(60)))
        assert 5 < server.stats()["max_in_flight"] <= 10  # uses the concurrency Marketo allows, never more
        assert "615" not in recorder.codes() and "606" not in recorder.codes()


def test_a_budget_at_the_full_rate_never_meets_606(tls: TLSMaterial, manifests: ManifestSet) -> None:
    """At exactly the instance's rate (here 20 calls a second, a short window to keep the test fast), with
    latency that varies between calls, the instance never counts more than its limit in any window: a call
    holds its slot until a window after its reply, and Marketo counts it in between."""
    from concurrent.futures import ThreadPoolExecutor

    config = seeded_config(manifests, rate_limit_calls=20, rate_limit_window_s=1.0)
    with serving(tls, config, latency_ms=15) as server:
        client, recorder = client_for(server, tls, budget=Budget(calls=20, window_s=1.0, concurrent=10))
        with ThreadPoolExecutor(10) as pool:
            list(pool.map(lambda _: client.get("/rest/asset/v1/channels.json"), range(50)))
        assert "606" not in recorder.codes() and "615" not in recorder.codes()
        assert len(recorder.exchanges) >= 50


def test_debug_logs_of_the_http_library_do_not_show_the_secret(tls: TLSMaterial, manifests: ManifestSet,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    with serving(tls, seeded_config(manifests)) as server:
        client, recorder = client_for(server, tls)
        with caplog.at_level(logging.DEBUG):
            client.get("/rest/asset/v1/channels.json")
        secret = server.app.config.client_secret
        token = client.access_token()
        assert "/identity/oauth/token?" in caplog.text  # urllib3 did log the token request line
        assert "client_secret=***" in caplog.text
        assert secret not in caplog.text and token not in caplog.text


def test_an_untrusted_certificate_fails_at_once_naming_the_ca_variable(tls: TLSMaterial,
                                                                       manifests: ManifestSet) -> None:
    import certifi

    with serving(tls, seeded_config(manifests)) as server:
        client = MarketoClient(MarketoSettings(server.base_url, "provisioner-sandbox-client",
                                               "provisioner-sandbox-secret", certifi.where()))
        with pytest.raises(MarketoError, match="set MARKETO_CA_BUNDLE") as caught:
            client.get("/rest/asset/v1/channels.json")
        assert caught.value.code == "tls" and client.retried == {}


def test_the_window_budget_spaces_calls_out(tls: TLSMaterial, manifests: ManifestSet) -> None:
    clock = FakeClock()
    with serving(tls, seeded_config(manifests), clock=clock) as server:
        client, _ = client_for(server, tls, budget=Budget(calls=5, window_s=20, concurrent=5))
        client.access_token()  # the token call takes one slot: start from a clean window
        clock.advance(20)
        started, waits = clock.monotonic(), []
        for _ in range(12):  # 5 now, 5 after 20 s, 2 after 40 s
            before = clock.monotonic()
            client.get("/rest/asset/v1/channels.json")
            waits.append(round(clock.monotonic() - before, 1))
        assert waits == [0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 20, 0]
        assert 40 <= clock.monotonic() - started < 40.1 and client.limiter.waited_s == pytest.approx(40, abs=0.01)
        assert server.stats()["calls"]["by_route"]["GET /rest/asset/v1/channels.json"] == 12


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),  # any code point, lone surrogates included
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_a_request_body_reads_back_as_the_value_it_was_made_from(value: object) -> None:
    # Whatever a record holds (accents, emoji, a lone surrogate from a damaged reply, a 30-digit number), the
    # body the client sends is JSON that Python's own json module reads back to the same value.
    from provisioner.providers.marketo.client import json_bytes

    assert json.loads(json_bytes(value)) == value
