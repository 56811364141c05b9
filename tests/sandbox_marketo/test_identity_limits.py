"""Identity, the envelope and Marketo's limits (rate, concurrency, quota, sizes, permissions, faults)."""

from __future__ import annotations

import time

import json
import threading

from provisioner.clock import FakeClock
from provisioner.sandbox.httpserver import ServerOptions
from provisioner.sandbox.marketo.app import MarketoConfig
from provisioner.sandbox.marketo.config import ALL_PERMISSIONS

from .support import Api, error_code, serving

CHANNELS = "/rest/asset/v1/channels.json"


def test_token_is_reused_until_expiry_and_wrong_credentials_get_401(server, tls, api) -> None:
    first = api.identity().json()
    assert first["token_type"] == "bearer" and 0 < first["expires_in"] <= 3600 and first["scope"]
    again = api.identity("POST").json()
    assert again["access_token"] == first["access_token"]
    assert again["expires_in"] <= first["expires_in"]
    wrong = Api(server, tls, client_secret="not-the-secret").identity()
    assert wrong.status_code == 401
    assert wrong.json() == {"error": "unauthorized", "error_description": "Bad client credentials"}
    assert "not-the-secret" not in wrong.text


def test_missing_invalid_and_query_tokens(server, api) -> None:
    bare = api.session.get(server.base_url + CHANNELS, timeout=10)
    assert bare.status_code == 200 and error_code(bare.json()) == "600"
    bogus = api.session.get(server.base_url + CHANNELS, headers={"Authorization": "Bearer nope"}, timeout=10)
    assert error_code(bogus.json()) == "601"
    assert bogus.json()["errors"][0]["message"] == "Access token invalid"
    # Adobe stopped accepting access_token in the query string (header only since 2026-07-31): a valid
    # token there is not read, so the call carries no token and gets 600, as on a real instance
    by_query = api.session.get(server.base_url + CHANNELS, params={"access_token": api.token()}, timeout=10)
    assert error_code(by_query.json()) == "600"
    assert by_query.json()["errors"][0]["message"] == "Access token not specified"


def test_expired_token_gets_602_and_a_new_one_is_issued(tls) -> None:
    with serving(tls, MarketoConfig(token_ttl_seconds=60)) as server:  # the sandbox's own clock, moved over HTTP
        api = Api(server, tls)
        old = api.token()
        assert api.get(CHANNELS)["success"] is True
        clock = api.session.post(server.base_url + "/__sandbox/clock", json={"advance": 59.5}, timeout=10).json()
        assert api.get(CHANNELS)["success"] is True  # half a second of life left: still valid
        again = api.identity().json()  # under a second left: a new token is issued
        assert again["access_token"] != old and again["expires_in"] == 60
        api.session.post(server.base_url + "/__sandbox/clock", json={"advance": 0.5}, timeout=10)
        assert error_code(api.get(CHANNELS)) == "602"  # the old token, at its expiry
        moved = api.session.get(server.base_url + "/__sandbox/clock", timeout=10).json()
        assert moved["time"] - clock["time"] >= 0.5
        assert api.session.post(server.base_url + "/__sandbox/clock", json={"advance": -1}, timeout=10).status_code == 400


def test_rate_limit_606_then_recovers_after_the_window(tls) -> None:
    clock = FakeClock()
    with serving(tls, MarketoConfig(rate_limit_calls=3, rate_limit_window_s=20), clock=clock) as server:
        api = Api(server, tls)
        replies = [api.get(CHANNELS) for _ in range(2)]
        clock.advance(10)
        replies.append(api.get(CHANNELS))
        replies.append(api.get(CHANNELS))
        assert all(r["success"] for r in replies[:3])
        assert error_code(replies[3]) == "606"
        assert replies[3]["errors"][0]["message"] == "Max rate limit '3' exceeded with in '20' secs"
        assert api.identity().status_code == 200  # identity calls do not count
        clock.advance(9.9)
        assert error_code(api.get(CHANNELS)) == "606"  # the window is a sliding 20 s: the first two are in it
        clock.advance(0.1)
        # the first two left the window; the third (at +10 s) is still in it: two places, not three
        assert [api.get(CHANNELS)["success"] for _ in range(2)] == [True, True]
        assert error_code(api.get(CHANNELS)) == "606"


