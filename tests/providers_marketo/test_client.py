"""The client on its own: settings from the environment, preflight, quota stop, secrets kept out of errors."""

from __future__ import annotations

import logging
import traceback
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from provisioner.clock import FakeClock
from provisioner.manifest.model import ManifestSet
from provisioner.plan import render_apply_report
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


def test_preflight_names_the_missing_permission_before_any_change(tls: TLSMaterial, manifests: ManifestSet) -> None:
    config = seeded_config(manifests, permissions=ALL_PERMISSIONS - {"Read-Write Person"})
    with serving(tls, config) as server:
        client, _ = client_for(server, tls)
        report = client.preflight()
        assert report.missing == ["Read-Write Person"]
        assert "Read-Write Activity Metadata" in report.ok and "Read-Write Assets" in report.ok
        plan = plan_for(manifests, client)  # reading needs no Person permission
        result = apply_for(plan, client)
        assert not result.ok
        text = render_apply_report(result)
        assert "the API user's role is missing Read-Write Person" in text
        assert not [r for r in server.stats()["calls"]["by_route"] if r.startswith("POST /rest")]


def test_preflight_checks_every_permission_of_the_article(tls: TLSMaterial, manifests: ManifestSet) -> None:
    config = seeded_config(manifests, permissions=ALL_PERMISSIONS - {"Read-Write Campaigns"})
    with serving(tls, config) as server:
        client, _ = client_for(server, tls)
        report = client.preflight()
        assert report.missing == ["Read-Write Campaigns"]
        assert set(report.ok) == set(ALL_PERMISSIONS) - {"Read-Write Campaigns"}


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
        client, recorder = client_for(server, tls)  # default budget: 50 / 20 s, 5 at once
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda _: client.get("/rest/asset/v1/channels.json"), range(40)))
        assert server.stats()["max_in_flight"] <= 5
        assert "615" not in recorder.codes() and "606" not in recorder.codes()


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
