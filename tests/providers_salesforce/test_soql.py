"""SOQL literals are escaped and IN lists are chunked inside Salesforce's URI and query limits."""

from __future__ import annotations

from urllib.parse import quote as url_quote

from provisioner.providers.salesforce.connection import SalesforceConnection
from provisioner.providers.salesforce.soql import MAX_URI_BYTES, in_chunks, quote
from provisioner.sandbox.runtime import Sandbox


def test_quote_escapes_quotes_and_backslashes() -> None:
    assert quote("o'brien@example.com") == "'o\\'brien@example.com'"
    assert quote("a\\b") == "'a\\\\b'"


def test_chunks_stay_under_the_uri_limit_and_keep_every_value() -> None:
    values = [f"person{i}+o'neil@example.com" for i in range(3000)]
    template = "SELECT Id FROM Lead WHERE Email IN ({values})"
    queries = list(in_chunks(template, values))
    assert len(queries) > 1
    assert all(len(url_quote(q, safe="")) + 60 < MAX_URI_BYTES for q in queries)
    joined = "".join(queries)
    assert all(quote(v) in joined for v in values)


def test_an_apostrophe_email_and_a_long_in_list_work_against_the_org(org: Sandbox) -> None:
    conn = SalesforceConnection.from_env(org.env())
    created = conn.data.create("Lead", [{"LastName": "O'Brien", "Company": "Acme", "Email": "o'brien@example.com"}])
    assert created[0].success, created[0].message()
    emails = ["o'brien@example.com"] + [f"nobody{i}@example.com" for i in range(1500)]
    found = conn.data.query_in("SELECT Id, Email FROM Lead WHERE Email IN ({values})", emails)
    assert [r["Email"] for r in found] == ["o'brien@example.com"]


def test_matching_thousands_of_emails_takes_one_call_of_long_queries(org: Sandbox) -> None:
    """8,000 e-mails do not fit one GET (16,384-byte URI: ~25 GETs); as IN lists of up to 100,000 characters
    they are 4 statements, sent in one Composite call (up to 5 queries each). The answer is the same."""
    import requests

    from provisioner.providers.salesforce.connection import SalesforceConnection

    conn = SalesforceConnection.from_env(org.env())
    known = [f"known{i}@example.com" for i in range(30)]
    conn.data.create("Lead", [{"LastName": "K", "Company": "C", "Email": e} for e in known])
    emails = [f"someone.with.a.long.name{i:05d}@example.com" for i in range(8_000)] + known + ["o'brien@example.com"]
    requests.delete(f"{org.salesforce_url}/__sandbox/stats", verify=org.ca_bundle, timeout=30)
    rows = conn.data.query_in("SELECT Id, Email FROM Lead WHERE Email IN ({values})", emails, what="match")
    assert sorted(r["Email"] for r in rows) == sorted(known)
    routes = org.stats()["salesforce"]["calls"]["by_route"]
    chars = sum(len(e) + 3 for e in emails)  # 'quoted', and a comma (o'brien's backslash aside)
    statements = -(-chars // 99_900)
    assert statements == 4 and -(-sum(len(url_quote(f"'{e}',")) for e in emails) // 16_000) > 20
    assert routes == {"POST /services/data/composite": 1}


def test_without_a_uri_limit_chunks_fill_the_statement_limit_and_keep_every_value() -> None:
    # Queries sent in a request body (Composite) have no URI limit: only SOQL's 100,000 characters apply.
    values = [f"person{i}+o'neil@example.com" for i in range(12_000)]
    template = "SELECT Id FROM Lead WHERE Email IN ({values})"
    queries = list(in_chunks(template, values, max_encoded=None))
    literals = [quote(v) for v in values]
    assert all(len(q) <= 100_000 for q in queries)
    # every query but the last is full: the next literal (and its comma) would not have fitted
    at = 0
    for q in queries:
        inside = q[len("SELECT Id FROM Lead WHERE Email IN ("):-1].split(",")
        assert inside == literals[at:at + len(inside)]
        at += len(inside)
        if at < len(literals):
            assert len(q) + len(literals[at]) + 1 > 100_000
    assert at == len(literals)