def test_concurrency_above_the_limit_gets_615(tls) -> None:
    with serving(tls, MarketoConfig(max_concurrent=2), ServerOptions(latency_ms=300)) as server:
        api = Api(server, tls)
        api.token()
        codes: list[str] = []
        lock = threading.Lock()

        def call() -> None:
            reply = api.get(CHANNELS)
            with lock:
                codes.append("ok" if reply["success"] else reply["errors"][0]["code"])

        threads = [threading.Thread(target=call) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert codes.count("ok") >= 2 and codes.count("615") >= 1, codes
        assert server.stats()["max_in_flight"] > 2


def test_daily_quota_607(tls) -> None:
    with serving(tls, MarketoConfig(daily_quota=3)) as server:
        api = Api(server, tls)
        replies = [api.get(CHANNELS) for _ in range(4)]
        assert [r["success"] for r in replies[:3]] == [True] * 3
        assert error_code(replies[3]) == "607" and replies[3]["errors"][0]["message"] == "Daily quota reached"


def test_missing_permission_gets_603_only_where_it_is_needed(tls) -> None:
    with serving(tls, MarketoConfig(permissions=ALL_PERMISSIONS - {"Read-Write Assets"})) as server:
        api = Api(server, tls)
        assert error_code(api.get(CHANNELS)) == "603"
        assert api.get("/rest/v1/leads/describe2.json")["success"] is True


def test_body_over_1mb_is_413_and_over_300_records_is_1003(server, api) -> None:
    big = {"input": [{"email": f"p{i}@example.com", "firstName": "x" * 4000} for i in range(300)]}
    reply = api.session.post(server.base_url + "/rest/v1/leads.json", json=big,
                             headers={"Authorization": f"Bearer {api.token()}"}, timeout=10)
    assert reply.status_code == 413
    too_many = api.post_json("/rest/v1/leads.json", {"input": [{"email": f"p{i}@example.com"} for i in range(301)]})
    assert error_code(too_many) == "1003"


def test_uri_over_8kb_is_414(server, api) -> None:
    emails = ",".join(f"someone.with.a.long.name{i}@example.com" for i in range(300))
    reply = api.session.get(server.base_url + "/rest/v1/leads.json", params={"filterType": "email",
                                                                           "filterValues": emails},
                            headers={"Authorization": f"Bearer {api.token()}"}, timeout=10)
    assert reply.status_code == 414


def test_wrong_method_unknown_route_and_wrong_content_type(server, api) -> None:
    assert error_code(api.post_form(CHANNELS, {"name": "Mine"}, check=False)) == "605"  # channels are read-only
    assert error_code(api.get("/rest/v1/nothing.json", check=False)) == "610"
    as_form = api.session.post(server.base_url + "/rest/v1/leads.json", data={"input": "x"},
                               headers={"Authorization": f"Bearer {api.token()}"}, timeout=10)
    assert error_code(as_form.json()) == "612"


def _outcomes(tls, seed: int) -> list[str]:
    with serving(tls, options=ServerOptions(fault_rate=0.5, seed=seed)) as server:
        api = Api(server, tls)
        outcomes = []
        for _ in range(30):
            try:
                reply = api.session.get(server.base_url + CHANNELS, headers={"Authorization": "Bearer x"}, timeout=5)
            except Exception as exc:  # dropped connections are one of the faults
                outcomes.append(type(exc).__name__)
                continue
            if reply.status_code != 200:
                outcomes.append(str(reply.status_code))
            else:
                outcomes.append(reply.json()["errors"][0]["code"])
        return outcomes


def test_seeded_faults_are_reproducible_and_include_marketo_codes(tls) -> None:
    first, second = _outcomes(tls, 7), _outcomes(tls, 7)
    assert first == second
    assert {"502", "601"} <= set(first)  # 601: the call got through (the token is bogus on purpose)
    assert set(first) & {"604", "606", "608", "611", "615", "713"}


def test_stats_name_routes_by_template(server, api) -> None:
    api.get("/rest/asset/v1/program/99999.json")
    api.get("/rest/asset/v1/program/12345.json")
    by_route = server.stats()["calls"]["by_route"]
    assert by_route["GET /rest/asset/v1/program/{id}.json"] >= 2
    assert not any("99999" in name for name in by_route)


def test_requests_that_never_reach_the_instance_are_answered_in_marketos_shape(server) -> None:
    """The HTTP server's hook for malformed requests and emulator bugs (used once the server calls it)."""
    app = server.app
    bug = json.loads(app.error_response(500, "UNKNOWN_EXCEPTION", "boom").body)
    assert bug["success"] is False and bug["errors"] == [{"code": "611", "message": "System error"}]
    bad = app.error_response(400, "BAD_REQUEST", "bad chunk size")
    assert bad.status == 400 and json.loads(bad.body)["errors"][0] == {"code": "400", "message": "bad chunk size"}
    assert app.error_response(413, "REQUEST_ENTITY_TOO_LARGE", "Request Entity Too Large").status == 413
def test_usage_counts_the_calls_admitted_today_with_no_permission_needed(tls) -> None:
    with serving(tls, MarketoConfig(permissions=frozenset())) as server:
        api = Api(server, tls)
        for _ in range(3):
            assert error_code(api.get(CHANNELS, check=False)) == "603"  # refused, but admitted: counted
        reply = api.get("/rest/v1/stats/usage.json")
        assert reply["success"] is True and len(reply["result"]) == 1
        usage = reply["result"][0]
        assert usage["total"] == 4  # three calls and this one (the token call is not an API call)
        assert [u["count"] for u in usage["users"]] == [4]
        central = time.gmtime(time.time() - 6 * 3600)  # Marketo's day: US Central Standard Time
        assert usage["date"] == time.strftime("%Y-%m-%dT00:00:00Z", central)
